"""Pages of courier supervision: the compliance report (三个100%), rectification orders (with
the outlet's phone page to answer one), spot checks and penalties.

Views stay thin: the figures come from `zhili.delivery.reports`, every write goes through
`zhili.delivery.orders`, and the notice documents through `zhili.delivery.documents`.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhili.areas.models import Area
from zhili.core import audit, codes
from zhili.core.api import RouteScope
from zhili.core.documents import DocumentError, attachment
from zhili.core.forms import MultipleFileField, MultipleFileInput
from zhili.core.scoping import can, get_scope
from zhili.core.services import Conflict, ServiceError
from zhili.core.views import ListPageView, PageView, ServiceFormView, ZhiliView, id_url
from zhili.delivery import documents, orders, reports
from zhili.delivery.choices import OrderState, SpotCheckResult
from zhili.delivery.models import (
    Evidence,
    Outlet,
    OutletDay,
    Penalty,
    RectificationOrder,
    SpotCheck,
)
from zhili.delivery.templatetags.compliance import rate_html

S = OrderState
# An <input type=date> takes ISO dates only, whatever the language's date format.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OPEN_STATES = (S.ISSUED, S.ANSWERED, S.ESCALATED)
ANSWERABLE = (S.ISSUED, S.ESCALATED)
FILES_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf,.docx"
ACTION_LABELS = {
    "issue": _("Issued"), "answer": _("Answered by the outlet"),
    "close": _("Closed after re-check"), "send_back": _("Sent back after re-check"),
    "escalate": _("Escalated"), "overdue": _("Overdue"), "escalation": _("Reminder"),
}
RATE_NAMES = (("real_name", _("Real-name")), ("inspected", _("Inspection")),
              ("xrayed", _("X-ray")))


def _may_supervise(user) -> bool:
    return can(user, Outlet, "supervise")


def _date_or_none(raw) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


class StatusOnInvalidMixin:
    """A refused form answers 400, so clients and tests can tell it from a plain page."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


def _serve(stored: Evidence):
    """An evidence file, only to whoever may see its order or check. Images are shown in the
    page; anything else is downloaded, never rendered by the browser."""
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    image = stored.content_type.startswith("image/")
    response = FileResponse(handle, content_type=stored.content_type, as_attachment=not image,
                            filename=stored.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _evidence_id(request):
    raw = request.GET.get("id", "")
    return int(raw) if raw.isdigit() else None


# --- the compliance report ----------------------------------------------------------------------

def _root(user, raw: str | None):
    """The area the report covers: the one asked for if the user reaches it, else the user's
    own (the top for a superuser). 404 for an area out of reach."""
    from zhili.areas.queries import root_for

    if not raw:
        return root_for(user)
    try:
        code = codes.normalize(raw)
    except codes.CodeError:
        raise Http404 from None
    area = Area.objects.in_scope(user).filter(code=code).first()
    if area is None:
        raise Http404
    return area


def _company(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def report_for(request, **extra):
    """(report, period, root area, company id) from the request's parameters; a malformed
    period falls back to this month with a message."""
    user = request.user
    today = timezone.localdate()
    try:
        period = reports.parse_period(request.GET, today)
    except ServiceError as exc:
        messages.warning(request, exc.message)
        period = reports.month_period(today)
    root = _root(user, request.GET.get("area"))
    company = _company(request.GET.get("company"))
    report = reports.compliance(user, period=period,
                                area_prefix=root.prefix if root is not None else None,
                                company_id=company, **extra)
    return report, period, root, company


class ComplianceView(PageView):
    route_scope = RouteScope(OutletDay, "view")
    template_name = "delivery/supervision/compliance.html"
    title = _("Courier compliance (三个100%)")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        report, period, root, company = report_for(request)
        only = request.GET.get("only", "")
        rows = report.flagged if only == "flagged" else report.rows
        page = Paginator(rows, reports.PAGE_SIZE).get_page(request.GET.get("page"))
        reports.resolve_names(list(page.object_list))
        can_issue = can(user, RectificationOrder, "add") and _may_supervise(user)
        can_spot_check = can(user, SpotCheck, "add") and _may_supervise(user)
        query = {k: v for k, v in request.GET.items() if k != "page"}
        base = {**period.query(), **({"company": company} if company else {})}
        chart = {
            "days": [f"{r['day']:%m-%d}" for r in report.trend],
            "parcels": [r["parcels"] for r in report.trend],
            "rates": {str(label): [r[f"{key}_rate"] for r in report.trend]
                      for key, label in RATE_NAMES},
            "labels": {"parcels": _t("Parcels"), "rate": _t("Rate (%)")},
        }
        drill = root is not None and len(root.prefix) < 9
        context.update(
            report=report, period=period, root=root, company=company, page=page,
            lines=_lines(page.object_list, period, base, can_issue, can_spot_check),
            only=only, chart=chart,
            counts=[(code, reports.ANOMALIES[code], n)
                    for code, n in report.anomaly_counts().items()],
            period_query=urlencode(period.query()),
            totals=report.totals, querystring=urlencode(query),
            base_query=urlencode(base), area_rows=report.counties
            if root is not None and len(root.prefix) < 6 else report.towns, drill=drill,
            path=_path(user, root), today=timezone.localdate(),
        )
        return context


def _lines(rows, period, base: dict, can_issue: bool, can_spot_check: bool) -> list[dict]:
    """The outlet table's cells, written here rather than in the template: a hundred rows of
    template tags (three URLs, three rates and the findings each) cost a report page more
    than its queries. Every value is escaped by format_html."""
    query = urlencode(base)
    spot_query = urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})
    outlet_url, issue_url = id_url("delivery:outlet_supervision"), id_url("delivery:order_issue")
    spot_url = id_url("delivery:spot_check_start")
    yes, no = _t("yes"), _t("no")
    issue_label, spot_label = _t("Issue order"), _t("Spot check")
    lines = []
    for r in rows:
        f = r.figures
        if f.attained is None:
            attained = mark_safe('<span class="text-muted">—</span>')
        else:
            attained = format_html('<i class="bi bi-{} text-{}" title="{}"></i>',
                                   *(("check-circle-fill", "success", yes) if f.attained
                                     else ("x-circle-fill", "danger", no)))
        actions = []
        if can_issue and r.serious:
            actions.append(format_html(
                '<a class="btn btn-sm btn-outline-danger" href="{}?{}" data-testid="issue-{}">'
                '{}</a>', issue_url(r.outlet_id), query, r.outlet_id, issue_label))
        if can_spot_check and f.parcels:
            actions.append(format_html(
                '<a class="btn btn-sm btn-outline-secondary" href="{}?{}" title="{}">'
                '<i class="bi bi-search"></i></a>', spot_url(r.outlet_id), spot_query,
                spot_label))
        lines.append({
            "id": r.outlet_id, "serious": r.serious, "url": f"{outlet_url(r.outlet_id)}?{query}",
            "name": r.name, "code": r.code, "company": r.company_name, "area": r.area_name,
            "parcels": f"{f.parcels:,}", "flagged": f.flagged, "attained": attained,
            "rates": [rate_html(f.real_name_rate, r.drops.get("real_name")),
                      rate_html(f.inspected_rate, r.drops.get("inspected")),
                      rate_html(f.xrayed_rate, r.drops.get("xrayed"))],
            "findings": format_html_join("", '<span class="badge {} me-1" data-anomaly="{}">'
                                         "{}</span>", (
                ("text-bg-secondary" if code == "silent" else "text-bg-danger", code, label)
                for code, label in r.anomaly_labels())),
            "actions": mark_safe(" ".join(actions)),  # noqa: S308  (pieces from format_html)
        })
    return lines


def _path(user, root):
    if root is None:
        return []
    scope = get_scope(user)
    return [a for a in root.ancestors() if scope.covers_code(a.code)] + [root]


class ComplianceExportView(ZhiliView):
    """The outlet table of the report as an Excel file (every outlet, not just one page)."""

    route_scope = RouteScope(OutletDay, "view")

    def get(self, request):
        from zhili.core.tabular import write_xlsx

        report, period, root, company = report_for(request)
        headers, rows = reports.export_rows(report)
        footer = _t("Data as of %(time)s") % {
            "time": timezone.localtime(report.as_of).strftime("%Y-%m-%d %H:%M")}
        content = write_xlsx(headers, rows, sheet=period.label, footer=footer)
        audit.record(actor=request.user, action="delivery.compliance.export",
                     area_code=root.code if root is not None else None,
                     changes={"period": period.label, "company": company,
                              "outlets": len(rows)})
        name = f"compliance-{period.label.replace(' – ', '_')}.xlsx"
        return attachment(content, name, "application/vnd.openxmlformats-officedocument."
                          "spreadsheetml.sheet")


# --- an outlet's supervision record -------------------------------------------------------------

class OutletSupervisionView(PageView):
    route_scope = RouteScope(Outlet, "view", lookup="pk")
    template_name = "delivery/supervision/outlet.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, outlet = self.request.user, self.object
        today = timezone.localdate()
        try:
            period = reports.parse_period(self.request.GET, today)
        except ServiceError:
            period = reports.month_period(today)
        report = reports.compliance(user, period=period, outlet_id=outlet.pk)
        row = report.rows[0] if report.rows else None
        context.update(
            title=outlet.org.name, outlet=outlet, period=period, row=row,
            company_name=outlet.company.org.name,
            orders=RectificationOrder.objects.restrict(user).filter(outlet=outlet)[:50],
            spot_checks=SpotCheck.objects.restrict(user).filter(outlet=outlet)[:50],
            penalties=Penalty.objects.restrict(user).filter(outlet=outlet)[:50],
            can_see_penalties=can(user, Penalty, "view"),
            can_issue=can(user, RectificationOrder, "add") and _may_supervise(user),
            can_spot_check=can(user, SpotCheck, "add") and _may_supervise(user),
            can_penalise=can(user, Penalty, "add") and _may_supervise(user),
            period_query=urlencode(period.query()),
            breadcrumbs=[(_("Courier compliance (三个100%)"), reverse("delivery:compliance")),
                         (outlet.org.name, None)],
        )
        return context


# --- rectification orders -----------------------------------------------------------------------

class IssueOrderForm(forms.Form):
    period_start = forms.DateField(label=_("Period from"),
                                   widget=DATE_INPUT)
    period_end = forms.DateField(label=_("Period to"),
                                 widget=DATE_INPUT)
    findings = forms.CharField(label=pgettext_lazy("rectification order", "Findings"),
                               max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 4}))
    requirements = forms.CharField(label=pgettext_lazy("rectification order", "Requirements"),
                                   max_length=5000,
                                   widget=forms.Textarea(attrs={"rows": 4}))
    days = forms.IntegerField(label=_("Answer within (working days)"), min_value=1,
                              max_value=orders.MAX_ANSWER_DAYS, initial=orders.ANSWER_DAYS)


# The findings and requirements are printed in the notice: document wording, so Chinese
# whatever the user's language (the regulator edits them before issuing).
RATE_PHRASES = {"real_name": "实名收寄率", "inspected": "开箱验视率", "xrayed": "过机安检率"}


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def default_findings(period, figures: reports.Figures) -> str:
    rates = figures.rates()
    below = [f"{RATE_PHRASES[key]}{rates[key]:g}%" for key in reports.RATES
             if rates[key] is not None and rates[key] < 100]
    span = _cn_date(period.start) if period.start == period.end else \
        f"{_cn_date(period.start)}至{_cn_date(period.end)}"
    text = f"{span}，你单位收寄快件{figures.parcels}件"
    if below:
        text += f"，{'、'.join(below)}，未达到100%的要求"
    if figures.parcels and figures.real_name == 0:
        text += "，全部快件均未实名收寄"
    return text + "。"


DEFAULT_REQUIREMENTS = (
    "一、严格落实收寄实名制度，对每件快件查验寄件人身份并登记身份信息；\n"
    "二、严格落实收寄验视制度，对每件快件当面开箱验视；\n"
    "三、严格落实过机安检制度，对每件快件进行安全检查；\n"
    "四、查明问题原因，对相关收寄人员开展培训，并将整改情况及证明材料报送我单位。")


class IssueOrderView(StatusOnInvalidMixin, ServiceFormView):
    route_scope = RouteScope(Outlet, "view", lookup="pk",
                             requires=((RectificationOrder, "add"), (Outlet, "supervise")))
    template_name = "delivery/supervision/order_form.html"
    form_class = IssueOrderForm
    title = _("Issue a rectification order")

    def period(self):
        today = timezone.localdate()
        try:
            period = reports.parse_period(self.request.GET, today)
        except ServiceError:
            period = reports.month_period(today)
        return reports.Period(period.start, min(period.end, today), period.kind)

    def get_initial(self):
        period = self.period()
        figures = reports.outlet_figures(self.object, period.start, period.end)
        return {"period_start": period.start, "period_end": period.end,
                "findings": default_findings(period, figures),
                "requirements": DEFAULT_REQUIREMENTS, "days": orders.ANSWER_DAYS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = self.period()
        form = context["form"]
        if form.is_bound and form.is_valid():
            period = reports.Period(form.cleaned_data["period_start"],
                                    form.cleaned_data["period_end"])
        context.update(outlet=self.object, figures=reports.outlet_figures(
            self.object, period.start, period.end), preview_period=period,
            rate_names=RATE_NAMES)
        return context

    def get_breadcrumbs(self):
        return [(_("Rectification orders"), reverse("delivery:orders")),
                (self.object.org.name, reverse("delivery:outlet_supervision",
                                               args=[self.object.pk])), (self.title, None)]

    def perform(self, form):
        d = form.cleaned_data
        order = orders.issue_order(actor=self.request.user, outlet=self.object,
                                   period_start=d["period_start"], period_end=d["period_end"],
                                   findings=d["findings"], requirements=d["requirements"],
                                   days=d["days"])
        messages.success(self.request, _t("Issued as %(number)s.") % {"number": order.number})
        return order


class OrderListView(ListPageView):
    route_scope = RouteScope(RectificationOrder, "view")
    template_name = "delivery/supervision/orders.html"
    title = _("Rectification orders")
    paginate_by = 30

    def filter_queryset(self, queryset):
        self.state = self.request.GET.get("state", "")
        if self.state == "open":
            queryset = queryset.filter(state__in=OPEN_STATES)
        elif self.state in S.values:
            queryset = queryset.filter(state=self.state)
        if self.request.GET.get("overdue") == "1":
            queryset = queryset.filter(overdue=True)
        return queryset.select_related("outlet__org").order_by("-issued_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(state=self.state, states=S.choices, now=timezone.now(),
                       overdue=self.request.GET.get("overdue") == "1",
                       can_answer=can(self.request.user, RectificationOrder, "change"))
        return context


class CloseForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Re-check note"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class SendBackForm(CloseForm):
    days = forms.IntegerField(label=_("Answer again within (working days)"), min_value=1,
                              max_value=orders.MAX_ANSWER_DAYS, initial=orders.ANSWER_DAYS)


class EscalateForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))


# key: (label, form, states, style, run)
ORDER_ACTIONS = {
    "close": (_("Close: rectified"), CloseForm, (S.ANSWERED,), "success",
              lambda user, order, d: orders.recheck(actor=user, order=order, passed=True,
                                                    note=d["note"], version=d["version"])),
    "send_back": (_("Send back: not rectified"), SendBackForm, (S.ANSWERED,), "outline-danger",
                  lambda user, order, d: orders.recheck(actor=user, order=order, passed=False,
                                                        note=d["note"], days=d["days"],
                                                        version=d["version"])),
    "escalate": (_("Escalate"), EscalateForm, (S.ISSUED, S.ANSWERED), "outline-warning",
                 lambda user, order, d: orders.escalate(actor=user, order=order,
                                                        reason=d["reason"],
                                                        version=d["version"])),
}


def _order(pk):
    return RectificationOrder.objects.select_related(
        "outlet__org", "outlet__company__org", "issued_by", "answered_by").get(pk=pk)


def order_context(request, order, *, bound=None) -> dict:
    """What the order page shows; `bound` = (action key, form) re-shows a refused form."""
    user = request.user
    actions = []
    if _may_supervise(user):
        for key, (label, form_class, states, style, _run) in ORDER_ACTIONS.items():
            if order.state not in states:
                continue
            form = bound[1] if bound is not None and bound[0] == key else \
                form_class(initial={"version": order.version})
            actions.append({"key": key, "label": label, "form": form, "style": style})
    timeline = [(t, ACTION_LABELS.get(t.action, t.action),
                 S(t.from_state).label if t.from_state in S.values else "",
                 S(t.to_state).label if t.to_state in S.values else "")
                for t in order.transitions.order_by("created_at", "id")]
    figures = order.figures or {}
    return {
        "object": order, "order": order, "title": order.number or str(order),
        "breadcrumbs": [(_("Rectification orders"), reverse("delivery:orders")),
                        (order.number or str(order), None)],
        "actions": actions, "open_action": bound[0] if bound is not None else "",
        "timeline": timeline, "evidence": list(order.evidence.order_by("created_at", "id")),
        "figures": figures, "rate_rows": [
            (label, figures.get(key), figures.get(f"{key}_rate")) for key, label in RATE_NAMES],
        "can_answer": can(user, RectificationOrder, "change") and order.state in ANSWERABLE,
        "now": timezone.now(),
    }


class OrderDetailView(PageView):
    route_scope = RouteScope(RectificationOrder, "view", lookup="pk")
    template_name = "delivery/supervision/order.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(order_context(self.request, _order(self.object.pk)))
        return context


class OrderActionView(ZhiliView):
    """POST one re-check action from the order page. A refusal re-shows the page with the
    form's errors (400); a lost race (409) shows the order as it now is, with the reason."""

    route_scope = RouteScope(RectificationOrder, "view", lookup="pk",
                             requires=((Outlet, "supervise"),), params=(("action", "close"),))
    http_method_names = ["post"]

    def post(self, request, pk, action):
        spec = ORDER_ACTIONS.get(action)
        if spec is None:
            raise Http404
        label, form_class, _states, _style, run = spec
        order = _order(self.object.pk)
        form = form_class(request.POST)
        if not form.is_valid():
            return self._page(order, (action, form), status=400)
        try:
            run(request.user, order, form.cleaned_data)
        except Conflict as exc:
            messages.error(request, exc.message)
            return self._page(_order(pk), None, status=409)
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self._page(_order(pk), (action, form), status=exc.status)
        messages.success(request, _t("Done: %(action)s") % {"action": label})
        return redirect("delivery:order", pk)

    def _page(self, order, bound, *, status):
        return TemplateResponse(self.request, "delivery/supervision/order.html",
                                order_context(self.request, order, bound=bound), status=status)


class AnswerForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    answer = forms.CharField(label=_("What has been put right"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label=_("Photos or documents (JPEG, PNG, PDF, Word)"),
                              required=False,
                              widget=MultipleFileInput(attrs={"accept": FILES_ACCEPT}))


class OrderAnswerView(ZhiliView):
    """The outlet's phone page: the order in short, and the answer with photos."""

    route_scope = RouteScope(RectificationOrder, "change", lookup="pk")
    template_name = "delivery/supervision/order_answer.html"

    def get(self, request, pk):
        order = _order(self.object.pk)
        return self._page(order, AnswerForm(initial={"version": order.version}))

    def post(self, request, pk):
        order = _order(self.object.pk)
        form = AnswerForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(order, form, status=400)
        files = [orders.FileData(f.read(), f.name) for f in request.FILES.getlist("files")]
        try:
            orders.answer_order(actor=request.user, order=order,
                                answer=form.cleaned_data["answer"], files=files,
                                version=form.cleaned_data["version"])
        except Conflict as exc:
            messages.error(request, exc.message)
            order = _order(pk)
            return self._page(order, AnswerForm(initial={"version": order.version}),
                              status=409)
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self._page(order, form, status=exc.status)
        messages.success(request, _t("Your answer was sent to the regulator."))
        return redirect("delivery:order_answer", pk)

    def _page(self, order, form, status=200):
        figures = order.figures or {}
        context = {
            "title": order.number or str(order), "object": order, "order": order, "form": form,
            "answerable": order.state in ANSWERABLE, "now": timezone.now(),
            "rate_rows": [(label, figures.get(f"{key}_rate")) for key, label in RATE_NAMES],
            "evidence": list(order.evidence.order_by("created_at", "id")),
            "breadcrumbs": [(_("Rectification orders"), reverse("delivery:orders")),
                            (order.number or str(order), None)],
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)


class OrderDocumentView(ZhiliView):
    """The 整改通知书 as Word or PDF, made on demand; the download is audited."""

    route_scope = RouteScope(RectificationOrder, "view", lookup="pk", params=(("fmt", "docx"),))

    def get(self, request, pk, fmt):
        if fmt not in documents.CONTENT_TYPES:
            raise Http404
        try:
            content, filename, content_type = documents.download_order(
                actor=request.user, order=self.object, fmt=fmt)
        except (ServiceError, DocumentError) as exc:
            messages.error(request, getattr(exc, "message", None) or str(exc))
            return redirect("delivery:order", pk)
        return attachment(content, filename, content_type)


class OrderFileView(ZhiliView):
    """An evidence file of the order (`?id=`)."""

    route_scope = RouteScope(RectificationOrder, "view", lookup="pk")

    def get(self, request, pk):
        file_id = _evidence_id(request)
        if file_id is None:
            return HttpResponseBadRequest(_t("Say which file (?id=)."))
        stored = Evidence.objects.filter(pk=file_id, order_id=self.object.pk).first()
        if stored is None:
            raise Http404
        return _serve(stored)


# --- spot checks --------------------------------------------------------------------------------

class SpotCheckStartForm(forms.Form):
    period_start = forms.DateField(label=_("Period from"),
                                   widget=DATE_INPUT)
    period_end = forms.DateField(label=_("Period to"),
                                 widget=DATE_INPUT)
    size = forms.IntegerField(label=_("Parcels to sample"), min_value=1,
                              max_value=orders.MAX_SAMPLE, initial=orders.SAMPLE_SIZE)


class SpotCheckStartView(StatusOnInvalidMixin, ServiceFormView):
    route_scope = RouteScope(Outlet, "view", lookup="pk",
                             requires=((SpotCheck, "add"), (Outlet, "supervise")))
    template_name = "delivery/supervision/spot_check_form.html"
    form_class = SpotCheckStartForm
    title = _("Start a spot check")

    def get_initial(self):
        today = timezone.localdate()
        start = _date_or_none(self.request.GET.get("start")) or today.replace(day=1)
        end = _date_or_none(self.request.GET.get("end")) or today
        return {"period_start": start, "period_end": min(end, today),
                "size": orders.SAMPLE_SIZE}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["outlet"] = self.object
        return context

    def get_breadcrumbs(self):
        return [(_("Spot checks"), reverse("delivery:spot_checks")),
                (self.object.org.name, reverse("delivery:outlet_supervision",
                                               args=[self.object.pk])), (self.title, None)]

    def perform(self, form):
        d = form.cleaned_data
        check = orders.start_spot_check(actor=self.request.user, outlet=self.object,
                                        period_start=d["period_start"],
                                        period_end=d["period_end"], size=d["size"])
        messages.success(self.request, _t("%(n)s parcels were sampled.")
                         % {"n": len(check.sampled)})
        return check

    def get_success_url_for(self, result):
        return reverse("delivery:spot_check", args=[result.pk])


def _sampled(check: SpotCheck) -> list[dict]:
    """The sampled parcels as dicts (older rows may hold bare waybill numbers), with the time
    taken in as "YYYY-MM-DD HH:MM" for display."""
    rows = []
    for item in check.sampled:
        row = dict(item) if isinstance(item, dict) else {"waybill": str(item)}
        row["when"] = str(row.get("accepted_at") or "")[:16].replace("T", " ")
        rows.append(row)
    return rows


class FindingsForm(forms.Form):
    """One row of three check boxes (and a note) per sampled waybill."""

    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    files = MultipleFileField(label=_("Evidence photos"), required=False,
                              widget=MultipleFileInput(attrs={"accept": FILES_ACCEPT}))

    def __init__(self, *args, check: SpotCheck, **kwargs):
        super().__init__(*args, **kwargs)
        self.samples = _sampled(check)
        for i, _sample in enumerate(self.samples):
            for key, label in RATE_NAMES:
                self.fields[f"{key}_{i}"] = forms.BooleanField(label=label, required=False)
            self.fields[f"note_{i}"] = forms.CharField(label=_("Note"), required=False,
                                                       max_length=500)

    def rows(self):
        return [(i, sample, [self[f"{key}_{i}"] for key, _label in RATE_NAMES],
                 self[f"note_{i}"]) for i, sample in enumerate(self.samples)]

    def findings(self) -> list[dict]:
        d = self.cleaned_data
        return [{"waybill": sample["waybill"],
                 **{key: d.get(f"{key}_{i}", False) for key, _label in RATE_NAMES},
                 "note": d.get(f"note_{i}", "")} for i, sample in enumerate(self.samples)]


def spot_check_context(request, check: SpotCheck, form=None) -> dict:
    user = request.user
    may_record = _may_supervise(user) and check.checked_at is None
    if may_record and form is None:
        form = FindingsForm(check=check)
    findings = {f.get("waybill"): f for f in check.findings if isinstance(f, dict)}
    return {
        "object": check, "check": check, "title": _t("Spot check of %(outlet)s")
        % {"outlet": check.outlet.org.name}, "form": form if may_record else None,
        "samples": [(s, findings.get(s.get("waybill"))) for s in _sampled(check)],
        "evidence": list(check.evidence.order_by("created_at", "id")),
        "rate_names": RATE_NAMES,
        "breadcrumbs": [(_("Spot checks"), reverse("delivery:spot_checks")),
                        (check.outlet.org.name, None)],
    }


def _check(pk):
    return SpotCheck.objects.select_related("outlet__org", "created_by").get(pk=pk)


class SpotCheckListView(ListPageView):
    route_scope = RouteScope(SpotCheck, "view")
    template_name = "delivery/supervision/spot_checks.html"
    title = _("Spot checks")
    paginate_by = 30

    def filter_queryset(self, queryset):
        self.result = self.request.GET.get("result", "")
        if self.result == "pending":
            queryset = queryset.filter(checked_at__isnull=True)
        elif self.result in SpotCheckResult.values:
            queryset = queryset.filter(result=self.result)
        return queryset.select_related("outlet__org", "created_by").order_by("-created_at",
                                                                             "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(result=self.result, results=SpotCheckResult.choices)
        return context


class SpotCheckDetailView(PageView):
    """The check's sampled waybills; on site, the regulator ticks what was in fact done."""

    route_scope = RouteScope(SpotCheck, "view", lookup="pk")
    template_name = "delivery/supervision/spot_check.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(spot_check_context(self.request, _check(self.object.pk)))
        return context


class SpotCheckRecordView(ZhiliView):
    route_scope = RouteScope(SpotCheck, "view", lookup="pk", requires=((Outlet, "supervise"),))
    http_method_names = ["post"]

    def post(self, request, pk):
        check = _check(self.object.pk)
        form = FindingsForm(request.POST, request.FILES, check=check)
        if check.checked_at is not None:
            messages.error(request, _t("The findings of this check were already recorded."))
            return redirect("delivery:spot_check", pk)
        if not form.is_valid():
            return self._page(check, form, status=400)
        files = [orders.FileData(f.read(), f.name) for f in request.FILES.getlist("files")]
        try:
            check = orders.record_spot_check_findings(
                actor=request.user, check=check, findings=form.findings(),
                note=form.cleaned_data["note"], files=files)
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self._page(_check(pk), form, status=exc.status)
        messages.success(request, _t("Recorded: %(result)s") % {
            "result": check.get_result_display()})
        return redirect("delivery:spot_check", pk)

    def _page(self, check, form, *, status):
        return TemplateResponse(self.request, "delivery/supervision/spot_check.html",
                                spot_check_context(self.request, check, form), status=status)


class SpotCheckFileView(ZhiliView):
    route_scope = RouteScope(SpotCheck, "view", lookup="pk")

    def get(self, request, pk):
        file_id = _evidence_id(request)
        if file_id is None:
            return HttpResponseBadRequest(_t("Say which file (?id=)."))
        stored = Evidence.objects.filter(pk=file_id, spot_check_id=self.object.pk).first()
        if stored is None:
            raise Http404
        return _serve(stored)


# --- penalties ----------------------------------------------------------------------------------

class PenaltyForm(forms.Form):
    decision_no = forms.CharField(label=_("Decision number"), max_length=60)
    decided_on = forms.DateField(label=_("Decided on"),
                                 widget=DATE_INPUT)
    basis = forms.CharField(label=_("Legal basis"), max_length=200)
    amount = forms.DecimalField(label=_("Fine (yuan)"), required=False, min_value=0,
                                max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class PenaltyListView(ListPageView):
    route_scope = RouteScope(Penalty, "view")
    template_name = "delivery/supervision/penalties.html"
    title = _("Penalties")

    def filter_queryset(self, queryset):
        return queryset.select_related("outlet__org").order_by("-decided_on", "-id")


class PenaltyCreateView(StatusOnInvalidMixin, ServiceFormView):
    route_scope = RouteScope(Outlet, "view", lookup="pk",
                             requires=((Penalty, "add"), (Outlet, "supervise")))
    template_name = "delivery/supervision/penalty_form.html"
    form_class = PenaltyForm
    title = _("Record a penalty")

    def get_initial(self):
        return {"decided_on": timezone.localdate()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["outlet"] = self.object
        return context

    def get_breadcrumbs(self):
        return [(_("Penalties"), reverse("delivery:penalties")),
                (self.object.org.name, reverse("delivery:outlet_supervision",
                                               args=[self.object.pk])), (self.title, None)]

    def perform(self, form):
        d = form.cleaned_data
        orders.record_penalty(actor=self.request.user, outlet=self.object,
                              decision_no=d["decision_no"], decided_on=d["decided_on"],
                              basis=d["basis"], amount=d["amount"], note=d["note"])
        messages.success(self.request, _t("The penalty was recorded."))
        return self.object

    def get_success_url_for(self, result):
        return reverse("delivery:outlet_supervision", args=[self.object.pk])
