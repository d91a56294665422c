"""Events over the API: report (devices, other systems, the offline queue of the phone page),
inbox lists, details with the timeline, actions, photos, suggestions and statistics."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from zhili.areas.models import Area
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.memo import ttl_cache
from zhili.core.pii import mask_name, mask_phone
from zhili.core.services import field_error
from zhili.events import actions, services, stats
from zhili.events.filters import EventFilter
from zhili.events.models import Event, EventCategory

router = ScopedRouter(tags=["events"])
VIEW = RouteScope(Event, "view")


class EventRow(Schema):
    id: int
    number: str | None
    title: str
    category: str
    state: str
    state_name: str
    urgency: str
    channel: str
    area_code: str
    area_name: str
    lead_org: str | None
    reported_at: dt.datetime
    deadline_at: dt.datetime | None
    overdue: bool
    version: int


def row(e: Event) -> dict:
    return {"id": e.pk, "number": e.number, "title": e.title, "category": e.category.name,
            "state": e.state, "state_name": e.get_state_display(), "urgency": e.urgency,
            "channel": e.channel, "area_code": e.area_code, "area_name": e.area.name,
            "lead_org": e.lead_org.name if e.lead_org_id else None,
            "reported_at": e.reported_at, "deadline_at": e.deadline_at, "overdue": e.overdue,
            "version": e.version}


class EventPage(Schema):
    items: list[EventRow]
    has_more: bool


class ListQuery(Schema):
    box: str = Field("all", pattern="^(todo|done|supervised|overdue|all)$")
    q: str | None = None
    area: str | None = Field(None, pattern=r"^\d{1,15}$")
    category: int | None = None
    state: str | None = None
    channel: str | None = None
    overdue: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("", scope=VIEW, response=EventPage, summary="Inbox and event lists")
def list_events(request, query: Query[ListQuery]):
    params = {k: v for k, v in query.dict().items() if v not in (None, False, "")
              and k not in ("limit", "offset")}
    filters = EventFilter(params)
    if not filters.valid:
        raise services.ServiceError("invalid", field_messages={
            k: [str(m) for m in v] for k, v in filters.form.errors.items()})
    # Prefetched for the page's rows, not joined to every row in reach (see InboxView).
    qs = filters.apply(Event.objects.restrict(request.auth), request.auth).prefetch_related(
        "category", "area", "lead_org")
    rows = list(qs[query.offset: query.offset + query.limit + 1])
    return {"items": [row(e) for e in rows[: query.limit]], "has_more": len(rows) > query.limit}


class ReportIn(Schema):
    category: str = Field(description="Category code")
    title: str = Field("", max_length=120)
    description: str = Field("", max_length=5000)
    urgency: str = ""
    area_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)
    address: str = Field("", max_length=200)
    reporter_name: str = Field("", max_length=60)
    reporter_contact: str = Field("", max_length=40)
    client_uuid: uuid.UUID | None = Field(None, description="Makes a retried submission safe")
    solved_on_spot: bool = False


class ReportOut(Schema):
    id: int
    number: str
    state: str
    warnings: list[str]


def _channel(user) -> str:
    return "device" if getattr(user, "is_service", False) else "grid"


@ttl_cache(30)
def _active_categories() -> dict[str, EventCategory]:
    return {c.code: c for c in EventCategory.objects.active()}


def _report(request, data: ReportIn, photos) -> dict:
    category = _active_categories().get(data.category)
    if category is None:
        raise field_error("category", _("Unknown category %(code)s.") % {"code": data.category})
    area = None
    if data.area_code:
        from zhili.core import codes

        area = Area.objects.restrict(request.auth).filter(
            code=codes.normalize(data.area_code)).first()
        if area is None:
            raise field_error("area_code", _("No such area within your reach."))
    result = services.report_event(
        actor=request.auth, channel=_channel(request.auth), category=category,
        title=data.title, description=data.description, urgency=data.urgency, area=area,
        lat=data.lat, lng=data.lng, address=data.address, reporter_name=data.reporter_name,
        reporter_contact=data.reporter_contact, client_uuid=data.client_uuid,
        solved_on_spot=data.solved_on_spot, photos=photos)
    return {"id": result.event.pk, "number": result.event.number, "state": result.event.state,
            "warnings": [str(w) for w in result.warnings]}


@router.post("", scope=RouteScope(Event, "add"), response={201: ReportOut},
             summary="Report an event (JSON)")
def report(request, payload: ReportIn):
    return Status(201, _report(request, payload, []))


@router.post("/upload", scope=RouteScope(Event, "add"), response={201: ReportOut},
             summary="Report an event with photos (multipart; used by the phone page)")
def report_with_photos(request, payload: Form[ReportIn],
                       photos: File[list[UploadedFile]] = None):
    files = [services.Photo(f.read(), f.name) for f in (photos or [])]
    return Status(201, _report(request, payload, files))


class TimelineItem(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: dt.datetime
    deadline_after: dt.datetime | None


class EventDetail(EventRow):
    description: str
    address: str
    lat: Decimal | None
    lng: Decimal | None
    reporter: str
    reporter_contact: str
    satisfaction: str
    photos: list[str]
    actions: list[str]
    timeline: list[TimelineItem]


@router.get("/{int:pk}", scope=RouteScope(Event, "view", lookup="pk"), response=EventDetail,
            summary="One event with its timeline and the actions open to me")
def detail(request, pk: int):
    e = request.scoped_object
    return {
        **row(e), "description": e.description, "address": e.address, "lat": e.lat,
        "lng": e.lng, "reporter": mask_name(e.reporter_name),
        "reporter_contact": mask_phone(e.reporter_contact or ""),
        "satisfaction": e.satisfaction,
        "photos": [p.get_absolute_url() for p in e.photos.all()],
        "actions": [a.key for a in actions.available(e, request.auth)],
        "timeline": [{"action": t.action, "from_state": t.from_state, "to_state": t.to_state,
                      "actor": t.actor_name, "reason": t.reason, "at": t.created_at,
                      "deadline_after": t.deadline_after}
                     for t in e.transitions.order_by("created_at", "id")],
    }


class ActionOut(Schema):
    id: int
    state: str
    version: int
    deadline_at: dt.datetime | None


@router.post("/{int:pk}/actions/{slug:action}",
             scope=RouteScope(Event, "view", lookup="pk", params=(("action", "accept"),),
                              example_requires=((Event, "dispatch"),)),
             response=ActionOut, summary="Take an action (accept, dispatch, sign, finish …)")
def act(request, pk: int, action: str, payload: Body[dict[str, Any]] = None):
    data = QueryDict(mutable=True)
    for key, value in (payload or {}).items():
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        elif value is not None:
            data[key] = str(value)
    actions.perform(action, actor=request.auth, event=request.scoped_object, data=data)
    event = Event.objects.get(pk=pk)
    return {"id": event.pk, "state": event.state, "version": event.version,
            "deadline_at": event.deadline_at}


@router.post("/{int:pk}/photos", scope=RouteScope(Event, "view", lookup="pk"),
             response={201: list[str]}, summary="Add photos to an open event")
def add_photos(request, pk: int, photos: File[list[UploadedFile]], stage: Form[str] = "progress"):
    event = request.scoped_object
    services._check_actor(request.auth, event, "view")
    stored = [services.add_photo(actor=request.auth, event=event,
                                 photo=services.Photo(f.read(), f.name, stage))
              for f in photos]
    return Status(201, [p.get_absolute_url() for p in stored])


class CategoryOut(Schema):
    code: str
    name: str
    group: str | None
    default_urgency: str


@router.get("/categories", scope=RouteScope(EventCategory, "view"), response=list[CategoryOut],
            summary="Active event categories")
def categories(request):
    return [{"code": c.code, "name": c.name, "group": c.parent.name if c.parent_id else None,
             "default_urgency": c.default_urgency}
            for c in EventCategory.objects.active().filter(parent__isnull=False)
            .select_related("parent")]


class SuggestIn(Schema):
    text: str = Field(max_length=5000)


class Suggestion(Schema):
    code: str
    name: str
    score: float


@router.post("/suggest", scope=RouteScope(Event, "view"), response=list[Suggestion],
             summary="Suggest categories for a text")
def suggest(request, payload: SuggestIn):
    from zhili.events.suggest import suggest as run

    return [{"code": c.code, "name": c.name, "score": round(s, 3)} for c, s in run(payload.text)]


class StatsQuery(Schema):
    start: dt.date | None = Field(None, description="Any day of the first month")
    end: dt.date | None = Field(None, description="Any day of the last month")


@router.get("/stats", scope=VIEW, response=dict, summary="Statistics for a period")
def statistics(request, query: Query[StatsQuery]):
    today = timezone.localdate()
    start = query.start or today.replace(month=1, day=1)
    end = query.end or today
    if start > end:
        raise field_error("start", _("The start is after the end."))
    figures = stats.figures(request.auth, start=start, end=end)
    figures["as_of"] = figures["as_of"].isoformat() if figures["as_of"] else None
    for r in figures["by_month"]:
        r["m"] = r["m"].isoformat()[:7]
        r.pop("month", None)
    return figures
