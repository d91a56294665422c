from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from zhili.accounts import services
from zhili.accounts.forms import (
    ApiKeyForm,
    LoginForm,
    OwnPasswordForm,
    PasswordResetForm,
    PositionFields,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from zhili.accounts.middleware import SESSION_POSITION
from zhili.accounts.models import ApiKey, Position, User
from zhili.areas.models import Area
from zhili.core.api import SELF, RouteScope
from zhili.core.scoping import can
from zhili.core.services import ServiceError
from zhili.core.views import (
    ActionView,
    ListPageView,
    PageView,
    ServiceFormView,
    ZhiliView,
    public,
)
from zhili.orgs.models import Organisation


@public
class LoginView(ServiceFormView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    title = _("Sign in")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle"] = self.request.GET.get("idle") == "1"
        return context

    def form_valid(self, form):
        try:
            user = services.sign_in(username=form.cleaned_data["username"],
                                    password=form.cleaned_data["password"])
        except services.LoginRefused as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            target = reverse("core:home")
        return redirect(target or reverse("core:home"))


@public
class LogoutView(ZhiliView):
    http_method_names = ["post"]

    def post(self, request):
        services.record_logout(user=request.user)
        logout(request)
        return redirect("accounts:login")


class SwitchPositionView(ZhiliView):
    route_scope = SELF
    http_method_names = ["post"]

    def post(self, request):
        try:
            position = services.switch_position(user=request.user,
                                                position_id=request.POST.get("position"))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            request.session[SESSION_POSITION] = position.pk
            messages.success(request, _("You now act as %(p)s.") % {"p": position})
        return redirect("core:home")


class OwnPasswordView(ServiceFormView):
    route_scope = SELF
    template_name = "accounts/form.html"
    form_class = OwnPasswordForm
    title = _("Change my password")
    success_message = _("Your password was changed.")

    def perform(self, form):
        from django.contrib.auth import update_session_auth_hash

        user = services.change_own_password(user=self.request.user, **form.cleaned_data)
        update_session_auth_hash(self.request, user)
        return user

    def get_success_url_for(self, result):
        return reverse("core:home")


def _choices_for(user):
    areas = Area.objects.restrict(user).active().order_by("code")
    orgs = Organisation.objects.restrict(user).active().order_by("name")
    return {"areas": areas, "orgs": orgs}


class UserListView(ListPageView):
    route_scope = RouteScope(User, "view")
    template_name = "accounts/user_list.html"
    title = _("Users")

    def filter_queryset(self, queryset):
        queryset = queryset.people()
        form = self.filter_form = UserFilterForm(self.request.GET or None)
        if form.is_valid():
            data = form.cleaned_data
            if data["q"]:
                queryset = queryset.filter(Q(username__icontains=data["q"]) |
                                           Q(display_name__icontains=data["q"]))
            if data["role"]:
                queryset = queryset.filter(positions__role=data["role"],
                                           positions__is_active=True).distinct()
            if not data["inactive"]:
                queryset = queryset.filter(is_active=True)
        else:
            queryset = queryset.filter(is_active=True)
        return queryset.order_by("username")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(context["rows"])
        positions: dict[int, list] = {}
        for position in Position.objects.active().filter(user__in=rows).select_related(
                "role", "area", "org"):
            positions.setdefault(position.user_id, []).append(position)
        for row in rows:
            row.position_list = positions.get(row.pk, [])
        context.update(rows=rows, filter_form=self.filter_form,
                       can_add=can(self.request.user, User, "add"))
        return context


class UserDetailView(PageView):
    route_scope = RouteScope(User, "view", lookup="pk")
    template_name = "accounts/user_detail.html"

    def get_breadcrumbs(self):
        return [(_("Users"), reverse("accounts:users")), (str(self.object), None)]

    def get_context_data(self, **kwargs):
        from zhili.core.models import AuditLog

        context = super().get_context_data(**kwargs)
        user, me = self.object, self.request.user
        context.update(
            title=str(user),
            positions=user.positions.select_related("role", "area", "org").order_by(
                "-is_active", "id"),
            can_change=can(me, User, "change"),
            can_grant=can(me, Position, "add"),
            can_end=can(me, Position, "change"),
            recent=AuditLog.objects.restrict(me).filter(actor=user)[:10]
            if can(me, AuditLog, "view") else [],
        )
        return context


class UserCreateView(ServiceFormView):
    route_scope = RouteScope(User, "add")
    template_name = "accounts/form.html"
    form_class = UserCreateForm
    title = _("New user")
    success_message = _("The user was created.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **_choices_for(self.request.user)}

    def get_breadcrumbs(self):
        return [(_("Users"), reverse("accounts:users")), (self.title, None)]

    def perform(self, form):
        return services.create_user(actor=self.request.user, **form.cleaned_data)


class UserEditView(ServiceFormView):
    route_scope = RouteScope(User, "change", lookup="pk")
    template_name = "accounts/form.html"
    form_class = UserEditForm
    success_message = _("The user was saved.")

    def get_initial(self):
        return {"display_name": self.object.display_name, "email": self.object.email}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(user)s") % {"user": self.object}
        return context

    def get_breadcrumbs(self):
        return [(_("Users"), reverse("accounts:users")),
                (str(self.object), self.object.get_absolute_url()), (_("Edit"), None)]

    def perform(self, form):
        return services.update_user(actor=self.request.user, user=self.object,
                                    **form.cleaned_data)


class UserPasswordView(ServiceFormView):
    route_scope = RouteScope(User, "change", lookup="pk")
    template_name = "accounts/form.html"
    form_class = PasswordResetForm
    success_message = _("The password was reset.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Reset the password of %(user)s") % {"user": self.object}
        return context

    def get_breadcrumbs(self):
        return [(_("Users"), reverse("accounts:users")),
                (str(self.object), self.object.get_absolute_url()), (_("Password"), None)]

    def perform(self, form):
        return services.reset_password(actor=self.request.user, user=self.object,
                                       password=form.cleaned_data["password"])


class UserActivateView(ActionView):
    route_scope = RouteScope(User, "change", lookup="pk")

    def act(self, request):
        services.set_user_active(actor=request.user, user=self.object,
                                 active=request.POST.get("active") == "1")


class PositionGrantView(ServiceFormView):
    route_scope = RouteScope(User, "view", lookup="pk", requires=((Position, "add"),))
    template_name = "accounts/form.html"
    form_class = PositionFields
    success_message = _("The position was granted.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **_choices_for(self.request.user)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Grant a position to %(user)s") % {"user": self.object}
        return context

    def get_breadcrumbs(self):
        return [(_("Users"), reverse("accounts:users")),
                (str(self.object), self.object.get_absolute_url()), (_("New position"), None)]

    def perform(self, form):
        services.grant_position(actor=self.request.user, user=self.object, **form.cleaned_data)
        return self.object


class PositionEndView(ActionView):
    route_scope = RouteScope(Position, "change", lookup="pk")
    success_message = _("The position was ended.")

    def act(self, request):
        services.end_position(actor=request.user, position=self.object)

    def get_redirect_url(self):
        return self.object.user.get_absolute_url()


class ApiKeyCreateView(ServiceFormView):
    route_scope = RouteScope(Organisation, "view", lookup="pk", requires=((ApiKey, "add"),))
    template_name = "accounts/apikey_form.html"
    form_class = ApiKeyForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("New API key for %(org)s") % {"org": self.object}
        return context

    def get_breadcrumbs(self):
        return [(_("Organisations"), reverse("orgs:list")),
                (self.object.name, self.object.get_absolute_url()), (_("New API key"), None)]

    def form_valid(self, form):
        try:
            key, raw = services.create_api_key(actor=self.request.user, org=self.object,
                                               name=form.cleaned_data["name"])
        except ServiceError as exc:
            exc.apply_to_form(form)
            return self.form_invalid(form)
        # Shown once, in this response only; the database keeps a hash.
        return self.render_to_response(self.get_context_data(form=form, created=key, raw=raw))


class ApiKeyRevokeView(ActionView):
    route_scope = RouteScope(ApiKey, "change", lookup="pk")
    success_message = _("The API key was revoked.")

    def act(self, request):
        services.revoke_api_key(actor=request.user, key=self.object)

    def get_redirect_url(self):
        return self.object.org.get_absolute_url()
