"""Lookups the event services need: time limits, routing, and who is responsible now."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from zhili.accounts.models import Position, User
from zhili.areas.models import Area
from zhili.core import codes
from zhili.core.memo import ttl_cache
from zhili.events.choices import EventState, Step
from zhili.events.models import Event, EventCategory, RoutingRule, SLARule

# Used when no SLA row matches at all (the seeded defaults normally cover every step).
FALLBACK = {Step.ACCEPT: (Decimal(30), "minutes"), Step.DISPATCH: (Decimal(1), "work_hours"),
            Step.SIGN: (Decimal(2), "work_hours"), Step.HANDLE: (Decimal(3), "work_days"),
            Step.ARBITRATE: (Decimal(1), "work_hours"), Step.VERIFY: (Decimal(1), "work_days"),
            Step.CLOSE: (Decimal(1), "work_hours")}


@ttl_cache(30)
def _limits() -> dict[tuple, tuple[Decimal, str]]:
    return {(r.category_id, r.urgency, r.step): (r.amount, r.unit)
            for r in SLARule.objects.all()}


def time_limit(category: EventCategory, urgency: str, step: str) -> tuple[Decimal, str]:
    """The most specific time limit for the step (see SLARule): category + urgency, then
    category, then urgency, then the default row."""
    limits = _limits()
    for key in ((category.pk, urgency, step), (category.pk, "", step), (None, urgency, step),
                (None, "", step)):
        if key in limits:
            return limits[key]
    return FALLBACK[step]


def route(area: Area, category: EventCategory) -> RoutingRule | None:
    """The rule of the deepest area containing `area`; a category rule beats a catch-all."""
    prefixes = [codes.pad(codes.prefix_of(area.code, rank)) for rank in range(area.level + 1)]
    rules = RoutingRule.objects.filter(is_active=True, area_code__in=prefixes).filter(
        Q(category=category) | Q(category__isnull=True)).select_related("lead_org")
    return max(rules, key=lambda r: (len(codes.prefix_of(r.area_code, r.area.level)),
                                     r.category_id is not None), default=None)


def centre_area(event: Event) -> Area:
    """The area whose governance centre owns dispatching now (town by default)."""
    level = min(event.owner_level, event.area.level)
    return Area.objects.get(code=codes.pad(codes.prefix_of(event.area_code, level)))


def _holders(perm: str, *, area_code: str | None = None, org_ids=None) -> list[User]:
    """Active users whose positions hold `perm` exactly at an area, or in organisations."""
    app, codename = perm.split(".")
    positions = Position.objects.active().filter(
        role__group__permissions__codename=codename,
        role__group__permissions__content_type__app_label=app)
    if area_code is not None:
        positions = positions.filter(area_code=area_code)
    if org_ids is not None:
        positions = positions.filter(org_id__in=org_ids)
    return list(User.objects.filter(pk__in=positions.values("user_id"), is_active=True)
                .only("id", "is_active", "is_service", "username"))


def dispatchers(event: Event, *, level_up: int = 0) -> list[User]:
    centre = centre_area(event)
    level = max(1, centre.level - level_up)
    code = codes.pad(codes.prefix_of(event.area_code, level))
    return _holders("events.dispatch_event", area_code=code)


def handlers(event: Event) -> list[User]:
    if not event.lead_org_id:
        return []
    return _holders("events.handle_event", org_ids=[event.lead_org_id])


def verifiers(event: Event) -> list[User]:
    people = _holders("events.verify_event", area_code=event.area_code)
    if event.reporter_id and event.reporter not in people:
        people.append(event.reporter)
    return people


def holders(event: Event) -> list[User]:
    """Who must act now, by the state the event is in."""
    if event.state in (EventState.REPORTED, EventState.ACCEPTED, EventState.RETURNED,
                       EventState.VERIFIED):
        return dispatchers(event)
    if event.state in (EventState.DISPATCHED, EventState.HANDLING, EventState.WAITING):
        return handlers(event)
    if event.state == EventState.HANDLED:
        return verifiers(event)
    return []


def supervisors(event: Event) -> list[User]:
    """Whoever oversees the holder: the dispatching centre for handlers, the level above for
    the centre itself."""
    if event.state in (EventState.DISPATCHED, EventState.HANDLING, EventState.HANDLED):
        return dispatchers(event)
    return dispatchers(event, level_up=1)
