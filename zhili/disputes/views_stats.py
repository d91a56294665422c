"""The dispute statistics page and the start of its monthly report (an Excel job)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core.api import RouteScope
from zhili.core.jobs import start_job
from zhili.core.scoping import can, get_scope
from zhili.core.views import PageView, ZhiliView
from zhili.disputes import exports, stats  # exports: also registers the report job here
from zhili.disputes.models import Dispute, DisputeStat

PERIOD_MONTHS = 12  # the default period: the last twelve months, this one included
MAX_MONTHS = 120  # a period longer than this is cut (the trend has one point a month)


def _month(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{(raw or '')[:7]}-01")
    except ValueError:
        return default


def _months_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def period(params, today: dt.date) -> tuple[dt.date, dt.date]:
    """The months asked for (`start`, `end` as YYYY-MM), by default the last twelve."""
    this_month = today.replace(day=1)
    start = _month(params.get("start"), _months_back(this_month, PERIOD_MONTHS - 1))
    end = _month(params.get("end"), this_month)
    start, end = (start, end) if start <= end else (end, start)
    return max(start, _months_back(end, MAX_MONTHS - 1)), end


def _last_complete_month(today: dt.date) -> dt.date:
    """A monthly report is normally made for the month just ended."""
    return _months_back(today.replace(day=1), 1)


def _root(user, raw):
    root = stats.root_area(user, raw)
    if root is None and raw:
        raise Http404
    return root


def _path(user, root: Area) -> list[Area]:
    """The areas from the top of the user's reach down to `root`, for the area picker."""
    if root is None:
        return []
    scope = get_scope(user)
    return [a for a in root.ancestors() if scope.covers_code(a.code)] + [root]


class StatsView(PageView):
    route_scope = RouteScope(model=DisputeStat, action="view")
    template_name = "disputes/stats.html"
    title = _("Dispute statistics")

    def get_breadcrumbs(self):
        return [(_("Dispute cases"), reverse("disputes:list")), (self.title, None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        root = _root(user, self.request.GET.get("area"))
        start, end = period(self.request.GET, timezone.localdate())
        figures = stats.summary(user, months=(start, end),
                                area_prefix=root.prefix if root is not None else None)
        drill = root is not None and len(root.prefix) < 12
        for row in figures["by_area"]:
            row["link"] = drill and row["code"] != root.code
        children = list(Area.objects.filter(parent=root).active().order_by("code")) \
            if drill else []
        chart = {
            "months": [f"{r['month']:%Y-%m}" for r in figures["by_month"]],
            "cases": [r["cases"] for r in figures["by_month"]],
            "concluded": [r["concluded"] for r in figures["by_month"]],
            "success": [r["success_rate"] for r in figures["by_month"]],
            "types": [r["name"] for r in figures["by_type"]],
            "type_cases": [r["cases"] for r in figures["by_type"]],
            "channels": [{"name": r["name"], "value": r["cases"]}
                         for r in figures["by_channel"]],
            "areas": [r["name"] for r in figures["by_area"]],
            "area_success": [r["success_rate"] for r in figures["by_area"]],
            "area_on_time": [r["on_time_rate"] for r in figures["by_area"]],
            "labels": {"cases": str(_("Cases")), "concluded": str(_("Concluded")),
                       "success": str(_("Success rate")),
                       "on_time": str(_("On-time rate"))},
        }
        context.update(
            figures=figures, totals=figures["totals"], start=start, end=end, root=root,
            path=_path(user, root), children=children, chart=chart,
            can_export=can(user, Dispute, "export") and root is not None,
            report_month=min(end, _last_complete_month(timezone.localdate())),
            fine=root is not None and len(root.prefix) > 9,
        )
        return context


class StatsExportView(ZhiliView):
    """Starts the monthly report of an area (POST `month` YYYY-MM, `area` code)."""

    # The report reads the rollup like the page does.
    route_scope = RouteScope(model=Dispute, action="export", requires=((DisputeStat, "view"),))
    http_method_names = ["post"]

    def post(self, request):
        root = _root(request.user, request.POST.get("area"))
        if root is None:  # a user with no area and no tree to start from
            raise Http404
        month = _month(request.POST.get("month"), _last_complete_month(timezone.localdate()))
        job = start_job(actor=request.user, kind=exports.KIND,
                        title=_("Dispute report %(month)s, %(area)s") % {
                            "month": exports.month_label(month), "area": root.name},
                        params={"month": exports.month_label(month),
                                "area": root.code})
        return redirect("core:job_detail", job.pk)
