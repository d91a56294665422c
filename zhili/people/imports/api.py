"""Bulk import and export of the registry over the API (mounted at /api/v1/people/bulk).

Upload a file → 202 with a job id (a check when `dry_run`, the default); read the job here
(or at /api/v1/jobs/{id}) for its progress and result — the row-level problems of a check
are in `result.errors`; import a checked file with POST …/imports/{id}/import. Exports are jobs
as well; their file (and an import's error file) is downloaded from …/jobs/{id}/file.
"""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Schema, Status
from ninja.files import UploadedFile

from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.models import Job
from zhili.core.services import ServiceError, field_error
from zhili.people import exports
from zhili.people.imports import columns as cols
from zhili.people.imports import jobs
from zhili.people.imports.persons import SKIP
from zhili.people.imports.templates import write_template
from zhili.people.models import Person

router = ScopedRouter(tags=["people: import and export"])


class JobRef(Schema):
    job_id: int
    status_url: str
    page_url: str


class ImportJobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    percent: int
    params: dict
    result: dict = Field(description="The check's or import's outcome: counts, `errors` "
                                      "(row, column, message), `file_error`, `refused` …")
    has_file: bool


def _ref(job, page: str) -> dict:
    return {"job_id": job.pk, "status_url": f"/api/v1/people/bulk/imports/{job.pk}"
            if page == "import" else f"/api/v1/jobs/{job.pk}",
            "page_url": f"/people/import/jobs/{job.pk}/" if page == "import"
            else f"/jobs/{job.pk}/"}


def _import_job(job) -> Job:
    if job.kind != jobs.JOB_KIND:
        # The caller's own job, of another kind: not missing, just not this.
        raise ServiceError("not_an_import", _("This job is not an import."), status=409)
    return job


@router.post("/imports", scope=RouteScope(Person, "import"), response={202: JobRef},
             summary="Upload a file to check (dry run, the default) or import")
def upload(request, file: File[UploadedFile], kind: Form[str] = "persons",
           dry_run: Form[bool] = True, strict: Form[bool] = True,
           on_duplicate: Form[str] = SKIP):
    from zhili.people.views_import import max_upload_mb

    if kind not in cols.kinds():
        raise field_error("kind", _("Choose persons, houses, buildings or units."))
    if file.size > max_upload_mb() * 1024 * 1024:
        raise field_error("file", _("The file is larger than %(n)d MB: split it.")
                          % {"n": max_upload_mb()})
    job = jobs.start_import(actor=request.auth, kind=kind, upload_name=file.name or "upload",
                            upload=file, dry_run=dry_run, strict=strict,
                            on_duplicate=on_duplicate)
    return Status(202, _ref(job, "import"))


@router.get("/imports/{int:pk}", scope=RouteScope(Job, "view", lookup="pk"),
            response=ImportJobOut, summary="A check or import: progress and outcome")
def import_detail(request, pk: int):
    job = _import_job(request.scoped_object)
    return {"id": job.pk, "kind": job.kind, "title": job.title, "status": job.status,
            "percent": job.percent, "params": job.params, "result": job.result,
            "has_file": bool(job.output_file)}


class ImportOptions(Schema):
    strict: bool = True
    on_duplicate: str = Field(SKIP, pattern="^(skip|update)$")


@router.post("/imports/{int:pk}/import",
             scope=RouteScope(Job, "view", lookup="pk", requires=((Person, "import"),)),
             response={202: JobRef}, summary="Import the file of a finished check")
def import_checked(request, pk: int, options: ImportOptions = None):
    check = _import_job(request.scoped_object)
    options = options or ImportOptions()
    if not (check.params or {}).get("dry_run") or not check.finished:
        raise ServiceError("not_checked", _("Import the file of a finished check (dry run)."),
                           status=409)
    job = jobs.start_import(actor=request.auth, kind=check.params.get("kind", "persons"),
                            upload_name=check.params.get("file") or "upload",
                            source_job=check, dry_run=False, strict=options.strict,
                            on_duplicate=options.on_duplicate)
    return Status(202, _ref(job, "import"))


@router.get("/template", scope=RouteScope(Person, "import"), response={200: None},
            summary="The Excel template of a class (?kind=persons|houses|buildings|units)")
def template(request, kind: str = "persons"):
    if kind not in cols.kinds():
        raise ServiceError("not_found", _("No template of that name."), status=404)
    response = HttpResponse(write_template(kind), content_type=
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="zhili-{kind}-template.xlsx"'
    return response


class ExportIn(Schema):
    kind: str = Field("persons", pattern="^(persons|houses|units)$")
    format: str = Field("xlsx", pattern="^(xlsx|csv|csv-gb18030)$")
    filters: dict[str, str] = Field(default_factory=dict, description=(
        "The list filters: q, area (an area id), status (''/inactive/all), kind (residency), "
        "rental ('1'), unit_kind"))


@router.post("/exports", scope=RouteScope(Person, "export"), response={202: JobRef},
             summary="Export persons, houses or units (masked, watermarked, audited)")
def export(request, payload: ExportIn = None):
    payload = payload or ExportIn()
    job = exports.start_export(actor=request.auth, kind=payload.kind, fmt=payload.format,
                               filters=payload.filters)
    return Status(202, _ref(job, "export"))


@router.get("/jobs/{int:pk}/file", scope=RouteScope(Job, "view", lookup="pk"),
            response={200: None}, summary="Download a job's file (export, error file)")
def job_file(request, pk: int):
    job = request.scoped_object
    if not job.output_file:
        raise ServiceError("not_found", _("This job has no file."), status=404)
    return FileResponse(job.output_file.open("rb"), as_attachment=True,
                        filename=job.result.get("filename") or job.output_file.name)
