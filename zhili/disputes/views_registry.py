"""The registry of 一综多专: mediation bodies, their mediators and their agreement templates."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from zhili.core.api import RouteScope
from zhili.core.scoping import can
from zhili.core.views import ListPageView, PageView, ServiceFormView, ZhiliView
from zhili.disputes import codetables, documents, services
from zhili.disputes.choices import BodyKind, DisputeState
from zhili.disputes.forms import BodyForm, MediatorForm, NewBodyForm, TemplateForm
from zhili.disputes.models import Dispute, MediationBody, Mediator
from zhili.disputes.views import StatusOnInvalidMixin

BODIES = (_("Mediation bodies"), "disputes:bodies")


def crumbs(*extra):
    return [(BODIES[0], reverse(BODIES[1])), *extra]


class BodyListView(ListPageView):
    route_scope = RouteScope(MediationBody, "view")
    template_name = "disputes/bodies.html"
    title = _("Mediation bodies")
    paginate_by = 100

    def filter_queryset(self, queryset):
        self.kind = self.request.GET.get("kind", "")
        if self.kind in BodyKind.values:
            queryset = queryset.filter(kind=self.kind)
        q = " ".join(self.request.GET.get("q", "").split())
        if q:
            queryset = queryset.filter(org__name__icontains=q)
        return queryset.select_related("org", "org__area").annotate(
            mediator_count=Count("mediators", filter=Q(mediators__is_active=True))
        ).order_by("area_code", "kind", "id")  # Meta.ordering does not apply to GROUP BY

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(kinds=BodyKind.choices, kind=self.kind, q=self.request.GET.get("q", ""),
                       can_add=can(self.request.user, MediationBody, "add"))
        return context


class BodyDetailView(PageView):
    route_scope = RouteScope(MediationBody, "view", lookup="pk")
    template_name = "disputes/body.html"

    def get_breadcrumbs(self):
        return crumbs((str(self.object), None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        body, user = self.object, self.request.user
        by_state = dict(Dispute.objects.restrict(user).filter(body=body).open()
                        .values_list("state").annotate(n=Count("id")).order_by())
        context.update(
            title=str(body),
            types=[(code, codetables.type_name(code)) for code in body.type_codes],
            mediators=body.mediators.select_related("user").order_by("-is_active", "name"),
            open_by_state=[(label, by_state.get(value, 0)) for value, label in
                           DisputeState.choices if value in by_state],
            open_total=sum(by_state.values()),
            can_see_cases=can(user, Dispute, "view"),
            can_change=can(user, MediationBody, "change"),
            can_add_mediator=can(user, Mediator, "add"),
            can_change_mediator=can(user, Mediator, "change"),
        )
        return context


class _BodyFormView(StatusOnInvalidMixin, ServiceFormView):
    template_name = "includes/simple_form.html"

    def get_breadcrumbs(self):
        if self.object is not None:
            return crumbs((str(self.object), self.object.get_absolute_url()), (self.title, None))
        return crumbs((self.title, None))


def _body_values(data) -> dict:
    return {name: data[name] for name in ("kind", "type_codes", "capacity", "accept_days",
                                          "mediate_days", "number_prefix", "phone",
                                          "is_active")}


class BodyCreateView(_BodyFormView):
    route_scope = RouteScope(MediationBody, "add")
    form_class = NewBodyForm
    title = _("Add a mediation body")
    success_message = _("The body was added to the registry.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        return services.save_body(actor=self.request.user, org=form.cleaned_data["org"],
                                  **_body_values(form.cleaned_data))


class BodyEditView(_BodyFormView):
    route_scope = RouteScope(MediationBody, "change", lookup="pk")
    form_class = BodyForm
    title = _("Edit the body")
    success_message = _("The body was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "body": self.object}

    def perform(self, form):
        return services.save_body(actor=self.request.user, org=self.object.org,
                                  body=self.object, **_body_values(form.cleaned_data))


def _mediator_values(data) -> dict:
    return {name: data[name] for name in ("name", "phone", "user", "full_time", "speciality",
                                          "is_active")}


class MediatorCreateView(_BodyFormView):
    route_scope = RouteScope(MediationBody, "view", lookup="pk", requires=((Mediator, "add"),))
    form_class = MediatorForm
    title = _("Add a mediator")
    success_message = _("The mediator was added.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "body": self.object}

    def perform(self, form):
        return services.save_mediator(actor=self.request.user, body=self.object,
                                      **_mediator_values(form.cleaned_data))

    def get_success_url_for(self, result):
        return self.object.get_absolute_url()


class MediatorEditView(_BodyFormView):
    route_scope = RouteScope(Mediator, "change", lookup="pk")
    form_class = MediatorForm
    title = _("Edit the mediator")
    success_message = _("The mediator was saved.")

    def get_breadcrumbs(self):
        body = self.object.body
        return crumbs((str(body), body.get_absolute_url()), (self.title, None))

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "body": self.object.body,
                "mediator": self.object}

    def perform(self, form):
        return services.save_mediator(actor=self.request.user, body=self.object.body,
                                      mediator=self.object,
                                      **_mediator_values(form.cleaned_data))

    def get_success_url_for(self, result):
        return self.object.body.get_absolute_url()


class TemplateUploadView(_BodyFormView):
    """The body's own Word template for its agreements; checked before it is kept (only the
    variables of the agreement, nothing that could run code)."""

    route_scope = RouteScope(MediationBody, "change", lookup="pk")
    form_class = TemplateForm
    template_name = "disputes/template_upload.html"
    title = _("Agreement template")
    success_message = _("The template was saved; new agreements of this body use it.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["variables"] = sorted(documents.TEMPLATE_VARIABLES)
        return context

    def perform(self, form):
        upload = form.cleaned_data["template"]
        return services.set_agreement_template(actor=self.request.user, body=self.object,
                                               data=upload.read(), filename=upload.name)


class TemplateDownloadView(ZhiliView):
    """The body's template (`?default=1`: the platform's default, to start from)."""

    route_scope = RouteScope(MediationBody, "view", lookup="pk")

    def get(self, request, pk):
        body = self.object
        if body.agreement_template and not request.GET.get("default"):
            try:
                handle = body.agreement_template.open("rb")
            except FileNotFoundError:
                raise Http404 from None
            filename = f"{body.org.short_name or body.org.name} {_t('agreement template')}.docx"
        else:
            handle = documents.DEFAULT_TEMPLATE.open("rb")
            filename = f"{_t('Default agreement template')}.docx"
        response = FileResponse(handle, as_attachment=True, filename=filename,
                                content_type=documents.CONTENT_TYPES["docx"])
        response["X-Content-Type-Options"] = "nosniff"
        return response
