"""A real browser through the registry's bulk import, in the Chinese UI: download the
template, upload a file with mistakes (GBK text, a wrong ID number, an unknown grid), read the
row-level problems, fix the file, check it again and import it."""

import csv
import io
import re

import pytest

from tests.browser.test_events import sign_in
from tests.browser.test_walkthrough import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

HEADER = ["所属网格或村(社区)", "公民身份号码", "姓名", "性别", "民族", "联系方式",
          "现住门(楼)详址"]


def id_number(birth="19900305", seq="123", region="320612"):
    from zhili.core.pii.validation import id_check_digit

    body = region + birth + seq
    return body + id_check_digit(body)


def gbk_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("gbk")


@pytest.fixture
def import_world(live_db, settings):
    from zhili.core.testing import World

    settings.LANGUAGE_CODE = "zh-hans"
    return World()


def upload_and_check(page, base, content: bytes, name: str):
    page.goto(f"{base}/people/import/")
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv",
                                             "buffer": content}])
    page.click("[data-testid=import-check]")
    page.wait_for_url(re.compile(r".*/people/import/jobs/\d+/$"))
    page.wait_for_selector("[data-testid=import-job][data-status=succeeded]")


def test_upload_with_errors_fix_and_import(browser, live_server, import_world):  # noqa: F811
    from zhili.core import pii
    from zhili.people.models import Person

    base = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    page = sign_in(browser, base, "p.town_admin", import_world.PASSWORD)

    page.goto(f"{base}/people/import/")
    with page.expect_download() as download:
        page.click("[data-testid=template-persons]")
    assert download.value.suggested_filename == "zhili-persons-template.xlsx"

    good, bad = id_number(seq="111"), "320612199003051230"
    rows = [["320612001001001", good, "张三", "男", "汉族", "13812345678", "东市路12号"],
            ["320612001001001", bad, "李四", "", "汉族", "", ""],
            ["东市社区/第9网格", id_number(seq="113"), "王五", "", "回族", "", ""]]
    upload_and_check(page, base, gbk_csv(rows), "人员.csv")
    errors = page.inner_text("[data-testid=row-errors]")
    assert "公民身份号码" in errors and "第9网格" in errors
    assert page.locator("[data-testid=row-errors] tbody tr").count() == 2
    assert page.locator("[data-testid=error-file]").is_visible()
    page.screenshot(path=str(ARTIFACTS / "people-import-errors.png"), full_page=True)
    assert Person.objects.count() == 0  # the check wrote nothing

    # The clerk fixes both rows and uploads the file again: no problems, then import.
    rows[1][1] = id_number(seq="112")
    rows[2][0] = "东市社区/第2网格"
    upload_and_check(page, base, gbk_csv(rows), "人员-改.csv")
    assert page.locator("[data-testid=row-errors]").count() == 0
    assert "3" in page.inner_text("[data-testid=import-summary]")
    page.click("[data-testid=import-now]")
    page.wait_for_url(re.compile(r".*/people/import/jobs/\d+/$"))
    page.wait_for_selector("[data-testid=imported]")
    page.screenshot(path=str(ARTIFACTS / "people-import-done.png"), full_page=True)

    assert Person.objects.count() == 3
    zhang = Person.objects.get(pii.lookup_q(Person, "id_number", good))
    assert zhang.phone == "13812345678" and zhang.history.count() == 1
    assert Person.objects.get(name="王五").area_code == "320612001001002"
