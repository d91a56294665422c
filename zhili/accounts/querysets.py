from django.db.models import Exists, OuterRef

from zhili.core import codes
from zhili.core.scoping import ORG, ScopedQuerySet


class PositionQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "org_id"

    def active(self):
        """Positions currently held."""
        return self.filter(is_active=True)


class UserQuerySet(ScopedQuerySet):
    """A user is in scope when one of their positions is."""

    scope_area_field = None

    def scope_q(self, scope):
        from zhili.accounts.models import Position

        positions = Position.objects.filter(user_id=OuterRef("pk"))
        if scope.kind == ORG and scope.org_ids:
            return Exists(positions.filter(org_id__in=scope.org_ids))
        if scope.prefix is None:
            return None
        return Exists(positions.filter(codes.range_q("area_code", scope.prefix)))

    def people(self):
        """Human accounts (not the service accounts behind API keys)."""
        return self.filter(is_service=False)


class ApiKeyQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "org_id"

    def usable(self):
        """Keys not revoked."""
        return self.filter(revoked_at__isnull=True)
