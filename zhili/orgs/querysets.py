from zhili.core.scoping import ScopedQuerySet


class OrganisationQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    # Staff of an organisation-scoped role see their organisation and those under it.
    scope_org_field = "id"

    def active(self):
        """Organisations not closed."""
        return self.filter(is_active=True)
