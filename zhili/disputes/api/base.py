"""Shared pieces of the disputes API: the router, the lean list row, area and object lookups,
the keyset cursor, and the renaming of service field names to the names of the request."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext as _
from ninja import Schema

from zhili.areas.models import Area
from zhili.core import codes
from zhili.core.api import ScopedRouter
from zhili.core.services import ServiceError, field_error
from zhili.disputes import codetables
from zhili.disputes.choices import Channel, DisputeState
from zhili.disputes.models import Dispute

router = ScopedRouter(tags=["disputes"])

STATE_NAMES = dict(DisputeState.choices)
CHANNEL_NAMES = dict(Channel.choices)


def pattern(values) -> str:
    """A regex accepting exactly one of `values` (query filters of code tables)."""
    return "^(" + "|".join(values) + ")$"


# --- the list row (also the head of the detail) -------------------------------------------------

class DisputeRow(Schema):
    id: int
    number: str | None
    title: str
    state: str
    state_name: str
    channel: str
    channel_name: str
    type_code: str
    type_name: str
    area_code: str
    area_name: str
    body_id: int | None
    body_name: str | None
    occurred_on: dt.date
    registered_at: dt.datetime
    deadline_at: dt.datetime | None
    resolve_by: dt.date | None
    overdue: bool
    supervised: bool
    is_group: bool
    people_count: int
    version: int


# Columns read by the list (`.values()`, no model instances): one query per page.
ROW_COLUMNS = ("id", "number", "title", "state", "channel", "type_code", "area_code",
               "area__name", "body_id", "body__org__name", "occurred_on", "registered_at",
               "deadline_at", "resolve_by", "overdue", "supervised", "is_group",
               "people_count", "version")


def row_from_values(v: dict) -> dict:
    return {
        "id": v["id"], "number": v["number"], "title": v["title"], "state": v["state"],
        "state_name": str(STATE_NAMES.get(v["state"], v["state"])), "channel": v["channel"],
        "channel_name": str(CHANNEL_NAMES.get(v["channel"], v["channel"])),
        "type_code": v["type_code"], "type_name": codetables.type_name(v["type_code"]),
        "area_code": v["area_code"], "area_name": v["area__name"], "body_id": v["body_id"],
        "body_name": v["body__org__name"], "occurred_on": v["occurred_on"],
        "registered_at": v["registered_at"], "deadline_at": v["deadline_at"],
        "resolve_by": v["resolve_by"], "overdue": v["overdue"], "supervised": v["supervised"],
        "is_group": v["is_group"], "people_count": v["people_count"], "version": v["version"],
    }


def row_of(d: Dispute) -> dict:
    values = {name: getattr(d, name) for name in ROW_COLUMNS if "__" not in name}
    values["area__name"] = d.area.name
    values["body__org__name"] = d.body.org.name if d.body_id else None
    return row_from_values(values)


class DisputeConfirmationOut(Schema):
    id: int
    court: str
    applied_on: dt.date
    result: str
    result_name: str
    ruled_on: dt.date | None
    ruling_number: str
    note: str


def confirmation_out(c) -> dict:
    return {"id": c.pk, "court": c.court, "applied_on": c.applied_on, "result": c.result,
            "result_name": c.get_result_display(), "ruled_on": c.ruled_on,
            "ruling_number": c.ruling_number, "note": c.note}


class DisputeAlertOut(Schema):
    id: int
    dispute_id: int
    kind: str
    kind_name: str
    message: str
    state: str
    related: list[int]
    handled_note: str
    created_at: dt.datetime


def alert_out(a) -> dict:
    return {"id": a.pk, "dispute_id": a.dispute_id, "kind": a.kind,
            "kind_name": a.get_kind_display(), "message": a.message, "state": a.state,
            "related": a.related or [], "handled_note": a.handled_note,
            "created_at": a.created_at}


# --- lookups ------------------------------------------------------------------------------------

def area_by_code(raw: str | None, field_name: str = "area") -> Area | None:
    """The area with this code (any level; the service checks that it is within reach)."""
    if raw in (None, ""):
        return None
    try:
        code = codes.normalize(raw)
    except codes.CodeError as exc:
        raise field_error(field_name, str(exc)) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise field_error(field_name, _("There is no area with code %(code)s.")
                          % {"code": raw})
    return area


def subtree_prefix(raw: str) -> str:
    """A filter's area: a full 15-digit code stands for its area's subtree, anything shorter is
    a code prefix."""
    if len(raw) == codes.CODE_WIDTH:
        area = Area.objects.filter(code=raw).first()
        if area is not None:
            return area.prefix
    return raw


# --- keyset cursor over (registered_at, id), newest first ---------------------------------------

def encode_cursor(registered_at: dt.datetime, pk: int) -> str:
    text = f"{registered_at.astimezone(dt.UTC).isoformat()}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _sep, pk = text.partition("|")
        at = dt.datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError
        return at, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", _("This cursor is not valid: start again from the first "
                                      "page.")) from None


# --- service field names → request field names --------------------------------------------------

@contextmanager
def request_fields(renames: dict[str, str] | None = None, *, prefix: str = "",
                   nested: frozenset[str] | set[str] = frozenset()) -> Iterator[None]:
    """Report a service's refusal under the names the request used: `renames` maps a service
    field to a request field ("body" → "body_id"); fields in `nested` get `prefix` ("facts" →
    "agreement.facts")."""
    try:
        yield
    except ServiceError as exc:
        renamed: dict[str, list[str]] = {}
        for name, messages in exc.field_messages.items():
            if name in nested:
                name = f"{prefix}{name}"
            name = (renames or {}).get(name, name)
            renamed.setdefault(name, []).extend(messages)
        exc.field_messages = renamed
        raise
