"""Handover pages (衔接), propose form, the coverage page and the category configuration."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core import codes
from zhili.core.api import RouteScope
from zhili.core.scoping import can, get_scope
from zhili.core.services import ServiceError
from zhili.core.views import ListPageView, PageView, ServiceFormView, ZhiliView
from zhili.special import config_services, coverage, handovers
from zhili.special.choices import ACTION_LABELS, HandoverState
from zhili.special.forms import CategoryForm, HandoverForm, NoteForm
from zhili.special.models import Coverage, Handover, SpecialCategory, Supervision
from zhili.special.views import _RecordFormView, person_card

HANDOVERS = (_("Handovers"), "special:handovers")
BOXES = [("incoming", _("To answer")), ("outgoing", _("Sent")),
         ("arbitrate", _("Disputes to decide")), ("closed", _("Settled"))]
HANDOVER_LABELS = {**ACTION_LABELS, "overdue": _("Answer overdue")}


class HandoverProposeView(_RecordFormView):
    route_scope = RouteScope(Supervision, "handover", lookup="pk")
    form_class = HandoverForm
    title = _("Hand over to another area")
    success_message = _("The handover was proposed; the receiving area has been told.")
    template_name = "special/handover_propose.html"

    def perform(self, form):
        data = form.cleaned_data
        return handovers.propose_handover(actor=self.request.user, supervision=self.object,
                                          to_area=data["to_area"], reason=data["reason"],
                                          version=data.get("version"))

    def get_success_url_for(self, result):
        return result.get_absolute_url()


class HandoverListView(ListPageView):
    route_scope = RouteScope(Handover, "view")
    template_name = "special/handovers.html"
    title = _("Handovers")

    def filter_queryset(self, queryset):
        scope = get_scope(self.request.user)
        self.box = self.request.GET.get("box") or "incoming"
        if self.box == "closed":
            queryset = queryset.exclude(state__in=[HandoverState.PENDING,
                                                   HandoverState.DISPUTED])
        elif scope.unrestricted or scope.prefix is None:
            queryset = queryset.open()
        elif self.box == "outgoing":
            queryset = queryset.open().filter(codes.range_q("from_area_code", scope.prefix))
        elif self.box == "arbitrate":
            queryset = queryset.filter(state=HandoverState.DISPUTED).filter(
                codes.range_q("from_area_code", scope.prefix)).filter(
                codes.range_q("to_area_code", scope.prefix))
        else:
            queryset = queryset.filter(state=HandoverState.PENDING).filter(
                codes.range_q("to_area_code", scope.prefix))
        return queryset.select_related("supervision__person", "supervision__category",
                                       "from_area__parent", "to_area__parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(boxes=BOXES, box=self.box)
        return context


class HandoverDetailView(PageView):
    route_scope = RouteScope(Handover, "view", lookup="pk")
    template_name = "special/handover.html"

    def get_breadcrumbs(self):
        return [(HANDOVERS[0], reverse(HANDOVERS[1])),
                (_("Handover #%(n)s") % {"n": self.object.pk}, None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        h, user = self.object, self.request.user
        record = h.supervision
        context.update(
            title=_("Handover of %(who)s") % {"who": person_card(record.person)["name"]},
            record=record, person=person_card(record.person),
            can_see_record=Supervision.objects.restrict(user).filter(pk=record.pk).exists(),
            actions=handovers.available_actions(h, user),
            form=NoteForm(initial={"version": h.version}),
            timeline=[(t, HANDOVER_LABELS.get(t.action, t.action))
                      for t in h.transitions.order_by("created_at", "id")],
            now=timezone.now())
        return context


class HandoverActView(ZhiliView):
    """POST accept / dispute / assign / send_back / withdraw from the handover page."""

    route_scope = RouteScope(Handover, "view", lookup="pk", params=(("action", "accept"),),
                             requires=((Supervision, "handover"),))
    http_method_names = ["post"]
    DONE = {"accept": _("The handover was accepted; the person is now managed here."),
            "dispute": _("The handover was disputed; the upper level will decide."),
            "assign": _("Decided: the receiving area takes the person over."),
            "send_back": _("Decided: the sending area keeps the person."),
            "withdraw": _("The handover was withdrawn.")}

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404
        form = NoteForm(request.POST)
        form.is_valid()
        note = form.cleaned_data.get("note", "")
        version = form.cleaned_data.get("version")
        h, user = self.object, request.user
        try:
            if action == "accept":
                handovers.accept_handover(actor=user, handover=h, note=note, version=version)
            elif action == "dispute":
                handovers.dispute_handover(actor=user, handover=h, reason=note, version=version)
            elif action in ("assign", "send_back"):
                handovers.arbitrate_handover(actor=user, handover=h, assign=action == "assign",
                                             note=note, version=version)
            else:
                handovers.withdraw_handover(actor=user, handover=h, note=note, version=version)
        except ServiceError as exc:
            problems = [m for msgs in exc.field_messages.values() for m in msgs]
            messages.error(request, " ".join(problems) or exc.message)
        else:
            messages.success(request, self.DONE[action])
        return HttpResponseRedirect(h.get_absolute_url())


def period(params, today: dt.date) -> tuple[dt.date, dt.date]:
    """`start`/`end` (YYYY-MM-DD) from the query, by default this month so far."""
    def day(raw, default):
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            return default

    start = day(params.get("start"), today.replace(day=1))
    end = day(params.get("end"), today)
    return (start, end) if start <= end else (end, start)


class CoverageView(PageView):
    route_scope = RouteScope(Coverage, "view")
    template_name = "special/coverage.html"
    title = _("Special-population coverage")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        root = coverage.root(user, self.request.GET.get("area"))
        start, end = period(self.request.GET, timezone.localdate())
        figures = coverage.figures(user, root, start=start, end=end) if root else None
        parent = None
        if root is not None and root.parent_id and get_scope(user).covers_code(
                root.parent.code):
            parent = root.parent
        context.update(figures=figures, root=root, parent=parent, start=start, end=end,
                       can_list=can(user, Supervision, "view"))
        return context


class CategoryListView(ListPageView):
    route_scope = RouteScope(SpecialCategory, "view")
    template_name = "special/categories.html"
    title = _("Special-population categories")
    paginate_by = 200

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(can_add=can(self.request.user, SpecialCategory, "add"),
                       can_change=can(self.request.user, SpecialCategory, "change"))
        return context


class CategoryEditView(ServiceFormView):
    route_scope = RouteScope(SpecialCategory, "change", lookup="pk")
    form_class = CategoryForm
    template_name = "includes/simple_form.html"
    title = _("Special-population category")
    success_message = _("The category was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "category": self.object}

    def get_breadcrumbs(self):
        return [(_("Special-population categories"), reverse("special:categories")),
                (self.title, None)]

    def perform(self, form):
        return config_services.save_category(actor=self.request.user, category=self.object,
                                             data=form.service_data())

    def get_success_url_for(self, result):
        return reverse("special:categories")


class CategoryCreateView(CategoryEditView):
    route_scope = RouteScope(SpecialCategory, "add")
