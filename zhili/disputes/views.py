"""Pages of dispute cases: the list, intake (also from a grid event), the case page with its
actions, the agreement documents, case files and risk alerts. The registry of bodies is in
`views_registry.py`, the actions themselves in `views_actions.py`.

Parties are shown masked; unmasking goes through the platform's flow with
`disputes.unmask_dispute` (a party takes the permission and scope of its case).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core.api import RouteScope
from zhili.core.documents import DocumentError, attachment
from zhili.core.pii import mask_name
from zhili.core.scoping import access, can, require
from zhili.core.services import Conflict, ServiceError
from zhili.core.views import ListPageView, PageView, ServiceFormView, ZhiliView
from zhili.disputes import codetables, documents, rules, services
from zhili.disputes.choices import (
    AgreementForm,
    AlertState,
    DisputeState,
    Step,
)
from zhili.disputes.filters import DisputeFilterForm, apply_filters, keyset_page
from zhili.disputes.forms import AlertHandleForm, PartyFormSet, RegisterForm
from zhili.disputes.models import CaseFile, Dispute, DisputeAlert, MediationBody
from zhili.disputes.views_actions import ACTIONS, available

LIST = (_("Dispute cases"), "disputes:list")
S = DisputeState
ACTION_LABELS = {
    "register": _("Registered"), "route": _("Routed"), "reject": _("Not accepted"),
    "escalate": _("Escalated"), "decline": _("Declined by the body"),
    "accept": _("Accepted by the body"), "record_session": _("Mediation session"),
    "extend": _("Time limit extended"), "agree": _("Agreement reached"),
    "agree_orally": _("Oral agreement reached"), "fail": _("Mediation failed"),
    "withdraw": _("Withdrawn"), "edit_agreement": _("Agreement corrected"),
    "sign": _("Agreement signed"), "apply_confirmation": _("Judicial confirmation applied for"),
    "ruling": _("Court ruling recorded"), "follow_up": _("Follow-up"),
    "remediate": _("Mediated again"), "close": _("Closed"),
    "supervise": _("Supervision order"), "answer_supervision": _("Supervision answered"),
    "overdue": _("Overdue"), "escalation": _("Escalation"),
}
# Grid-event categories of the 矛盾纠纷 group → the 5.56 type a case made from them starts with.
EVENT_TYPES = {"neighbour-dispute": "02", "family-dispute": "01", "labour-dispute": "07",
               "property-dispute": "0402"}


def crumbs(*extra):
    return [(LIST[0], reverse(LIST[1])), *extra]


def _state_label(value: str) -> str:
    return str(S(value).label) if value in S.values else value


class CaseListView(ListPageView):
    route_scope = RouteScope(Dispute, "view")
    template_name = "disputes/list.html"
    title = _("Dispute cases")

    def filter_queryset(self, queryset):
        self.filter_form = DisputeFilterForm(self.request.GET or None, user=self.request.user)
        queryset = apply_filters(queryset, self.filter_form, self.request.user)
        # The columns of the table only; area and body names come in two small queries for
        # the page's rows, so the main query stays on the dispute indexes (body, registered_at,
        # id) whatever the planner thinks of joining the area table.
        return queryset.only(
            "number", "title", "type_code", "area", "area_code", "body", "state", "channel",
            "deadline_at", "deadline_step", "overdue", "warned", "registered_at", "is_group",
            "may_intensify", "stability_risk", "supervised",
        ).prefetch_related(
            Prefetch("area", Area.objects.only("name", "code", "level")),
            Prefetch("body", MediationBody.objects.select_related("org")
                     .only("id", "org", "org__name")),
        )

    def get_context_data(self, **kwargs):
        # ListPageView's context without its paginator: keyset pages, a capped count.
        context = super(ListPageView, self).get_context_data(**kwargs)
        user = self.request.user
        page = keyset_page(self.get_queryset(), self.request.GET)
        query = self.request.GET.copy()
        for key in ("after", "before"):
            query.pop(key, None)
        context.update(page=page, rows=page.rows, querystring=query.urlencode(),
                       filter_form=self.filter_form, now=timezone.now(),
                       can_register=can(user, Dispute, "add"))
        return context


# --- intake --------------------------------------------------------------------------------------

class RegisterView(ServiceFormView):
    route_scope = RouteScope(Dispute, "add")
    template_name = "disputes/register.html"
    form_class = RegisterForm
    title = _("Register a dispute")

    def get_breadcrumbs(self):
        return crumbs((self.title, None))

    def get(self, request, *args, **kwargs):
        event = self.event
        if event is not None and getattr(event, "dispute", None) is not None:
            messages.info(request, _("This event has already become dispute %(number)s.")
                          % {"number": event.dispute.number})
            return redirect(event.dispute.get_absolute_url())
        return super().get(request, *args, **kwargs)

    @property
    def event(self):
        """The grid event a case is made from (`?event=<id>`), in the user's reach."""
        if not hasattr(self, "_event"):
            from zhili.events.models import Event

            raw = self.request.GET.get("event") or self.request.POST.get("event") or ""
            self._event = None
            if raw:
                self._event = (Event.objects.in_scope(self.request.user)
                               .select_related("category__parent", "area")
                               .filter(pk=int(raw) if raw.isdigit() else 0).first())
                if self._event is None:
                    raise Http404
        return self._event

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user, "event": self.event}
        event = self.event
        if event is not None:
            type_code = EVENT_TYPES.get(event.category.code, "")
            kwargs["initial"] = {
                "title": event.title[:100], "description": event.description or event.title,
                "place": (event.address or event.area.name)[:100], "area": event.area_id,
                "occurred_on": timezone.localtime(event.reported_at).date(),
                "type_group": type_code[:2], "type_item": type_code if len(type_code) == 4
                else ""}
        return kwargs

    def get_parties(self):
        data = self.request.POST if self.request.method == "POST" else None
        return PartyFormSet(data, prefix="parties")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("parties", self.get_parties())
        context.update(
            event=self.event,
            stat_of_type={code: codetables.stat_class_of(code) for code in codetables.TYPES},
        )
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        parties = self.get_parties()
        # Both validated, so every mistake shows at once.
        if not (form.is_valid() & parties.is_valid()):
            return self._invalid(form, parties)
        try:
            result = self.perform(form, parties)
        except ServiceError as exc:
            _apply_intake_errors(exc, form, parties)
            return self._invalid(form, parties)
        for warning in result.warnings:
            messages.warning(request, warning)
        messages.success(request, _("Registered as %(number)s.")
                         % {"number": result.dispute.number})
        return HttpResponseRedirect(result.dispute.get_absolute_url())

    def _invalid(self, form, parties):
        return self.render_to_response(self.get_context_data(form=form, parties=parties),
                                       status=400)

    def perform(self, form, parties):
        d = form.cleaned_data
        values = {name: d[name] for name in (
            "title", "occurred_on", "place", "area", "description", "people_count",
            "involved_units", "may_intensify", "stability_risk", "stat_class", "external_ref")}
        values["amount"] = d["amount"] or None
        party_data = [p.party_data() for p in parties.filled_forms()]
        if self.event is not None:
            return services.register_from_event(
                actor=self.request.user, event=self.event, type_code=d["type_code"],
                parties=party_data, **values)
        return services.register_dispute(actor=self.request.user, channel=d["channel"],
                                         type_code=d["type_code"], parties=party_data,
                                         **values)


def _apply_intake_errors(exc: ServiceError, form, parties) -> None:
    """Put each refusal where it belongs: `parties.<n>.<field>` on the n-th party row."""
    filled = parties.filled_forms()
    aliases = {"type_code": "type_group"}
    for key, messages_ in exc.field_messages.items():
        for message in messages_:
            if key.startswith("parties."):
                _prefix, index, name = (key.split(".", 2) + ["", ""])[:3]
                row = filled[int(index)] if index.isdigit() and int(index) < len(filled) \
                    else None
                if row is not None:
                    row.add_error(name if name in row.fields else None, message)
                    continue
                parties.extra_errors.append(message)
            elif key == "parties":
                parties.extra_errors.append(message)
            else:
                name = aliases.get(key, key)
                form.add_error(name if name in form.fields else None, message)
    if not exc.field_messages:
        form.add_error(None, exc.message)


# --- the case page -------------------------------------------------------------------------------

def detail_context(request, dispute: Dispute, *, bound=None) -> dict:
    """Everything the case page shows; `bound` = (action key, form) re-shows a refused form
    with its errors, its panel open."""
    user = request.user
    offered = available(dispute, user)
    forms_ = []
    for action in offered:
        if bound is not None and bound[0] == action.key:
            forms_.append((action, bound[1]))
        else:
            forms_.append((action, action.form(user=user, dispute=dispute,
                                               initial={"version": dispute.version})))
    agreements = list(dispute.agreements.all())
    current = next((a for a in agreements if a.is_current), None)
    may_route = can(user, Dispute, "route") and dispute.state == S.REGISTERED
    orgs = {p.name for p in dispute.parties.all() if p.kind == "org"}
    signatures = [s.get("name", "") if s.get("role") == "mediator" or s.get("name") in orgs
                  else mask_name(s.get("name", "")) for s in (current.signatures if current
                                                               else [])]
    timeline = [(t, ACTION_LABELS.get(t.action, t.action), _state_label(t.from_state),
                 _state_label(t.to_state))
                for t in dispute.transitions.order_by("created_at", "id")]
    return {
        "object": dispute, "title": f"{dispute.number} {dispute.title}",
        "breadcrumbs": crumbs((dispute.number or dispute.title, None)),
        "actions": forms_, "open_action": bound[0] if bound is not None else "",
        "parties": list(dispute.parties.all()),
        "mediators": list(dispute.mediators.all()),
        "sessions": dispute.sessions.prefetch_related("mediators", "files"),
        "files": dispute.files.select_related("session"),
        "agreement": current, "signatures": signatures,
        "old_agreements": [a for a in agreements if not a.is_current],
        "confirmations": dispute.confirmations.all(),
        "follow_ups": dispute.follow_ups.all(),
        "alerts": dispute.alerts.all(),
        "supervisions": dispute.supervisions.all(),
        "timeline": timeline,
        "candidates": rules.candidates(dispute.type_code, dispute.area) if may_route else [],
        "can_unmask": can(user, Dispute, "unmask"),
        "can_download": can(user, Dispute, "unmask") and current is not None and
        current.form == AgreementForm.WRITTEN,
        "can_handle_alerts": can(user, Dispute, "route"),
        "step_label": Step(dispute.deadline_step).label
        if dispute.deadline_step in Step.values else dispute.deadline_step,
        "type_name": codetables.type_name(dispute.type_code),
        "stat_name": codetables.STAT_CLASSES.get(dispute.stat_class, dispute.stat_class),
        "scale_name": codetables.SCALE.get(dispute.scale, dispute.scale),
        "method_name": codetables.METHODS.get(dispute.method, dispute.method),
        "now": timezone.now(),
    }


def _case(pk):
    return Dispute.objects.select_related(
        "area", "body__org", "proposed_body__org", "lead_mediator", "registered_by",
        "source_event").get(pk=pk)


class DisputeDetailView(PageView):
    route_scope = RouteScope(Dispute, "view", lookup="pk")
    template_name = "disputes/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(detail_context(self.request, _case(self.object.pk)))
        return context


class DisputeActionView(ZhiliView):
    """POST one action from the case page. A refusal re-shows the page with the form's errors
    (400); a lost race (409) shows the case as it now is, with the reason."""

    route_scope = RouteScope(Dispute, "view", lookup="pk", params=(("action", "route"),),
                             example_requires=((Dispute, "route"),))
    http_method_names = ["post"]

    def post(self, request, pk, action):
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404
        dispute = _case(self.object.pk)
        require(request.user, Dispute, spec.permission(dispute))
        if spec not in available(dispute, request.user):
            # A page older than the case (or a hand-made request): say so, show it as it is.
            messages.error(request, _("“%(action)s” cannot be done on this case now (%(state)s).")
                           % {"action": spec.label, "state": dispute.get_state_display()})
            return self._fresh(pk, status=409)
        form = spec.form(request.POST, request.FILES, user=request.user, dispute=dispute)
        if not form.is_valid():
            return self._page(dispute, (spec.key, form), status=400)
        try:
            spec.run(request.user, dispute, form)
        except Conflict as exc:
            messages.error(request, exc.message)
            return self._fresh(pk, status=409)
        except ServiceError as exc:
            for key, messages_ in exc.field_messages.items():
                name = form.aliases.get(key, key)
                for message in messages_:
                    form.add_error(name if name in form.fields else None, message)
            if not exc.field_messages:
                form.add_error(None, exc.message)
            return self._page(_case(pk), (spec.key, form), status=exc.status)
        messages.success(request, _("Done: %(action)s") % {"action": spec.label})
        if not Dispute.objects.in_scope(request.user).filter(pk=pk).exists():
            # E.g. a body that declined a case no longer sees it.
            return redirect("disputes:list")
        return redirect("disputes:detail", pk)

    def _page(self, dispute, bound, *, status):
        return TemplateResponse(self.request, "disputes/detail.html",
                                detail_context(self.request, dispute, bound=bound),
                                status=status)

    def _fresh(self, pk, *, status):
        if not Dispute.objects.in_scope(self.request.user).filter(pk=pk).exists():
            return redirect("disputes:list")
        return self._page(_case(pk), None, status=status)


class AgreementDownloadView(ZhiliView):
    """The agreement as Word or PDF, made on demand. It carries the parties' ID numbers in
    clear, so it needs the unmask permission besides the case; the download is audited by the
    document service."""

    route_scope = RouteScope(Dispute, "view", lookup="pk", requires=((Dispute, "unmask"),),
                             params=(("fmt", "docx"),))

    def get(self, request, pk, fmt):
        if fmt not in documents.CONTENT_TYPES:
            raise Http404
        try:
            content, filename, content_type = documents.download_agreement(
                actor=request.user, dispute=self.object, fmt=fmt)
        except (ServiceError, DocumentError) as exc:
            messages.error(request, getattr(exc, "message", None) or str(exc))
            return redirect("disputes:detail", pk)
        return attachment(content, filename, content_type)


class CaseFileView(ZhiliView):
    """A file of the case archive, only to whoever may see the case. Images are shown in the
    page; anything else is downloaded, never rendered by the browser."""

    route_scope = RouteScope(CaseFile, "view", lookup="pk")

    def get(self, request, pk):
        stored = self.object
        try:
            handle = stored.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        image = stored.content_type in ("image/jpeg", "image/png")
        response = FileResponse(handle, content_type=stored.content_type,
                                as_attachment=not image, filename=stored.filename)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response


# --- risk alerts ---------------------------------------------------------------------------------

def _alerts_of_visible_cases(user):
    """Alerts are scoped by area only (AlertQuerySet); a mediator's reach is its body's cases,
    so an alert is also required to belong to a case the user reaches."""
    return DisputeAlert.objects.filter(dispute__in=Dispute.objects.in_scope(user).values("pk"))


@dataclass(frozen=True)
class AlertScope(RouteScope):
    def enforce(self, user, path_kwargs: dict):
        obj = access(user, DisputeAlert, path_kwargs.get(self.lookup), self.action,
                     queryset=_alerts_of_visible_cases(user))
        for model, action in self.requires:
            require(user, model, action)
        return obj


class AlertListView(ListPageView):
    route_scope = RouteScope(DisputeAlert, "view")
    template_name = "disputes/alerts.html"
    title = _("Risk alerts")

    def filter_queryset(self, queryset):
        queryset = queryset.filter(dispute__in=Dispute.objects.in_scope(
            self.request.user).values("pk"))
        self.state = self.request.GET.get("state") or AlertState.OPEN
        if self.state in AlertState.values:
            queryset = queryset.filter(state=self.state)
        kind = self.request.GET.get("kind")
        if kind:
            queryset = queryset.filter(kind=kind)
        return queryset.select_related("dispute", "handled_by").only(
            "kind", "message", "related", "state", "handled_note", "created_at",
            "handled_by__username", "handled_by__display_name", "dispute__number",
            "dispute__title", "dispute__state")

    def get_context_data(self, **kwargs):
        from zhili.disputes.choices import AlertKind

        context = super().get_context_data(**kwargs)
        context.update(state=self.state, kind=self.request.GET.get("kind", ""),
                       kinds=AlertKind.choices, states=AlertState.choices,
                       can_handle=can(self.request.user, Dispute, "route"))
        return context


class AlertHandleView(ZhiliView):
    route_scope = AlertScope(DisputeAlert, "view", lookup="pk", requires=((Dispute, "route"),))
    http_method_names = ["post"]

    def post(self, request, pk):
        form = AlertHandleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say how the alert was handled."))
        else:
            try:
                services.handle_alert(actor=request.user, alert=self.object,
                                      note=form.cleaned_data["note"])
            except ServiceError as exc:
                messages.error(request, exc.message)
            except PermissionDenied:
                messages.error(request, _("Only the routing centre of the case can do this."))
            else:
                messages.success(request, _("The alert was marked handled."))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("disputes:alerts")
        return HttpResponseRedirect(target)


class StatusOnInvalidMixin:
    """A refused form answers 400, so clients and tests can tell it from a plain page."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

