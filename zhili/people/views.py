"""Registry pages: lists with filters, detail pages (personal data masked), forms, change
history, and the phone-sized collection pages for grid workers. Thin: reads through the scoped
querysets, writes through `services`."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from zhili.core.api import RouteScope
from zhili.core.scoping import can
from zhili.core.services import ServiceError
from zhili.core.views import ActionView, ListPageView, PageView, ServiceFormView
from zhili.people import details, forms, services
from zhili.people.choices import HouseRelation, ResidencyKind, UnitKind
from zhili.people.history import history_rows
from zhili.people.models import Building, House, Person, Residency, Unit
from zhili.people.querysets import classify

PERSONS = (_("Persons"), "people:persons")


class CappedPaginator(Paginator):
    """Counts up to `cap` rows: an exact count of a city-wide list reads every row in reach."""

    cap = 1000
    capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


class RegistryListView(ListPageView):
    """A scoped list with the search box and area filter; subclasses add their own filters."""

    paginate_by = 50
    search_help = _("Name")

    @cached_property
    def search(self):
        return forms.SearchForm(self.request.GET or None, user=self.request.user)

    def filter_queryset(self, queryset):
        form = self.search
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            if data.get("area"):
                queryset = queryset.subtree(data["area"].prefix)
            if data.get("q"):
                queryset = queryset.search(data["q"])
            status = data.get("status")
        else:
            status = ""
        if status == "inactive":
            queryset = queryset.filter(is_active=False)
        elif status != "all":
            queryset = queryset.filter(is_active=True)
        return queryset

    def get_context_data(self, **kwargs):
        context = super(ListPageView, self).get_context_data(**kwargs)
        paginator = CappedPaginator(self.get_queryset(), self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        model = self.route_scope.model
        context.update(page=page, rows=page.object_list, paginator=paginator,
                       querystring=query.urlencode(), search=self.search,
                       can_add=can(self.request.user, model, "add"))
        return context


# --- persons ----------------------------------------------------------------------------------


class PersonListView(RegistryListView):
    route_scope = RouteScope(Person, "view")
    template_name = "people/person_list.html"
    title = _("Persons")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        kind = self.search.cleaned_data.get("kind") if self.search.is_bound and \
            self.search.is_valid() else ""
        if kind:
            queryset = queryset.filter(residencies__kind=kind, residencies__is_active=True)
        return queryset.prefetch_related("area", "residencies")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "")
        context["search_kind"] = classify(q) if q else ""
        context["can_export"] = can(self.request.user, Person, "export")
        context["can_import"] = can(self.request.user, Person, "import")
        return context


class PersonDetailView(PageView):
    route_scope = RouteScope(Person, "view", lookup="pk")
    template_name = "people/person_detail.html"

    def get_breadcrumbs(self):
        return [(PERSONS[0], reverse(PERSONS[1])), (self.object.name, None)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person, user = self.object, self.request.user
        residencies = list(person.residencies.all())
        present = {r.kind for r in residencies}
        from zhili.core.unmask import can_unmask

        context.update(
            title=person.name,
            can_unmask=can_unmask(user, person),
            residencies=[(r, _residency_fields(r)) for r in residencies],
            missing_kinds=[(k, label) for k, label in ResidencyKind.choices if k not in present],
            can_change=can(user, Person, "change"),
            can_residency=can(user, Residency, "add"),
            can_history=can(user, Person, "change"),
            deactivate_form=forms.DeactivateForm(),
        )
        return context


def _residency_fields(residency: Residency) -> list[tuple[str, object, str]]:
    """[(label, value, field name)] of the kind's fields, for display (encrypted ones masked
    by the template's pii tag, whose field name is passed along)."""
    rows = []
    for f in details.RESIDENCY[residency.kind].fields:
        if f.column:
            value = getattr(residency, f.name)
        else:
            value = residency.details.get(f.name)
        if f.table is not None:
            value = f.table.label(value)
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        rows.append((f.label, value, f.name if f.column else ""))
    return rows


class PersonCreateView(ServiceFormView):
    route_scope = RouteScope(Person, "add")
    template_name = "people/person_form.html"
    form_class = forms.PersonForm
    title = _("Register a person")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        if self.request.method == "GET" and self.request.GET.get("house"):
            kwargs["initial"] = {"house": self.request.GET["house"]}
        return kwargs

    def get_breadcrumbs(self):
        return [(PERSONS[0], reverse(PERSONS[1])), (self.title, None)]

    def perform(self, form):
        data = form.data_for_service()
        saved = services.create_person(actor=self.request.user, area=form.cleaned_data["area"],
                                       house=form.cleaned_data["house"], data=data,
                                       take_over=form.cleaned_data.get("take_over", False))
        _warn(self.request, saved.warnings)
        messages.success(self.request, _("%(name)s was registered.") % {"name": saved.obj.name})
        return saved.obj


def _warn(request, warnings):
    for warning in warnings:
        messages.warning(request, warning)


class PersonEditView(ServiceFormView):
    route_scope = RouteScope(Person, "change", lookup="pk")
    template_name = "people/person_form.html"
    form_class = forms.PersonForm

    @property
    def title(self):
        return _("Edit %(name)s") % {"name": self.object.name}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": self.object}

    def get_breadcrumbs(self):
        return [(PERSONS[0], reverse(PERSONS[1])),
                (self.object.name, self.object.get_absolute_url()), (_("Edit"), None)]

    def perform(self, form):
        data = form.data_for_service()
        house = form.cleaned_data.get("house")
        saved = services.update_person(actor=self.request.user, person=self.object, data=data,
                                       house=house)
        _warn(self.request, saved.warnings)
        messages.success(self.request, _("Saved."))
        return saved.obj


class PersonMoveView(ServiceFormView):
    route_scope = RouteScope(Person, "change", lookup="pk")
    template_name = "includes/simple_form.html"
    form_class = forms.MoveForm

    @property
    def title(self):
        return _("%(name)s moves") % {"name": self.object.name}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        data = form.cleaned_data
        person = services.move_person(actor=self.request.user, person=self.object,
                                      area=data["area"], house=data["house"],
                                      current_address=data["current_address"] or None)
        messages.success(self.request, _("The move was recorded."))
        return person


class PersonDeactivateView(ActionView):
    route_scope = RouteScope(Person, "change", lookup="pk")
    success_message = _("The person is marked as no longer active.")

    def act(self, request):
        form = forms.DeactivateForm(request.POST)
        if not form.is_valid():
            raise ServiceError("invalid", _("Choose why the person is no longer active."))
        data = form.cleaned_data
        services.deactivate_person(actor=request.user, person=self.object, reason=data["reason"],
                                   on=data["on"], note=data["note"])


class PersonReactivateView(ActionView):
    route_scope = RouteScope(Person, "change", lookup="pk")
    success_message = _("The person is active again.")

    def act(self, request):
        services.reactivate_person(actor=request.user, person=self.object)


class ResidencyEditView(ServiceFormView):
    """Record or change one residency fact of a person (the kind is in the URL)."""

    route_scope = RouteScope(Person, "view", lookup="pk", requires=((Residency, "add"),),
                             params=(("kind", "floating"),))
    template_name = "includes/simple_form.html"

    @cached_property
    def kind(self):
        kind = self.kwargs["kind"]
        if kind not in ResidencyKind.values:
            raise Http404
        return kind

    @cached_property
    def residency(self):
        return self.object.residencies.filter(kind=self.kind).first()

    @property
    def title(self):
        return f"{self.object.name} · {ResidencyKind(self.kind).label}"

    def get_form_class(self):
        return forms.ResidencyForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kind": self.kind, "instance": self.residency}

    def perform(self, form):
        services.save_residency(actor=self.request.user, person=self.object, kind=self.kind,
                                data=form.data_for_service(),
                                partial=self.residency is not None)
        messages.success(self.request, _("Saved."))
        return self.object


class ResidencyEndView(ActionView):
    route_scope = RouteScope(Residency, "change", lookup="pk")
    success_message = _("The residency fact is marked as ended.")

    def act(self, request):
        services.end_residency(actor=request.user, residency=self.object)

    def get_redirect_url(self):
        return self.object.person.get_absolute_url()


# --- change history ---------------------------------------------------------------------------


class HistoryView(PageView):
    """Who changed what, when. Personal data is masked here too."""

    template_name = "people/history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("Change history: %(name)s") % {"name": self.object},
                       rows=history_rows(self.object), back=self.object.get_absolute_url())
        return context


class PersonHistoryView(HistoryView):
    route_scope = RouteScope(Person, "change", lookup="pk")


class ResidencyHistoryView(HistoryView):
    route_scope = RouteScope(Residency, "change", lookup="pk")


class HouseHistoryView(HistoryView):
    route_scope = RouteScope(House, "change", lookup="pk")


class BuildingHistoryView(HistoryView):
    route_scope = RouteScope(Building, "change", lookup="pk")


class UnitHistoryView(HistoryView):
    route_scope = RouteScope(Unit, "change", lookup="pk")


# --- buildings and houses ---------------------------------------------------------------------


class BuildingListView(RegistryListView):
    route_scope = RouteScope(Building, "view")
    template_name = "people/building_list.html"
    title = _("Buildings")

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).prefetch_related("area")


class BuildingDetailView(PageView):
    route_scope = RouteScope(Building, "view", lookup="pk")
    template_name = "people/building_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        building = self.object
        context.update(title=str(building),
                       houses=building.houses.restrict(self.request.user).order_by("number")[:500],
                       can_change=can(self.request.user, Building, "change"),
                       can_add_house=can(self.request.user, House, "add"))
        return context


class SpecFormView(ServiceFormView):
    """Create or edit a building/house/unit through its SpecForm and services."""

    template_name = "includes/simple_form.html"

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        if self.object is not None:
            kwargs["instance"] = self.object
        return kwargs


class BuildingCreateView(SpecFormView):
    route_scope = RouteScope(Building, "add")
    form_class = forms.BuildingForm
    title = _("New building")

    def perform(self, form):
        return services.create_building(actor=self.request.user, area=form.cleaned_data["area"],
                                        data=form.data_for_service()).obj


class BuildingEditView(SpecFormView):
    route_scope = RouteScope(Building, "change", lookup="pk")
    form_class = forms.BuildingForm
    title = _("Edit building")
    success_message = _("Saved.")

    def perform(self, form):
        return services.update_building(actor=self.request.user, building=self.object,
                                        data=form.data_for_service()).obj


class HouseListView(RegistryListView):
    route_scope = RouteScope(House, "view")
    template_name = "people/house_list.html"
    title = _("Houses")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.request.GET.get("rental") == "1":
            queryset = queryset.filter(is_rental=True)
        return queryset.select_related("building").prefetch_related("area")


class HouseDetailView(PageView):
    route_scope = RouteScope(House, "view", lookup="pk")
    template_name = "people/house_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        house, user = self.object, self.request.user
        residents = Person.objects.restrict(user).filter(house=house).order_by(
            "-is_active", "name")
        context.update(title=str(house), residents=residents,
                       tenants=[p for p in residents if p.house_relation == HouseRelation.TENANT],
                       can_change=can(user, House, "change"),
                       can_add_person=can(user, Person, "add"))
        return context


class HouseCreateView(SpecFormView):
    route_scope = RouteScope(House, "add")
    form_class = forms.HouseForm
    title = _("New house")

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("building", "").isdigit():
            initial["building"] = int(self.request.GET["building"])
        return initial

    def perform(self, form):
        data = form.cleaned_data
        saved = services.create_house(actor=self.request.user, area=data.get("area"),
                                      building=data.get("building"),
                                      data=form.data_for_service())
        _warn(self.request, saved.warnings)
        return saved.obj


class HouseEditView(SpecFormView):
    route_scope = RouteScope(House, "change", lookup="pk")
    form_class = forms.HouseForm
    title = _("Edit house")
    success_message = _("Saved.")

    def perform(self, form):
        saved = services.update_house(actor=self.request.user, house=self.object,
                                      data=form.data_for_service(),
                                      building=form.cleaned_data.get("building"))
        _warn(self.request, saved.warnings)
        return saved.obj


# --- units ------------------------------------------------------------------------------------


class UnitListView(RegistryListView):
    route_scope = RouteScope(Unit, "view")
    template_name = "people/unit_list.html"
    title = _("Units")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        kind = self.request.GET.get("unit_kind")
        if kind in UnitKind.values:
            queryset = queryset.filter(kind=kind)
        return queryset.prefetch_related("area")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unit_kinds"] = UnitKind.choices
        return context


class UnitDetailView(PageView):
    route_scope = RouteScope(Unit, "view", lookup="pk")
    template_name = "people/unit_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        rows = []
        for f in details.UNIT[unit.kind].fields:
            value = getattr(unit, f.name) if f.column else unit.details.get(f.name)
            if f.table is not None:
                value = f.table.label(value)
            elif isinstance(value, bool):
                value = _("Yes") if value else _("No")
            rows.append((f.label, value))
        context.update(title=unit.name, kind_rows=rows,
                       can_change=can(self.request.user, Unit, "change"))
        return context


class UnitCreateView(SpecFormView):
    route_scope = RouteScope(Unit, "add")
    form_class = forms.UnitForm

    @cached_property
    def kind(self):
        # In the query string, kept on POST (the form posts back to its own URL).
        kind = self.request.GET.get("kind")
        return kind if kind in UnitKind.values else UnitKind.ENTERPRISE

    @property
    def title(self):
        return _("New unit: %(kind)s") % {"kind": UnitKind(self.kind).label}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kind": self.kind}

    def get_success_url_for(self, result):
        return result.get_absolute_url()

    def perform(self, form):
        saved = services.create_unit(actor=self.request.user, area=form.cleaned_data["area"],
                                     kind=self.kind, data=form.data_for_service())
        _warn(self.request, saved.warnings)
        return saved.obj


class UnitEditView(SpecFormView):
    route_scope = RouteScope(Unit, "change", lookup="pk")
    form_class = forms.UnitForm
    title = _("Edit unit")
    success_message = _("Saved.")

    def perform(self, form):
        saved = services.update_unit(actor=self.request.user, unit=self.object,
                                     data=form.data_for_service())
        _warn(self.request, saved.warnings)
        return saved.obj


class RetireView(ActionView):
    """Retire or restore a building, house or unit (POST `active=1` restores)."""

    success_message = _("Saved.")

    def act(self, request):
        services.set_active(actor=request.user, obj=self.object,
                            active=request.POST.get("active") == "1")


class BuildingRetireView(RetireView):
    route_scope = RouteScope(Building, "change", lookup="pk")


class HouseRetireView(RetireView):
    route_scope = RouteScope(House, "change", lookup="pk")


class UnitRetireView(RetireView):
    route_scope = RouteScope(Unit, "change", lookup="pk")


# --- phone-sized collection pages -------------------------------------------------------------


class MobileHomeView(PageView):
    """The grid worker's registry page: find a person by ID number or phone, add a person or a
    house, and what I registered lately."""

    route_scope = RouteScope(Person, "add")
    template_name = "people/mobile.html"
    title = _("Registry on the phone")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        q = self.request.GET.get("q", "").strip()
        found = []
        if q:
            found = list(Person.objects.restrict(user).search(q).select_related("area")[:20])
        context.update(
            q=q, found=found, searched=bool(q), position=user.active_position,
            mine=Person.objects.restrict(user).filter(created_by=user).order_by("-created_at")[:10],
            houses=House.objects.restrict(user).filter(created_by=user).order_by(
                "-created_at")[:10],
            can_add_house=can(user, House, "add"),
        )
        return context


class MobilePersonView(ServiceFormView):
    route_scope = RouteScope(Person, "add")
    template_name = "people/mobile_form.html"
    form_class = forms.PersonForm
    title = _("Add a person")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        position = self.request.user.active_position
        initial = {}
        if position is not None and position.area.level >= 4:
            initial["area"] = position.area.pk
        if self.request.GET.get("house", "").isdigit():
            initial["house"] = self.request.GET["house"]
        kwargs["initial"] = initial
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # The phone page asks for the essentials; the rest is completed at the desk.
        keep = {"area", "house", "house_relation", "name", "id_type", "id_number", "phone",
                "ethnicity", "current_address", "take_over", "note"}
        for name in list(form.fields):
            if name not in keep:
                del form.fields[name]
        return form

    def perform(self, form):
        data = {k: v for k, v in form.data_for_service().items() if k in form.fields}
        saved = services.create_person(actor=self.request.user, area=form.cleaned_data["area"],
                                       house=form.cleaned_data["house"], data=data,
                                       take_over=form.cleaned_data.get("take_over", False))
        _warn(self.request, saved.warnings)
        messages.success(self.request, _("%(name)s was registered.") % {"name": saved.obj.name})
        return saved.obj

    def get_success_url_for(self, result):
        return reverse("people:mobile")


class MobileHouseView(ServiceFormView):
    route_scope = RouteScope(House, "add")
    template_name = "people/mobile_form.html"
    form_class = forms.HouseForm
    title = _("Add a house")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        position = self.request.user.active_position
        if position is not None and position.area.level >= 4:
            kwargs["initial"] = {"area": position.area.pk}
        return kwargs

    def perform(self, form):
        data = form.cleaned_data
        saved = services.create_house(actor=self.request.user, area=data.get("area"),
                                      building=data.get("building"),
                                      data=form.data_for_service())
        _warn(self.request, saved.warnings)
        messages.success(self.request, _("House %(number)s was registered.")
                         % {"number": saved.obj.number})
        return saved.obj

    def get_success_url_for(self, result):
        return reverse("people:mobile_person") + f"?house={result.pk}"
