"""Open311 GeoReport v2 for public intake: services, requests (GET/POST), a request by id,
and tokens. JSON and XML, errors in the GeoReport error format. Public requests show no
personal data; a merged duplicate reports the status of the report it was merged into."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from zhili.core.api import RouteScope
from zhili.core.middleware import client_ip
from zhili.core.services import ServiceError
from zhili.core.views import ZhiliView
from zhili.events import services
from zhili.events.choices import Channel, EventState
from zhili.events.models import Event, EventCategory

POSTS_PER_HOUR = 30
MAX_RESULTS = 1000


def _render(data, fmt: str, status: int = 200, root: str = "service_requests",
            item: str = "request"):
    if fmt == "xml":
        top = ET.Element(root)
        for entry in data:
            node = ET.SubElement(top, item)
            for key, value in entry.items():
                if isinstance(value, list):
                    value = ",".join(str(v) for v in value)
                ET.SubElement(node, key).text = "" if value is None else str(value)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(data, status=status, safe=False, json_dumps_params={
        "ensure_ascii": False})


def _error(fmt: str, status: int, description: str):
    return _render([{"code": status, "description": str(description)}], fmt, status,
                   root="errors", item="error")


def _scope(**params) -> RouteScope:
    return RouteScope(public=True, params=(("fmt", "json"), *params.items()))


class Open311View(ZhiliView):
    """The URL patterns admit only the .json and .xml formats."""

    route_scope = _scope()


def _services():
    return EventCategory.objects.active().filter(is_public=True, parent__isnull=False) \
        .select_related("parent")


class ServicesView(Open311View):

    def get(self, request, fmt="json"):
        data = [{"service_code": c.code, "service_name": c.name,
                 "description": c.description, "metadata": False, "type": "realtime",
                 "keywords": ",".join(c.keyword_list()[:10]),
                 "group": c.parent.name if c.parent_id else ""} for c in _services()]
        return _render(data, fmt, root="services", item="service")


class ServiceDefinitionView(Open311View):
    route_scope = _scope(code="garbage")

    def get(self, request, code, fmt="json"):
        if not _services().filter(code=code).exists():
            return _error(fmt, 404, _("Unknown service_code %(code)s.") % {"code": code})
        data = {"service_code": code, "attributes": []}
        if fmt == "xml":
            return _render([data], fmt, root="service_definition", item="service")
        return JsonResponse(data)


def _public_status(event: Event) -> tuple[str, str]:
    shown = event.duplicate_of if event.state == EventState.MERGED and event.duplicate_of_id \
        else event
    is_closed = shown.state in (EventState.CLOSED, EventState.REJECTED)
    note = shown.get_state_display()
    if shown is not event:
        note = _("Handled together with %(number)s: %(state)s") % {
            "number": shown.number, "state": note}
    return ("closed" if is_closed else "open"), note


def iso(moment) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _as_request(event: Event) -> dict:
    status, notes = _public_status(event)
    return {
        "service_request_id": event.number, "status": status, "status_notes": notes,
        "service_name": event.category.name, "service_code": event.category.code,
        "description": event.description, "agency_responsible":
            event.lead_org.name if event.lead_org_id else "",
        "service_notice": "", "requested_datetime": iso(event.reported_at),
        "updated_datetime": iso(event.updated_at), "expected_datetime": iso(event.deadline_at),
        "address": event.address, "address_id": "", "zipcode": "",
        "lat": float(event.lat) if event.lat is not None else None,
        "long": float(event.lng) if event.lng is not None else None, "media_url": "",
    }


def _public_events():
    return Event.objects.filter(channel=Channel.PUBLIC).select_related("category", "lead_org",
                                                                       "duplicate_of")


@method_decorator(csrf_exempt, name="dispatch")
class RequestsView(Open311View):
    """GET: public requests (filters per GeoReport v2). POST: a new request."""

    def get(self, request, fmt="json"):
        qs = _public_events()
        ids = request.GET.get("service_request_id")
        if ids:
            qs = qs.filter(number__in=[i.strip() for i in ids.split(",")])
        else:
            codes = request.GET.get("service_code")
            if codes:
                qs = qs.filter(category__code__in=codes.split(","))
            for param, lookup in (("start_date", "reported_at__gte"),
                                  ("end_date", "reported_at__lte")):
                raw = request.GET.get(param)
                if raw:
                    value = parse_datetime(raw)
                    if value is None:
                        return _error(fmt, 400, _("%(param)s is not a w3 date-time.")
                                      % {"param": param})
                    qs = qs.filter(**{lookup: value})
            status = request.GET.get("status")
            if status:
                wanted = set(status.split(","))
                if not wanted <= {"open", "closed"}:
                    return _error(fmt, 400, _("status is open or closed."))
                if wanted == {"open"}:
                    qs = qs.exclude(state__in=[EventState.CLOSED, EventState.REJECTED])
                elif wanted == {"closed"}:
                    qs = qs.filter(state__in=[EventState.CLOSED, EventState.REJECTED])
        return _render([_as_request(e) for e in qs.order_by("-reported_at")[:MAX_RESULTS]], fmt)

    def post(self, request, fmt="json"):
        key = f"open311:{client_ip(request)}"
        if cache.get_or_set(key, 0, 3600) >= POSTS_PER_HOUR:
            return _error(fmt, 429, _("Too many requests from this address; try later."))
        cache.incr(key)
        data = request.POST
        code = data.get("service_code", "").strip()
        if not code:
            return _error(fmt, 400, _("service_code is required."))
        category = _services().filter(code=code).first()
        if category is None:
            return _error(fmt, 400, _("Unknown service_code %(code)s.") % {"code": code})
        try:
            lat = Decimal(data["lat"]) if data.get("lat") else None
            lng = Decimal(data["long"]) if data.get("long") else None
        except InvalidOperation:
            return _error(fmt, 400, _("lat and long must be numbers."))
        address = data.get("address_string", "").strip()
        if lat is None or lng is None:
            return _error(fmt, 400, _("lat and long are required (this city locates reports "
                                      "by coordinates)."))
        description = data.get("description", "").strip()
        if not description:
            return _error(fmt, 400, _("description is required."))
        name = " ".join(p for p in (data.get("last_name", ""), data.get("first_name", "")) if p)
        contact = data.get("phone", "") or data.get("email", "")
        try:
            result = services.report_event(
                actor=None, channel=Channel.PUBLIC, category=category, title=description[:40],
                description=description[:5000], lat=lat, lng=lng, address=address,
                reporter_name=name, reporter_contact=contact)
        except ServiceError as exc:
            messages = [m for ms in exc.field_messages.values() for m in ms] or [exc.message]
            return _error(fmt, 400, " ".join(messages))
        event = result.event
        return _render([{"service_request_id": event.number, "token": event.public_token,
                         "service_notice": _("Thank you. Keep the token to follow your "
                                             "report."), "account_id": None}], fmt, 201)


class RequestView(Open311View):
    route_scope = _scope(number="SJ0")

    def get(self, request, number, fmt="json"):
        event = _public_events().filter(number=number).first()
        if event is None:
            return _error(fmt, 404, _("No public request %(id)s.") % {"id": number})
        return _render([_as_request(event)], fmt)


class TokenView(Open311View):
    route_scope = _scope(token="none")

    def get(self, request, token, fmt="json"):
        event = _public_events().filter(public_token=token).first()
        if event is None:
            return _error(fmt, 404, _("Unknown token."))
        return _render([{"service_request_id": event.number, "token": token}], fmt,
                       root="service_requests", item="request")
