"""The application's URLs plus `/bench/bare-report`, the baseline of the report-throughput
measurement in bench/events.py.

The bare view takes the JSON body the report API takes (category code, description, area code)
and writes the rows a report leaves in the events tables (the event, its number, its "report"
transition) with plain SQL in one transaction: no authentication, scoping, validation schema,
duplicate search, notifications or statistics marks. What the API achieves relative to it is
the cost of all of those on the same server, database and Django stack.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from zhili.config.urls import urlpatterns as application_urlpatterns
from zhili.events.models import Event, EventTransition

# What the report service fills in besides the defaults (see events.services.report_event); a
# fixed 30-minute acceptance limit stands in for the working-day clock.
ACCEPT_LIMIT = dt.timedelta(minutes=30)


class _Insert:
    """An INSERT of every column of a model, with the field defaults prepared once, so that a
    request only converts the values it sets (plain SQL, not the ORM's per-row work)."""

    def __init__(self, model, returning: bool):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.fields = fields
        self.defaults = [
            None if f.get_default() is None else f.get_db_prep_save(f.get_default(), connection)
            for f in fields
        ]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"
        if returning:
            self.sql += " RETURNING id"

    def params(self, **values) -> list:
        params = list(self.defaults)
        for name, value in values.items():
            field = self.fields[self.index[name]]
            params[self.index[name]] = field.get_db_prep_save(value, connection)
        return params


_inserts: dict[str, _Insert] = {}


def _insert(model, *, returning: bool) -> _Insert:
    # Built on first use: preparing defaults needs the database connection's operations.
    key = model._meta.label
    if key not in _inserts:
        _inserts[key] = _Insert(model, returning)
    return _inserts[key]


@csrf_exempt
def bare_report(request):
    data = json.loads(request.body)
    description = str(data.get("description", "")).strip()
    now = timezone.now()
    deadline = now + ACCEPT_LIMIT
    event_insert = _insert(Event, returning=True)
    log_insert = _insert(EventTransition, returning=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id, default_urgency, handling_level FROM events_eventcategory "
                       "WHERE code = %s AND is_active", [data["category"]])
        category_id, urgency, handling_level = cursor.fetchone()
        cursor.execute("SELECT id, level FROM areas_area WHERE code = %s",
                       [str(data["area_code"]).ljust(15, "0")])
        area_id, level = cursor.fetchone()
        cursor.execute(event_insert.sql, event_insert.params(
            title=description[:40], description=description, category_id=category_id,
            urgency=urgency, channel="device", state="reported", area_id=area_id,
            area_code=str(data["area_code"]).ljust(15, "0"),
            owner_level=min(handling_level, level), reported_at=now, updated_at=now,
            deadline_step="accept", deadline_unit="minutes", step_started_at=now,
            deadline_at=deadline, warn_at=now + ACCEPT_LIMIT * 0.8))
        event_id = cursor.fetchone()[0]
        number = f"SJ{timezone.localtime(now):%Y%m%d}{event_id:07d}"
        cursor.execute("UPDATE events_event SET number = %s WHERE id = %s", [number, event_id])
        cursor.execute(log_insert.sql, log_insert.params(
            event_id=event_id, action="report", from_state="", to_state="reported",
            data={"channel": "device", "warnings": []}, deadline_after=deadline,
            created_at=now))
    return JsonResponse({"id": event_id, "number": number}, status=201)


urlpatterns = [path("bench/bare-report", bare_report), *application_urlpatterns]
