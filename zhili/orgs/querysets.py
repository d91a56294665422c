from zhili.core.scoping import ScopedQuerySet


class OrganisationQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    # Staff of an organisation-scoped role see their organisation and those under it.
    scope_org_field = "id"

    def active(self):
        """Organisations not closed."""
        return self.filter(is_active=True)

    def dispatchable(self, user):
        """Where a user may send work: organisations in their reach, and those of the levels
        above their area (a town centre sends to county and city departments)."""
        from django.db.models import Q

        from zhili.core import codes
        from zhili.core.scoping import get_scope

        if get_scope(user).unrestricted:
            return self.active()
        position = user.active_position
        if position is None:
            return self.none()
        above = [codes.pad(codes.prefix_of(position.area_code, rank))
                 for rank in range(1, position.area.level)]
        return self.active().filter(Q(pk__in=self.in_scope(user).values("pk")) |
                                    Q(area_code__in=above))
