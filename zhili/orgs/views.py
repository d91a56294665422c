from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhili.areas.models import Area
from zhili.core.api import RouteScope
from zhili.core.scoping import can
from zhili.core.views import ActionView, ListPageView, PageView, ServiceFormView
from zhili.orgs import services
from zhili.orgs.filters import filter_organisations
from zhili.orgs.forms import OrganisationForm
from zhili.orgs.models import Organisation

EDIT_FIELDS = ("name", "short_name", "kind", "area", "parent", "uscc", "address", "phone")


class OrganisationListView(ListPageView):
    route_scope = RouteScope(Organisation, "view")
    template_name = "orgs/list.html"
    title = _("Organisations")

    def filter_queryset(self, queryset):
        self.filter_form, queryset = filter_organisations(queryset, self.request.GET)
        return queryset.select_related("area", "parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["can_add"] = can(self.request.user, Organisation, "add")
        return context


class OrganisationDetailView(PageView):
    route_scope = RouteScope(Organisation, "view", lookup="pk")
    template_name = "orgs/detail.html"

    def get_breadcrumbs(self):
        return [(_("Organisations"), reverse("orgs:list")), (self.object.name, None)]

    def get_context_data(self, **kwargs):
        from zhili.accounts.models import ApiKey, Position

        context = super().get_context_data(**kwargs)
        org, user = self.object, self.request.user
        context.update(
            title=org.name,
            children=Organisation.objects.restrict(user).filter(parent=org),
            positions=Position.objects.restrict(user).active().filter(org=org)
            .select_related("user", "role", "area"),
            api_keys=ApiKey.objects.restrict(user).filter(org=org).usable()
            if can(user, ApiKey, "view") else [],
            can_change=can(user, Organisation, "change"),
            can_add_key=can(user, ApiKey, "add") and org.is_active,
        )
        return context


class _OrganisationFormMixin:
    template_name = "orgs/form.html"
    form_class = OrganisationForm

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "areas": Area.objects.restrict(user).active().filter(level__lte=4).order_by("code"),
            "parents": Organisation.objects.restrict(user).active().order_by("name"),
        }


class OrganisationCreateView(_OrganisationFormMixin, ServiceFormView):
    route_scope = RouteScope(Organisation, "add")
    title = _("New organisation")
    success_message = _("The organisation was created.")

    def get_initial(self):
        area_id = self.request.GET.get("area")
        initial = {}
        if area_id and area_id.isdigit():
            initial["area"] = Area.objects.restrict(self.request.user).filter(pk=area_id).first()
        return initial

    def get_breadcrumbs(self):
        return [(_("Organisations"), reverse("orgs:list")), (self.title, None)]

    def perform(self, form):
        return services.create_organisation(actor=self.request.user, **form.cleaned_data)


class OrganisationEditView(_OrganisationFormMixin, ServiceFormView):
    route_scope = RouteScope(Organisation, "change", lookup="pk")
    success_message = _("The organisation was saved.")

    def get_initial(self):
        return {name: getattr(self.object, name) for name in EDIT_FIELDS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        return context

    def get_breadcrumbs(self):
        return [(_("Organisations"), reverse("orgs:list")),
                (self.object.name, self.object.get_absolute_url()), (_("Edit"), None)]

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return services.update_organisation(actor=self.request.user, org=self.object, **data)


class OrganisationActivateView(ActionView):
    """Close or reopen an organisation."""

    route_scope = RouteScope(Organisation, "change", lookup="pk")

    def act(self, request):
        services.set_organisation_active(actor=request.user, org=self.object,
                                         active=request.POST.get("active") == "1")
