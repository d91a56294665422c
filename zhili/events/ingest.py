"""12345 hotline tickets from CSV/XLSX: one event per ticket, idempotent on the ticket number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import audit, codes, tabular
from zhili.core.ingest import CREATED, DUPLICATE, RowError, ingest
from zhili.core.jobs import job_handler
from zhili.events import services
from zhili.events.choices import Channel, Urgency
from zhili.events.models import Event, EventCategory

COLUMNS = ["ticket_no", "received_at", "category", "content", "title", "address", "lng", "lat",
           "area_code", "caller", "phone", "urgency"]
ALIASES = {
    "工单编号": "ticket_no", "工单号": "ticket_no", "来电时间": "received_at",
    "受理时间": "received_at", "诉求类别": "category", "类别": "category",
    "诉求内容": "content", "内容": "content", "标题": "title", "地址": "address",
    "经度": "lng", "纬度": "lat", "区域代码": "area_code", "来电人": "caller",
    "联系电话": "phone", "紧急程度": "urgency",
}
URGENCY_WORDS = {"一般": Urgency.NORMAL, "紧急": Urgency.URGENT, "特急": Urgency.CRITICAL,
                 **{u: u for u in Urgency.values}}


def _time(raw: str) -> dt.datetime:
    value = parse_datetime(raw.replace("/", "-")) if raw else None
    if value is None:
        raise RowError("received_at", _("Give the time as YYYY-MM-DD HH:MM."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise RowError("received_at", _("The time is in the future."))
    return value


def _decimal(raw: str, column: str):
    if not raw:
        return None
    try:
        return Decimal(raw).quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise RowError(column, _("Not a number.")) from None


class HotlineImporter:
    def __init__(self, actor):
        self.actor = actor
        self.categories = {c.code: c for c in EventCategory.objects.active()}
        self.categories.update({c.name: c for c in self.categories.values()})
        self.areas = Area.objects.restrict(actor).active()

    def handle(self, row: dict) -> str:
        ticket = row.get("ticket_no", "").strip()
        if not ticket:
            raise RowError("ticket_no", _("The ticket number is empty."))
        if Event.objects.filter(channel=Channel.HOTLINE, external_id=ticket).exists():
            return DUPLICATE
        category = self.categories.get(row.get("category", "").strip())
        if category is None:
            raise RowError("category", _("Unknown category %(v)r.") % {"v": row.get("category")})
        content = row.get("content", "").strip()
        if not content:
            raise RowError("content", _("The content is empty."))
        area = None
        if row.get("area_code"):
            try:
                area = self.areas.filter(code=codes.normalize(row["area_code"])).first()
            except codes.CodeError as exc:
                raise RowError("area_code", str(exc)) from None
            if area is None:
                raise RowError("area_code", _("No such area within your reach."))
        urgency = URGENCY_WORDS.get(row.get("urgency", "").strip(), "")
        services.report_event(
            actor=self.actor, channel=Channel.HOTLINE, category=category,
            title=row.get("title", "").strip() or content[:40], description=content,
            area=area, lat=_decimal(row.get("lat", ""), "lat"),
            lng=_decimal(row.get("lng", ""), "lng"), address=row.get("address", ""),
            urgency=urgency, reporter_name=row.get("caller", ""),
            reporter_contact=row.get("phone", ""), external_id=ticket,
            reported_at=_time(row.get("received_at", "")),
        )
        return CREATED


@job_handler("events.hotline_import")
def run_hotline_import(job, progress) -> dict:
    try:
        table = tabular.read_table(job.input_file.read(), job.input_file.name,
                                   required=["ticket_no", "category", "content", "received_at"],
                                   aliases=ALIASES)
    except tabular.TableError as exc:
        return {"file_error": str(exc), "errors": [], "error_count": 1}
    progress.total(len(table.rows))
    report = ingest(table.rows, HotlineImporter(job.created_by).handle, progress=progress)
    audit.record(actor=job.created_by, action="event.hotline_import",
                 changes={"file": job.input_file.name, **{k: v for k, v in report.as_dict()
                                                          .items() if k != "errors"}})
    return {**report.as_dict(), "encoding": table.encoding}
