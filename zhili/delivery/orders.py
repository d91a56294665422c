"""Supervision of courier outlets: rectification orders (整改通知书), spot checks (抽检) and
penalties. The only writers of those rows.

An order runs issued → answered → closed; the regulator may send an answer back (answered →
issued, with a new deadline) or escalate (issued/answered → escalated; the outlet may still
answer). Each step locks the row, refuses a stale version (409), logs an OrderTransition and an
audit row, and tells whoever must act next — all in one transaction. The per-minute sweep
(zhili.delivery.tasks) marks orders overdue and calls `order_overdue`.

Spot checks sample parcel records at random (see `sample_parcels`); the regulator then records
what was actually done for each sampled waybill.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import zipfile
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit, codes, notify, workflow
from zhili.core.scoping import get_scope
from zhili.core.services import Conflict, ServiceError, field_error
from zhili.delivery import reports
from zhili.delivery.choices import OrderState, SpotCheckResult
from zhili.delivery.models import (
    Evidence,
    OrderTransition,
    Outlet,
    OutletDay,
    Penalty,
    RectificationOrder,
    Shipment,
    SpotCheck,
)

S = OrderState
ANSWER_DAYS = 5  # working days the outlet has to answer, unless the regulator says otherwise
MAX_ANSWER_DAYS = 30
SAMPLE_SIZE = 10
MAX_SAMPLE = 50
MAX_FILES = 10
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PERIOD_DAYS = reports.MAX_DAYS

SUPERVISE = "delivery.supervise_outlet"
ISSUE = "delivery.add_rectificationorder"
ANSWER = "delivery.change_rectificationorder"
SPOT_CHECK = "delivery.add_spotcheck"
PENALISE = "delivery.add_penalty"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def number_prefix() -> str:
    """The issuing office's abbreviation in the order number (通邮整改〔2026〕第12号)."""
    return getattr(settings, "ZHILI_ORDER_NUMBER_PREFIX", "通邮整改")


# --- checks -------------------------------------------------------------------------------------

def _require(actor, *perms: str) -> None:
    scope = get_scope(actor)
    if not all(scope.can(perm) for perm in perms):
        raise ServiceError("forbidden", _("Your position does not allow this."), status=403)


def _outlet_in_reach(actor, outlet: Outlet) -> None:
    if not Outlet.objects.in_scope(actor).filter(pk=outlet.pk).exists():
        raise ServiceError("not_found", _("No such outlet within your reach."), status=404)


def _order_in_reach(actor, order: RectificationOrder) -> None:
    if not RectificationOrder.objects.in_scope(actor).filter(pk=order.pk).exists():
        raise ServiceError("not_found", _("No such order within your reach."), status=404)


def _text(value, name: str, *, max_length: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise field_error(name, _("This field is required."))
    if len(value) > max_length:
        raise field_error(name, _("At most %(n)s characters.") % {"n": max_length})
    return value


def _period(start, end) -> tuple[dt.date, dt.date]:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise field_error("period_start", _("Give the period's first and last day."))
    if end < start:
        raise field_error("period_end", _("The end is before the start."))
    if end > timezone.localdate():
        raise field_error("period_end", _("The period cannot end in the future."))
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise field_error("period_end", _("A period is at most %(n)s days.")
                          % {"n": MAX_PERIOD_DAYS})
    return start, end


def _days(value, name: str = "days") -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise field_error(name, _("Enter a whole number of working days.")) from None
    if not 1 <= days <= MAX_ANSWER_DAYS:
        raise field_error(name, _("Between 1 and %(n)s working days.") % {"n": MAX_ANSWER_DAYS})
    return days


def _person(actor):
    return actor if actor is not None and actor.pk else None


# --- who is told --------------------------------------------------------------------------------

def _holders(perm: str, positions):
    from zhili.accounts.models import User

    app, codename = perm.split(".")
    positions = positions.filter(is_active=True, role__group__permissions__codename=codename,
                                 role__group__permissions__content_type__app_label=app)
    return list(User.objects.filter(pk__in=positions.values("user_id"), is_active=True)
                .only("id", "is_active", "is_service", "username"))


def outlet_staff(outlet: Outlet):
    """Whoever answers orders for the outlet (its organisation and sub-units)."""
    from zhili.accounts.models import Position

    return _holders(ANSWER, Position.objects.filter(org_id__in=outlet.org.descendant_ids()))


def regulators(area_code: str, *, ranks=(2, 3, 4, 5)):
    """Regulators whose position sits at the given levels above (or at) the area: by default
    the county's and the town's, who supervise the outlet day to day."""
    from zhili.accounts.models import Position

    wanted = {codes.pad(codes.prefix_of(area_code, rank)) for rank in ranks}
    return _holders(SUPERVISE, Position.objects.filter(area_code__in=wanted))


def _order_regulators(order: RectificationOrder):
    people = regulators(order.area_code)
    if order.issued_by_id and order.issued_by not in people:
        people.append(order.issued_by)
    return people


# --- numbers and figures ------------------------------------------------------------------------

def _next_number(year: int) -> str:
    prefix = f"{number_prefix()}〔{year}〕第"
    taken = RectificationOrder.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True)
    pattern = re.compile(re.escape(prefix) + r"(\d+)号$")
    last = max((int(m.group(1)) for m in map(pattern.match, taken) if m), default=0)
    return f"{prefix}{last + 1}号"


def order_figures(outlet: Outlet, start: dt.date, end: dt.date) -> dict:
    """The snapshot an order keeps: the outlet's sums and rates over the period."""
    figures = reports.outlet_figures(outlet, start, end)
    return {**figures.as_dict(), "as_of": timezone.now().isoformat(timespec="seconds")}


def issuing_authority(actor) -> str:
    """Who signs the notice: the regulator's organisation, else its area's postal authority.
    Document wording, so Chinese whatever the user's language."""
    position = getattr(actor, "active_position", None)
    if position is None:
        return ""
    if position.org_id:
        return position.org.name
    return f"{position.area.name}邮政管理部门"


# --- evidence -----------------------------------------------------------------------------------

@dataclass
class FileData:
    data: bytes
    filename: str


def _check_files(files) -> list[FileData]:
    files = [f for f in (files or []) if f is not None]
    if len(files) > MAX_FILES:
        raise field_error("files", _("At most %(n)s files.") % {"n": MAX_FILES})
    return files


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _store(item: FileData, *, actor, order=None, spot_check=None) -> Evidence:
    """A photo (JPEG, PNG, WebP: re-encoded without its metadata), PDF or Word document; the
    type is read from the content, never from the name."""
    name = (item.filename or "").rsplit("/", 1)[-1][:200]
    if not item.data:
        raise field_error("files", _("%(file)s is empty.") % {"file": name})
    if len(item.data) > MAX_FILE_BYTES:
        raise field_error("files", _("%(file)s is larger than 20 MB.") % {"file": name})
    if item.data.startswith(b"%PDF-"):
        data, extension, content_type = item.data, "pdf", "application/pdf"
    elif item.data.startswith(b"PK\x03\x04") and _is_docx(item.data):
        data, extension, content_type = item.data, "docx", DOCX
    else:
        from zhili.core.images import ImageRejected, process_image

        try:
            image = process_image(item.data, name, max_bytes=MAX_FILE_BYTES)
        except ImageRejected as exc:
            raise field_error("files", _("%(file)s is not a photo (JPEG, PNG, WebP), PDF or "
                                         "Word file: %(problem)s")
                              % {"file": name, "problem": exc}) from None
        data, extension, content_type = image.content, image.extension, image.content_type
    evidence = Evidence(order=order, spot_check=spot_check, filename=name or f"file.{extension}",
                        extension=extension, content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), uploaded_by=_person(actor))
    evidence.file.save(f"file.{extension}", ContentFile(data), save=False)
    evidence.save()
    return evidence


# --- rectification orders -----------------------------------------------------------------------

def issue_order(*, actor, outlet: Outlet, period_start: dt.date, period_end: dt.date,
                findings: str, requirements: str, days: int = ANSWER_DAYS) -> RectificationOrder:
    """整改通知书 to an outlet: the period's figures are snapshotted from the rollups."""
    _require(actor, ISSUE, SUPERVISE)
    _outlet_in_reach(actor, outlet)
    start, end = _period(period_start, period_end)
    findings = _text(findings, "findings")
    requirements = _text(requirements, "requirements")
    days = _days(days)
    now = timezone.now()
    with transaction.atomic():
        figures = order_figures(outlet, start, end)
        figures["authority"] = issuing_authority(actor)
        order = RectificationOrder(outlet=outlet, area_code=outlet.area_code,
                                   period_start=start, period_end=end, figures=figures,
                                   findings=findings, requirements=requirements,
                                   issued_by=_person(actor), issued_at=now)
        workflow.set_deadline(order, step="answer", start=now, amount=days, unit="work_days")
        for attempt in range(5):
            order.number = _next_number(timezone.localtime(now).year)
            try:
                with transaction.atomic():  # two regulators numbering at once: try the next
                    order.save()
                break
            except IntegrityError:
                order.pk = None
                if attempt == 4:
                    raise
        workflow.log(order, OrderTransition, action="issue", from_state="", actor=actor,
                     reason=findings, data={"days": days})
        audit.record(actor=actor, action="delivery.order.issue", target=order,
                     changes={"number": order.number, "outlet": outlet.pk,
                              "period": [start.isoformat(), end.isoformat()], "days": days})
        notify.notify(outlet_staff(outlet), kind="delivery.order", url=order.get_absolute_url(),
                      title=_("Rectification order %(number)s: answer by %(time)s")
                      % {"number": order.number,
                         "time": timezone.localtime(order.deadline_at).strftime("%m-%d %H:%M")})
    return order


def _locked(order: RectificationOrder, version):
    return workflow.locked(RectificationOrder, order.pk, expected_version=version)


def answer_order(*, actor, order: RectificationOrder, answer: str, files=(),
                 version: int | None = None) -> RectificationOrder:
    """The outlet says what it has done, with photos or documents as evidence."""
    _require(actor, ANSWER)
    _order_in_reach(actor, order)
    answer = _text(answer, "answer")
    files = _check_files(files)
    with transaction.atomic():
        order = _locked(order, version)
        before, deadline = order.state, order.deadline_at
        workflow.fire(order, "answer_order")
        order.answer = answer
        order.answered_by = _person(actor)
        order.answered_at = timezone.now()
        workflow.clear_deadline(order)  # the regulator's re-check has no legal clock
        order.version += 1
        order.save()
        stored = [_store(item, actor=actor, order=order) for item in files]
        workflow.log(order, OrderTransition, action="answer", from_state=before, actor=actor,
                     reason=answer, deadline_before=deadline,
                     data={"evidence": [e.pk for e in stored]})
        audit.record(actor=actor, action="delivery.order.answer", target=order,
                     changes={"number": order.number, "evidence": len(stored)})
        notify.notify(_order_regulators(order), kind="delivery.order.answered",
                      url=order.get_absolute_url(),
                      title=_("%(number)s was answered: re-check it")
                      % {"number": order.number})
    return order


def recheck(*, actor, order: RectificationOrder, passed: bool, note: str,
            days: int = ANSWER_DAYS, version: int | None = None) -> RectificationOrder:
    """The regulator's re-check of an answer: close the order, or send it back with a new
    deadline (the outlet answers again)."""
    _require(actor, SUPERVISE)
    _order_in_reach(actor, order)
    note = _text(note, "note")
    days = _days(days) if not passed else None
    now = timezone.now()
    with transaction.atomic():
        order = _locked(order, version)
        before, deadline = order.state, order.deadline_at
        if passed:
            workflow.fire(order, "close")
            order.closed_at = now
            workflow.clear_deadline(order)
        else:
            workflow.fire(order, "reject_answer")
            workflow.set_deadline(order, step="answer", start=now, amount=days,
                                  unit="work_days")
        order.recheck_note = note
        order.version += 1
        order.save()
        action = "close" if passed else "send_back"
        workflow.log(order, OrderTransition, action=action, from_state=before, actor=actor,
                     reason=note, deadline_before=deadline,
                     data={} if passed else {"days": days})
        audit.record(actor=actor, action=f"delivery.order.{action}", target=order,
                     changes={"number": order.number, "note": note})
        if passed:
            title = _("%(number)s was closed after re-check") % {"number": order.number}
        else:
            title = _("%(number)s was sent back: answer again by %(time)s") % {
                "number": order.number,
                "time": timezone.localtime(order.deadline_at).strftime("%m-%d %H:%M")}
        notify.notify(outlet_staff(order.outlet), kind=f"delivery.order.{action}",
                      url=order.get_absolute_url(), title=title)
    return order


def escalate(*, actor, order: RectificationOrder, reason: str,
             version: int | None = None) -> RectificationOrder:
    """Hand the matter to the level above (e.g. for a penalty). An answered order gets a new
    deadline: the outlet still has to put things right."""
    _require(actor, SUPERVISE)
    _order_in_reach(actor, order)
    reason = _text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        order = _locked(order, version)
        before, deadline = order.state, order.deadline_at
        workflow.fire(order, "escalate")
        if order.deadline_at is None:
            workflow.set_deadline(order, step="answer", start=now, amount=ANSWER_DAYS,
                                  unit="work_days")
        order.version += 1
        order.save()
        workflow.log(order, OrderTransition, action="escalate", from_state=before, actor=actor,
                     reason=reason, deadline_before=deadline)
        audit.record(actor=actor, action="delivery.order.escalate", target=order,
                     changes={"number": order.number, "reason": reason})
        notify.notify([*regulators(order.area_code, ranks=(1,)), *outlet_staff(order.outlet)],
                      kind="delivery.order.escalated", url=order.get_absolute_url(),
                      title=_("%(number)s was escalated") % {"number": order.number})
    return order


def _orders(ids):
    return RectificationOrder.objects.filter(pk__in=ids).select_related("outlet__org",
                                                                        "issued_by")


def order_overdue(ids) -> None:
    """Sweep hook: the orders' answer deadline passed. Log it and tell the outlet and its
    regulators (inside the sweep's transaction)."""
    rows = []
    for order in _orders(ids):
        rows.append(OrderTransition(order=order, action="overdue", from_state=order.state,
                                    to_state=order.state, actor_name="system",
                                    deadline_before=order.deadline_at,
                                    deadline_after=order.deadline_at))
        title = _("%(number)s is overdue") % {"number": order.number}
        notify.notify([*outlet_staff(order.outlet), *_order_regulators(order)],
                      kind="delivery.order.overdue", url=order.get_absolute_url(), title=title)
    OrderTransition.objects.bulk_create(rows)


def order_escalated(ids, step, now=None) -> None:
    """Sweep hook for the escalation ladder of "delivery.rectificationorder": remind the outlet
    again (notify_holder), then tell the regulators one level up (notify_supervisor)."""
    from zhili.core.models import EscalationStep

    for order in _orders(ids):
        OrderTransition.objects.create(order=order, action="escalation", from_state=order.state,
                                       to_state=order.state, actor_name="system",
                                       data={"level": step.level, "rung": step.action})
        if step.action == EscalationStep.Action.NOTIFY_HOLDER:
            people = outlet_staff(order.outlet)
            title = _("Reminder: %(number)s is overdue") % {"number": order.number}
        else:
            people = regulators(order.area_code, ranks=(1, 2))
            title = _("%(number)s is overdue with %(outlet)s") % {
                "number": order.number, "outlet": order.outlet.org.name}
        notify.notify(people, kind="delivery.order.reminder", url=order.get_absolute_url(),
                      title=title)


# --- spot checks --------------------------------------------------------------------------------

def sample_parcels(outlet: Outlet, start: dt.date, end: dt.date, size: int) -> list[dict]:
    """`size` parcel records of the outlet taken in during the period, uniformly at random.

    `ORDER BY random()` over an outlet's month would read and sort every one of its records
    (hundreds of thousands at a busy outlet). Instead the rollups say how many parcels each
    day has; we draw `size` distinct positions in that sequence here, count how many fall on
    each day, and let the database pick that many at random among one outlet-day's records
    (the (outlet, day) index, one small set per sampled day)."""
    days = list(OutletDay.objects.filter(outlet=outlet, day__gte=start, day__lte=end,
                                         parcels__gt=0)
                .order_by("day").values_list("day", "parcels"))
    total = sum(count for _day, count in days)
    if not total:
        return []
    bounds, running = [], 0
    for _day, count in days:
        running += count
        bounds.append(running)
    draw = random.SystemRandom()  # an outlet must not be able to predict what is checked
    per_day = Counter(days[bisect_right(bounds, position)][0]
                      for position in draw.sample(range(total), min(size, total)))
    picked = []
    for day, wanted in sorted(per_day.items()):
        picked += list(Shipment.objects.filter(outlet_id=outlet.pk, day=day).order_by("?")
                       .values("waybill", "day", "accepted_at", "goods", "real_name",
                               "inspected", "xrayed", "flagged")[:wanted])
    return [{**row, "day": row["day"].isoformat(),
             "accepted_at": timezone.localtime(row["accepted_at"]).isoformat(
                 timespec="minutes")} for row in picked]


def start_spot_check(*, actor, outlet: Outlet, period_start: dt.date, period_end: dt.date,
                     size: int = SAMPLE_SIZE) -> SpotCheck:
    """Sample parcels of the outlet for an on-site check."""
    _require(actor, SPOT_CHECK, SUPERVISE)
    _outlet_in_reach(actor, outlet)
    start, end = _period(period_start, period_end)
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise field_error("size", _("Enter a whole number.")) from None
    if not 1 <= size <= MAX_SAMPLE:
        raise field_error("size", _("Between 1 and %(n)s parcels.") % {"n": MAX_SAMPLE})
    sampled = sample_parcels(outlet, start, end, size)
    if not sampled:
        raise field_error("period_start", _("The outlet has no parcel records in this period."))
    with transaction.atomic():
        check = SpotCheck.objects.create(outlet=outlet, area_code=outlet.area_code,
                                         sampled=sampled, created_by=_person(actor),
                                         note=_("Period %(start)s – %(end)s") % {
                                             "start": start.isoformat(),
                                             "end": end.isoformat()})
        audit.record(actor=actor, action="delivery.spotcheck.start", target=check,
                     changes={"outlet": outlet.pk, "period": [start.isoformat(),
                                                              end.isoformat()],
                              "waybills": [s["waybill"] for s in sampled]})
    return check


def sampled_waybills(check: SpotCheck) -> list[str]:
    return [item["waybill"] if isinstance(item, dict) else str(item) for item in check.sampled]


CHECKS = ("real_name", "inspected", "xrayed")


def record_spot_check_findings(*, actor, check: SpotCheck, findings: list[dict],
                               note: str = "", files=()) -> SpotCheck:
    """What was found for each sampled waybill: was real-name registration, inspection and
    X-ray screening in fact done. The result follows: compliant only if all were."""
    _require(actor, SUPERVISE)
    if not SpotCheck.objects.in_scope(actor).filter(pk=check.pk).exists():
        raise ServiceError("not_found", _("No such spot check within your reach."), status=404)
    files = _check_files(files)
    waybills = sampled_waybills(check)
    given = {}
    for item in findings or []:
        waybill = str(item.get("waybill", ""))
        if waybill not in waybills:
            raise field_error("findings", _("%(waybill)s was not sampled in this check.")
                              % {"waybill": waybill or "—"})
        if waybill in given:
            raise field_error("findings", _("%(waybill)s is given twice.") % {"waybill": waybill})
        given[waybill] = {"waybill": waybill, **{c: bool(item.get(c)) for c in CHECKS},
                          "note": str(item.get("note") or "").strip()[:500]}
    missing = [w for w in waybills if w not in given]
    if missing:
        raise field_error("findings", _("Say what was found for %(waybills)s.")
                          % {"waybills": "、".join(missing)})
    with transaction.atomic():
        check = SpotCheck.objects.select_for_update().get(pk=check.pk)
        if check.checked_at is not None:
            raise Conflict("already_recorded", _("The findings of this check were already "
                                                 "recorded."))
        check.findings = [given[w] for w in waybills]
        problems = [w for w in waybills if not all(given[w][c] for c in CHECKS)]
        check.result = SpotCheckResult.PROBLEMS if problems else SpotCheckResult.COMPLIANT
        extra = (note or "").strip()
        check.note = f"{check.note}\n{extra}".strip() if extra else check.note
        check.checked_at = timezone.now()
        check.save()
        stored = [_store(item, actor=actor, spot_check=check) for item in files]
        audit.record(actor=actor, action="delivery.spotcheck.record", target=check,
                     changes={"result": check.result, "problems": problems,
                              "evidence": len(stored)})
    return check


# --- penalties ----------------------------------------------------------------------------------

def record_penalty(*, actor, outlet: Outlet, decision_no: str, decided_on: dt.date,
                   basis: str, amount=None, note: str = "") -> Penalty:
    """An administrative penalty decided against the outlet (the decision itself is made and
    served outside the platform; this is its record)."""
    _require(actor, PENALISE, SUPERVISE)
    _outlet_in_reach(actor, outlet)
    decision_no = _text(decision_no, "decision_no", max_length=60)
    basis = _text(basis, "basis", max_length=200)
    if not isinstance(decided_on, dt.date):
        raise field_error("decided_on", _("Enter a date."))
    if decided_on > timezone.localdate():
        raise field_error("decided_on", _("The decision cannot be dated in the future."))
    if amount not in (None, ""):
        try:
            amount = Decimal(str(amount)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise field_error("amount", _("Enter an amount in yuan.")) from None
        if amount < 0 or amount >= Decimal("1e10"):
            raise field_error("amount", _("Enter an amount in yuan."))
    else:
        amount = None
    with transaction.atomic():
        if Penalty.objects.filter(outlet=outlet, decision_no=decision_no).exists():
            raise field_error("decision_no", _("This decision is already recorded."))
        penalty = Penalty.objects.create(outlet=outlet, area_code=outlet.area_code,
                                         decided_on=decided_on, decision_no=decision_no,
                                         basis=basis, amount=amount,
                                         note=(note or "").strip()[:5000],
                                         recorded_by=_person(actor))
        audit.record(actor=actor, action="delivery.penalty.record", target=penalty,
                     changes={"outlet": outlet.pk, "decision_no": decision_no,
                              "amount": str(amount) if amount is not None else None})
    return penalty
