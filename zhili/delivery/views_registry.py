"""Pages of the courier registry: companies, outlets, staff, and the bulk import of outlets
and staff (thin: the rules are in `registry` and `imports`).

Personal data (staff ID numbers and phones, contact phones) is shown masked; edit forms start
those fields empty with the masked value as placeholder.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core import codes, pii
from zhili.core.api import RouteScope
from zhili.core.models import Job
from zhili.core.scoping import can
from zhili.core.services import ServiceError
from zhili.core.views import ActionView, ListPageView, PageView, ServiceFormView, ZhiliView
from zhili.delivery import codetables, imports, registry
from zhili.delivery.choices import StaffDuty
from zhili.delivery.forms_registry import (
    SKIP,
    CompanyFilterForm,
    CompanyForm,
    ImportForm,
    ImportOptionsForm,
    OutletFilterForm,
    OutletForm,
    StaffFilterForm,
    StaffForm,
)
from zhili.delivery.models import CourierCompany, CourierStaff, Outlet
from zhili.devices.models import Device
from zhili.orgs.choices import OrgKind
from zhili.orgs.models import Organisation

COMPANIES = (_("Courier companies"), "delivery:companies")
OUTLETS = (_("Courier outlets"), "delivery:outlets")
STAFF = (_("Courier staff"), "delivery:staff")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IN_SERVICE = ("online", "offline", "fault")  # device statuses short of retired


def crumbs(root, *tail):
    return [(root[0], reverse(root[1])), *tail]


def subtree_prefix(raw: str) -> str:
    if len(raw) == codes.CODE_WIDTH:
        area = Area.objects.filter(code=raw).first()
        if area is not None:
            return area.prefix
    return raw


def company_facts(company: CourierCompany) -> list[tuple[str, str]]:
    """The T29 code fields with the standard's names."""
    return [
        (_("Registration type (5.51)"), _coded(codetables.REGISTRATION_TYPES,
                                               company.registration_type)),
        (_("Holding (5.52)"), _coded(codetables.HOLDINGS, company.holding)),
        (_("Business scope (5.53)"), "、".join(
            _coded(codetables.BUSINESS_SCOPES, c) for c in company.business_scope or []) or "—"),
        (_("Enterprise type (5.54)"), _coded(codetables.ENTERPRISE_TYPES,
                                             company.enterprise_type)),
    ]


def _coded(table: dict, code: str) -> str:
    if not code:
        return "—"
    return f"{code} {table.get(code, '')}".strip()


def outlet_counts(user, outlet_ids: list[int]) -> dict[int, dict]:
    """Active staff (and screeners) and X-ray machines in service per outlet, for the rows of
    a page: two grouped queries, whatever the page size."""
    counts = {pk: {"staff": 0, "screeners": 0, "xray": 0} for pk in outlet_ids}
    if not outlet_ids:
        return counts
    if can(user, CourierStaff, "view"):
        for row in CourierStaff.objects.filter(outlet_id__in=outlet_ids, is_active=True).values(
                "outlet_id").annotate(n=Count("id"), s=Count("id", filter=Q(
                duty=StaffDuty.SCREEN))).order_by():
            counts[row["outlet_id"]].update(staff=row["n"], screeners=row["s"])
    if can(user, Device, "view"):
        for row in Device.objects.filter(
                org__courier_outlet__in=outlet_ids, kind="xray", status__in=IN_SERVICE).values(
                "org__courier_outlet").annotate(n=Count("id")).order_by():
            counts[row["org__courier_outlet"]]["xray"] = row["n"]
    return counts


# --- companies -----------------------------------------------------------------------------------

class CompanyListView(ListPageView):
    route_scope = RouteScope(CourierCompany, "view")
    template_name = "delivery/registry/companies.html"
    title = COMPANIES[0]

    def filter_queryset(self, queryset):
        form = self.filter_form = CompanyFilterForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        if data.get("q"):
            text = data["q"].strip()
            queryset = queryset.filter(Q(org__name__icontains=text) | Q(brand__icontains=text)
                                       | Q(org__uscc=text.upper()))
        if data.get("area"):
            queryset = queryset.filter(codes.range_q("area_code", subtree_prefix(data["area"])))
        if not data.get("inactive"):
            queryset = queryset.filter(is_active=True)
        return queryset.select_related("org__area").annotate(
            open_outlets=Count("outlets", filter=Q(outlets__is_active=True))).order_by(
            "brand", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filter_form=self.filter_form,
                       can_add=can(self.request.user, CourierCompany, "add"))
        return context


class CompanyDetailView(PageView):
    route_scope = RouteScope(CourierCompany, "view", lookup="pk")
    template_name = "delivery/registry/company_detail.html"

    def get_breadcrumbs(self):
        return crumbs(COMPANIES, (self.object.org.name, None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        company, user = self.object, self.request.user
        outlets = list(Outlet.objects.restrict(user).filter(company=company)
                       .select_related("org", "area").order_by("-is_active", "area_code",
                                                               "code")[:500])
        counts = outlet_counts(user, [o.pk for o in outlets])
        context.update(
            title=company.org.name, facts=company_facts(company),
            outlets=[(o, counts[o.pk]) for o in outlets],
            open_outlets=sum(1 for o in outlets if o.is_active),
            can_change=can(user, CourierCompany, "change"),
            can_add_outlet=can(user, Outlet, "add") and company.is_active,
        )
        return context


def company_form_kwargs(view) -> dict:
    user = view.request.user
    return {"areas": Area.objects.restrict(user).active().filter(level__gte=1)
            .order_by("code")}


class CompanyCreateView(ServiceFormView):
    route_scope = RouteScope(CourierCompany, "add")
    template_name = "delivery/registry/form.html"
    form_class = CompanyForm
    title = _("New courier company")
    success_message = _("The company was registered.")

    def get_form_kwargs(self):
        user = self.request.user
        free = Organisation.objects.restrict(user).active().filter(
            kind=OrgKind.COURIER_COMPANY, courier_company__isnull=True).order_by("name")
        return {**super().get_form_kwargs(), **company_form_kwargs(self), "orgs": free}

    def get_breadcrumbs(self):
        return crumbs(COMPANIES, (self.title, None))

    def perform(self, form):
        data = dict(form.cleaned_data)
        org = data.pop("org", None)
        if org is not None:  # the organisation's facts stand for what was left empty
            data = {k: v for k, v in data.items()
                    if k not in registry.ORG_FIELDS or v not in ("", None)}
        return registry.save_company(actor=self.request.user, data=data, org=org)


class CompanyEditView(ServiceFormView):
    route_scope = RouteScope(CourierCompany, "change", lookup="pk")
    template_name = "delivery/registry/form.html"
    form_class = CompanyForm
    success_message = _("The company was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **company_form_kwargs(self),
                "instance": self.object}

    def get_initial(self):
        company = self.object
        return {"name": company.org.name, "uscc": company.org.uscc, "area": company.org.area,
                "address": company.org.address, "brand": company.brand,
                "licence_no": company.licence_no,
                "registration_type": company.registration_type, "holding": company.holding,
                "business_scope": company.business_scope,
                "enterprise_type": company.enterprise_type,
                "person_in_charge": company.person_in_charge}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.org.name}
        return context

    def get_breadcrumbs(self):
        return crumbs(COMPANIES, (self.object.org.name, self.object.get_absolute_url()),
                      (_("Edit"), None))

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return registry.save_company(actor=self.request.user, company=self.object, data=data)


class CompanyActiveView(ActionView):
    """Close or reopen a company."""

    route_scope = RouteScope(CourierCompany, "change", lookup="pk")

    def act(self, request):
        registry.set_active(actor=request.user, obj=self.object,
                            active=request.POST.get("active") == "1")


# --- outlets -------------------------------------------------------------------------------------

class OutletListView(ListPageView):
    route_scope = RouteScope(Outlet, "view")
    template_name = "delivery/registry/outlets.html"
    title = OUTLETS[0]

    def filter_queryset(self, queryset):
        user = self.request.user
        companies = registry.companies_for_outlets(user) if can(user, Outlet, "add") else \
            CourierCompany.objects.filter(pk__in=queryset.values("company_id"))
        form = self.filter_form = OutletFilterForm(self.request.GET or None,
                                                   companies=companies.select_related("org"))
        data = form.cleaned_data if form.is_valid() else {}
        if data.get("q"):
            text = data["q"].strip()
            queryset = queryset.filter(Q(org__name__icontains=text) | Q(code__iexact=text))
        if data.get("company"):
            queryset = queryset.filter(company=data["company"])
        if data.get("area"):
            queryset = queryset.filter(codes.range_q("area_code", subtree_prefix(data["area"])))
        if not data.get("inactive"):
            queryset = queryset.filter(is_active=True)
        return queryset.select_related("org", "area", "company")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rows = list(context["rows"])
        counts = outlet_counts(user, [o.pk for o in rows])
        context.update(filter_form=self.filter_form, rows=[(o, counts[o.pk]) for o in rows],
                       can_add=can(user, Outlet, "add"),
                       can_import=can(user, Outlet, "add"))
        return context


class OutletDetailView(PageView):
    route_scope = RouteScope(Outlet, "view", lookup="pk")
    template_name = "delivery/registry/outlet_detail.html"

    def get_breadcrumbs(self):
        return crumbs(OUTLETS, (self.object.org.name, None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        outlet, user = self.object, self.request.user
        staff = list(CourierStaff.objects.restrict(user).filter(outlet=outlet)
                     .order_by("-is_active", "duty", "name")) \
            if can(user, CourierStaff, "view") else None
        devices = list(Device.objects.restrict(user).filter(org=outlet.org)
                       .order_by("kind", "code")) if can(user, Device, "view") else None
        active = [s for s in staff or [] if s.is_active]
        in_service = [d for d in devices or [] if d.status in IN_SERVICE]
        context.update(
            title=outlet.org.name,
            company_visible=CourierCompany.objects.in_scope(user).filter(
                pk=outlet.company_id).exists(),
            staff=staff, devices=devices,
            counts={
                "staff": len(active),
                "by_duty": [(label, sum(1 for s in active if s.duty == value))
                            for value, label in StaffDuty.choices],
                "unchecked": sum(1 for s in active if not s.background_checked_on),
                "untrained": sum(1 for s in active if not s.trained_on),
                "xray": sum(1 for d in in_service if d.kind == "xray"),
                "xray_online": sum(1 for d in in_service if d.kind == "xray"
                                   and d.status == "online"),
                "cameras": sum(1 for d in in_service if d.kind == "camera"),
            },
            can_change=can(user, Outlet, "change"),
            can_add_staff=can(user, CourierStaff, "add") and outlet.is_active,
            can_change_staff=can(user, CourierStaff, "change"),
            can_add_device=can(user, Device, "add") and outlet.is_active,
        )
        return context


def outlet_areas(user):
    return Area.objects.restrict(user).active().filter(level__gte=3).order_by("code")


class OutletCreateView(ServiceFormView):
    route_scope = RouteScope(Outlet, "add")
    template_name = "delivery/registry/form.html"
    form_class = OutletForm
    title = _("New courier outlet")
    success_message = _("The outlet was registered.")

    def get_form_kwargs(self):
        user = self.request.user
        return {**super().get_form_kwargs(), "areas": outlet_areas(user),
                "companies": registry.companies_for_outlets(user).order_by("brand")}

    def get_initial(self):
        raw = self.request.GET.get("company", "")
        if raw.isdigit():
            company = registry.companies_for_outlets(self.request.user).filter(pk=raw).first()
            if company is not None:
                return {"company": company}
        return {}

    def get_breadcrumbs(self):
        return crumbs(OUTLETS, (self.title, None))

    def perform(self, form):
        return registry.save_outlet(actor=self.request.user, data=form.cleaned_data)


class OutletEditView(ServiceFormView):
    route_scope = RouteScope(Outlet, "change", lookup="pk")
    template_name = "delivery/registry/form.html"
    form_class = OutletForm
    success_message = _("The outlet was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "areas": outlet_areas(self.request.user),
                "instance": self.object}

    def get_initial(self):
        outlet = self.object
        return {"code": outlet.code, "name": outlet.org.name, "area": outlet.area,
                "licence_no": outlet.licence_no, "address": outlet.address,
                "person_in_charge": outlet.person_in_charge, "lat": outlet.lat,
                "lng": outlet.lng}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.org.name}
        return context

    def get_breadcrumbs(self):
        return crumbs(OUTLETS, (self.object.org.name, self.object.get_absolute_url()),
                      (_("Edit"), None))

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return registry.save_outlet(actor=self.request.user, outlet=self.object, data=data)


class OutletActiveView(ActionView):
    """Close or reopen an outlet."""

    route_scope = RouteScope(Outlet, "change", lookup="pk")

    def act(self, request):
        registry.set_active(actor=request.user, obj=self.object,
                            active=request.POST.get("active") == "1")


# --- staff ---------------------------------------------------------------------------------------

class StaffListView(ListPageView):
    route_scope = RouteScope(CourierStaff, "view")
    template_name = "delivery/registry/staff.html"
    title = STAFF[0]

    def filter_queryset(self, queryset):
        form = self.filter_form = StaffFilterForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        self.filter_outlet = None
        if data.get("q"):
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data.get("id_number"):
            queryset = queryset.filter(pii.lookup_q(CourierStaff, "id_number",
                                                    data["id_number"]))
        if data.get("duty"):
            queryset = queryset.filter(duty=data["duty"])
        if data.get("missing") == "background":
            queryset = queryset.filter(background_checked_on__isnull=True)
        elif data.get("missing") == "training":
            queryset = queryset.filter(trained_on__isnull=True)
        if data.get("outlet"):
            queryset = queryset.filter(outlet_id=data["outlet"])
            self.filter_outlet = Outlet.objects.in_scope(self.request.user).filter(
                pk=data["outlet"]).select_related("org").first()
        if not data.get("inactive"):
            queryset = queryset.filter(is_active=True)
        return queryset.select_related("outlet__org").order_by("outlet__area_code",
                                                               "outlet__code", "name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(filter_form=self.filter_form, filter_outlet=self.filter_outlet,
                       can_add=can(user, CourierStaff, "add"),
                       can_change=can(user, CourierStaff, "change"))
        return context


def staff_outlets(user):
    return Outlet.objects.in_scope(user).filter(is_active=True).order_by("area_code", "code")


class StaffCreateView(ServiceFormView):
    route_scope = RouteScope(CourierStaff, "add")
    template_name = "delivery/registry/form.html"
    form_class = StaffForm
    title = _("Register courier staff")
    success_message = _("The staff member was registered.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "outlets": staff_outlets(self.request.user)}

    def get_initial(self):
        raw = self.request.GET.get("outlet", "")
        if raw.isdigit():
            outlet = staff_outlets(self.request.user).filter(pk=raw).first()
            if outlet is not None:
                return {"outlet": outlet}
        return {}

    def get_breadcrumbs(self):
        return crumbs(STAFF, (self.title, None))

    def perform(self, form):
        return registry.save_staff(actor=self.request.user, data=form.cleaned_data)

    def get_success_url_for(self, staff):
        for warning in getattr(staff, "warnings", []):
            messages.warning(self.request, warning)
        return staff.outlet.get_absolute_url()


class StaffEditView(ServiceFormView):
    route_scope = RouteScope(CourierStaff, "change", lookup="pk")
    template_name = "delivery/registry/form.html"
    form_class = StaffForm
    success_message = _("The staff member was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "outlets": staff_outlets(self.request.user),
                "instance": self.object}

    def get_initial(self):
        staff = self.object
        return {"outlet": staff.outlet, "name": staff.name, "duty": staff.duty,
                "background_checked_on": staff.background_checked_on,
                "trained_on": staff.trained_on}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        context["active_url"] = reverse("delivery:staff_active", args=[self.object.pk])
        return context

    def get_breadcrumbs(self):
        return crumbs(STAFF, (self.object.name, None), (_("Edit"), None))

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return registry.save_staff(actor=self.request.user, staff=self.object, data=data)

    def get_success_url_for(self, staff):
        return staff.outlet.get_absolute_url()


class StaffActiveView(ActionView):
    """A staff member left (or came back)."""

    route_scope = RouteScope(CourierStaff, "change", lookup="pk")

    def act(self, request):
        registry.set_active(actor=request.user, obj=self.object,
                            active=request.POST.get("active") == "1")

    def get_redirect_url(self):
        return self.object.outlet.get_absolute_url()


# --- imports -------------------------------------------------------------------------------------

DEVICES = (_("Devices"), "devices:list")
IMPORT_KINDS = {"outlets": (Outlet, OUTLETS), "staff": (CourierStaff, STAFF),
                "devices": (Device, DEVICES)}


class _ImportView(ServiceFormView):
    kind = "outlets"
    template_name = "delivery/registry/import.html"
    form_class = ImportForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(),
                "companies": registry.companies_for_outlets(self.request.user).order_by(
                    "brand"), "max_mb": imports.max_upload_mb()}

    def get_breadcrumbs(self):
        return crumbs(IMPORT_KINDS[self.kind][1], (self.title, None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(kind=self.kind, columns=imports.COLUMNS[self.kind],
                       template_url=reverse(f"delivery:import_{self.kind}_template"),
                       max_mb=imports.max_upload_mb(),
                       recent=Job.objects.restrict(self.request.user).filter(
                           kind=imports.JOB_KIND, params__kind=self.kind)[:10])
        return context

    def perform(self, form):
        data = form.cleaned_data
        return imports.start_import(actor=self.request.user, kind=self.kind,
                                    upload_name=data["file"].name, upload=data["file"],
                                    dry_run=True, strict=data["strict"],
                                    on_duplicate=data["on_duplicate"],
                                    company=data.get("company"))

    def get_success_url_for(self, job):
        return reverse("delivery:import_job", args=[job.pk])


class OutletImportView(_ImportView):
    route_scope = RouteScope(Outlet, "add")
    kind = "outlets"
    title = _("Import outlets")


class StaffImportView(_ImportView):
    route_scope = RouteScope(CourierStaff, "add")
    kind = "staff"
    title = _("Import courier staff")


class DeviceImportView(_ImportView):
    """Devices at outlets (X-ray machines, cameras): each row names its outlet."""

    route_scope = RouteScope(Device, "add")
    kind = "devices"
    title = _("Import devices of outlets")


class _TemplateView(ZhiliView):
    kind = "outlets"

    def get(self, request):
        response = HttpResponse(imports.write_template(self.kind), content_type=XLSX)
        response["Content-Disposition"] = \
            f'attachment; filename="zhili-courier-{self.kind}-template.xlsx"'
        return response


class OutletTemplateView(_TemplateView):
    route_scope = RouteScope(Outlet, "add")
    kind = "outlets"


class StaffTemplateView(_TemplateView):
    route_scope = RouteScope(CourierStaff, "add")
    kind = "staff"


class DeviceTemplateView(_TemplateView):
    route_scope = RouteScope(Device, "add")
    kind = "devices"


class ImportJobView(PageView):
    """A check or an import: progress, then the outcome, the row errors and the next step."""

    route_scope = RouteScope(Job, "view", lookup="pk")
    template_name = "delivery/registry/import_job.html"

    def get(self, request, *args, **kwargs):
        if self.object.kind != imports.JOB_KIND:
            return HttpResponseRedirect(reverse("core:job_detail", args=[self.object.pk]))
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return ["delivery/registry/import_progress.html"]
        return [self.template_name]

    def get_breadcrumbs(self):
        kind = (self.object.params or {}).get("kind", "outlets")
        model, root = IMPORT_KINDS.get(kind, IMPORT_KINDS["outlets"])
        return crumbs(root, (str(self.object), None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        params, result = job.params or {}, job.result or {}
        kind = params.get("kind", "outlets")
        model = IMPORT_KINDS.get(kind, IMPORT_KINDS["outlets"])[0]
        can_import = bool(job.finished and params.get("dry_run") and not result.get(
            "file_error") and result.get("valid", 0) > 0 and can(self.request.user, model,
                                                                 "add"))
        context.update(title=job.title, params=params, r=result, can_import=can_import,
                       kind_label=gettext(imports.KIND_LABELS.get(kind, "")),
                       list_url=reverse(IMPORT_KINDS.get(kind, IMPORT_KINDS["outlets"])[1][1]),
                       upload_url=reverse(f"delivery:import_{kind}"
                                          if kind in IMPORT_KINDS else "delivery:import_outlets"))
        if can_import:
            context["options"] = ImportOptionsForm(initial={
                "strict": bool(params.get("strict", True)) and not result.get("rejected"),
                "on_duplicate": params.get("on_duplicate", SKIP)})
        return context


class ImportConfirmView(ZhiliView):
    """Import the file of a finished check, with the options chosen on its page."""

    route_scope = RouteScope(Job, "view", lookup="pk")
    http_method_names = ["post"]

    def post(self, request, pk):
        check = self.object
        params = check.params or {}
        if check.kind != imports.JOB_KIND:
            return HttpResponseRedirect(reverse("core:job_detail", args=[check.pk]))
        back = HttpResponseRedirect(reverse("delivery:import_job", args=[check.pk]))
        kind = params.get("kind")
        if kind not in IMPORT_KINDS:
            return back
        if not can(request.user, IMPORT_KINDS[kind][0], "add"):
            raise PermissionDenied
        form = ImportOptionsForm(request.POST)
        if not params.get("dry_run") or not check.finished or not form.is_valid():
            return back
        company = None
        if params.get("company"):
            company = registry.companies_for_outlets(request.user).filter(
                pk=params["company"]).first()
        try:
            job = imports.start_import(actor=request.user, kind=kind,
                                       upload_name=params.get("file") or "upload",
                                       source_job=check, dry_run=False,
                                       strict=form.cleaned_data["strict"],
                                       on_duplicate=form.cleaned_data["on_duplicate"],
                                       company=company)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return back
        return HttpResponseRedirect(reverse("delivery:import_job", args=[job.pk]))
