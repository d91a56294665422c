"""Event statistics: a monthly rollup kept current by a task, and the figures pages show.

Services mark the reporting month of every changed event dirty; `rebuild_dirty()` (every two
minutes) re-aggregates those months from the events table with grouped SQL. Pages read the
rollup and say how fresh it is ("data as of"). Scopes finer than a town, and organisation
staff, are served by the same grouped SQL over their own events (small sets).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from zhili.core import codes
from zhili.core.scoping import ORG, get_scope
from zhili.events.choices import Channel, EventState
from zhili.events.models import (
    SATISFIED,
    Event,
    EventStat,
    EventStatDirty,
    RollupState,
    StatDimension,
)

ROLLUP = "events.monthly"
COUNTERS = ["reported", "closed", "closed_on_time", "overdue", "returned", "reopened",
            "solved_on_spot", "evaluated", "satisfied", "close_seconds"]
CLOSED = Q(state=EventState.CLOSED)
COUNTS = {
    "reported": Count("id"),
    "closed": Count("id", filter=CLOSED),
    "closed_on_time": Count("id", filter=CLOSED & Q(ever_overdue=False)),
    "overdue": Count("id", filter=Q(ever_overdue=True)),
    "returned": Count("id", filter=Q(return_count__gt=0)),
    "reopened": Count("id", filter=Q(reopen_count__gt=0)),
    "solved_on_spot": Count("id", filter=Q(solved_on_spot=True)),
    "evaluated": Count("id", filter=~Q(satisfaction="")),
    "satisfied": Count("id", filter=Q(satisfaction__in=SATISFIED)),
}
# dimension → (the event column it groups by, or None; digits of the area code kept)
DIMENSIONS = {
    StatDimension.AREA: (None, 12),
    StatDimension.CATEGORY: ("category_id", 9),
    StatDimension.CHANNEL: ("channel", 9),
    StatDimension.ORG: ("lead_org_id", 9),
}


def month_of(moment) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


def _bounds(first: dt.date, last: dt.date):
    """[start of `first`'s month, start of the month after `last`) as aware datetimes."""
    after = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    start = timezone.make_aware(dt.datetime.combine(first.replace(day=1), dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(after, dt.time.min))


def mark_dirty(moment) -> None:
    """Rebuild the month of `moment` at the next run (changes made without `save()`)."""
    EventStatDirty.objects.bulk_create([EventStatDirty(month=month_of(moment))],
                                       ignore_conflicts=True)


def _step_times(events, digits: int) -> dict[str, dict]:
    """{area prefix: {"close_seconds": n, "steps": {step: [events, seconds]}}} from one pass
    over the events: step times live in a JSON column, which SQL cannot sum on every database."""
    out: dict[str, dict] = defaultdict(lambda: {"close_seconds": 0,
                                                "steps": defaultdict(lambda: [0, 0])})
    rows = events.filter(~Q(step_seconds={}) | CLOSED).values_list(
        "area_code", "step_seconds", "state", "reported_at", "closed_at")
    for code, steps, state, reported_at, closed_at in rows.iterator(chunk_size=5000):
        bucket = out[code[:digits]]
        if state == EventState.CLOSED and closed_at:
            bucket["close_seconds"] += int((closed_at - reported_at).total_seconds())
        for step, seconds in (steps or {}).items():
            total = bucket["steps"][step]
            total[0] += 1
            total[1] += seconds
    return out


def _grouped(events, dim: str, digits: int) -> list[dict]:
    column, _ = DIMENSIONS[dim]
    keys = {"code": Substr("area_code", 1, digits)}
    if column:
        keys["k"] = F(column)
    return list(events.annotate(**keys).values(*keys).annotate(**COUNTS).order_by())


def rebuild_month(month: dt.date) -> int:
    """Re-aggregate one reporting month from the events table (delete + insert)."""
    start, end = _bounds(month, month)
    events = Event.objects.filter(reported_at__gte=start, reported_at__lt=end)
    times = _step_times(events, 12)
    objects = []
    for dim, (_column, digits) in DIMENSIONS.items():
        for row in _grouped(events, dim, digits):
            extra = {}
            if dim == StatDimension.AREA:
                extra = {"close_seconds": times.get(row["code"], {}).get("close_seconds", 0)}
            objects.append(EventStat(
                month=month, area_code=codes.pad(row["code"]), dim=dim,
                key="" if row.get("k") is None else str(row["k"]),
                **{c: row[c] for c in COUNTS}, **extra))
    towns: dict[tuple, list] = defaultdict(lambda: [0, 0])
    for code, t in times.items():
        for step, (n, seconds) in t["steps"].items():
            total = towns[code[:9], step]
            total[0] += n
            total[1] += seconds
    objects += [EventStat(month=month, area_code=codes.pad(town), dim=StatDimension.STEP,
                          key=step, reported=n, close_seconds=seconds)
                for (town, step), (n, seconds) in towns.items()]
    with transaction.atomic():
        EventStat.objects.filter(month=month).delete()
        EventStat.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


CHANGE_MARGIN = dt.timedelta(minutes=5)  # covers transactions that committed late


def rebuild_dirty(limit: int = 24) -> int:
    """Rebuild the months of events changed since the last run (their `updated_at`; the sweep
    touches it too), and any month marked by hand."""
    last = data_as_of()
    if last is not None:
        changed = Event.objects.filter(updated_at__gte=last - CHANGE_MARGIN).dates(
            "reported_at", "month")
        EventStatDirty.objects.bulk_create([EventStatDirty(month=m.replace(day=1))
                                            for m in changed], ignore_conflicts=True)
    else:
        for month in Event.objects.dates("reported_at", "month"):
            EventStatDirty.objects.get_or_create(month=month.replace(day=1))
    months = list(EventStatDirty.objects.order_by("month").values_list("month", flat=True)
                  [:limit])
    for month in months:
        # Delete the mark first: a change during the rebuild marks the month again.
        EventStatDirty.objects.filter(month=month).delete()
        rebuild_month(month)
    RollupState.objects.update_or_create(name=ROLLUP, defaults={"refreshed_at": timezone.now()})
    return len(months)


def rebuild_all() -> int:
    """Every month that has events (after an import in bulk, or a restore)."""
    months = {m.replace(day=1) for m in Event.objects.dates("reported_at", "month")}
    for month in sorted(months):
        rebuild_month(month)
    RollupState.objects.update_or_create(name=ROLLUP, defaults={"refreshed_at": timezone.now()})
    return len(months)


def data_as_of():
    state = RollupState.objects.filter(name=ROLLUP).first()
    return state.refreshed_at if state else None


# --- the figures -------------------------------------------------------------------------------

def _rates(t: dict) -> dict:
    def pct(a, b):
        return round(100 * a / b, 1) if b else None

    return {
        **t,
        "on_time_rate": pct(t["closed_on_time"], t["closed"]),
        "close_rate": pct(t["closed"], t["reported"]),
        "return_rate": pct(t["returned"], t["reported"]),
        "reopen_rate": pct(t["reopened"], t["closed"]),
        "satisfaction_rate": pct(t["satisfied"], t["evaluated"]),
        "avg_close_hours": round(t["close_seconds"] / t["closed"] / 3600, 1)
        if t.get("close_seconds") and t["closed"] else None,
    }


def _child_depth(scope) -> int:
    """Group by the children of the user's area: counties for the city, towns for a county,
    villages for a town, grids below."""
    if scope.unrestricted or scope.prefix is None or scope.kind == ORG:
        return 6
    return {4: 6, 6: 9, 9: 12}.get(len(scope.prefix), 15)


def figures(user, *, start: dt.date, end: dt.date) -> dict:
    """Totals and breakdowns for events reported in the months from `start` to `end`."""
    scope = get_scope(user)
    from_rollup = scope.unrestricted or (scope.kind != ORG and scope.prefix is not None and
                                         len(scope.prefix) <= 9)
    if from_rollup:
        result = _from_rollup(user, start, end, _child_depth(scope))
    else:
        result = _from_events(user, start, end, _child_depth(scope))
    _name_rows(result)
    return result


SUMS = {c: Sum(c) for c in COUNTERS}


def _summed(rows) -> list[dict]:
    return [_rates({k: (v or 0) if k in COUNTERS else v for k, v in row.items()})
            for row in rows]


def _from_rollup(user, start, end, depth: int) -> dict:
    base = EventStat.objects.restrict(user).filter(month__gte=start.replace(day=1),
                                                   month__lte=end.replace(day=1))
    area = base.filter(dim=StatDimension.AREA)

    def by_key(dim):
        return _summed(base.filter(dim=dim).values("key").annotate(**SUMS).order_by())

    steps = base.filter(dim=StatDimension.STEP).values("key").annotate(
        n=Sum("reported"), s=Sum("close_seconds")).order_by()
    return {
        "totals": _summed([area.aggregate(**SUMS)])[0],
        "by_area": _summed(area.annotate(p=Substr("area_code", 1, depth)).values("p")
                           .annotate(**SUMS).order_by("p")),
        "by_category": by_key(StatDimension.CATEGORY),
        "by_channel": by_key(StatDimension.CHANNEL),
        "by_org": [r for r in by_key(StatDimension.ORG) if r["key"]],
        "by_month": _summed(area.values("month").annotate(**SUMS).order_by("month")),
        "steps": _hours({r["key"]: (r["n"], r["s"]) for r in steps}),
        "as_of": data_as_of(),
    }


def _from_events(user, start, end, depth: int) -> dict:
    """The same figures straight from the user's own events (finer than the rollup's grain)."""
    lo, hi = _bounds(start, end)
    events = Event.objects.restrict(user).filter(reported_at__gte=lo, reported_at__lt=hi)
    times = _step_times(events, depth)
    close = {p: t["close_seconds"] for p, t in times.items()}
    steps: dict[str, list] = defaultdict(lambda: [0, 0])
    for t in times.values():
        for step, (n, seconds) in t["steps"].items():
            steps[step][0] += n
            steps[step][1] += seconds

    def by_key(dim):
        column, _ = DIMENSIONS[dim]
        rows = events.annotate(k=F(column)).values("k").annotate(**COUNTS).order_by()
        return [_rates({**r, "key": "" if r["k"] is None else str(r["k"]), "close_seconds": 0})
                for r in rows]

    by_area = [_rates({**r, "p": r["p"], "close_seconds": close.get(r["p"], 0)})
               for r in events.annotate(p=Substr("area_code", 1, depth)).values("p")
               .annotate(**COUNTS).order_by("p")]
    totals = events.aggregate(**COUNTS)
    from django.db.models.functions import TruncMonth

    months = [_rates({**r, "close_seconds": 0}) for r in
              events.annotate(month=TruncMonth("reported_at")).values("month")
              .annotate(**COUNTS).order_by("month")]
    return {
        "totals": _rates({**totals, "close_seconds": sum(close.values())}),
        "by_area": by_area,
        "by_category": by_key(StatDimension.CATEGORY),
        "by_channel": by_key(StatDimension.CHANNEL),
        "by_org": [r for r in by_key(StatDimension.ORG) if r["key"]],
        "by_month": months,
        "steps": _hours(steps),
        "as_of": timezone.now(),
    }


def _hours(steps: dict) -> dict[str, float]:
    """{step: (events, seconds)} → average hours per step."""
    return {step: round(seconds / n / 3600, 2) for step, (n, seconds) in steps.items() if n}


def _name_rows(result: dict) -> None:
    from zhili.areas.models import Area
    from zhili.events.models import EventCategory
    from zhili.orgs.models import Organisation

    area_names = dict(Area.objects.filter(
        code__in=[codes.pad(r["p"]) for r in result["by_area"]]).values_list("code", "name"))
    for row in result["by_area"]:
        row["name"] = area_names.get(codes.pad(row["p"]), row["p"])
    categories = {str(pk): name for pk, name in EventCategory.objects.values_list("pk", "name")}
    for row in result["by_category"]:
        row["name"] = categories.get(row["key"], "?")
    result["by_category"].sort(key=lambda r: -r["reported"])
    orgs = {str(pk): name for pk, name in Organisation.objects.filter(
        pk__in=[int(r["key"]) for r in result["by_org"]]).values_list("pk", "name")}
    for row in result["by_org"]:
        row["name"] = orgs.get(row["key"], "?")
    result["by_org"] = sorted(result["by_org"], key=lambda r: -r["reported"])[:20]
    for row in result["by_channel"]:
        row["name"] = str(Channel(row["key"]).label) if row["key"] in Channel.values \
            else row["key"]
    for row in result["by_month"]:
        month = row["month"]
        row["m"] = month.date() if isinstance(month, dt.datetime) else month
