"""Dispute statistics: a monthly rollup kept current by a task, and the figures the statistics
page and the monthly report show (the same design as `zhili.events.stats`).

Services mark the registration month of every changed case dirty; `rebuild_dirty()` (every two
minutes) also picks up the months of cases whose `updated_at` moved since the last run (the
deadline sweep flips `ever_overdue` with a bulk UPDATE and marks nothing), then re-aggregates
those months from the cases table with grouped SQL. Pages only sum small ranges of the rollup
and say how fresh it is ("data as of").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import CharField, Count, F, Func, IntegerField, Q, Sum, Value
from django.db.models.functions import Cast, Greatest, RPad, Substr
from django.utils import timezone

from zhili.core import codes
from zhili.core.scoping import ORG, get_scope
from zhili.disputes import codetables
from zhili.disputes.choices import AGREED_OUTCOMES, Channel, ConfirmationResult, Outcome
from zhili.disputes.models import (
    Dispute,
    DisputeStat,
    DisputeStatDirty,
    JudicialConfirmation,
    MediationBody,
    Mediator,
    StatDimension,
)
from zhili.events.models import RollupState

ROLLUP = "disputes"  # the RollupState row holding "data as of"
CHANGE_MARGIN = dt.timedelta(minutes=5)  # covers transactions that committed late
TOP = 20  # bodies and mediators shown on the page (the busiest)

COUNTERS = ["cases", "concluded", "mediated", "success", "on_time", "group", "confirmations",
            "confirmed_valid", "days", "amount"]
CASE_COUNTERS = [c for c in COUNTERS if c not in ("confirmations", "confirmed_valid")]


class WholeDays(Func):
    """Whole days from `start` to `end` (rounded down), NULL when either is NULL. SQL has no
    portable "days between two timestamps", so each database gets its own expression."""

    output_field = IntegerField()
    arg_joiner = " - "

    def __init__(self, start, end, **extra):
        # The arguments are joined as "end - start".
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):
        # PostgreSQL: timestamptz - timestamptz is an interval of days and a time of day.
        return super().as_sql(compiler, connection,
                              template="CAST(EXTRACT(DAY FROM (%(expressions)s)) AS integer)",
                              **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Whole milliseconds first: a day as a difference of two julian days is not exact.
        end, start = self.source_expressions
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        sql = (f"(CAST(ROUND((julianday({end_sql}) - julianday({start_sql})) * 86400000) "
               "AS INTEGER) / 86400000)")
        return sql, (*end_params, *start_params)


CONCLUDED = Q(concluded_at__isnull=False)
MEDIATED_OUTCOMES = (*AGREED_OUTCOMES, Outcome.FAILURE)  # withdrawn: mediation not attempted
COUNTS = {
    "cases": Count("id"),
    "concluded": Count("id", filter=CONCLUDED),
    "mediated": Count("id", filter=CONCLUDED & Q(outcome__in=MEDIATED_OUTCOMES)),
    "success": Count("id", filter=CONCLUDED & Q(outcome__in=AGREED_OUTCOMES)),
    "on_time": Count("id", filter=CONCLUDED & Q(ever_overdue=False)),
    "group": Count("id", filter=Q(is_group=True)),
    "days": Sum(Greatest(WholeDays("registered_at", "concluded_at"), Value(0)),
                filter=CONCLUDED),
    "amount": Sum("amount"),
}
CONFIRMATION_COUNTS = {
    "confirmations": Count("id"),
    "confirmed_valid": Count("id", filter=Q(result=ConfirmationResult.VALID)),
}
# dimension → (the column giving the row's area code, digits kept or None for all, the column
# giving the key or None). Body and mediator rows sit at the body's area code, so the subtree
# filter of a page finds the bodies placed in it.
DIMENSIONS = {
    StatDimension.AREA: ("area_code", 12, None),
    StatDimension.TYPE: ("area_code", 9, "stat_class"),
    StatDimension.CHANNEL: ("area_code", 9, "channel"),
    StatDimension.BODY: ("body__area_code", None, "body"),
    StatDimension.MEDIATOR: ("lead_mediator__area_code", None, "lead_mediator"),
}


def month_of(moment) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _bounds(first: dt.date, last: dt.date):
    """[start of `first`'s month, start of the month after `last`) as aware datetimes."""
    start = timezone.make_aware(dt.datetime.combine(first.replace(day=1), dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(next_month(last), dt.time.min))


def mark_dirty(moment) -> None:
    """Rebuild the month of `moment` at the next run (changes made without the services)."""
    DisputeStatDirty.objects.bulk_create([DisputeStatDirty(month=month_of(moment))],
                                         ignore_conflicts=True)


def _grouped(queryset, dim: str, counts: dict, via: str = ""):
    """The counters of one dimension grouped by the database, as columns "code" (padded area
    code) and "k" (text key) plus `counts`. `via` reaches the case from another table."""
    code_field, digits, key_field = DIMENSIONS[dim]
    code = F(via + code_field)
    if digits:
        code = RPad(Substr(via + code_field, 1, digits), codes.CODE_WIDTH, Value("0"))
    key = Value("")
    if key_field:
        key = Cast(F(via + key_field), CharField(max_length=20))
        if dim in (StatDimension.BODY, StatDimension.MEDIATOR):
            queryset = queryset.filter(**{f"{via}{key_field}__isnull": False})
    return queryset.annotate(code=code, k=key).values("code", "k").annotate(**counts) \
        .order_by()


def _sql(queryset) -> tuple[str, tuple]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def rebuild_month(month: dt.date) -> int:
    """Re-aggregate the cases registered in one month: delete its rows and insert new ones,
    in one transaction. Each dimension is one INSERT … SELECT of the grouped cases joined with
    their grouped judicial confirmations, so no row passes through Python (preparing the
    values of a month's rows in Python cost more than grouping them)."""
    month = month.replace(day=1)
    start, end = _bounds(month, month)
    cases = Dispute.objects.filter(registered_at__gte=start, registered_at__lt=end)
    confirmations = JudicialConfirmation.objects.filter(dispute__registered_at__gte=start,
                                                        dispute__registered_at__lt=end)
    qn = connection.ops.quote_name
    table = DisputeStat._meta.db_table
    columns = ["month", "area_code", "dim", "key", *CASE_COUNTERS, *CONFIRMATION_COUNTS]
    values = ["%s", "c.code", "%s", "c.k",
              *(f"COALESCE(c.{qn(c)}, 0)" for c in CASE_COUNTERS),
              *(f"COALESCE(j.{qn(c)}, 0)" for c in CONFIRMATION_COUNTS)]
    inserted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        DisputeStat.objects.filter(month=month).delete()
        for dim in DIMENSIONS:
            case_sql, case_params = _sql(_grouped(cases, dim, COUNTS))
            conf_sql, conf_params = _sql(_grouped(confirmations, dim, CONFIRMATION_COUNTS,
                                                  via="dispute__"))
            cursor.execute(
                f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
                f"SELECT {', '.join(values)} FROM ({case_sql}) c "
                f"LEFT JOIN ({conf_sql}) j ON j.code = c.code AND j.k = c.k",
                (connection.ops.adapt_datefield_value(month), dim.value, *case_params,
                 *conf_params))
            inserted += cursor.rowcount
    return inserted


def _record(started) -> None:
    RollupState.objects.update_or_create(name=ROLLUP, defaults={"refreshed_at": started})


def rebuild_dirty(limit: int = 24) -> int:
    """Rebuild the months marked dirty and those of cases changed since the last run; returns
    how many months were rebuilt."""
    # "As of" is when this run started: whatever committed before then is in the figures.
    started = timezone.now()
    last = data_as_of()
    if last is not None:
        changed = Dispute.objects.filter(updated_at__gte=last - CHANGE_MARGIN)
    else:
        changed = Dispute.objects.all()  # the first run: every month there is
    DisputeStatDirty.objects.bulk_create(
        [DisputeStatDirty(month=month_of(m)) for m in changed.datetimes("registered_at",
                                                                        "month")],
        ignore_conflicts=True)
    months = list(DisputeStatDirty.objects.order_by("month").values_list("month", flat=True)
                  [:limit])
    for month in months:
        # Delete the mark first: a change during the rebuild marks the month again.
        DisputeStatDirty.objects.filter(month=month).delete()
        try:
            rebuild_month(month)
        except Exception:
            DisputeStatDirty.objects.bulk_create([DisputeStatDirty(month=month)],
                                                 ignore_conflicts=True)  # try again next run
            raise
    _record(started)
    return len(months)


def rebuild_all() -> int:
    """Every month that has cases (after an import in bulk, or a restore)."""
    started = timezone.now()
    months = sorted({month_of(m) for m in Dispute.objects.datetimes("registered_at", "month")})
    for month in months:
        rebuild_month(month)
    DisputeStat.objects.exclude(month__in=months).delete()
    DisputeStatDirty.objects.filter(month__in=months).delete()
    _record(started)
    return len(months)


def data_as_of():
    state = RollupState.objects.filter(name=ROLLUP).first()
    return state.refreshed_at if state else None


# --- the figures ---------------------------------------------------------------------------------

def _pct(a, b):
    return round(100 * a / b, 1) if b else None


def rates(row: dict) -> dict:
    """Counters (None read as 0) plus the rates shown everywhere."""
    t = {**row, **{c: row.get(c) or 0 for c in COUNTERS}}
    t["amount"] = Decimal(t["amount"])
    t.update(
        conclude_rate=_pct(t["concluded"], t["cases"]),
        success_rate=_pct(t["success"], t["mediated"]),
        on_time_rate=_pct(t["on_time"], t["concluded"]),
        avg_days=round(t["days"] / t["concluded"], 1) if t["concluded"] else None,
        valid_rate=_pct(t["confirmed_valid"], t["confirmations"]),
    )
    return t


def child_digits(prefix: str | None) -> int:
    """The significant digits of the children of the area with `prefix`; a village is its own
    finest row (the rollup keeps villages)."""
    if prefix is None:
        return 6
    for level in codes.LEVELS:
        if level.digits > len(prefix):
            return min(level.digits, 12)
    return 12


SUMS = {c: Sum(c) for c in COUNTERS}


def summary(user, *, months: tuple[dt.date, dt.date], area_prefix: str | None = None,
            limit: int | None = TOP) -> dict:
    """The figures of the cases registered in the months `months` (first, last; inclusive),
    in the subtree of `area_prefix` intersected with the user's scope: totals, the children of
    the area, statistics classes, channels, bodies and lead mediators (the `limit` busiest,
    named), and the monthly trend. Reads only the rollup the user may see."""
    first, last = sorted(m.replace(day=1) for m in months)
    base = DisputeStat.objects.restrict(user).filter(month__gte=first, month__lte=last)
    if area_prefix is None:
        scope = get_scope(user)
        if not scope.unrestricted and scope.kind != ORG:
            area_prefix = scope.prefix
    if area_prefix:
        base = base.filter(codes.range_q("area_code", area_prefix))
    area = base.filter(dim=StatDimension.AREA)
    digits = child_digits(area_prefix)

    def by_key(dim) -> list[dict]:
        rows = [rates(r) for r in base.filter(dim=dim).values("key").annotate(**SUMS)
                .order_by()]
        return sorted(rows, key=lambda r: (-r["cases"], r["key"]))

    # One pass over the village rows gives the areas, the months and the totals (children ×
    # months is small); the per-row sums are added up here.
    cells = area.annotate(p=Substr("area_code", 1, digits)).values("p", "month") \
        .annotate(**SUMS).order_by()
    areas: dict[str, dict] = {}
    seen: dict[dt.date, dict] = {}
    for cell in cells:
        for bucket in (areas.setdefault(cell["p"], {"p": cell["p"]}),
                       seen.setdefault(cell["month"], {})):
            for c in COUNTERS:
                bucket[c] = bucket.get(c, 0) + (cell[c] or 0)
    by_area = [rates(areas[p]) for p in sorted(areas)]
    totals = rates({c: sum(r[c] for r in by_area) for c in COUNTERS})
    by_month, month = [], first
    while month <= last:  # every month of the period, the empty ones too
        by_month.append(rates({**seen.get(month, {}), "month": month}))
        month = next_month(month)
    by_body = by_key(StatDimension.BODY)
    by_mediator = by_key(StatDimension.MEDIATOR)
    result = {
        "first": first, "last": last, "area_prefix": area_prefix,
        "totals": totals, "by_area": by_area, "by_month": by_month,
        "by_type": by_key(StatDimension.TYPE), "by_channel": by_key(StatDimension.CHANNEL),
        "by_body": by_body[:limit] if limit else by_body, "bodies": len(by_body),
        "by_mediator": by_mediator[:limit] if limit else by_mediator,
        "mediators": len(by_mediator), "as_of": data_as_of(),
    }
    _name_rows(result)
    return result


def _ids(rows) -> list[int]:
    return [int(r["key"]) for r in rows if r["key"].isdigit()]


def _name_rows(result: dict) -> None:
    """Names for the rows shown, looked up for those rows only."""
    from zhili.areas.models import Area

    names = dict(Area.objects.filter(code__in=[codes.pad(r["p"]) for r in result["by_area"]])
                 .values_list("code", "name"))
    for row in result["by_area"]:
        row["code"] = codes.pad(row["p"])
        row["name"] = names.get(row["code"], row["p"])
    for row in result["by_type"]:
        row["name"] = codetables.STAT_CLASSES.get(row["key"], row["key"])
    for row in result["by_channel"]:
        row["name"] = str(Channel(row["key"]).label) if row["key"] in Channel.values \
            else row["key"]
    bodies = dict(MediationBody.objects.filter(pk__in=_ids(result["by_body"]))
                  .values_list("pk", "org__name"))
    for row in result["by_body"]:
        row["name"] = bodies.get(int(row["key"]) if row["key"].isdigit() else None, "?")
    mediators = {pk: (name, body) for pk, name, body in Mediator.objects.filter(
        pk__in=_ids(result["by_mediator"])).values_list("pk", "name", "body__org__name")}
    for row in result["by_mediator"]:
        row["name"], row["body_name"] = mediators.get(
            int(row["key"]) if row["key"].isdigit() else None, ("?", ""))


def root_area(user, raw_code: str | None = None):
    """The area whose children are shown: the one asked for when the user reaches it (None
    when not, or when the code is malformed), else the user's own area (the top for a
    superuser)."""
    from zhili.areas.models import Area
    from zhili.areas.queries import root_for

    if not raw_code:
        return root_for(user)
    try:
        code = codes.normalize(raw_code)
    except codes.CodeError:
        return None
    return Area.objects.in_scope(user).filter(code=code).first()
