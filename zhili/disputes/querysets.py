from django.db.models import Q

from zhili.core import codes
from zhili.core.scoping import ORG, ScopedQuerySet
from zhili.disputes.choices import OPEN_STATES


class BodyQuerySet(ScopedQuerySet):
    """Mediation bodies: an area user sees the bodies of the subtree and the upper-level bodies
    that serve it (a town's centre routes to the county's professional bodies); a mediator sees
    their own body."""

    scope_area_field = "area_code"
    scope_org_field = "org"

    def scope_q(self, scope):
        if scope.kind == ORG and scope.org_ids:
            return Q(org__in=scope.org_ids)
        if scope.prefix is None:
            return None
        ancestors = [codes.pad(scope.prefix[:level.digits]) for level in codes.LEVELS
                     if level.digits < len(scope.prefix)]
        return codes.range_q("area_code", scope.prefix) | Q(area_code__in=ancestors)

    def active(self):
        return self.filter(is_active=True)


class MediatorQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "body__org"


class DisputeQuerySet(ScopedQuerySet):
    """A case is seen in the subtree of its area, and by the body handling it (mediators are
    scoped to their organisation)."""

    scope_area_field = "area_code"
    scope_org_field = "body__org"

    def open(self):
        return self.filter(state__in=OPEN_STATES)


class ChildQuerySet(ScopedQuerySet):
    """Rows of a case (parties, sessions, files, agreements …): visible with their case."""

    scope_area_field = None
    rezone = False
    case_field = "dispute"

    def scope_q(self, scope):
        from zhili.disputes.models import Dispute

        inner = DisputeQuerySet(model=Dispute).scope_q(scope)
        if inner is None:
            return None
        return Q(**{f"{self.case_field}__in": Dispute.objects.filter(inner).values("pk")})


class AlertQuerySet(ScopedQuerySet):
    """An alert is seen in its case's area subtree, and by the body handling the case."""

    scope_area_field = "area_code"
    scope_org_field = "dispute__body__org"


class StatQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    rezone = False  # rebuilt from the cases, which are re-zoned themselves
