"""Compliance with the three 100 % rules (实名收寄, 开箱验视, 过机安检) per outlet, company and
area, for a day, a month or a range of days.

Everything is computed from the rollups, never from the record tables: a month from the month
rollups (`OutletMonth`, one row per outlet for the month and one for the month before), any
other period from the daily ones (`OutletDay`) with one grouped query giving every outlet's sums
for the period *and* the period before it (conditional sums over both ranges, so the "dropped
by 5 points" check costs no second pass); the daily trend from the daily rollups. Companies
and areas are summed in Python from the outlet rows (a city has a few thousand outlets), and
names are looked up only for the rows a page shows.

Rates are floored to two decimals, never rounded: 99.996 % must not print as "100 %", because
100 % is the legal requirement and anything less is a finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import add

from django.db import connections
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.core import codes
from zhili.core.scoping import can
from zhili.core.services import field_error
from zhili.delivery.models import CourierCompany, IngestBatch, Outlet, OutletDay, OutletMonth

SUMS = ("parcels", "real_name", "inspected", "xrayed", "flagged", "inspections",
        "inspection_photos", "scans", "alarms")
RATES = ("real_name", "inspected", "xrayed")  # each must be 100 % of the parcels
DROP_POINTS = 5  # a rate this many points below the previous period's is flagged
MAX_DAYS = 366
PAGE_SIZE = 100

# Anomalies, most serious first. "silent" (an active outlet that reported nothing) is listed
# but is not a breach by itself: an outlet may be closed on a holiday.
ANOMALIES = {
    "below": gettext_lazy("Below 100 %"),
    "no_real_name": gettext_lazy("Parcels without any real-name registration"),
    # xgettext:no-python-format
    "no_photos": gettext_lazy("100 % inspected but no inspection photo"),
    # xgettext:no-python-format
    "no_scans": gettext_lazy("100 % X-rayed but no scan recorded"),
    "drop": gettext_lazy("Dropped by 5 points or more"),
    "silent": gettext_lazy("No parcels reported"),
}
SERIOUS = ("below", "no_real_name", "no_photos", "no_scans", "drop")


# --- the period ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: str = "range"  # "day", "month" or "range"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period compared with: the month before a month, else as many days just before."""
        if self.kind == "month":
            end = self.start - dt.timedelta(days=1)
            return Period(end.replace(day=1), end, "month")
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, self.kind)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "day":
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def query(self) -> dict[str, str]:
        """The request parameters naming this period (links, exports)."""
        if self.kind == "month":
            return {"month": f"{self.start:%Y-%m}"}
        if self.kind == "day":
            return {"day": self.start.isoformat()}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def month_period(month: dt.date) -> Period:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1), "month")


def parse_period(params, today: dt.date) -> Period:
    """`day` (YYYY-MM-DD), `month` (YYYY-MM) or `start` and `end`; by default this month.
    A malformed value is refused with the parameter's name (ServiceError)."""

    def date_of(name: str, raw: str) -> dt.date:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise field_error(name, _("Enter a date as YYYY-MM-DD.")) from None

    day, month = (params.get("day") or "").strip(), (params.get("month") or "").strip()
    start, end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if day:
        value = date_of("day", day)
        return Period(value, value, "day")
    if month:
        try:
            return month_period(dt.date.fromisoformat(f"{month[:7]}-01"))
        except ValueError:
            raise field_error("month", _("Enter a month as YYYY-MM.")) from None
    if start or end:
        first = date_of("start", start) if start else today.replace(day=1)
        last = date_of("end", end) if end else today
        if last < first:
            raise field_error("end", _("The end is before the start."))
        if (last - first).days + 1 > MAX_DAYS:
            raise field_error("end", _("A period is at most %(n)s days.") % {"n": MAX_DAYS})
        return Period(first, last, "range")
    return month_period(today)


# --- rows ---------------------------------------------------------------------------------------

def rate(count: int | None, parcels: int | None) -> float | None:
    """Percent with two decimals, floored (see module docstring); None without parcels."""
    if not parcels:
        return None
    return (int(count or 0) * 10000 // int(parcels)) / 100


@dataclass(slots=True)
class Figures:
    """Sums of the rollup columns for one outlet, company, area, day or the whole report."""

    parcels: int = 0
    real_name: int = 0
    inspected: int = 0
    xrayed: int = 0
    flagged: int = 0
    inspections: int = 0
    inspection_photos: int = 0
    scans: int = 0
    alarms: int = 0

    # The rates, computed once: a report asks for them several times per row (anomalies,
    # ordering, the page) and has thousands of rows. A Figures is never changed once made.
    real_name_rate: float | None = field(init=False, repr=False)
    inspected_rate: float | None = field(init=False, repr=False)
    xrayed_rate: float | None = field(init=False, repr=False)

    def __post_init__(self):
        self.real_name_rate = rate(self.real_name, self.parcels)
        self.inspected_rate = rate(self.inspected, self.parcels)
        self.xrayed_rate = rate(self.xrayed, self.parcels)

    def counts(self) -> tuple[int, ...]:
        """The SUMS, in their order."""
        return (self.parcels, self.real_name, self.inspected, self.xrayed, self.flagged,
                self.inspections, self.inspection_photos, self.scans, self.alarms)

    def rates(self) -> dict[str, float | None]:
        return {"real_name": self.real_name_rate, "inspected": self.inspected_rate,
                "xrayed": self.xrayed_rate}

    @property
    def attained(self) -> bool | None:
        """"三个100%": every parcel registered, inspected and screened (None: no parcels)."""
        if not self.parcels:
            return None
        return all(getattr(self, name) >= self.parcels for name in RATES)

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in SUMS}
        data.update({f"{name}_rate": value for name, value in self.rates().items()})
        data["attained"] = self.attained
        return data


@dataclass(slots=True)
class OutletRow:
    outlet_id: int
    company_id: int
    area_code: str
    figures: Figures
    previous: dict[str, float | None]  # the previous period's rates
    anomalies: list[str] = field(default_factory=list)
    drops: dict[str, float] = field(default_factory=dict)  # rate → points lost
    serious: bool = False  # a finding in SERIOUS (set with the anomalies)
    name: str = ""
    code: str = ""
    company_name: str = ""
    area_name: str = ""

    @property
    def below(self) -> list[str]:
        """The rates under 100 %."""
        return [n for n, v in self.figures.rates().items() if v is not None and v < 100]

    def anomaly_labels(self) -> list[tuple[str, str]]:
        return [(code, str(ANOMALIES[code])) for code in self.anomalies]

    def as_dict(self) -> dict:
        return {"outlet_id": self.outlet_id, "name": self.name, "code": self.code,
                "company_id": self.company_id, "company_name": self.company_name,
                "area_code": self.area_code, "area_name": self.area_name,
                **self.figures.as_dict(),
                "previous": {f"{n}_rate": v for n, v in self.previous.items()},
                "drops": self.drops, "anomalies": list(self.anomalies)}


def detect(row: OutletRow) -> None:
    """Set the row's anomalies (see ANOMALIES)."""
    f = row.figures
    found = []
    if f.parcels:
        if row.below:
            found.append("below")
        if f.real_name == 0:
            found.append("no_real_name")
        # Implausible: what the rates claim cannot have happened without leaving these traces.
        if f.inspected >= f.parcels and f.inspection_photos == 0:
            found.append("no_photos")
        if f.xrayed >= f.parcels and f.scans == 0:
            found.append("no_scans")
        for name, now in f.rates().items():
            before = row.previous.get(name)
            if before is not None and now is not None and before - now >= DROP_POINTS:
                row.drops[name] = round(before - now, 2)
        if row.drops:
            found.append("drop")
    else:
        found.append("silent")
    row.anomalies = found
    row.serious = any(a in SERIOUS for a in found)


def _worst_first(row: OutletRow):
    rates = [v for v in row.figures.rates().values() if v is not None]
    return (not row.serious, "silent" not in row.anomalies and not row.serious,
            min(rates) if rates else 101, -row.figures.parcels, row.outlet_id)


# --- the report ---------------------------------------------------------------------------------

@dataclass
class Summary:
    key: object  # company id or area code
    name: str = ""
    figures: Figures = field(default_factory=Figures)
    outlets: int = 0
    attained: int = 0  # outlets at 100 % on all three
    flagged_outlets: int = 0  # outlets with a serious anomaly

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "outlets": self.outlets,
                "outlets_attained": self.attained, "outlets_flagged": self.flagged_outlets,
                **self.figures.as_dict()}


@dataclass
class Report:
    period: Period
    previous: Period
    rows: list[OutletRow]  # worst first
    totals: Figures
    companies: list[Summary]
    counties: list[Summary]
    towns: list[Summary]
    trend: list[dict]
    as_of: dt.datetime

    @property
    def flagged(self) -> list[OutletRow]:
        return [r for r in self.rows if r.serious]

    def anomaly_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ANOMALIES, 0)
        for row in self.rows:
            for code in row.anomalies:
                counts[code] += 1
        return counts


def _figures(values: dict, prefix: str = "") -> Figures:
    return Figures(**{name: int(values.get(prefix + name) or 0) for name in SUMS})


CURRENT = tuple(f"c_{name}" for name in SUMS)  # aliases: an annotation named like a column
PREVIOUS = tuple(f"p_{name}" for name in ("parcels", *RATES))  # would shadow it for the next


def _outlet_sums(days, months, period: Period, previous: Period) -> dict[int, list]:
    """outlet id → [company id, area code, the period's SUMS, the previous period's parcels
    and RATES counts] (a sums tuple is None when the outlet has no rollup in that period):
    from the month rollups for a month (two rows an outlet), else from the day rollups."""
    found: dict[int, list] = {}

    def collect(rows, at: int):
        for pk, company, area, *sums in rows:
            entry = found.get(pk)
            if entry is None:
                found[pk] = entry = [company, area, None, None]
            entry[at] = sums

    if period.kind == "month" and previous.kind == "month":
        columns = ("outlet_id", "company_id", "area_code")
        collect(months.filter(month=period.start).values_list(*columns, *SUMS), 2)
        collect(months.filter(month=previous.start).values_list(*columns, "parcels", *RATES), 3)
        return found
    now_q = Q(day__gte=period.start, day__lte=period.end)
    before_q = Q(day__gte=previous.start, day__lte=previous.end)
    keys = {"co": Max("company_id"), "code": Max("area_code")}
    if connections[days.db].vendor == "postgresql":
        # One pass over both periods: PostgreSQL evaluates FILTER (…) aggregates as it scans.
        sums = {alias: Sum(alias[2:], filter=now_q) for alias in CURRENT}
        sums.update({alias: Sum(alias[2:], filter=before_q) for alias in PREVIOUS})
        for pk, company, area, *values in (
                days.filter(day__gte=previous.start, day__lte=period.end)
                .values_list("outlet_id").annotate(**keys, **sums).order_by()):
            now, before = values[:len(SUMS)], values[len(SUMS):]
            found[pk] = [company, area, [v or 0 for v in now] if any(now) else None,
                         [v or 0 for v in before] if any(before) else None]
        return found
    # SQLite computes a filtered aggregate as a CASE per row and column, which costs more than
    # a second range scan of the (outlet, day) index: two plain grouped queries instead.
    collect(days.filter(now_q).values_list("outlet_id").annotate(
        **keys, **{alias: Sum(alias[2:]) for alias in CURRENT}).order_by(), 2)
    collect(days.filter(before_q).values_list("outlet_id").annotate(
        **keys, **{alias: Sum(alias[2:]) for alias in PREVIOUS}).order_by(), 3)
    return found


def _previous_rates(before) -> dict[str, float | None]:
    if not before:
        return dict.fromkeys(RATES)
    parcels, real_name, inspected, xrayed = before  # the order of PREVIOUS
    return {"real_name": rate(real_name, parcels), "inspected": rate(inspected, parcels),
            "xrayed": rate(xrayed, parcels)}


def compliance(user, *, period: Period, area_prefix: str | None = None,
               company_id: int | None = None, outlet_id: int | None = None,
               include_silent: bool = True) -> Report:
    """The report for what the user may see of OutletDay, within the area subtree and company
    asked for. Names are not resolved here: call `resolve_names()` on the rows shown."""
    previous = period.previous()
    def narrowed(queryset, outlet_field: str = "outlet_id"):
        if area_prefix:
            queryset = queryset.filter(codes.range_q("area_code", area_prefix))
        if company_id:
            queryset = queryset.filter(company_id=company_id)
        if outlet_id:
            queryset = queryset.filter(**{outlet_field: outlet_id})
        return queryset

    base = narrowed(OutletDay.objects.restrict(user))
    rows: dict[int, OutletRow] = {}
    for pk, (company, area, now, before) in _outlet_sums(
            base, narrowed(OutletMonth.objects.restrict(user)), period, previous).items():
        rows[pk] = OutletRow(outlet_id=pk, company_id=company, area_code=area,
                             figures=Figures(*now) if now else Figures(),
                             previous=_previous_rates(before))
    if include_silent and can(user, Outlet, "view"):
        # Active outlets without a single rollup row in either period.
        outlets = narrowed(Outlet.objects.in_scope(user).filter(is_active=True), "pk")
        for pk, company, code in outlets.values_list("pk", "company_id", "area_code"):
            if pk not in rows:
                rows[pk] = OutletRow(outlet_id=pk, company_id=company, area_code=code,
                                     figures=Figures(), previous=dict.fromkeys(RATES))

    # Sum per (company, town) first: a few dozen buckets, then rolled up into the summaries.
    buckets: dict[tuple, list] = {}
    for row in rows.values():
        detect(row)
        f = row.figures
        bucket = buckets.setdefault((row.company_id, codes.prefix_of(row.area_code, 3)),
                                    [[0] * len(SUMS), 0, 0, 0])
        if f.parcels or f.inspections or f.scans:
            bucket[0] = list(map(add, bucket[0], f.counts()))
        bucket[1] += 1
        bucket[2] += f.attained is True
        bucket[3] += row.serious
    totals = [0] * len(SUMS)
    tables: dict[str, dict] = {"companies": {}, "counties": {}, "towns": {}}
    for (company, town), (sums, outlets, attained, flagged) in buckets.items():
        totals = list(map(add, totals, sums))
        for table, key in (("companies", company), ("counties", codes.pad(town[:6])),
                           ("towns", codes.pad(town))):
            summary = tables[table].setdefault(key, [Summary(key), [0] * len(SUMS)])
            summary[1] = list(map(add, summary[1], sums))
            summary[0].outlets += outlets
            summary[0].attained += attained
            summary[0].flagged_outlets += flagged
    summaries = {}
    for table, found in tables.items():
        summaries[table] = []
        for summary, sums in found.values():
            summary.figures = Figures(*sums)
            summaries[table].append(summary)

    trend = []
    for v in (base.filter(day__gte=period.start, day__lte=period.end).values("day")
              .annotate(**{alias: Sum(alias[2:]) for alias in PREVIOUS}).order_by("day")):
        day = Figures(*(int(v[alias] or 0) for alias in PREVIOUS))
        trend.append({"day": v["day"], "parcels": day.parcels,
                      **{f"{name}_rate": rate(getattr(day, name), day.parcels)
                         for name in RATES}})

    report = Report(period=period, previous=previous,
                    rows=sorted(rows.values(), key=_worst_first), totals=Figures(*totals),
                    companies=sorted(summaries["companies"], key=lambda s: -s.figures.parcels),
                    counties=sorted(summaries["counties"], key=lambda s: s.key),
                    towns=sorted(summaries["towns"], key=lambda s: s.key),
                    trend=trend, as_of=_as_of([s.key for s in summaries["companies"]]))
    _name_summaries(report)
    return report


def _as_of(company_ids) -> dt.datetime:
    """When the newest data of these companies arrived (now, when none ever did)."""
    latest = None
    if company_ids:
        latest = IngestBatch.objects.filter(company_id__in=list(company_ids)).aggregate(
            at=Max("received_at"))["at"]
    return latest or timezone.now()


def _name_summaries(report: Report) -> None:
    from zhili.areas.models import Area

    names = dict(CourierCompany.objects.filter(pk__in=[s.key for s in report.companies])
                 .values_list("pk", "org__name"))
    for summary in report.companies:
        summary.name = names.get(summary.key, "")
    wanted = [s.key for s in report.counties + report.towns]
    areas = dict(Area.objects.filter(code__in=wanted).values_list("code", "name"))
    for summary in report.counties + report.towns:
        summary.name = areas.get(summary.key, summary.key)


def resolve_names(rows: list[OutletRow]) -> list[OutletRow]:
    """Outlet, company and area names of these rows (one query each)."""
    from zhili.areas.models import Area

    outlets = {o["pk"]: o for o in Outlet.objects.filter(
        pk__in=[r.outlet_id for r in rows]).values("pk", "code", "org__name",
                                                   "company__org__name")}
    areas = dict(Area.objects.filter(code__in={r.area_code for r in rows})
                 .values_list("code", "name"))
    for row in rows:
        found = outlets.get(row.outlet_id, {})
        row.name = found.get("org__name", "")
        row.code = found.get("code", "")
        row.company_name = found.get("company__org__name", "")
        row.area_name = areas.get(row.area_code, "")
    return rows


def outlet_figures(outlet: Outlet, start: dt.date, end: dt.date) -> Figures:
    """One outlet's sums over a period (what a rectification order records)."""
    values = OutletDay.objects.filter(outlet=outlet, day__gte=start, day__lte=end).aggregate(
        **{f"c_{name}": Sum(name) for name in SUMS})
    return _figures(values, "c_")


# --- the Excel export ---------------------------------------------------------------------------

def export_rows(report: Report) -> tuple[list[str], list[list]]:
    """Headers and rows of the outlet table (every outlet, names resolved)."""
    resolve_names(report.rows)
    headers = [_("Outlet"), _("Outlet code"), _("Company"), _("Area"), _("Parcels"),
               _("Real-name rate (%)"), _("Inspection rate (%)"), _("X-ray rate (%)"),
               _("Flagged parcels"), _("Inspection photos"), _("X-ray scans"),
               _("Three 100 % attained"), _("Anomalies")]
    rows = []
    for r in report.rows:
        f = r.figures
        attained = "" if f.attained is None else (_("yes") if f.attained else _("no"))
        rows.append([r.name, r.code, r.company_name, r.area_name, f.parcels,
                     f.real_name_rate, f.inspected_rate, f.xrayed_rate, f.flagged,
                     f.inspection_photos, f.scans, attained,
                     "；".join(label for _code, label in r.anomaly_labels())])
    return headers, rows
