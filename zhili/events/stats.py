"""Event statistics: a daily rollup kept current by a task, and the figures pages show.

Services mark the reporting day of every changed event dirty; `rebuild_dirty()` (every two
minutes) re-aggregates those days from the events table. Pages read the rollup and say how
fresh it is ("data as of"). Users below town level are served from the events directly (their
scope is finer than the rollup's grain, and small).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from zhili.core import codes
from zhili.core.scoping import ORG, get_scope
from zhili.events.choices import EventState
from zhili.events.models import SATISFIED, Event, EventStat, EventStatDirty, RollupState

ROLLUP = "events.daily"
COUNTERS = ["reported", "closed", "closed_on_time", "overdue", "returned", "reopened",
            "solved_on_spot", "evaluated", "satisfied", "close_seconds"]


def _day(moment) -> dt.date:
    return timezone.localtime(moment).date()


def mark_dirty(event: Event) -> None:
    EventStatDirty.objects.bulk_create([EventStatDirty(day=_day(event.reported_at))],
                                       ignore_conflicts=True)


def mark_dirty_ids(ids) -> None:
    days = {_day(t) for t in Event.objects.filter(pk__in=ids).values_list("reported_at",
                                                                           flat=True)}
    EventStatDirty.objects.bulk_create([EventStatDirty(day=d) for d in days],
                                       ignore_conflicts=True)


def _bounds(day: dt.date):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


EVENT_FIELDS = ("area_code", "category_id", "channel", "lead_org_id", "state", "ever_overdue",
                "return_count", "reopen_count", "solved_on_spot", "satisfaction", "reported_at",
                "closed_at", "step_seconds")


def _empty() -> dict:
    return dict.fromkeys(COUNTERS, 0) | {"step_seconds": defaultdict(int),
                                        "step_counts": defaultdict(int)}


def _add(row: dict, e: dict) -> None:
    """Add one event (a dict of EVENT_FIELDS) to a row of counters."""
    row["reported"] += 1
    if e["state"] == EventState.CLOSED:
        row["closed"] += 1
        row["closed_on_time"] += not e["ever_overdue"]
        if e["closed_at"]:
            row["close_seconds"] += int((e["closed_at"] - e["reported_at"]).total_seconds())
    row["overdue"] += bool(e["ever_overdue"])
    row["returned"] += e["return_count"] > 0
    row["reopened"] += e["reopen_count"] > 0
    row["solved_on_spot"] += bool(e["solved_on_spot"])
    row["evaluated"] += bool(e["satisfaction"])
    row["satisfied"] += e["satisfaction"] in SATISFIED
    for step, seconds in (e["step_seconds"] or {}).items():
        row["step_seconds"][step] += seconds
        row["step_counts"][step] += 1


def rebuild_day(day: dt.date) -> int:
    """Re-aggregate one reporting day from the events table (delete + insert)."""
    start, end = _bounds(day)
    rows: dict[tuple, dict] = {}
    for e in Event.objects.filter(reported_at__gte=start, reported_at__lt=end).values(
            *EVENT_FIELDS):
        key = (codes.pad(e["area_code"][:9]), e["category_id"], e["channel"], e["lead_org_id"])
        _add(rows.setdefault(key, _empty()), e)
    objects = [EventStat(day=day, town_code=k[0], category_id=k[1], channel=k[2],
                         lead_org_id=k[3], **{**v, "step_seconds": dict(v["step_seconds"]),
                                              "step_counts": dict(v["step_counts"])})
               for k, v in rows.items()]
    with transaction.atomic():
        EventStat.objects.filter(day=day).delete()
        EventStat.objects.bulk_create(objects, batch_size=1000)
    return len(objects)


def rebuild_dirty(limit: int = 400) -> int:
    days = list(EventStatDirty.objects.order_by("day").values_list("day", flat=True)[:limit])
    for day in days:
        # Delete the mark first: a change during the rebuild marks the day again.
        EventStatDirty.objects.filter(day=day).delete()
        rebuild_day(day)
    RollupState.objects.update_or_create(name=ROLLUP, defaults={"refreshed_at": timezone.now()})
    return len(days)


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
        if t["closed"] else None,
    }


def _child_depth(scope) -> int:
    """Group by the children of the user's area: counties for the city, towns for a county,
    villages for a town, grids below."""
    if scope.unrestricted or scope.prefix is None or scope.kind == ORG:
        return 6
    return {4: 6, 6: 9, 9: 12}.get(len(scope.prefix), 15)


def figures(user, *, start: dt.date, end: dt.date) -> dict:
    """Totals and breakdowns for events reported in [start, end], within the user's reach."""
    scope = get_scope(user)
    depth = _child_depth(scope)
    if depth > 9:
        result = _figures_from_events(user, start, end, depth)
    else:
        result = _figures_from_rollup(user, start, end, depth)
    _name_rows(result)
    return result


def _figures_from_rollup(user, start, end, depth: int) -> dict:
    base = EventStat.objects.restrict(user).filter(day__gte=start, day__lte=end)
    sums = {c: Sum(c) for c in COUNTERS}

    def group(*keys, **annotations):
        return [_rates({k: (v or 0) if k in COUNTERS else v for k, v in row.items()})
                for row in base.annotate(**annotations).values(*keys).annotate(**sums)
                .order_by(*keys)]

    steps_seconds: dict[str, int] = defaultdict(int)
    steps_counts: dict[str, int] = defaultdict(int)
    for spent, counts in base.values_list("step_seconds", "step_counts").iterator(chunk_size=5000):
        for step, seconds in spent.items():
            steps_seconds[step] += seconds
            steps_counts[step] += counts.get(step, 0)
    return {
        "totals": _rates({k: v or 0 for k, v in base.aggregate(**sums).items()}),
        "by_area": group("p", p=Substr("town_code", 1, depth)),
        "by_category": group("category_id"),
        "by_channel": group("channel"),
        "by_org": [r for r in group("lead_org_id") if r["lead_org_id"]],
        "by_month": group("m", m=TruncMonth("day")),
        "steps": _step_hours(steps_seconds, steps_counts),
        "as_of": data_as_of(),
    }


def _figures_from_events(user, start, end, depth: int) -> dict:
    lo, _ = _bounds(start)
    _, hi = _bounds(end)
    groups: dict[str, dict] = defaultdict(lambda: defaultdict(_empty))
    total = _empty()
    for e in Event.objects.restrict(user).filter(reported_at__gte=lo, reported_at__lt=hi).values(
            *EVENT_FIELDS):
        month = timezone.localtime(e["reported_at"]).date().replace(day=1)
        _add(total, e)
        for name, key in (("by_area", e["area_code"][:depth]), ("by_category", e["category_id"]),
                          ("by_channel", e["channel"]), ("by_org", e["lead_org_id"]),
                          ("by_month", month)):
            _add(groups[name][key], e)
    keys = {"by_area": "p", "by_category": "category_id", "by_channel": "channel",
            "by_org": "lead_org_id", "by_month": "m"}
    result = {name: [_rates({field: key, **{c: row[c] for c in COUNTERS}})
                     for key, row in sorted(groups[name].items(), key=lambda kv: str(kv[0]))
                     if key is not None]
              for name, field in keys.items()}
    result["totals"] = _rates({c: total[c] for c in COUNTERS})
    result["steps"] = _step_hours(total["step_seconds"], total["step_counts"])
    result["as_of"] = timezone.now()
    return result


def _step_hours(seconds: dict, counts: dict) -> dict[str, float]:
    return {step: round(seconds[step] / counts[step] / 3600, 2) for step in seconds
            if counts.get(step)}


def _name_rows(result: dict) -> None:
    from zhili.areas.models import Area
    from zhili.events.models import EventCategory
    from zhili.orgs.models import Organisation

    area_names = dict(Area.objects.filter(code__in=[codes.pad(r["p"]) for r in
                                                    result["by_area"]]).values_list("code",
                                                                                    "name"))
    for row in result["by_area"]:
        row["name"] = area_names.get(codes.pad(row["p"]), row["p"])
    categories = dict(EventCategory.objects.values_list("pk", "name"))
    for row in result["by_category"]:
        row["name"] = categories.get(row["category_id"], "?")
    result["by_category"].sort(key=lambda r: -r["reported"])
    orgs = dict(Organisation.objects.filter(pk__in=[r["lead_org_id"] for r in result["by_org"]])
                .values_list("pk", "name"))
    for row in result["by_org"]:
        row["name"] = orgs.get(row["lead_org_id"], "?")
    result["by_org"] = sorted(result["by_org"], key=lambda r: -r["reported"])[:20]
    from zhili.events.choices import Channel

    for row in result["by_channel"]:
        row["name"] = str(Channel(row["channel"]).label) if row["channel"] in Channel.values \
            else row["channel"]
