import calendar
import datetime as dt
from functools import cached_property

from django.contrib import messages
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from zhili.core.api import RouteScope
from zhili.core.scoping import can
from zhili.core.views import ActionView, ListPageView, ServiceFormView
from zhili.workdays import clock, seeding, services
from zhili.workdays.forms import DayChangeForm, DayForm, kind_of
from zhili.workdays.models import CalendarDay, default_is_workday

# ?year= outside these shows this year instead (a typo such as 20255 builds no page).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# Column heads of the month grids: one or two characters (一 二 … 日), Django's abbreviations
# (星期一) do not fit seven to a small card.
WEEKDAY_HEADS = [pgettext_lazy("weekday column", "Mo"), pgettext_lazy("weekday column", "Tu"),
                 pgettext_lazy("weekday column", "We"), pgettext_lazy("weekday column", "Th"),
                 pgettext_lazy("weekday column", "Fr"), pgettext_lazy("weekday column", "Sa"),
                 pgettext_lazy("weekday column", "Su")]


def calendar_url(year: int) -> str:
    return f"{reverse('workdays:calendar')}?year={year}"


def _parse_date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def _month(year: int, month: int, exceptions: dict, today: dt.date) -> dict:
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            if day.month != month:
                cells.append(None)  # leading/trailing days of the neighbouring months
                continue
            row = exceptions.get(day)
            workday = row.is_workday if row else default_is_workday(day)
            if row is not None:
                kind = "makeup" if row.is_workday else "holiday"
            else:
                kind = "" if workday else "rest"
            cells.append({"date": day, "kind": kind, "row": row, "today": day == today})
        weeks.append(cells)
    return {"number": month, "name": MONTHS[month], "weeks": weeks}


class CalendarView(ListPageView):
    """A year at a glance: months with holidays and make-up workdays marked, and the list of
    exceptions the clock uses."""

    route_scope = RouteScope(CalendarDay, "view")
    template_name = "workdays/calendar.html"
    title = gettext_lazy("Working-day calendar")
    paginate_by = 400  # one year always fits on one page

    @cached_property
    def year(self) -> int:
        raw = self.request.GET.get("year", "")
        year = int(raw) if raw.isdigit() else 0
        return year if FIRST_YEAR <= year <= LAST_YEAR else timezone.localdate().year

    def filter_queryset(self, queryset):
        return queryset.in_year(self.year).order_by("date")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(context["rows"])
        exceptions = {row.date: row for row in rows}
        today = timezone.localdate()
        year = self.year
        package_years = seeding.package_years()
        context.update(
            year=year,
            previous_year=year - 1 if year > FIRST_YEAR else None,
            next_year=year + 1 if year < LAST_YEAR else None,
            months=[_month(year, month, exceptions, today) for month in range(1, 13)],
            weekdays=WEEKDAY_HEADS,
            rows=rows,
            holidays=sum(1 for row in rows if not row.is_workday),
            makeup_days=sum(1 for row in rows if row.is_workday),
            not_covered=not rows and year not in package_years,
            package_span=(package_years[0], package_years[-1]) if package_years else None,
            periods=[(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in clock.work_periods()],
            can_change=can(self.request.user, CalendarDay, "change"),
        )
        if context["can_change"]:
            default = dt.date(year, 1, 1) if year != today.year else today
            context["form"] = DayForm(initial={"date": default,
                                               "is_workday": kind_of(not default_is_workday(
                                                   default))})
        return context


def _report(request, date: dt.date, row) -> None:
    label = date_format(date, "DATE_FORMAT")
    if row is None:
        messages.info(request, _("%(date)s follows the usual rule (Monday to Friday work, "
                                 "weekends rest): no exception is kept for it.")
                      % {"date": label})
    elif row.is_workday:
        messages.success(request, _("%(date)s is a make-up workday (%(name)s).")
                         % {"date": label, "name": row.name})
    else:
        messages.success(request, _("%(date)s is a holiday (%(name)s).")
                         % {"date": label, "name": row.name})


class DaySetView(ServiceFormView):
    """Add an exception (or change the one already recorded for that date)."""

    route_scope = RouteScope(CalendarDay, "change")
    template_name = "workdays/form.html"
    form_class = DayForm
    title = gettext_lazy("Add a holiday or make-up workday")
    saved_year: int | None = None

    def get_initial(self):
        date = _parse_date(self.request.GET.get("date"))
        if date is None:
            return {}
        # Offer the only kind of exception the day can be: weekdays become holidays.
        return {"date": date, "is_workday": kind_of(not default_is_workday(date))}

    def get_breadcrumbs(self):
        return [(_("Working-day calendar"), reverse("workdays:calendar")), (self.title, None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["explanation"] = _(
            "Record only what differs from the usual week: statutory holidays that fall on "
            "Monday to Friday, and make-up workdays (调休) that fall on a Saturday or Sunday.")
        return context

    def perform(self, form):
        data = form.cleaned_data
        row = services.set_day(actor=self.request.user, date=data["date"],
                               is_workday=data["is_workday"], name=data["name"])
        _report(self.request, data["date"], row)
        self.saved_year = data["date"].year
        return row

    def get_success_url(self):
        return calendar_url(self.saved_year or timezone.localdate().year)


class DayEditView(ServiceFormView):
    route_scope = RouteScope(CalendarDay, "change", lookup="pk")
    template_name = "workdays/form.html"
    form_class = DayChangeForm

    def get_initial(self):
        return {"is_workday": kind_of(self.object.is_workday), "name": self.object.name}

    def get_breadcrumbs(self):
        return [(_("Working-day calendar"), self.object.get_absolute_url()),
                (date_format(self.object.date, "DATE_FORMAT"), None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Change %(date)s") % {
            "date": date_format(self.object.date, "DATE_FORMAT")}
        return context

    def perform(self, form):
        data = form.cleaned_data
        row = services.set_day(actor=self.request.user, date=self.object.date,
                               is_workday=data["is_workday"], name=data["name"])
        _report(self.request, self.object.date, row)
        return row

    def get_success_url(self):
        return self.object.get_absolute_url()


class DayDeleteView(ActionView):
    """Remove an exception: the day follows the usual week again."""

    route_scope = RouteScope(CalendarDay, "change", lookup="pk")
    success_message = gettext_lazy("The exception was removed.")

    def act(self, request):
        services.delete_day(actor=request.user, day=self.object)
