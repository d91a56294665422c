"""The unmask page: `/pii/unmask/<app_label>/<model_name>/<pk>/` for any record with personal
data (see `zhili.core.unmask`). GET shows the form (the form alone for htmx requests, to load
into a dialog or in place), POST grants and returns to `next` or the record's page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django import forms
from django.apps import apps
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.core import unmask
from zhili.core.api import RouteScope
from zhili.core.models import UnmaskPurpose
from zhili.core.views import ServiceFormView


@dataclass(frozen=True)
class UnmaskRouteScope(RouteScope):
    """The record's model comes from the URL, so the check does too: 404 for a model without
    personal data or a record out of scope, 403 without its unmask permission.

    `model` names one unmaskable model as the example the permission battery walks with; the
    enforcement itself never reads it."""

    def enforce(self, user, path_kwargs: dict):
        model = unmask.resolve_model(path_kwargs.get("app_label", ""),
                                     path_kwargs.get("model_name", ""))
        return unmask.authorise(user, model, path_kwargs.get("pk"))


@lru_cache(maxsize=1)
def example_scope() -> UnmaskRouteScope:
    for model in apps.get_models():
        if unmask.has_own_unmask_permission(model) and unmask.authority_model(model) is model \
                and unmask.unmaskable_fields(model):
            return UnmaskRouteScope(
                model, "unmask", lookup="pk",
                params=(("app_label", model._meta.app_label),
                        ("model_name", model._meta.model_name)))
    raise LookupError("no model declares an unmask_<model> permission")


class _LazyScope:
    # Read when routes are walked (apps ready), not when this module is imported.
    def __get__(self, instance, owner):
        return example_scope()


class UnmaskForm(forms.Form):
    fields = forms.MultipleChoiceField(label=gettext_lazy("Show these fields"),
                                        widget=forms.CheckboxSelectMultiple)
    purpose_category = forms.ChoiceField(label=gettext_lazy("Kind of purpose"),
                                         choices=UnmaskPurpose.choices,
                                         initial=UnmaskPurpose.VERIFICATION)
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"), max_length=unmask.PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why you need the data in clear, e.g. the case or visit it is "
                               "for. Recorded in the audit log."))
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [(name, unmask.field_label(model, name))
                                          for name in unmask.unmaskable_fields(model)]


class UnmaskView(ServiceFormView):
    route_scope = _LazyScope()
    template_name = "core/unmask.html"
    form_class = UnmaskForm
    title = gettext_lazy("Show personal data")

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "model": type(self.object)}
        requested = [n for n in self.request.GET.get("fields", "").split(",") if n]
        kwargs["initial"] = {
            **kwargs.get("initial", {}), "next": self.request.GET.get("next", ""),
            "fields": requested or list(unmask.unmaskable_fields(type(self.object)))}
        return kwargs

    def get_breadcrumbs(self):
        # The record by kind and number: its str() may be a name, itself personal data.
        label = f"{type(self.object)._meta.verbose_name} #{self.object.pk}"
        url = self.object.get_absolute_url() if hasattr(self.object, "get_absolute_url") \
            else None
        return [(label, url), (self.title, None)]

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return ["core/unmask_form.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            minutes=unmask.grant_minutes(), record=self.object,
            record_type=type(self.object)._meta.verbose_name,
            action_url=self.request.path, back_url=self._back_url(),
            active=[unmask.field_label(type(self.object), name) for name in
                    sorted(unmask.active_fields(self.request.user, self.object))])
        return context

    def perform(self, form):
        data = form.cleaned_data
        return unmask.grant_unmask(
            actor=self.request.user, obj=self.object, fields=data["fields"],
            purpose=data["purpose"], category=data["purpose_category"])

    def _back_url(self, candidate: str | None = None) -> str:
        candidate = candidate or self.request.POST.get("next") or self.request.GET.get("next")
        if candidate and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={self.request.get_host()},
                require_https=self.request.is_secure()):
            return candidate
        if hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        return reverse("core:home")

    def form_valid(self, form):
        from zhili.core.services import ServiceError

        try:
            granted = self.perform(form)
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self.form_invalid(form)
        until = formats.time_format(timezone.localtime(granted.expires_at), "H:i")
        messages.success(self.request, _("Personal data shown in clear until %(time)s. This "
                                         "was recorded with your purpose.") % {"time": until})
        target = self._back_url(form.cleaned_data.get("next"))
        if getattr(self.request, "htmx", False):
            # htmx would otherwise swap the whole target page into the dialog.
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
