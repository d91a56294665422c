"""Coverage: per area (the children of the area looked at) × category — people under
management, visits due soon / done / overdue, the visit rate, handovers pending, lost contacts
and the risk distribution. Four grouped queries, whatever the size of the city:

1. open records of the subtree, grouped by (child prefix, category, risk level) — read from the
   partial index `special_sup_open_area` (area code range first);
2. visits of the period, grouped by (child prefix, category) — from `special_visit_period`;
3. and 4. open handovers leaving and entering each child area.

"Visit rate" is the share of people whose visits are on schedule (not overdue) now; "visited"
counts the people visited at least once in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from zhili.areas.models import Area
from zhili.core import codes
from zhili.special.choices import ALL_RISK_LABELS, SupervisionState
from zhili.special.models import Coverage, Handover, SpecialCategory, Visit

DUE_SOON_DAYS = 7


@dataclass
class Cell:
    managed: int = 0
    overdue: int = 0
    due_soon: int = 0
    lost: int = 0
    handing_over: int = 0
    visits: int = 0
    visited: int = 0
    handovers_out: int = 0
    handovers_in: int = 0
    risk: Counter = field(default_factory=Counter)

    @property
    def on_schedule_rate(self) -> float | None:
        if not self.managed:
            return None
        return round(100 * (self.managed - self.overdue) / self.managed, 1)

    @property
    def visited_rate(self) -> float | None:
        if not self.managed:
            return None
        return round(min(100.0, 100 * self.visited / self.managed), 1)

    def add(self, other: Cell) -> None:
        for name in ("managed", "overdue", "due_soon", "lost", "handing_over", "visits",
                     "visited", "handovers_out", "handovers_in"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.risk.update(other.risk)

    def as_dict(self) -> dict:
        return {"managed": self.managed, "overdue": self.overdue, "due_soon": self.due_soon,
                "lost_contact": self.lost, "handing_over": self.handing_over,
                "visits": self.visits, "visited": self.visited,
                "visit_rate": self.on_schedule_rate, "visited_rate": self.visited_rate,
                "handovers_out": self.handovers_out, "handovers_in": self.handovers_in,
                "risk": dict(self.risk)}


@dataclass
class Row:
    area: Area
    cells: dict[int, Cell]
    total: Cell


@dataclass
class Figures:
    root: Area
    start: dt.date
    end: dt.date
    categories: list[SpecialCategory]
    rows: list[Row]
    totals: dict[int, Cell]
    grand: Cell
    as_of: dt.datetime

    def risk_table(self) -> list[tuple[SpecialCategory, list[tuple[str, int]]]]:
        """Per category, [(risk label, people)] in the category's own order."""
        return [(c, [(label, self.totals[c.pk].risk.get(key, 0))
                     for key, label in c.risk_choices()]) for c in self.categories]


def _children(root: Area) -> list[Area]:
    children = list(Area.objects.filter(parent=root).active().order_by("code"))
    return children or [root]


def figures(user, root: Area, *, start: dt.date, end: dt.date, now=None) -> Figures:
    """The coverage of `root`'s children (or of `root` alone, for a grid) for the user.

    `root` must be in the user's reach (the caller checks); `end` is inclusive."""
    now = now or timezone.now()
    children = _children(root)
    digits = codes.LEVEL_BY_RANK[children[0].level].digits
    by_prefix = {codes.prefix_of(a.code, a.level): a for a in children}
    cells: dict[tuple[str, int], Cell] = {}

    def cell(prefix: str, category_id: int) -> Cell:
        return cells.setdefault((prefix, category_id), Cell())

    subtree = codes.range_q("area_code", root.prefix)
    records = (Coverage.objects.restrict(user, "view").filter(subtree)
               .exclude(state=SupervisionState.RELEASED)
               .annotate(p=Substr("area_code", 1, digits))
               .values("p", "category_id", "risk_level")
               .annotate(n=Count("id"),
                         n_overdue=Count("id", filter=Q(overdue=True)),
                         n_due_soon=Count("id", filter=Q(
                             overdue=False, deadline_at__lte=now + dt.timedelta(
                                 days=DUE_SOON_DAYS))),
                         n_lost=Count("id", filter=Q(lost_contact=True)),
                         n_moving=Count("id", filter=Q(state=SupervisionState.HANDING_OVER)))
               .order_by())
    for r in records:
        c = cell(r["p"], r["category_id"])
        c.managed += r["n"]
        c.overdue += r["n_overdue"]
        c.due_soon += r["n_due_soon"]
        c.lost += r["n_lost"]
        c.handing_over += r["n_moving"]
        c.risk[r["risk_level"]] += r["n"]
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    # Aggregates only: the route's own permission (view_coverage) was checked, so the visits
    # are read by reach, not by `special.view_visit`.
    visits = (Visit.objects.in_scope(user).filter(visited_at__gte=since, visited_at__lt=until)
              .filter(subtree).annotate(p=Substr("area_code", 1, digits))
              .values("p", "category_id")
              .annotate(n=Count("id"), people=Count("supervision_id", distinct=True))
              .order_by())
    for r in visits:
        c = cell(r["p"], r["category_id"])
        c.visits += r["n"]
        c.visited += r["people"]
    open_handovers = Handover.objects.in_scope(user).open()
    for side, column in (("handovers_out", "from_area_code"), ("handovers_in", "to_area_code")):
        grouped = (open_handovers.filter(codes.range_q(column, root.prefix))
                   .annotate(p=Substr(column, 1, digits))
                   .values("p", "supervision__category_id").annotate(n=Count("id")).order_by())
        for r in grouped:
            c = cell(r["p"], r["supervision__category_id"])
            setattr(c, side, getattr(c, side) + r["n"])
    categories = list(SpecialCategory.objects.all().order_by("sort", "code"))
    shown = [c for c in categories if c.is_active or any(k[1] == c.pk for k in cells)]
    rows, totals, grand = [], {c.pk: Cell() for c in shown}, Cell()
    for prefix, area in by_prefix.items():
        row = Row(area=area, cells={c.pk: cells.get((prefix, c.pk), Cell()) for c in shown},
                  total=Cell())
        for category_id, c in row.cells.items():
            row.total.add(c)
            totals[category_id].add(c)
        grand.add(row.total)
        rows.append(row)
    return Figures(root=root, start=start, end=end, categories=shown, rows=rows,
                   totals=totals, grand=grand, as_of=now)


def root(user, raw_code: str | None) -> Area | None:
    """The area whose children the page shows: the one asked for if in reach, else the
    user's own area (the top for a superuser)."""
    from django.http import Http404

    from zhili.areas.queries import root_for

    if raw_code:
        try:
            code = codes.normalize(raw_code)
        except codes.CodeError:
            code = None
        area = Area.objects.in_scope(user).filter(code=code).first() if code else None
        if area is None:
            raise Http404
        return area
    return root_for(user)


def risk_label(key: str) -> str:
    return str(ALL_RISK_LABELS.get(key, key))
