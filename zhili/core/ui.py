"""Platform pages: home, health, background jobs and the audit log."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core import codes
from zhili.core.api import SELF, RouteScope
from zhili.core.models import AuditLog, Job, Notification
from zhili.core.views import ActionView, ListPageView, PageView, ZhiliView, public


@public
class HealthView(ZhiliView):
    """Liveness: the process answers."""

    def get(self, request):
        return JsonResponse({"status": "ok"})


@public
class ReadyView(ZhiliView):
    """Readiness: the database answers and no migration is pending."""

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as exc:  # any failure means "not ready", reported, never a 500
            return JsonResponse({"status": "unavailable", "error": type(exc).__name__},
                                status=503)
        if pending:
            return JsonResponse({"status": "migrations pending", "pending": len(pending)},
                                status=503)
        return JsonResponse({"status": "ready"})


@public
class MetricsView(ZhiliView):
    """Prometheus text metrics. Open to loopback, or to anyone presenting ZHILI_METRICS_TOKEN."""

    def get(self, request):
        from django.conf import settings

        from zhili.core.metrics import render

        token = settings.ZHILI_METRICS_TOKEN
        if token:
            allowed = request.headers.get("Authorization", "") == f"Bearer {token}"
        else:
            allowed = request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")
        if not allowed:
            return HttpResponse(status=403)
        return HttpResponse(render(), content_type="text/plain; version=0.0.4; charset=utf-8")


class HomeView(PageView):
    route_scope = SELF
    template_name = "core/home.html"
    title = _("Home")

    def get_context_data(self, **kwargs):
        from zhili.accounts.models import User
        from zhili.areas.choices import AreaLevel
        from zhili.areas.models import Area
        from zhili.orgs.models import Organisation

        context = super().get_context_data(**kwargs)
        user = self.request.user
        by_level = Area.objects.restrict(user).active().count_by_level()
        context["area_levels"] = [
            (label, by_level.get(value, 0)) for value, label in AreaLevel.choices
            if by_level.get(value)
        ]
        context["org_count"] = Organisation.objects.restrict(user).active().count()
        context["user_count"] = User.objects.restrict(user).people().filter(is_active=True).count()
        context["grid_count"] = by_level.get(AreaLevel.GRID, 0)
        position = user.active_position
        context["home_area"] = position.area if position else None
        return context


class JobListView(ListPageView):
    route_scope = RouteScope(Job, "view")
    template_name = "core/job_list.html"
    title = _("Background jobs")


class JobDetailView(PageView):
    route_scope = RouteScope(Job, "view", lookup="pk")
    template_name = "core/job_detail.html"
    title = _("Background job")

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return ["core/_job_progress.html"]
        return [self.template_name]

    def get_breadcrumbs(self):
        from django.urls import reverse

        return [(_("Background jobs"), reverse("core:jobs")), (str(self.object), None)]


class JobDownloadView(ZhiliView):
    route_scope = RouteScope(Job, "view", lookup="pk")

    def get(self, request, pk):
        job = self.object
        if not job.output_file:
            raise Http404
        return FileResponse(job.output_file.open("rb"), as_attachment=True,
                            filename=job.result.get("filename") or job.output_file.name)


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Target contains"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    action = forms.CharField(label=_("Action starts with"), required=False)
    area = forms.CharField(label=_("Area code"), required=False)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean_area(self):
        value = self.cleaned_data["area"].strip()
        if value and (not value.isdigit() or len(value) > codes.CODE_WIDTH):
            raise forms.ValidationError(_("An area code may contain digits only."))
        return value


class AuditListView(ListPageView):
    route_scope = RouteScope(AuditLog, "view")
    template_name = "core/audit_list.html"
    htmx_template_name = "core/_audit_rows.html"
    title = _("Audit log")

    def filter_queryset(self, queryset):
        form = self.filter_form = AuditFilterForm(self.request.GET or None)
        if not form.is_valid():
            return queryset
        data = form.cleaned_data
        if data["q"]:
            queryset = queryset.filter(target_repr__icontains=data["q"])
        if data["actor"]:
            queryset = queryset.filter(actor_name__icontains=data["actor"])
        if data["action"]:
            queryset = queryset.filter(action__startswith=data["action"])
        if data["area"]:
            queryset = queryset.filter(codes.range_q("area_code", data["area"]))
        if data["date_from"]:
            queryset = queryset.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            queryset = queryset.filter(created_at__date__lt=data["date_to"] + dt.timedelta(1))
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


class AuditDetailView(PageView):
    route_scope = RouteScope(AuditLog, "view", lookup="pk")
    template_name = "core/audit_detail.html"
    title = _("Audit record")




class NotificationListView(ListPageView):
    route_scope = RouteScope(Notification, "view")
    template_name = "core/notifications.html"
    title = _("Notifications")


class NotificationOpenView(ActionView):
    """Mark read and go where the notification points."""

    route_scope = RouteScope(Notification, "view", lookup="pk")

    def act(self, request):
        Notification.objects.filter(pk=self.object.pk, read_at__isnull=True).update(
            read_at=timezone.now())

    def get_redirect_url(self):
        url = self.object.url
        return url if url.startswith("/") and not url.startswith("//") else "/notifications/"


class NotificationReadAllView(ActionView):
    route_scope = RouteScope(Notification, "view")

    def act(self, request):
        Notification.objects.in_scope(request.user).unread().update(read_at=timezone.now())

    def get_redirect_url(self):
        return "/notifications/"
