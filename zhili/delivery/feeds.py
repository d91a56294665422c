"""Reading and checking the records a company's system pushes (the feed format is described in
docs/integration-delivery.md): NDJSON or CSV (UTF-8 or GB18030), one record per line.

Every row ends up either as a tuple ready for the database or as errors naming its line and
field. This is the hot path of ingestion (millions of rows a day), so the checks are plain
Python over the row dict: no forms, no pydantic, no per-row queries — the company's outlets
and machines are looked up once per batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import operator
import re
import struct
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.pii import crypto
from zhili.core.pii.validation import ID_CHECK_CHARS, ID_WEIGHTS, normalise_phone
from zhili.delivery.choices import FeedKind, InspectionResult

WAYBILL_RE = re.compile(r"[A-Za-z0-9\-]{6,40}")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{9,11}")
DOC_RE = re.compile(r"[0-9A-Z\-()（）]{1,30}")
ID_RE = re.compile(r"\d{17}[\dX]")
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
MAX_AGE = dt.timedelta(days=400)
# Accepted identity documents (《邮件快件实名收寄管理办法》): resident ID (111) and temporary ID
# (112), servicemen's and armed police's IDs, permits of Hong Kong, Macao and Taiwan residents,
# foreign passports; GA/T 517 codes.
ID_TYPES = {"111", "112", "114", "123", "233", "511", "516", "414", "990"}
INSPECTION_RESULTS = {**{v: v for v in InspectionResult.values},
                      "通过": InspectionResult.PASSED, "正常": InspectionResult.PASSED,
                      "拒绝验视": InspectionResult.REFUSED, "违禁": InspectionResult.PROHIBITED,
                      "禁寄": InspectionResult.PROHIBITED, "可疑": InspectionResult.SUSPICIOUS}
_SENDER_STRING = json.JSONEncoder(ensure_ascii=False)  # one string as a JSON string
CSV_TYPES = ("text/csv", "application/csv")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
TRUE = {"1", "true", "yes", "y", "是", "t"}
FALSE = {"0", "false", "no", "n", "否", "f", ""}


class BatchError(ValueError):
    """The whole request cannot be read (encoding, format, size)."""

    def __init__(self, message, status: int = 400):
        self.message, self.status = str(message), status
        super().__init__(self.message)


@dataclass
class Rows:
    """The checked rows of a batch: `good` tuples in column order, `errors` per row, and
    `warnings` for rows kept with a finding (e.g. a sender ID that failed its check: the parcel
    is kept as not real-name, so a bad number can never hide a parcel from the rates)."""

    submitted: int = 0
    good: list[tuple] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    rejected: int = 0

    def reject(self, line: int, field_name: str, message) -> None:
        self.rejected += 1
        self.errors.append({"line": line, "field": field_name, "message": str(message)})


# --- reading ------------------------------------------------------------------------------------

def decode(body: bytes, charset: str = "") -> str:
    charset = (charset or "").lower().replace("_", "-")
    if charset in ("gb18030", "gbk", "gb2312"):
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            raise BatchError(_("The body is not valid GB18030 text.")) from None
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if charset in ("", "utf-8", "utf8"):
        try:  # Chinese Excel and many older systems write GBK without saying so
            return body.decode("gb18030")
        except UnicodeDecodeError:
            pass
    raise BatchError(_("The body is neither UTF-8 nor GB18030 text."))


def records(body: bytes, content_type: str) -> list[tuple[int, dict | None, str]]:
    """(line number, record or None, problem) for each non-empty line."""
    media, _sep, params = (content_type or "").partition(";")
    charset = ""
    for param in params.split(";"):
        key, _eq, value = param.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"')
    media = media.strip().lower()
    if media not in CSV_TYPES + NDJSON_TYPES:
        raise BatchError(_("Send application/x-ndjson or text/csv."), status=415)
    text = decode(body, charset)
    out: list[tuple[int, dict | None, str]] = []
    if media in CSV_TYPES:
        reader = csv.reader(io.StringIO(text))
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            return out
        except csv.Error as exc:
            raise BatchError(_("The CSV header cannot be read: %(error)s") % {"error": exc}) \
                from None
        line = 1
        try:
            for values in reader:
                line += 1
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    out.append((line, None, _("%(n)s values for %(m)s columns.")
                                % {"n": len(values), "m": len(header)}))
                    continue
                out.append((line, dict(zip(header, values, strict=True)), ""))
        except csv.Error as exc:
            out.append((line + 1, None, _("Unreadable CSV: %(error)s") % {"error": exc}))
        return out
    lines = [(number, raw) for number, raw in enumerate(text.splitlines(), start=1)
             if raw.strip()]
    try:  # one parser call for the whole batch; line by line only to find the bad lines
        values = json.loads("[" + ",".join(raw for _n, raw in lines) + "]")
    except ValueError:
        values = None
    if values is not None and len(values) == len(lines):
        for (number, _raw), value in zip(lines, values, strict=True):
            if value.__class__ is dict:
                out.append((number, value, ""))
            else:
                out.append((number, None, _("Each line must be one JSON object.")))
        return out
    for number, raw in lines:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            out.append((number, None, _("Not a JSON object: %(error)s") % {"error": exc.msg}))
            continue
        if not isinstance(value, dict):
            out.append((number, None, _("Each line must be one JSON object.")))
            continue
        out.append((number, value, ""))
    return out


# --- checks -------------------------------------------------------------------------------------

def _text(row: dict, name: str) -> str:
    value = row.get(name)
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else str(value).strip()


def parse_time(raw: str, now: dt.datetime) -> dt.datetime:
    """ISO 8601 with an offset, or local time "YYYY-MM-DD HH:MM[:SS]"."""
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(_("Give the time as ISO 8601, e.g. 2026-11-26T09:30:00+08:00.")) \
            from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.get_default_timezone())
    if value > now + FUTURE_TOLERANCE:
        raise ValueError(_("The time %(time)s lies in the future.") % {"time": raw})
    if value < now - MAX_AGE:
        raise ValueError(_("The time %(time)s is more than 400 days old.") % {"time": raw})
    return value


def check_id_number(number: str, today: dt.date) -> bool:
    """GB 11643: 18 characters, a real birth date, the check character (the region code is
    not looked up: a parcel is not refused for an unusual but valid number)."""
    return _id_ok(number) and _birth(number) <= today


@lru_cache(maxsize=200_000)  # senders recur (shops, firms): most numbers were seen before
def _id_ok(number: str) -> bool:
    if not ID_RE.fullmatch(number):
        return False
    try:
        born = _birth(number)
    except ValueError:
        return False
    if born.year < 1900:
        return False
    return ID_CHECK_CHARS[sum(map(operator.mul, map(int, number[:17]), ID_WEIGHTS)) % 11] \
        == number[17]


def _birth(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


@lru_cache(maxsize=200_000)
def sender_index(number: str) -> int:
    """An 8-byte blind index of a sender's document number (the HMAC of the ID-number kind,
    truncated): enough to find a sender's parcels among 10⁸ rows, small enough to index."""
    digest = bytes.fromhex(crypto.blind_index(number, "id_number"))
    return struct.unpack(">q", digest[:8])[0]


class Screen:
    """The prohibited-goods list as one regular expression (active terms, longest first)."""

    def __init__(self, terms: list[str]):
        terms = sorted({t for t in terms if t}, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, terms))) if terms else None

    def hits(self, text: str) -> list[str]:
        if self.pattern is None or not text:
            return []
        return sorted(set(self.pattern.findall(text)))

    @classmethod
    def current(cls) -> Screen:
        from zhili.delivery.models import ProhibitedTerm

        return cls(list(ProhibitedTerm.objects.filter(is_active=True)
                        .values_list("term", flat=True)))


@dataclass
class Context:
    """What a batch is checked against, read once: the company's outlets (code → (id, area
    code)) and X-ray machines (code → outlet id), the screening list, the clock."""

    company_id: int
    outlets: dict[str, tuple[int, str]]
    machines: dict[str, int]
    screen: Screen
    batch_id: int | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    # The default zone, looked up once: the request's active zone costs more per row than the
    # rest of the checks.
    zone: dt.tzinfo = field(default_factory=timezone.get_default_timezone)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()


def _outlet(row: dict, ctx: Context, rows: Rows, line: int):
    code = _text(row, "outlet")
    if not code:
        rows.reject(line, "outlet", _("Give the outlet's code."))
        return None
    found = ctx.outlets.get(code)
    if found is None:
        rows.reject(line, "outlet", _("Outlet %(code)s is not an outlet of this company.")
                    % {"code": code})
    return found


def _common(row: dict, ctx: Context, rows: Rows, line: int, time_field: str):
    """The waybill, the outlet and the time, shared by the three kinds; None if rejected."""
    waybill = _text(row, "waybill")
    if not WAYBILL_RE.fullmatch(waybill):
        rows.reject(line, "waybill", _("A waybill number has 6–40 letters, digits or "
                                       "hyphens."))
        return None
    outlet = _outlet(row, ctx, rows, line)
    if outlet is None:
        return None
    raw_time = _text(row, time_field) or _text(row, "time")
    if not raw_time:
        rows.reject(line, time_field, _("Give the time."))
        return None
    try:
        when = parse_time(raw_time, ctx.now)
    except ValueError as exc:
        rows.reject(line, time_field, exc)
        return None
    day = when.astimezone(ctx.zone).date()
    return waybill, outlet, when, day


def check_shipments(parsed, ctx: Context) -> Rows:
    """Rows for the stage table: company_id, outlet_id, area_code, waybill, day, accepted_at,
    sender, sender_id_type, sender_id_bidx, real_name, id_problem, goods, goods_category,
    weight, flagged, flag_terms, batch_id, received_at."""
    rows, seen = Rows(), set()
    today, received = ctx.today, ctx.now
    encrypt, dumps = crypto.encrypter("sender"), _SENDER_STRING.encode
    for line, row, problem in parsed:
        rows.submitted += 1
        if row is None:
            rows.reject(line, "", problem)
            continue
        common = _common(row, ctx, rows, line, "accepted_at")
        if common is None:
            continue
        waybill, (outlet_id, area_code), when, day = common
        if waybill in seen:
            rows.reject(line, "waybill", _("Waybill %(w)s appears twice in this batch.")
                        % {"w": waybill})
            continue
        goods = _text(row, "goods")
        if not goods:
            rows.reject(line, "goods", _("Describe the goods (name, nature, quantity)."))
            continue
        weight = None
        raw_weight = _text(row, "weight")
        if raw_weight:
            try:
                weight = Decimal(raw_weight)
                if not 0 <= weight < 100000:
                    raise InvalidOperation
            except InvalidOperation:
                rows.reject(line, "weight", _("The weight is a number of kilograms."))
                continue
        name = _text(row, "sender_name")
        id_type = _text(row, "id_type") or "111"
        number = _text(row, "id_number").upper()
        phone = _text(row, "phone")
        if id_type not in ID_TYPES:
            rows.reject(line, "id_type", _("Unknown identity document type %(t)s.")
                        % {"t": id_type})
            continue
        problem = ""
        if not number or not name:
            problem = "missing"
        elif id_type in ("111", "112"):
            if not check_id_number(number, today):
                problem = "invalid"
        elif not DOC_RE.fullmatch(number):
            problem = "invalid"
        if problem == "invalid":
            rows.warnings.append({"line": line, "field": "id_number", "message": _(
                "The sender's ID number fails its check: the parcel is kept as not "
                "real-name.")})
        if phone:
            if not MOBILE_RE.fullmatch(phone):  # already plain: the usual case
                phone = normalise_phone(phone)
            if not (MOBILE_RE.fullmatch(phone) or LANDLINE_RE.fullmatch(phone)):
                rows.warnings.append({"line": line, "field": "phone", "message": _(
                    "The sender's phone number is not a valid number; it was not kept.")})
                phone = ""
        sender = None
        if name or number or phone:
            # The JSON object written field by field: a string per json.dumps is several
            # times faster than encoding the dict, and gives the same text.
            sender = encrypt(f'{{"name":{dumps(name[:50])},"id_type":{dumps(id_type)},'
                             f'"id_number":{dumps(number[:30])},"phone":{dumps(phone)}}}')
        hits = ctx.screen.hits(goods)
        seen.add(waybill)
        rows.good.append((
            ctx.company_id, outlet_id, area_code, waybill, day, when, sender,
            id_type if number else "", sender_index(number) if number and not problem else None,
            problem == "", problem, goods[:200], _text(row, "category")[:40], weight,
            bool(hits), ",".join(hits)[:200], ctx.batch_id, received,
        ))
    return rows


def _flag(value) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


def check_inspections(parsed, ctx: Context) -> Rows:
    """company_id, outlet_id, area_code, waybill, day, inspected_at, inspector, result,
    photo_ref, source, batch_id."""
    rows, seen = Rows(), set()
    for line, row, problem in parsed:
        rows.submitted += 1
        if row is None:
            rows.reject(line, "", problem)
            continue
        common = _common(row, ctx, rows, line, "inspected_at")
        if common is None:
            continue
        waybill, (outlet_id, area_code), when, day = common
        if (waybill, day) in seen:
            rows.reject(line, "waybill", _("Waybill %(w)s appears twice in this batch.")
                        % {"w": waybill})
            continue
        inspector = _text(row, "inspector")
        if not inspector:
            rows.reject(line, "inspector", _("Name the inspector."))
            continue
        result = INSPECTION_RESULTS.get(_text(row, "result").lower() or "passed")
        if result is None:
            rows.reject(line, "result", _("The result is passed, refused, prohibited or "
                                          "suspicious."))
            continue
        seen.add((waybill, day))
        rows.good.append((ctx.company_id, outlet_id, area_code, waybill, day, when,
                          inspector[:50], result, _text(row, "photo_ref")[:200], "feed",
                          ctx.batch_id))
    return rows


def check_scans(parsed, ctx: Context) -> Rows:
    """company_id, outlet_id, area_code, waybill, day, scanned_at, machine, alarm,
    image_ref, batch_id."""
    rows, seen = Rows(), set()
    for line, row, problem in parsed:
        rows.submitted += 1
        if row is None:
            rows.reject(line, "", problem)
            continue
        common = _common(row, ctx, rows, line, "scanned_at")
        if common is None:
            continue
        waybill, (outlet_id, area_code), when, day = common
        machine = _text(row, "machine")
        if not machine:
            rows.reject(line, "machine", _("Give the X-ray machine's code."))
            continue
        if ctx.machines.get(machine) != outlet_id:
            rows.reject(line, "machine", _("Machine %(m)s is not a registered X-ray machine of "
                                           "this outlet.") % {"m": machine})
            continue
        alarm = _flag(row.get("alarm"))
        if alarm is None:
            rows.reject(line, "alarm", _("alarm is true or false."))
            continue
        key = (waybill, when)
        if key in seen:
            rows.reject(line, "waybill", _("This scan appears twice in this batch."))
            continue
        seen.add(key)
        rows.good.append((ctx.company_id, outlet_id, area_code, waybill, day, when,
                          machine, alarm, _text(row, "image_ref")[:200], ctx.batch_id))
    return rows


CHECKS = {FeedKind.SHIPMENTS: check_shipments, FeedKind.INSPECTIONS: check_inspections,
          FeedKind.SCANS: check_scans}
