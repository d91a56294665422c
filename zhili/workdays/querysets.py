from zhili.core.scoping import ScopedQuerySet


class CalendarDayQuerySet(ScopedQuerySet):
    """The calendar is national: every signed-in, active principal may read all of it.

    It is still a ScopedQuerySet so `restrict()` applies the role's permissions (an account
    without a position cannot even view it) and the platform treats every model alike."""

    scope_area_field = None
    rezone = False  # no area column: re-zoning has nothing to rewrite here

    def in_scope(self, user):
        if getattr(user, "is_authenticated", False) and getattr(user, "is_active", False):
            return self.all()
        return self.none()

    def in_year(self, year: int):
        return self.filter(date__year=year)
