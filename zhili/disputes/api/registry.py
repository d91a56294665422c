"""The registry of mediation bodies (一综多专), routing proposals, and the risk alerts."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema

from zhili.core import codes, pii
from zhili.core.api import RouteScope
from zhili.core.scoping import ORG, access, get_scope, require
from zhili.core.services import field_error
from zhili.disputes import codetables, rules, services
from zhili.disputes.api.base import (
    DisputeAlertOut,
    alert_out,
    area_by_code,
    pattern,
    router,
    subtree_prefix,
)
from zhili.disputes.choices import AlertKind, BodyKind, DisputeState
from zhili.disputes.models import Dispute, DisputeAlert, MediationBody

ACTIVE_CASES = (DisputeState.ASSIGNED, DisputeState.MEDIATING)


# --- bodies -------------------------------------------------------------------------------------

class MediationBodyOut(Schema):
    id: int
    name: str
    org_id: int
    kind: str
    kind_name: str
    area_code: str
    area_name: str
    type_codes: list[str] = Field(description="5.56 groups or items served; empty: every type")
    type_names: list[str]
    capacity: int
    open_cases: int
    load: float = Field(description="open cases / capacity")
    accept_days: int
    mediate_days: int
    phone: str
    is_active: bool
    mediators: int = Field(description="Active mediators")


def body_out(b: MediationBody, mediators: int) -> dict:
    return {"id": b.pk, "name": b.org.name, "org_id": b.org_id, "kind": b.kind,
            "kind_name": b.get_kind_display(), "area_code": b.area_code,
            "area_name": b.org.area.name, "type_codes": b.type_codes,
            "type_names": b.type_names(), "capacity": b.capacity, "open_cases": b.open_cases,
            "load": round(b.load, 3), "accept_days": b.accept_days,
            "mediate_days": b.mediate_days, "phone": b.phone, "is_active": b.is_active,
            "mediators": mediators}


class MediationBodyPage(Schema):
    items: list[MediationBodyOut]
    has_more: bool


class MediationBodyQuery(Schema):
    type_code: str | None = Field(None, pattern=r"^\d{2,4}$",
                                  description="Only bodies taking this 5.56 type")
    kind: str | None = Field(None, pattern=pattern(BodyKind.values))
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    active: bool | None = Field(True, description="Omit (null) for active and inactive")
    limit: int = Field(200, ge=1, le=1000)


def _bodies(qs):
    return qs.select_related("org__area").annotate(
        active_mediators=Count("mediators", filter=Q(mediators__is_active=True)))


@router.get("/bodies", scope=RouteScope(MediationBody, "view"), response=MediationBodyPage,
            summary="Mediation bodies in reach, with the types they take and their load")
def list_bodies(request, query: Query[MediationBodyQuery]):
    qs = _bodies(MediationBody.objects.restrict(request.auth))
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.area:
        qs = qs.filter(codes.range_q("area_code", subtree_prefix(query.area)))
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    found = []
    for body in qs.iterator(chunk_size=500):  # the types served are a JSON list
        if query.type_code and not codetables.serves_type(body.type_codes, query.type_code):
            continue
        found.append(body)
        if len(found) > query.limit:
            break
    return {"items": [body_out(b, b.active_mediators) for b in found[: query.limit]],
            "has_more": len(found) > query.limit}


class MediationBodyMediatorOut(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked")
    full_time: bool
    speciality: str
    user_id: int | None
    open_cases: int


class MediationBodyDetail(MediationBodyOut):
    active_mediators: list[MediationBodyMediatorOut]


@router.get("/bodies/{int:pk}", scope=RouteScope(MediationBody, "view", lookup="pk"),
            response=MediationBodyDetail, summary="One body with its active mediators")
def body_detail(request, pk: int):
    body = _bodies(MediationBody.objects.all()).get(pk=request.scoped_object.pk)
    mediators = body.mediators.filter(is_active=True).annotate(
        open_count=Count("cases", filter=Q(cases__state__in=ACTIVE_CASES)))
    return {**body_out(body, body.active_mediators), "active_mediators": [
        {"id": m.pk, "name": m.name, "phone": pii.mask_field(m, "phone"),
         "full_time": m.full_time, "speciality": m.speciality, "user_id": m.user_id,
         "open_cases": m.open_count} for m in mediators]}


class BodyProposalQuery(Schema):
    type_code: str = Field(pattern=r"^\d{2,4}$", description="GB/T 31000 5.56")
    area: str = Field(pattern=r"^\d{1,15}$", description="Area code where it happened")


class BodyProposal(Schema):
    rank: int
    body: MediationBodyOut
    reason: str
    specificity: int = Field(description="4: the type's item, 2: its group, 0: every type")
    full: bool = Field(description="At capacity (listed last, not hidden)")


@router.get("/proposals", scope=RouteScope(MediationBody, "view"), response=list[BodyProposal],
            summary="Bodies to route a case of this type and area to, best first")
def proposals(request, query: Query[BodyProposalQuery]):
    if query.type_code not in codetables.TYPES:
        raise field_error("type_code", _("Unknown dispute type “%(code)s” (GB/T 31000 table "
                                         "5.56).") % {"code": query.type_code})
    area = area_by_code(query.area)
    if not get_scope(request.auth).covers_code(area.code):
        raise field_error("area", _("This area is outside your area of responsibility."))
    found = rules.candidates(query.type_code, area)
    reachable = {b.pk: b for b in _bodies(MediationBody.objects.in_scope(request.auth)).filter(
        pk__in=[c.body.pk for c in found])}
    ranked = [c for c in found if c.body.pk in reachable]
    return [{"rank": n, "body": body_out(reachable[c.body.pk],
                                         reachable[c.body.pk].active_mediators),
             "reason": c.reason, "specificity": c.specificity, "full": c.full}
            for n, c in enumerate(ranked, start=1)]


# --- alerts -------------------------------------------------------------------------------------

class DisputeAlertRow(DisputeAlertOut):
    dispute_number: str | None
    dispute_title: str
    area_code: str


class DisputeAlertPage(Schema):
    items: list[DisputeAlertRow]
    has_more: bool


class DisputeAlertQuery(Schema):
    state: str = Field("open", pattern="^(open|handled|all)$")
    kind: str | None = Field(None, pattern=pattern(AlertKind.values))
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


def _of_cases_in_reach(qs, user):
    """A body's staff reach the alerts of the cases they reach (the alerts' own scope is by
    area only, which would show them the alerts of other bodies' cases in their area)."""
    if get_scope(user).kind == ORG:
        qs = qs.filter(dispute__in=Dispute.objects.in_scope(user).values("pk"))
    return qs


def _alerts(user):
    return _of_cases_in_reach(DisputeAlert.objects.restrict(user), user)


class AlertScope(RouteScope):
    """RouteScope of one alert: out of reach (also: its case out of reach) is 404."""

    def enforce(self, user, path_kwargs: dict):
        obj = access(user, DisputeAlert, path_kwargs.get(self.lookup), self.action,
                     queryset=_of_cases_in_reach(DisputeAlert.objects.all(), user))
        for model, action in self.requires:
            require(user, model, action)
        return obj


def alert_row(a: DisputeAlert) -> dict:
    return {**alert_out(a), "dispute_number": a.dispute.number,
            "dispute_title": a.dispute.title, "area_code": a.area_code}


@router.get("/alerts", scope=RouteScope(DisputeAlert, "view"), response=DisputeAlertPage,
            summary="Risk alerts in reach, newest first (default: open ones)")
def list_alerts(request, query: Query[DisputeAlertQuery]):
    qs = _alerts(request.auth).select_related("dispute")
    if query.state != "all":
        qs = qs.filter(state=query.state)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    rows = list(qs[query.offset: query.offset + query.limit + 1])
    return {"items": [alert_row(a) for a in rows[: query.limit]],
            "has_more": len(rows) > query.limit}


class DisputeAlertHandleIn(Schema):
    note: str = Field(max_length=300)


@router.post("/alerts/{int:pk}/handle",
             scope=AlertScope(DisputeAlert, "view", lookup="pk",
                              requires=((Dispute, "route"),)),
             response=DisputeAlertRow, summary="Record how an alert was handled")
def handle_alert(request, pk: int, payload: DisputeAlertHandleIn):
    alert = services.handle_alert(actor=request.auth, alert=request.scoped_object,
                                  note=payload.note)
    return alert_row(DisputeAlert.objects.select_related("dispute").get(pk=alert.pk))

