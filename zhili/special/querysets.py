from django.db.models import Q

from zhili.core import codes
from zhili.core.scoping import ScopedQuerySet
from zhili.special.choices import OPEN_HANDOVER_STATES, SupervisionState


class CategoryQuerySet(ScopedQuerySet):
    """The categories are shared by the whole city: everyone signed in may read them (the
    records themselves need `special.view_supervision`)."""

    scope_area_field = None
    rezone = False

    def in_scope(self, user):
        return self.all() if getattr(user, "is_authenticated", False) else self.none()

    def active(self):
        """Categories offered for new records."""
        return self.filter(is_active=True)


class SupervisionQuerySet(ScopedQuerySet):
    """A record is seen in the subtree of the area responsible for the person — and, while a
    handover is open, also in the receiving area's subtree, so nobody is lost in between."""

    scope_area_field = "area_code"

    def scope_q(self, scope):
        base = super().scope_q(scope)
        if base is None or scope.prefix is None:
            return base
        return base | codes.range_q("pending_area_code", scope.prefix)

    def open(self):
        """Under management (including while being handed over)."""
        return self.exclude(state=SupervisionState.RELEASED)

    def overdue(self):
        """Open records whose next visit is overdue."""
        return self.open().filter(overdue=True)


class CoverageQuerySet(SupervisionQuerySet):
    rezone = False  # the same rows as Supervision, which is re-zoned itself


class VisitQuerySet(ScopedQuerySet):
    """A visit stays where it was made (the area responsible then): coverage counts it there."""

    scope_area_field = "area_code"


class VisitPhotoQuerySet(ScopedQuerySet):
    """A photo is visible to whoever may see the record its visit belongs to."""

    scope_area_field = None
    rezone = False

    def scope_q(self, scope):
        from zhili.special.models import Supervision

        inner = SupervisionQuerySet(model=Supervision).scope_q(scope)
        if inner is None:
            return None
        return Q(visit__supervision__in=Supervision.objects.filter(inner).values("pk"))


class HandoverQuerySet(ScopedQuerySet):
    """Both sides see a handover: the sending area and the receiving one (and every level
    above either, which includes the common upper level that arbitrates)."""

    scope_area_field = "from_area_code"

    def scope_q(self, scope):
        base = super().scope_q(scope)
        if base is None or scope.prefix is None:
            return base
        return base | codes.range_q("to_area_code", scope.prefix)

    def open(self):
        """Pending or disputed."""
        return self.filter(state__in=OPEN_HANDOVER_STATES)
