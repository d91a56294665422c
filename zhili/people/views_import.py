"""Pages of the registry's bulk import and export (thin: the work is in `imports` and
`exports`, run as background jobs).

Import is two steps, so nothing is written before the user has seen the problems: upload →
a check job (dry run) whose page lists the problems row by row and offers the error file →
"import" starts the real job on the same file, all-or-nothing or the valid rows only, skipping
or updating persons already registered.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhili.core.api import RouteScope
from zhili.core.models import Job
from zhili.core.services import ServiceError
from zhili.core.views import PageView, ServiceFormView, ZhiliView
from zhili.people import exports
from zhili.people.imports import columns as cols
from zhili.people.imports import jobs
from zhili.people.imports.persons import ON_DUPLICATE, SKIP, UPDATE
from zhili.people.imports.templates import write_template
from zhili.people.models import Person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_CHOICES = [("persons", _("Persons")), ("houses", _("Houses and rentals")),
                ("buildings", _("Buildings")), ("units", _("Units"))]
DUPLICATE_CHOICES = [(SKIP, _("Skip them (keep what is registered)")),
                     (UPDATE, _("Update them with the non-empty cells of the file"))]


def max_upload_mb() -> int:
    return int(getattr(settings, "ZHILI_IMPORT_MAX_MB", max(settings.ZHILI_MAX_UPLOAD_MB, 200)))


class ImportOptionsForm(forms.Form):
    strict = forms.BooleanField(
        label=_("All or nothing"), required=False, initial=True,
        help_text=_("If any row is wrong, nothing is written. Untick to import the valid rows "
                    "and leave the wrong ones out."))
    on_duplicate = forms.ChoiceField(label=_("Persons or records already registered"),
                                     choices=DUPLICATE_CHOICES, initial=SKIP,
                                     widget=forms.RadioSelect)


class ImportForm(ImportOptionsForm):
    kind = forms.ChoiceField(label=_("What to import"), choices=KIND_CHOICES,
                             initial="persons")
    file = forms.FileField(label=_("File (Excel .xlsx, or CSV in UTF-8 or GB18030/GBK)"))
    field_order = ["kind", "file", "strict", "on_duplicate"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_mb()
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(n)d MB: split it.")
                                        % {"n": limit})
        if not upload.name.lower().endswith((".csv", ".xlsx", ".xls", ".txt")):
            raise forms.ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
        return upload


def _crumbs(*tail):
    return [(_("Persons"), reverse("people:persons")), *tail]


class ImportView(ServiceFormView):
    route_scope = RouteScope(Person, "import")
    template_name = "people/import.html"
    form_class = ImportForm
    title = _("Import into the registry")

    def get_breadcrumbs(self):
        return _crumbs((self.title, None))

    def get_initial(self):
        kind = self.request.GET.get("kind")
        return {"kind": kind} if kind in cols.kinds() else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["kinds"] = KIND_CHOICES
        context["max_mb"] = max_upload_mb()
        context["recent"] = Job.objects.restrict(self.request.user).filter(
            kind=jobs.JOB_KIND).order_by("-created_at")[:10]
        return context

    def perform(self, form):
        data = form.cleaned_data
        return jobs.start_import(actor=self.request.user, kind=data["kind"],
                                 upload_name=data["file"].name, upload=data["file"],
                                 dry_run=True, strict=data["strict"],
                                 on_duplicate=data["on_duplicate"])

    def get_success_url_for(self, job):
        return reverse("people:import_job", args=[job.pk])


class ImportTemplateView(ZhiliView):
    """The Excel template of one class (?kind=persons|houses|buildings|units)."""

    route_scope = RouteScope(Person, "import")

    def get(self, request):
        kind = request.GET.get("kind", "persons")
        if kind not in cols.kinds():
            kind = "persons"
        response = HttpResponse(write_template(kind), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="zhili-{kind}-template.xlsx"'
        return response


class ImportJobView(PageView):
    """A check or import job: progress, then the outcome, the row errors and the next step."""

    route_scope = RouteScope(Job, "view", lookup="pk")
    template_name = "people/import_job.html"

    def get(self, request, *args, **kwargs):
        if self.object.kind != jobs.JOB_KIND:
            return HttpResponseRedirect(reverse("core:job_detail", args=[self.object.pk]))
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return ["people/import_progress.html"]
        return [self.template_name]

    def get_breadcrumbs(self):
        return _crumbs((_("Import into the registry"), reverse("people:import")),
                       (str(self.object), None))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        params = job.params or {}
        result = job.result or {}
        context["title"] = job.title
        context["params"] = params
        context["r"] = result
        context["kind_label"] = dict(KIND_CHOICES).get(params.get("kind"), "")
        can_import = job.finished and params.get("dry_run") and not result.get("file_error") \
            and result.get("valid", 0) > 0
        context["can_import"] = can_import
        if can_import:
            strict = bool(params.get("strict", True)) and not result.get("rejected")
            context["options"] = ImportOptionsForm(initial={
                "strict": strict, "on_duplicate": params.get("on_duplicate", SKIP)})
        return context


class ImportConfirmView(ZhiliView):
    """Import the file of a finished check, with the options chosen on its page."""

    route_scope = RouteScope(Job, "view", lookup="pk", requires=((Person, "import"),))
    http_method_names = ["post"]

    def post(self, request, pk):
        check = self.object
        form = ImportOptionsForm(request.POST)
        if check.kind != jobs.JOB_KIND or not (check.params or {}).get("dry_run") or \
                not check.finished or not form.is_valid():
            return HttpResponseRedirect(reverse("core:job_detail", args=[check.pk])
                                        if check.kind != jobs.JOB_KIND
                                        else reverse("people:import_job", args=[check.pk]))
        data = form.cleaned_data
        params = check.params
        try:
            job = jobs.start_import(actor=request.user, kind=params.get("kind", "persons"),
                                    upload_name=params.get("file") or "upload",
                                    source_job=check, dry_run=False, strict=data["strict"],
                                    on_duplicate=data["on_duplicate"])
        except ServiceError as exc:
            from django.contrib import messages

            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("people:import_job", args=[check.pk]))
        return HttpResponseRedirect(reverse("people:import_job", args=[job.pk]))


class ExportForm(forms.Form):
    # Not "kind": the persons list already uses that name for its residency filter.
    records = forms.ChoiceField(label=_("What to export"), choices=[
        ("persons", _("Persons")), ("houses", _("Houses and rentals")), ("units", _("Units"))])
    format = forms.ChoiceField(label=_("Format"), choices=[
        ("xlsx", _("Excel (.xlsx)")), ("csv", _("CSV (UTF-8)")),
        ("csv-gb18030", _("CSV (GB18030, for older Excel)"))], initial="xlsx")


class ExportView(ServiceFormView):
    """Start an export of a list: link to it with `?records=persons|houses|units` and the
    list's own query string (its filters: q, area, kind, status, rental, unit_kind)."""

    route_scope = RouteScope(Person, "export")
    template_name = "people/export.html"
    form_class = ExportForm
    title = _("Export from the registry")

    def get_breadcrumbs(self):
        return _crumbs((self.title, None))

    def get_initial(self):
        records = self.request.GET.get("records")
        return {"records": records} if records in exports.MODELS else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        context["filters"] = exports.clean_filters(None, source)
        return context

    def perform(self, form):
        data = form.cleaned_data
        return exports.start_export(actor=self.request.user, kind=data["records"],
                                    fmt=data["format"], filters=self.request.POST)

    def get_success_url_for(self, job):
        return reverse("core:job_detail", args=[job.pk])


__all__ = ["ON_DUPLICATE", "ExportView", "ImportConfirmView", "ImportJobView", "ImportView",
           "ImportTemplateView"]
