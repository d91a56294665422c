"""Platform API: who am I, jobs, the audit log, and unmasking personal data."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils.translation import gettext
from ninja import Field, Query, Schema

from zhili.core import codes
from zhili.core.api import SELF, RouteScope, ScopedRouter
from zhili.core.models import AuditLog, Job, UnmaskPurpose
from zhili.core.scoping import get_scope
from zhili.core.services import ServiceError

router = ScopedRouter(tags=["platform"])


class PositionOut(Schema):
    id: int
    role: str
    role_name: str
    area_id: int
    area_code: str
    area_name: str
    org_id: int | None
    org_name: str | None
    title: str


def position_out(position) -> dict:
    return {
        "id": position.pk, "role": position.role.code, "role_name": str(position.role),
        "area_id": position.area_id, "area_code": position.area_code,
        "area_name": position.area.name, "org_id": position.org_id,
        "org_name": position.org.name if position.org_id else None, "title": position.title,
    }


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    is_superuser: bool
    active_position: PositionOut | None
    positions: list[PositionOut]
    permissions: list[str]


@router.get("/me", scope=SELF, response=MeOut, summary="The signed-in principal")
def me(request):
    user = request.auth
    positions = user.positions.active().select_related("role", "area", "org")
    active = user.active_position
    scope = get_scope(user)
    return {
        "id": user.pk, "username": user.username, "display_name": user.display_name,
        "is_superuser": user.is_superuser,
        "active_position": position_out(active) if active else None,
        "positions": [position_out(p) for p in positions],
        "permissions": sorted(scope.perms),
    }


class SwitchIn(Schema):
    position_id: int


@router.post("/me/position", scope=SELF, response=PositionOut,
             summary="Act in another of my positions (browser sessions)")
def switch_position(request, payload: SwitchIn):
    from zhili.accounts.middleware import SESSION_POSITION
    from zhili.accounts.services import switch_position as switch

    position = switch(user=request.auth, position_id=payload.position_id)
    if hasattr(request, "session"):
        request.session[SESSION_POSITION] = position.pk
    return position_out(position)


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    percent: int
    progress_done: int
    progress_total: int
    message: str
    result: dict
    created_at: dt.datetime
    finished_at: dt.datetime | None


@router.get("/jobs/{int:pk}", scope=RouteScope(Job, "view", lookup="pk"), response=JobOut,
            summary="A background job's progress and result")
def job_detail(request, pk: int):
    return request.scoped_object


class AuditOut(Schema):
    seq: int
    created_at: dt.datetime
    actor_name: str
    role: str
    ip: str | None
    request_id: str
    channel: str
    action: str
    target_type: str
    target_id: str
    target_repr: str
    area_code: str
    changes: dict


class AuditPage(Schema):
    items: list[AuditOut]
    next_before: int | None = Field(None, description="Pass as `before` for the next page")


class AuditFilter(Schema):
    action: str | None = Field(None, description="Action prefix, e.g. `auth.`")
    actor: str | None = None
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before: int | None = Field(None, description="Only rows with a smaller sequence number")
    limit: int = Field(100, ge=1, le=500)


@router.get("/audit", scope=RouteScope(AuditLog, "view"), response=AuditPage,
            summary="Search the audit log (newest first, keyset pages)")
def audit_list(request, filters: Query[AuditFilter]):
    qs = AuditLog.objects.restrict(request.auth)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    if filters.area:
        qs = qs.filter(codes.range_q("area_code", filters.area))
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    if filters.before:
        qs = qs.filter(seq__lt=filters.before)
    rows = list(qs.order_by("-seq")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"items": rows, "next_before": rows[-1].seq if more else None}




class UnmaskIn(Schema):
    model: str = Field(..., pattern=r"^[a-z_]+\.[a-z_]+$", examples=["people.person"],
                       description="The record's kind, `app_label.model_name`")
    id: int | str = Field(..., description="The record's id")
    fields: list[str] = Field(..., min_length=1, max_length=20,
                              examples=[["id_number", "phone"]])
    purpose: str = Field(..., description="Why the data is needed in clear (audited)")
    purpose_category: UnmaskPurpose = UnmaskPurpose.OTHER


class UnmaskOut(Schema):
    model: str
    id: str
    values: dict[str, str | None]
    expires_at: dt.datetime


# Any signed-in principal may ask: the record's model is in the body, so the permission
# (`<app>.unmask_<model>`, 403) and scope (404) checks are the service's, per record.
@router.post("/pii/unmask", scope=SELF, response=UnmaskOut,
             summary="Show personal data of one record in clear, for a stated purpose")
def pii_unmask(request, payload: UnmaskIn):
    from zhili.core import unmask

    app_label, _sep, model_name = payload.model.partition(".")
    try:
        model = unmask.resolve_model(app_label, model_name)
    except Http404:
        raise ServiceError("invalid", field_messages={"model": [gettext(
            "This kind of record has no personal data that can be unmasked.")]}) from None
    obj = unmask.authorise(request.auth, model, payload.id)
    granted = unmask.grant_unmask(actor=request.auth, obj=obj, fields=payload.fields,
                                  purpose=payload.purpose, category=payload.purpose_category)
    return {"model": obj._meta.label_lower, "id": str(obj.pk), "values": granted.values(),
            "expires_at": granted.expires_at}
