"""Area import (CSV UTF-8/GB18030, XLSX; dry run; all-or-nothing) and export."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhili.areas.models import Area
from zhili.core import codes, tabular
from zhili.core.models import Job

pytestmark = pytest.mark.django_db

GOOD = (
    "代码,名称,层级,上级代码,社区类型,城乡分类\n"
    "320612001003,新城社区,village,320612001,老旧小区,111\n"
    "320612001003001,第1网格,网格,320612001003,,\n"
    "320612001001,东市社区(更名),village,320612001,,\n"
)


def upload(client, content: bytes, name="areas.csv", dry_run=False, django_capture=None):
    data = {"file": SimpleUploadedFile(name, content), "dry_run": "on" if dry_run else ""}
    if not dry_run:
        data.pop("dry_run")
    response = client.post("/areas/import/", data)
    assert response.status_code == 302, response.content[:500]
    return Job.objects.latest("id")


@pytest.fixture
def admin_client(client_for, personas, django_capture_on_commit_callbacks):
    client = client_for(personas["district_admin"])

    class Wrapped:
        def post(self, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(*args, **kwargs)

        def get(self, *args, **kwargs):
            return client.get(*args, **kwargs)

    return Wrapped()


def test_dry_run_reports_and_writes_nothing(admin_client, world):
    job = upload(admin_client, GOOD.encode("utf-8"), dry_run=True)
    assert job.status == "succeeded", job.message
    assert job.result["created"] == 2 and job.result["updated"] == 1
    assert job.result["dry_run"] is True
    assert not Area.objects.filter(code=codes.pad("320612001003")).exists()


def test_import_gb18030_creates_and_updates(admin_client, world):
    job = upload(admin_client, GOOD.encode("gb18030"))
    assert job.result["encoding"] == "gb18030"
    assert job.result["created"] == 2 and job.result["error_count"] == 0
    community = Area.objects.get(code=codes.pad("320612001003"))
    assert community.community_type == "old_estate" and community.urban_rural == "111"
    assert Area.objects.get(code=codes.pad("320612001003001")).parent == community
    world.village_a1.refresh_from_db()
    assert world.village_a1.name == "东市社区(更名)"


def test_any_bad_row_writes_nothing_and_lists_every_problem(admin_client, world):
    bad = GOOD + (
        "320613001002,越权社区,village,320613001,,\n"  # outside the district admin's reach
        "320612001004,,village,320612001,,\n"  # no name
        "320612009001,孤儿村,village,320612009,,\n"  # unknown parent
        "320612001003,重复,village,320612001,,\n"  # duplicate code in the file
        "32061200100x,坏码,village,320612001,,\n"  # not digits
        "320612001005,层级错,镇,320612001,,\n"  # wrong level for the code
    )
    job = upload(admin_client, bad.encode("utf-8"))
    result = job.result
    assert result["refused"] is True and result["created"] == 0
    by_row = {e["row"]: e for e in result["errors"]}
    assert set(by_row) == {5, 6, 7, 8, 9, 10}
    assert "outside your area" in by_row[5]["message"]
    assert by_row[6]["column"] == "name"
    assert "neither in the system nor earlier" in by_row[7]["message"]
    assert "row 2" in by_row[8]["message"]
    assert by_row[9]["column"] == "code"
    assert not Area.objects.filter(code=codes.pad("320612001003")).exists()


def test_xlsx_import(admin_client, world):
    rows = [["320612001006", "临江社区", "village", "320612001"]]
    data = tabular.write_xlsx(["code", "name", "level", "parent_code"], rows)
    job = upload(admin_client, data, name="areas.xlsx")
    assert job.result["created"] == 1, job.result
    assert Area.objects.filter(code=codes.pad("320612001006"), name="临江社区").exists()


def test_unreadable_file_is_a_clear_error(admin_client, world):
    job = upload(admin_client, b"code,name,level\n\xff\xfe\x81\x20")
    assert "neither UTF-8 nor GB18030" in job.result["file_error"]


def test_wrong_extension_is_refused_by_the_form(admin_client):
    response = admin_client.post("/areas/import/", {
        "file": SimpleUploadedFile("areas.pdf", b"%PDF")})
    assert response.status_code == 200 and b".csv or .xlsx" in response.content


def test_export_is_scoped_and_round_trips(client_for, personas, world):
    client = client_for(personas["town_admin"])
    response = client.get("/areas/export/?format=csv")
    text = response.content.decode("utf-8-sig")
    assert "金沙街道" in text and "第1网格" in text
    assert "兴东街道" not in text and "崇川区" not in text
    table = tabular.read_table(response.content, "x.csv")
    assert {r["code"] for _, r in table.rows} >= {"320612001", "320612001001001"}
    gb = client.get("/areas/export/?format=csv-gb18030").content
    assert "金沙街道".encode("gb18030") in gb
    xlsx = client.get("/areas/export/?format=xlsx").content
    assert tabular.read_table(xlsx, "x.xlsx").rows
