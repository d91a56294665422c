"""The import pages and API: upload → check (nothing written) → row errors and the error file
→ import; permissions."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from zhili.core.models import Job
from zhili.people.models import Person
from zhili.people.tests.conftest import id_number
from zhili.people.tests.test_import_persons import GRID, row, table

pytestmark = [pytest.mark.django_db, pytest.mark.urls("zhili.people.tests.test_import_urls")]


def upload(client, callbacks, content, name="persons.csv", **fields):
    data = {"kind": "persons", "strict": "on", "on_duplicate": "skip",
            "file": SimpleUploadedFile(name, content), **fields}
    with callbacks(execute=True):
        response = client.post("/people/import/", data)
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.latest("id")
    assert response["Location"] == f"/people/import/jobs/{job.pk}/"
    return job


def workbook_rows(content: bytes, index: int = 0) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(index)\
        .to_python()


def test_check_then_fix_then_import(world, client_for, django_capture_on_commit_callbacks):
    admin = world.personas["town_admin"].user
    client = client_for(admin)
    assert client.get("/people/import/").status_code == 200
    good, bad = row(id_number(seq="111"), name="张三"), row("320612199003051230", name="李四")
    check = upload(client, django_capture_on_commit_callbacks, table(good, bad))
    assert check.status == "succeeded" and check.params["dry_run"] is True
    assert check.result["submitted"] == 2 and check.result["rejected"] == 1
    assert Person.objects.count() == 0  # a check writes nothing

    page = client.get(f"/people/import/jobs/{check.pk}/").content.decode()
    assert 'data-testid="row-errors"' in page and "李四" not in page  # rows, not names
    assert "公民身份号码" in page and 'data-testid="error-file"' in page
    partial = client.get(f"/people/import/jobs/{check.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"import-job" in partial.content

    # The error file: the bad row as it was, with what to fix; fixed, it uploads again.
    errors = b"".join(client.get(f"/jobs/{check.pk}/download/").streaming_content)
    rows = workbook_rows(errors)
    assert rows[1][0] == 3 and "公民身份号码 (B)" in rows[1][1]
    assert rows[1][2:4] == [GRID, "320612199003051230"]
    problems = workbook_rows(errors, 1)
    assert problems[1][0] == 3

    # All-or-nothing refuses the file; "valid rows only" imports the good row.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/people/import/jobs/{check.pk}/import/",
                               {"strict": "on", "on_duplicate": "skip"})
    refused = Job.objects.latest("id")
    assert response["Location"] == f"/people/import/jobs/{refused.pk}/"
    assert refused.result["refused"] is True and Person.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/people/import/jobs/{check.pk}/import/", {"on_duplicate": "skip"})
    partial_import = Job.objects.latest("id")
    assert partial_import.result["created"] == 1 and Person.objects.count() == 1

    # Fix the row in the error file and upload that file: its extra columns are ignored.
    fixed = table(["", "", *row(id_number(seq="112"), name="李四")],
                  header=["原行号", "错误说明", "所属网格或村(社区)", "公民身份号码", "姓名",
                          "性别", "出生日期", "民族", "联系方式", "户籍门(楼)详址",
                          "现住门(楼)详址", "学历"])
    again = upload(client, django_capture_on_commit_callbacks, fixed)
    assert again.result["rejected"] == 0 and again.result["created"] == 1
    page = client.get(f"/people/import/jobs/{again.pk}/").content.decode()
    assert 'data-testid="import-now"' in page


def test_template_download(world, client_for, settings):
    client = client_for(world.personas["town_admin"].user)
    response = client.get("/people/import/template/?kind=houses")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "House number" in workbook_rows(response.content)[0]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get("/people/import/template/?kind=houses")
    assert "房屋编号" in workbook_rows(chinese.content)[0]


def test_permissions(world, client_for):
    worker = client_for(world.personas["grid_worker"].user)  # collects, does not import
    assert worker.get("/people/import/").status_code == 403
    assert worker.get("/people/import/template/").status_code == 403
    assert worker.get("/people/export/").status_code == 403


def test_someone_elses_job_is_not_found(world, client_for, django_capture_on_commit_callbacks):
    admin = world.personas["town_admin"].user
    check = upload(client_for(admin), django_capture_on_commit_callbacks, table(row()))
    other = client_for(world.personas["district_admin"].user)
    assert other.get(f"/people/import/jobs/{check.pk}/").status_code == 404
    assert other.post(f"/people/import/jobs/{check.pk}/import/", {}).status_code == 404


def test_api_upload_check_and_import(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.personas["town_admin"].user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/people/bulk/imports", {
            "file": SimpleUploadedFile("p.csv", table(row(), row("123", name="李四")))})
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    detail = client.get(f"/api/v1/people/bulk/imports/{job_id}").json()
    assert detail["status"] == "succeeded" and detail["params"]["dry_run"] is True
    assert detail["result"]["errors"][0]["row"] == 3 and detail["has_file"]
    assert Person.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/people/bulk/imports/{job_id}/import",
                               {"strict": False, "on_duplicate": "skip"},
                               content_type="application/json")
    assert response.status_code == 202, response.content
    assert Person.objects.count() == 1
    errors = client.get(f"/api/v1/people/bulk/jobs/{job_id}/file")
    assert errors.status_code == 200
    template = client.get("/api/v1/people/bulk/template?kind=persons")
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_api_refuses_without_permission(world, client_for):
    worker = client_for(world.personas["grid_worker"].user)
    response = worker.post("/api/v1/people/bulk/imports",
                           {"file": SimpleUploadedFile("p.csv", table(row()))})
    assert response.status_code == 403
    assert worker.post("/api/v1/people/bulk/exports", {},
                       content_type="application/json").status_code == 403


def test_import_page_lists_recent_imports(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.personas["town_admin"].user)
    check = upload(client, django_capture_on_commit_callbacks, table(row()), name="第一批.csv")
    page = client.get("/people/import/").content.decode()
    assert re.search(rf'/people/import/jobs/{check.pk}/">[^<]*第一批', page)


def _bulk_api_routes():
    from zhili.core.routes import Route
    from zhili.people.imports.api import router

    return [Route("api", "/api/v1/people/bulk/" + path.strip("/").replace("{", "<")
                  .replace("}", ">"), path, tuple(methods), scope, router)
            for methods, path, scope in router.scoped_operations]


@pytest.mark.parametrize("route", _bulk_api_routes(), ids=lambda r: f"{r.methods}:{r.path}")
def test_bulk_api_routes_pass_the_permission_battery(route, world, client):
    """The permission battery's own check, on the bulk API as mounted for these tests (the
    project battery walks it once the project's API includes the router)."""
    from zhili.core.tests.test_permission_battery import test_route as battery

    battery(route, world, client)
