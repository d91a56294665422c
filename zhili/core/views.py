"""Base UI views. Every Zhili page is one of these, so scoping is applied before any view code
runs: `route_scope` says which model and action a page needs and, for object pages, which URL
parameter names the object. Out of scope → 404, in scope without the action → 403.

Subclasses never fetch their own objects: `get_object`/`get_queryset` are final here, and a
subclass narrows a list with `filter_queryset`. A system check refuses URL patterns whose view
does not declare a RouteScope.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from zhili.core.api import PUBLIC, RouteScope
from zhili.core.services import ServiceError

FINAL_METHODS = ("get_object", "get_queryset", "dispatch")


class ZhiliView(View):
    route_scope: RouteScope | None = None
    http_method_names = ["get", "post", "head", "options"]
    title: str = ""
    object = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in FINAL_METHODS:
            if name in cls.__dict__ and cls.__module__.startswith("zhili.") and \
                    not cls.__module__.startswith("zhili.core."):
                raise TypeError(f"{cls.__qualname__} must not override {name}(): scoping is "
                                "applied by ZhiliView (use filter_queryset / self.object)")

    def dispatch(self, request, *args, **kwargs):
        spec = self.route_scope
        if spec is None:
            raise TypeError(f"{type(self).__qualname__} declares no route_scope")
        if not spec.public:
            if not request.user.is_authenticated or getattr(request.user, "is_service", False):
                return redirect_to_login(request.get_full_path())
            self.object = spec.enforce(request.user, kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs(self) -> list[tuple[str, str | None]]:
        """[(label, url or None)], shown above the page title."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("title", self.title)
        context["breadcrumbs"] = self.get_breadcrumbs()
        context["object"] = self.object
        return context


class PageView(ZhiliView, TemplateView):
    """A page showing one scoped object (or none)."""


class ListPageView(ZhiliView, TemplateView):
    """A paginated list restricted to the user's scope for `route_scope.action`."""

    paginate_by = 50
    htmx_template_name: str | None = None

    def filter_queryset(self, queryset):
        return queryset

    def get_queryset(self):
        spec = self.route_scope
        return self.filter_queryset(
            spec.model._default_manager.all().restrict(self.request.user, spec.action)
        )

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.htmx_template_name and \
                not self.request.htmx.boosted:
            return [self.htmx_template_name]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        paginator = Paginator(self.get_queryset(), self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(page=page, rows=page.object_list, paginator=paginator,
                       querystring=query.urlencode())
        return context


class ServiceFormView(ZhiliView, FormView):
    """A form whose valid data goes to one service call (`perform`). A refused write shows its
    field-level messages on the form; nothing is half-written because services are atomic."""

    success_message: str = ""

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url_for(result))

    def get_success_url_for(self, result):
        if hasattr(result, "get_absolute_url"):
            return result.get_absolute_url()
        return self.get_success_url()


class ActionView(ZhiliView):
    """A button (POST only) that calls one service on the page's object, then goes back.

    A refusal becomes an error message on the next page; nothing is half-done.
    """

    http_method_names = ["post"]
    success_message: str = ""

    def act(self, request):
        raise NotImplementedError

    def get_redirect_url(self) -> str:
        return self.object.get_absolute_url()

    def post(self, request, *args, **kwargs):
        try:
            self.act(request)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            if self.success_message:
                messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_redirect_url())


def public(view_class):
    view_class.route_scope = PUBLIC
    return view_class


def id_url(name: str):
    """`reverse(name, args=[pk])` as a function of pk, at the cost of one reverse(): a list
    page links each of its rows, and reverse() costs tens of microseconds a call."""
    marker = "987654321"
    head, tail = reverse(name, args=[int(marker)]).split(marker)
    return lambda pk: f"{head}{pk}{tail}"
