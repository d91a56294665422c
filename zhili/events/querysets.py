from django.db.models import Exists, OuterRef, Q

from zhili.core.scoping import ORG, ScopedQuerySet
from zhili.events.choices import OPEN_STATES


class EventQuerySet(ScopedQuerySet):
    """Events are located by area; organisation-scoped staff (department handlers) see the
    events their organisation leads or assists on."""

    scope_area_field = "area_code"

    def scope_q(self, scope):
        if scope.kind == ORG and scope.org_ids:
            from zhili.events.models import EventAssignment

            assisted = EventAssignment.objects.filter(event_id=OuterRef("pk"),
                                                      org_id__in=scope.org_ids)
            return Q(lead_org_id__in=scope.org_ids) | Exists(assisted)
        return super().scope_q(scope)

    def open(self):
        """Not closed, rejected or merged."""
        return self.filter(state__in=OPEN_STATES)


class RoutingRuleQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    # Organisation staff see the rules that route work to them.
    scope_org_field = "lead_org_id"


class SupervisionQuerySet(ScopedQuerySet):
    scope_area_field = "area_code"
    scope_org_field = "to_org_id"
