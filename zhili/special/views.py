"""Pages of the special-population records: list, intake, detail with its actions, the visit
page for phones. Handovers, coverage and categories are in `views_more.py`.

Persons are shown masked (name, ID number, phone); unmasking goes through the platform's
unmasking flow with `special.unmask_supervision`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core import codes, pii
from zhili.core.api import RouteScope
from zhili.core.scoping import can, get_scope
from zhili.core.services import ServiceError
from zhili.core.views import ActionView, ListPageView, PageView, ServiceFormView, ZhiliView
from zhili.people.models import Person
from zhili.special import handovers, services
from zhili.special.choices import ACTION_LABELS, HelperRole, SupervisionState
from zhili.special.fields import display_rows
from zhili.special.filters import filter_records
from zhili.special.forms import (
    DetailsForm,
    FindPersonForm,
    HelperForm,
    IntakeForm,
    LevelForm,
    LostContactForm,
    ReleaseForm,
    RiskForm,
    VisitForm,
)
from zhili.special.models import SpecialCategory, Supervision, Visit, VisitPhoto

LIST = (_("Persons under management"), "special:list")
# GB/T 2261.1
SEXES = {"0": _("Unknown"), "1": _("Male"), "2": _("Female"), "9": _("Not stated")}
VISIT_SCOPE = RouteScope(Supervision, "view", lookup="pk", requires=((Visit, "add"),))


def crumbs(*extra):
    return [(LIST[0], reverse(LIST[1])), *extra]


def person_card(person: Person) -> dict:
    """What a page shows of a person by default: masked."""
    today = timezone.localdate()
    born = person.birth_date
    return {"name": pii.mask_name(person.name), "id_number": pii.mask_id_number(person.id_number),
            "phone": pii.mask_phone(person.phone), "sex": SEXES.get(person.sex, person.sex),
            "age": today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            if born else None}


class SupervisionListView(ListPageView):
    route_scope = RouteScope(Supervision, "view")
    template_name = "special/list.html"
    title = _("Persons under management")

    def filter_queryset(self, queryset):
        queryset, self.filter_form = filter_records(queryset, self.request.GET)
        # Overdue first, then by the next visit due; the page's rows fetch their relations.
        return queryset.order_by("-overdue", "deadline_at", "id").prefetch_related(
            "person", "category", "area__parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(filter_form=self.filter_form, now=timezone.now(),
                       can_add=can(user, Supervision, "add"))
        return context


class IntakeView(ServiceFormView):
    """列管 in two steps: find the person by ID number (blind index) and choose the category,
    then fill in the category's fields."""

    route_scope = RouteScope(Supervision, "add")
    template_name = "special/intake.html"
    title = _("Put under management")

    def get_breadcrumbs(self):
        return crumbs((self.title, None))

    def _category(self):
        raw = self.request.POST.get("category", "")
        return SpecialCategory.objects.active().filter(pk=raw if raw.isdigit() else 0).first()

    def get_form_class(self):
        if self.request.method == "POST" and "level" in self.request.POST and self._category():
            return IntakeForm
        return FindPersonForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.get_form_class() is IntakeForm:
            kwargs["category"] = self._category()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if isinstance(form, IntakeForm):
            context["category"] = self._category()
            try:
                person = services.find_person(actor=self.request.user,
                                              id_number=self.request.POST.get("id_number", ""))
            except ServiceError:
                person = None
            context["person"] = person_card(person) if person else None
            context["person_area"] = person.area if person else None
        return context

    def form_valid(self, form):
        if isinstance(form, FindPersonForm):
            try:
                person = services.find_person(actor=self.request.user,
                                              id_number=form.cleaned_data["id_number"])
            except ServiceError as exc:
                exc.apply_to_form(form)
                return self.form_invalid(form)
            category = form.cleaned_data["category"]
            details = IntakeForm(category=category, initial={
                "category": category.pk, "id_number": form.cleaned_data["id_number"]})
            return render(self.request, self.template_name, self.get_context_data(
                form=details, category=category, person=person_card(person),
                person_area=person.area))
        return super().form_valid(form)

    def perform(self, form):
        try:
            person = services.find_person(actor=self.request.user,
                                          id_number=form.cleaned_data["id_number"])
            record = services.put_under_management(
                actor=self.request.user, person=person, category=self._category(),
                level=form.cleaned_data["level"], risk_level=form.cleaned_data["risk_level"],
                details=form.details_data(), started_on=form.cleaned_data["started_on"],
                note=form.cleaned_data["note"])
        except ServiceError as exc:
            # The person and category were chosen in step 1 (hidden here): show those
            # refusals ("already under management") above the form.
            for hidden in ("category", "person", "id_number"):
                if hidden in exc.field_messages:
                    exc.field_messages.setdefault("__all__", []).extend(
                        exc.field_messages.pop(hidden))
            raise
        messages.success(self.request, _("Put under management; the first visit is due by "
                                         "%(date)s.")
                         % {"date": timezone.localtime(record.deadline_at).strftime("%Y-%m-%d")})
        return record


class SupervisionDetailView(PageView):
    route_scope = RouteScope(Supervision, "view", lookup="pk")
    template_name = "special/detail.html"

    def get_breadcrumbs(self):
        return crumbs((str(self.object), None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        s, user = self.object, self.request.user
        scope = get_scope(user)
        responsible = scope.covers_code(s.area_code)
        open_ = s.is_open
        helpers = list(s.helpers.filter(is_active=True))
        present = {h.role for h in helpers}
        missing = [HelperRole(r).label for r in s.category.team_roles or []
                   if r in HelperRole.values and r not in present]
        visits = list(s.visits.select_related().prefetch_related("photos")[:50])
        may = {
            "change": open_ and responsible and can(user, Supervision, "change"),
            "release": s.state == SupervisionState.ACTIVE and responsible and
            can(user, Supervision, "release"),
            "handover": s.state == SupervisionState.ACTIVE and responsible and
            can(user, Supervision, "handover"),
            "visit": open_ and responsible and can(user, Visit, "add"),
        }
        context.update(
            title=f"{person_card(s.person)['name']} · {s.category.name}",
            person=person_card(s.person), responsible=responsible, may=may,
            details=display_rows(s.category.field_defs(), s.details or {}),
            helpers=helpers, missing_roles=missing,
            visits=visits, risk_changes=s.risk_changes.all(),
            handovers=[(h, handovers.available_actions(h, user))
                       for h in s.handovers.select_related("from_area", "to_area",
                                                           "arbiter_area")],
            timeline=[(t, ACTION_LABELS.get(t.action, t.action))
                      for t in s.transitions.order_by("-created_at", "-id")[:200]],
            risk_form=RiskForm(supervision=s), level_form=LevelForm(initial={
                "level": s.level, "version": s.version}),
            helper_form=HelperForm(), lost_form=LostContactForm(initial={"version": s.version}),
            can_unmask=can(user, Supervision, "unmask"), now=timezone.now())
        return context


class _RecordAction(ActionView):
    """A small form posted from the detail page; errors come back as a message there."""

    form_class = None

    def form(self, request):
        kwargs = {"supervision": self.object} if self.form_class in (RiskForm,) else {}
        form = self.form_class(request.POST, **kwargs)
        if not form.is_valid():
            problems = [f"{form.fields[k].label if k in form.fields else ''}: {m}"
                        for k, msgs in form.errors.items() for m in msgs]
            raise ServiceError("invalid", " ".join(problems))
        return form.cleaned_data


class RiskView(_RecordAction):
    route_scope = RouteScope(Supervision, "change", lookup="pk")
    form_class = RiskForm
    success_message = _("The risk level was changed.")

    def act(self, request):
        data = self.form(request)
        services.change_risk(actor=request.user, supervision=self.object,
                             risk_level=data["risk_level"], reason=data["reason"],
                             version=data.get("version"))


class LevelView(_RecordAction):
    route_scope = RouteScope(Supervision, "change", lookup="pk")
    form_class = LevelForm
    success_message = _("The management level was changed.")

    def act(self, request):
        data = self.form(request)
        services.change_level(actor=request.user, supervision=self.object,
                              level=data["level"], reason=data["reason"],
                              version=data.get("version"))


class HelperAddView(_RecordAction):
    route_scope = RouteScope(Supervision, "change", lookup="pk")
    form_class = HelperForm
    success_message = _("The helper-team member was added.")

    def act(self, request):
        data = self.form(request)
        services.add_helper(actor=request.user, supervision=self.object,
                            helper=services.Helper(**data))


class HelperRemoveView(ActionView):
    route_scope = RouteScope(Supervision, "change", lookup="pk", params=(("helper", "1"),))
    success_message = _("The member left the helper team.")

    def act(self, request):
        services.remove_helper(actor=request.user, supervision=self.object,
                               helper_id=self.kwargs["helper"],
                               reason=request.POST.get("reason", ""))


class LostContactView(_RecordAction):
    route_scope = VISIT_SCOPE
    form_class = LostContactForm
    success_message = _("Marked as lost contact; the governance centre has been alerted.")

    def act(self, request):
        data = self.form(request)
        services.mark_lost_contact(actor=request.user, supervision=self.object,
                                   note=data["note"], version=data.get("version"))


class _RecordFormView(ServiceFormView):
    """A form page about one record (details, release, handover, visit)."""

    template_name = "includes/simple_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "initial": {"version": self.object.version}}

    def get_breadcrumbs(self):
        return crumbs((str(self.object), self.object.get_absolute_url()), (self.title, None))

    def get_success_url_for(self, result):
        return self.object.get_absolute_url()


class DetailsEditView(_RecordFormView):
    route_scope = RouteScope(Supervision, "change", lookup="pk")
    form_class = DetailsForm
    title = _("Edit the category fields")
    success_message = _("The details were saved.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("initial")
        return {**kwargs, "supervision": self.object}

    def perform(self, form):
        return services.update_details(actor=self.request.user, supervision=self.object,
                                       details=form.details_data(),
                                       note=form.cleaned_data["note"],
                                       version=form.cleaned_data.get("version"))


class ReleaseView(_RecordFormView):
    route_scope = RouteScope(Supervision, "release", lookup="pk")
    form_class = ReleaseForm
    title = _("Release from management")
    success_message = _("Released from management.")

    def perform(self, form):
        data = form.cleaned_data
        return services.release(actor=self.request.user, supervision=self.object,
                                reason=data["reason"], note=data["note"],
                                released_on=data["released_on"], version=data.get("version"))


class VisitView(_RecordFormView):
    """The visit form, phone-sized: also what a grid worker opens from "My visits"."""

    route_scope = VISIT_SCOPE
    form_class = VisitForm
    template_name = "special/visit.html"
    title = _("Record a visit")
    success_message = _("The visit was recorded.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("initial")
        return {**kwargs, "supervision": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(person=person_card(self.object.person), now=timezone.now(),
                       last_visits=self.object.visits.all()[:3],
                       position=self.request.user.active_position,
                       back="mobile" if "mobile" in (self.request.GET.get("back"),
                                                     self.request.POST.get("back")) else "")
        return context

    def perform(self, form):
        data = form.cleaned_data
        visit = services.record_visit(
            actor=self.request.user, supervision=self.object, method=data["method"],
            findings=data["findings"], visited_at=data.get("visited_at"), place=data["place"],
            lat=data.get("lat"), lng=data.get("lng"), contact_made=data["contact_made"],
            risk_proposed=data["risk_proposed"], client_uuid=data.get("client_uuid"),
            photos=[services.Photo(f.read(), f.name)
                    for f in self.request.FILES.getlist("photos")],
            version=data.get("version"))
        if visit.next_due_at:
            messages.info(self.request, _("Next visit due by %(date)s.") % {
                "date": timezone.localtime(visit.next_due_at).strftime("%Y-%m-%d")})
        return visit

    def get_success_url_for(self, result):
        if self.request.POST.get("back") == "mobile":
            return reverse("special:mobile")
        return self.object.get_absolute_url()


class MobileView(PageView):
    """The grid worker's list on the phone: overdue visits first, then the ones due soon."""

    route_scope = RouteScope(Supervision, "view", requires=((Visit, "add"),))
    template_name = "special/mobile.html"
    title = _("My visits")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        scope = get_scope(user)
        records = Supervision.objects.restrict(user).open().select_related(
            "person", "category", "area__parent").order_by("-overdue", "deadline_at", "id")
        if not scope.unrestricted and scope.prefix is not None:
            # Only where the user's area is responsible (not incoming handovers).
            records = records.filter(codes.range_q("area_code", scope.prefix))
        rows = list(records[:100])
        context.update(rows=rows, now=timezone.now(),
                       position=user.active_position)
        return context


class PhotoView(ZhiliView):
    """Visit photos are served only to whoever may see the record (never as public media)."""

    route_scope = RouteScope(VisitPhoto, "view", lookup="pk")

    def get(self, request, pk):
        try:
            handle = self.object.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=self.object.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response
