"""Exports: a job, scoped to the exporter, masked, watermarked, audited."""

import io
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from zhili.core.models import AuditLog, Job
from zhili.people import services
from zhili.people.tests.conftest import id_number

pytestmark = [pytest.mark.django_db, pytest.mark.urls("zhili.people.tests.test_import_urls")]


@pytest.fixture
def registry(world):
    superuser = world.personas["superuser"].user
    inside = services.create_person(actor=superuser, area=world.grid_a1, data={
        "name": "张三丰", "id_number": id_number(), "phone": "13812345678",
        "current_address": "江苏省南通市通州区金沙街道东市路12号3幢501室"}).obj
    outside = services.create_person(actor=superuser, area=world.grid_b1, data={
        "name": "王五", "id_number": id_number(seq="777"), "phone": "13900001111"}).obj
    services.create_house(actor=superuser, area=world.grid_a1, data={
        "number": "3-501", "address": "东市路12号3幢501室", "is_rental": True,
        "owner_name": "钱七", "owner_id_number": id_number("19700101", "333"),
        "owner_phone": "13700001111", "owner_address": "工农路1号", "rental_use": "02",
        "hazard": "00"})
    services.create_unit(actor=superuser, area=world.grid_a1, kind="enterprise", data={
        "uscc": "91110000600037341L", "name": "测试公司", "address": "东市路1号",
        "legal_rep_name": "周九", "legal_rep_id_number": id_number("19800101", "555"),
        "legal_rep_phone": "13300005555", "attention": "02", "category": "01",
        "hazard": "00"})
    return inside, outside


def export(client, callbacks, **data):
    with callbacks(execute=True):
        response = client.post("/people/export/", {"records": "persons", "format": "xlsx",
                                                   **data})
    assert response.status_code == 302, response.content[:400]
    job = Job.objects.latest("id")
    assert response["Location"] == f"/jobs/{job.pk}/" and job.status == "succeeded", job.message
    return job, b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)


def test_persons_export_is_scoped_masked_watermarked_and_audited(
        world, registry, client_for, django_capture_on_commit_callbacks):
    admin = world.personas["town_admin"].user
    client = client_for(admin)
    page = client.get("/people/export/?records=houses&q=张&kind=floating")
    assert page.status_code == 200
    assert b'name="kind" value="floating"' in page.content  # the list's filter, carried
    assert b'value="houses" selected' in page.content
    job, content = export(client, django_capture_on_commit_callbacks)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)\
        .to_python()
    mark, header, data = rows[0][0], rows[1], rows[2:]
    assert admin.username in mark and job.result["trace"] in mark
    assert len(data) == 1  # 王五 lives outside the exporter's reach
    record = dict(zip(header, data[0], strict=True))
    number = id_number()
    assert record["ID number"] == number[:4] + "*" * 10 + number[-4:]
    assert record["Contact phone"] == "138****5678"
    assert record["Name"] == "张**"
    assert "501" not in record["Current address"]
    text = content.decode("latin-1")
    for secret in (number, "13812345678", "张三丰"):
        assert secret.encode("utf-8").decode("latin-1") not in text
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<oddHeader>" in sheet and admin.username in sheet
        assert job.result["trace"] in archive.read("docProps/custom.xml").decode()
    audit = AuditLog.objects.get(action="people.export")
    assert audit.actor_id == admin.pk and audit.changes["count"] == 1
    assert audit.changes["trace"] == job.result["trace"]


def test_csv_export_has_a_comment_line_and_masks_a_searched_number_in_the_audit(
        world, registry, client_for, django_capture_on_commit_callbacks):
    admin = world.personas["town_admin"].user
    client = client_for(admin)
    number = id_number()
    job, content = export(client, django_capture_on_commit_callbacks, format="csv-gb18030",
                          q=number)
    text = content.decode("gb18030")
    first, header = text.splitlines()[:2]
    assert first.startswith("# ") and admin.username in first and job.result["trace"] in first
    assert "ID number" in header and job.result["rows"] == 1
    assert number not in text
    audit = AuditLog.objects.get(action="people.export")
    assert audit.changes["filters"]["q"] == number[:4] + "*" * 10 + number[-4:]
    assert number not in str(audit.changes)


def test_houses_and_units_exports(world, registry, client_for,
                                  django_capture_on_commit_callbacks):
    client = client_for(world.personas["town_admin"].user)
    _job, content = export(client, django_capture_on_commit_callbacks, records="houses",
                           format="csv")
    text = content.decode("utf-8-sig")
    assert "3-501" in text and "13700001111" not in text and ",钱*," in text
    _job, content = export(client, django_capture_on_commit_callbacks, records="units",
                           format="csv")
    text = content.decode("utf-8-sig")
    assert "91110000600037341L" in text and "13300005555" not in text


def test_filters_narrow_the_export(world, registry, client_for,
                                   django_capture_on_commit_callbacks):
    client = client_for(world.personas["superuser"].user)
    job, _content = export(client, django_capture_on_commit_callbacks)
    assert job.result["rows"] == 2
    job, _content = export(client, django_capture_on_commit_callbacks,
                           area=str(world.county_b.pk))
    assert job.result["rows"] == 1
    job, _content = export(client, django_capture_on_commit_callbacks, status="inactive")
    assert job.result["rows"] == 0


def test_export_needs_the_permission(world, registry, client_for):
    worker = client_for(world.personas["grid_worker"].user)
    assert worker.post("/people/export/", {"records": "persons", "format": "xlsx"}) \
        .status_code == 403


def test_api_export(world, registry, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.personas["town_admin"].user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/people/bulk/exports",
                               {"kind": "persons", "format": "csv", "filters": {"q": "张"}},
                               content_type="application/json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job_id"])
    assert job.result["rows"] == 1
    download = client.get(f"/api/v1/people/bulk/jobs/{job.pk}/file")
    assert b"".join(download.streaming_content).decode("utf-8-sig").startswith("# ")
