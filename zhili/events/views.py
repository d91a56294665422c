from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.core.api import RouteScope
from zhili.core.jobs import start_job
from zhili.core.pii import mask_name, mask_phone
from zhili.core.scoping import can, get_scope
from zhili.core.services import ServiceError
from zhili.core.views import (
    ActionView,
    ListPageView,
    PageView,
    ServiceFormView,
    ZhiliView,
    id_url,
)
from zhili.events import actions, config_services, services, stats
from zhili.events.choices import EventState, Step, Urgency
from zhili.events.duplicates import find_duplicates
from zhili.events.filters import BOXES, EventFilter
from zhili.events.forms import CategoryForm, ImportForm, ReportForm, RoutingRuleForm, SLARuleForm
from zhili.events.models import Event, EventCategory, EventPhoto, RoutingRule, SLARule

INBOX = (_("Event inbox"), "events:inbox")


def _crumbs(*extra):
    return [(INBOX[0], reverse(INBOX[1])), *extra]


class InboxPaginator(Paginator):
    """Counts up to `cap` rows. An exact COUNT(*) reads every row in reach (most of a second
    for a city-wide search at a million events); past a thousand rows the figure only says
    "narrow the filters", and the pages beyond are not offered."""

    cap = 1000
    capped = False  # set by `count`: the list has more rows than `cap`

    def __init__(self, object_list, per_page, *, cap: int | None = None):
        super().__init__(object_list, per_page)
        if cap is not None:
            self.cap = cap

    @cached_property
    def count(self) -> int:
        # Unordered: the rows are only counted, so any plan may stop at the cap.
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    @property
    def count_label(self) -> str:
        count = self.count
        return f"{count}+" if self.capped else str(count)


class InboxView(ListPageView):
    route_scope = RouteScope(Event, "view")
    template_name = "events/inbox.html"
    htmx_template_name = "events/_inbox_rows.html"
    title = _("Event inbox")

    def filter_queryset(self, queryset):
        params = self.request.GET.copy()
        params.setdefault("box", "todo")
        self.filters = EventFilter(params)
        # Prefetched for the page's rows, not joined: a join is made for every row in reach
        # before the sort, and the planner then hashes the whole area table (boundaries and
        # all) for one page of 50.
        # And only the columns the table shows (not the description, the photos' paths…).
        return self.filters.apply(queryset, self.request.user).prefetch_related(
            "category", "area", "lead_org").only(*INBOX_COLUMNS)

    def get_context_data(self, **kwargs):
        # ListPageView's context, but paginated by InboxPaginator (no exact count of large
        # lists); the parent's own paginator would count them.
        context = super(ListPageView, self).get_context_data(**kwargs)
        # A text search cannot use an index (LIKE '%…%'): counting its matches reads rows
        # until the cap, so a search counts only four pages' worth.
        rows = self.get_queryset()
        cap = 4 * self.paginate_by if self.filters.data.get("q") else None
        paginator = InboxPaginator(rows, self.paginate_by, cap=cap)
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(page=page, lines=inbox_lines(page.object_list), paginator=paginator,
                       querystring=query.urlencode())
        context.update(filter_form=self.filters.form, boxes=BOXES,
                       box=self.filters.data.get("box") or "todo",
                       now=timezone.now(),
                       can_export=can(self.request.user, Event, "export"),
                       can_report=can(self.request.user, Event, "add"))
        return context


INBOX_COLUMNS = ("number", "title", "urgency", "state", "category", "area", "lead_org",
                 "reported_at", "deadline_at", "overdue", "warned", "paused_at")


def inbox_lines(events) -> list[dict]:
    """The inbox table's cells, prepared here rather than by template tags and filters (a
    link, two dates, two choice labels and three related names a row): on a page of 50 they
    cost more than the page's queries. Values are escaped by the template; the badges by
    format_html."""
    link = id_url("events:detail")
    overdue = format_html(' <span class="badge text-bg-danger">{}</span>', _t("Overdue"))
    paused = format_html('<span class="badge text-bg-secondary">{}</span>', _t("Paused"))
    zone = timezone.get_current_timezone()
    # Choice labels looked up in a dict: Model.get_FOO_display() rebuilds one on every call.
    states = {value: str(label) for value, label in EventState.choices}
    urgencies = {value: str(label) for value, label in Urgency.choices}
    lines = []
    for e in events:
        deadline = ""
        if e.deadline_at:
            deadline = format_html("{}{}", e.deadline_at.astimezone(zone).strftime("%m-%d %H:%M"),
                                   overdue if e.overdue else "")
        elif e.paused_at:
            deadline = paused
        urgency = ""
        if e.urgency != "normal":
            urgency = format_html(' <span class="badge text-bg-{}">{}</span>',
                                  "danger" if e.urgency == "critical" else "warning",
                                  urgencies.get(e.urgency, e.urgency))
        lines.append({
            "row_class": "table-danger" if e.overdue else
            "table-warning" if e.warned and e.deadline_at else "",
            "url": link(e.pk), "number": e.number, "title": e.title, "urgency": urgency,
            "category": e.category.name if e.category_id else "",
            "state": states.get(e.state, e.state), "area": e.area.name if e.area_id else "",
            "lead_org": e.lead_org.name if e.lead_org_id else "",
            "reported": e.reported_at.astimezone(zone).strftime("%m-%d %H:%M"),
            "deadline": deadline,
        })
    return lines


class ReportView(ServiceFormView):
    route_scope = RouteScope(Event, "add")
    template_name = "events/report.html"
    form_class = ReportForm
    title = _("Report an event")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_breadcrumbs(self):
        return _crumbs((self.title, None))

    def get_context_data(self, **kwargs):
        from zhili.areas.queries import root_for

        context = super().get_context_data(**kwargs)
        context["map_area"] = root_for(self.request.user)
        return context

    def perform(self, form):
        data = form.cleaned_data
        result = services.report_event(
            actor=self.request.user, channel="web", category=data["category"],
            title=data["title"], description=data["description"], urgency=data["urgency"],
            area=data["area"], lat=data["lat"], lng=data["lng"], address=data["address"],
            reporter_name=data["reporter_name"], reporter_contact=data["reporter_contact"],
            people=form.people_list(), solved_on_spot=data["solved_on_spot"],
            photos=[services.Photo(f.read(), f.name) for f in
                    self.request.FILES.getlist("photos")],
            check_duplicates=True,
        )
        for warning in result.warnings:
            messages.warning(self.request, warning)
        if result.duplicates:
            messages.info(self.request, _("Possible duplicates were found; the dispatcher will "
                                          "check them."))
        messages.success(self.request, _("Reported as %(number)s.")
                         % {"number": result.event.number})
        return result.event


class MobileView(PageView):
    """The grid worker's phone page: report (works offline), my reports, to verify."""

    route_scope = RouteScope(Event, "add")
    template_name = "events/mobile.html"
    title = _("Mobile reporting")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        mine = Event.objects.restrict(user).filter(reporter=user).select_related("category")
        context.update(
            categories=EventCategory.objects.active().filter(parent__isnull=False),
            mine=mine[:20],
            to_verify=Event.objects.restrict(user).filter(
                state=EventState.HANDLED).select_related("category")[:20]
            if can(user, Event, "verify") else [],
            position=user.active_position,
        )
        return context


class EventDetailView(PageView):
    route_scope = RouteScope(Event, "view", lookup="pk")
    template_name = "events/detail.html"

    def get_breadcrumbs(self):
        return _crumbs((self.object.number, None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event, user = self.object, self.request.user
        offered = actions.available(event, user)
        pending = event.extensions.filter(state="pending").first()
        issued = event.supervisions.filter(state="issued").first()
        initial = {"version": event.version, "request": pending.pk if pending else None,
                   "order": issued.pk if issued else None}
        context.update(
            title=f"{event.number} {event.title}",
            actions=[(a, a.form(user=user, event=event, initial=initial)) for a in offered],
            timeline=event.transitions.select_related("org").order_by("created_at", "id"),
            photos=event.photos.all(),
            assignments=event.assignments.filter(is_active=True).select_related("org"),
            extensions=event.extensions.all()[:10],
            supervisions=event.supervisions.select_related("issuer_area", "to_org"),
            people=[(p.name, mask_phone(p.contact or ""), p.note) for p in event.people.all()],
            reporter=(mask_name(event.reporter_name), mask_phone(event.reporter_contact or "")),
            duplicates=find_duplicates(event) if event.is_open and can(user, Event, "dispatch")
            else [],
            merged=event.duplicates.all(),
            suggestions=_suggestions(event) if event.state == EventState.REPORTED and
            can(user, Event, "dispatch") else [],
            now=timezone.now(),
            dispute_link=_dispute_link(event, user),
        )
        return context


def _dispute_link(event, user) -> dict | None:
    """An event of a dispute category can become a dispute case (大调解); once it has, the
    page links to that case instead."""
    category = event.category
    if not (category.code == "dispute" or (category.parent_id and
                                           category.parent.code == "dispute")):
        return None
    scope = get_scope(user)
    case = getattr(event, "dispute", None)  # the reverse one-to-one: None when there is none
    if case is not None:
        if not scope.can("disputes.view_dispute"):
            return None
        return {"url": reverse("disputes:detail", args=[case.pk]), "number": case.number}
    if not scope.can("disputes.add_dispute"):
        return None
    return {"url": f"{reverse('disputes:register')}?event={event.pk}", "number": ""}


def _suggestions(event):
    from zhili.events.suggest import suggest

    return suggest(f"{event.title} {event.description}")


class EventActionView(ZhiliView):
    """POST one action from the detail page; errors come back as messages on the page."""

    route_scope = RouteScope(Event, "view", lookup="pk", params=(("action", "accept"),),
                             example_requires=((Event, "dispatch"),))
    http_method_names = ["post"]

    def post(self, request, pk, action):
        try:
            done, _form, _result = actions.perform(action, actor=request.user,
                                                   event=self.object, data=request.POST,
                                                   files=request.FILES)
        except ServiceError as exc:
            problems = [f"{m}" for msgs in exc.field_messages.values() for m in msgs]
            messages.error(request, " ".join(problems) or exc.message)
        else:
            messages.success(request, _("Done: %(action)s") % {"action": done.label})
        return HttpResponseRedirect(self.object.get_absolute_url())


class PhotoView(ZhiliView):
    """Photos are served only to whoever may see their event (never as public media)."""

    route_scope = RouteScope(EventPhoto, "view", lookup="pk")

    def get(self, request, pk):
        photo = self.object
        try:
            handle = photo.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=photo.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class StatsView(PageView):
    route_scope = RouteScope(Event, "view")
    template_name = "events/stats.html"
    title = _("Event statistics")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        start, end = _period(self.request.GET, today)
        figures = stats.figures(self.request.user, start=start, end=end)
        chart = {
            "months": [r["m"].strftime("%Y-%m") for r in figures["by_month"]],
            "reported": [r["reported"] for r in figures["by_month"]],
            "closed": [r["closed"] for r in figures["by_month"]],
            "on_time": [r["on_time_rate"] for r in figures["by_month"]],
            "categories": [{"name": r["name"], "value": r["reported"]}
                           for r in figures["by_category"][:12]],
            "areas": [r["name"] for r in figures["by_area"]],
            "area_reported": [r["reported"] for r in figures["by_area"]],
            "labels": {"reported": str(_("Reported")),
                       "closed": str(pgettext_lazy("event state", "Closed")),
                       "on_time": str(_("On-time rate"))},
        }
        context.update(figures=figures, start=start, end=end, chart=chart,
                       steps=[(label, figures["steps"].get(key)) for key, label in Step.choices])
        return context


def _period(params, today: dt.date) -> tuple[dt.date, dt.date]:
    """The months asked for (`start`, `end` as YYYY-MM), by default this year so far."""
    def month(raw: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(f"{raw[:7]}-01")
        except ValueError:
            return default

    start = month(params.get("start", ""), today.replace(month=1, day=1))
    end = month(params.get("end", ""), today.replace(day=1))
    return (start, end) if start <= end else (end, start)


class ExportView(ZhiliView):
    route_scope = RouteScope(Event, "export")
    http_method_names = ["post"]

    def post(self, request):
        filters = EventFilter(request.POST)
        job = start_job(actor=request.user, kind="events.export",
                        title=_("Event export %(time)s") % {
                            "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
                        params={"filters": filters.serializable()})
        return redirect("core:job_detail", job.pk)


class ImportView(ServiceFormView):
    route_scope = RouteScope(Event, "add")
    template_name = "events/import.html"
    form_class = ImportForm
    title = _("Hotline import")

    def get_breadcrumbs(self):
        return _crumbs((self.title, None))

    def perform(self, form):
        upload = form.cleaned_data["file"]
        return start_job(actor=self.request.user, kind="events.hotline_import",
                         title=_("Hotline import: %(file)s") % {"file": upload.name},
                         input_name=upload.name, input_data=upload.read())

    def get_success_url_for(self, job):
        return reverse("core:job_detail", args=[job.pk])


# --- configuration ------------------------------------------------------------------------------

class RoutingListView(ListPageView):
    route_scope = RouteScope(RoutingRule, "view")
    template_name = "events/routing_list.html"
    title = _("Routing table")

    def filter_queryset(self, queryset):
        return queryset.select_related("area", "category", "lead_org").prefetch_related(
            "assist_orgs")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = can(self.request.user, RoutingRule, "add")
        return context


class ConfigFormView(ServiceFormView):
    """Create or change one configuration row (a ModelForm) through its save service."""

    template_name = "includes/simple_form.html"
    save = None  # the service: save(actor=, <noun>=instance or None, data=)
    noun = ""
    back = ""  # URL name to return to

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        data = {k: form.cleaned_data[k] for k in form.Meta.fields}
        type(self).save(actor=self.request.user, data=data, **{self.noun: self.object})

    def get_success_url_for(self, result):
        return reverse(self.back)


class RoutingEditView(ConfigFormView):
    route_scope = RouteScope(RoutingRule, "change", lookup="pk")
    form_class = RoutingRuleForm
    title = _("Routing rule")
    success_message = _("The routing rule was saved.")
    save, noun, back = config_services.save_routing_rule, "rule", "events:routing"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class RoutingCreateView(RoutingEditView):
    route_scope = RouteScope(RoutingRule, "add")


class RoutingDeleteView(ActionView):
    route_scope = RouteScope(RoutingRule, "delete", lookup="pk")
    success_message = _("The routing rule was deleted.")

    def act(self, request):
        config_services.delete_routing_rule(actor=request.user, rule=self.object)

    def get_redirect_url(self):
        return reverse("events:routing")


class CategoryListView(ListPageView):
    route_scope = RouteScope(EventCategory, "view")
    template_name = "events/categories.html"
    title = _("Categories and time limits")
    paginate_by = 200

    def filter_queryset(self, queryset):
        return queryset.select_related("parent").order_by("sort", "code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            limits=SLARule.objects.restrict(self.request.user).select_related("category"),
            can_change=can(self.request.user, EventCategory, "change"),
            can_change_limits=can(self.request.user, SLARule, "change"),
        )
        return context


class CategoryEditView(ConfigFormView):
    route_scope = RouteScope(EventCategory, "change", lookup="pk")
    form_class = CategoryForm
    title = _("Event category")
    success_message = _("The category was saved.")
    save, noun, back = config_services.save_category, "category", "events:categories"


class CategoryCreateView(CategoryEditView):
    route_scope = RouteScope(EventCategory, "add")


class LimitEditView(ConfigFormView):
    route_scope = RouteScope(SLARule, "change", lookup="pk")
    form_class = SLARuleForm
    title = _("Time limit")
    success_message = _("The time limit was saved.")
    save, noun, back = config_services.save_sla_rule, "rule", "events:categories"


class LimitCreateView(LimitEditView):
    route_scope = RouteScope(SLARule, "add")


class LimitDeleteView(ActionView):
    route_scope = RouteScope(SLARule, "delete", lookup="pk")
    success_message = _("The time limit was deleted.")

    def act(self, request):
        config_services.delete_sla_rule(actor=request.user, rule=self.object)

    def get_redirect_url(self):
        return reverse("events:categories")


class ManifestView(ZhiliView):
    """The web-app manifest of the mobile page (installable PWA)."""

    route_scope = RouteScope(Event, "add")

    def get(self, request):
        from django.templatetags.static import static

        return JsonResponse({
            "name": "治理 · 网格上报", "short_name": "网格上报", "lang": "zh-CN",
            "start_url": reverse("events:mobile"), "scope": "/events/m/",
            "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b3d6e",
            "icons": [{"src": static("zhili/icon-192.png"), "sizes": "192x192",
                       "type": "image/png"},
                      {"src": static("zhili/icon-512.png"), "sizes": "512x512",
                       "type": "image/png"}],
        }, content_type="application/manifest+json")


class ServiceWorkerView(ZhiliView):
    """Served under /events/m/ so its scope covers the mobile pages only."""

    route_scope = RouteScope(Event, "add")

    def get(self, request):
        from django.contrib.staticfiles import finders

        path = finders.find("zhili/sw.js")
        with open(path, encoding="utf-8") as handle:
            body = handle.read()
        response = HttpResponse(body, content_type="application/javascript")
        response["Service-Worker-Allowed"] = "/events/m/"
        response["Cache-Control"] = "no-cache"
        return response


