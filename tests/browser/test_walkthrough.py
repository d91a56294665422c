"""A real browser (Debian's chromium, driven by Playwright) through login → area tree → user
management, in the Chinese UI, against a live server."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures here
# are ordinary blocking calls, which is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("ZHILI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("ZHILI_REQUIRE_BROWSER"):
            pytest.fail(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def city(live_db, settings):
    from zhili.core.testing import World

    settings.LANGUAGE_CODE = "zh-hans"
    square = {"type": "Polygon",
              "coordinates": [[[120.8, 32.0], [120.9, 32.0], [120.9, 32.1], [120.8, 32.1],
                               [120.8, 32.0]]]}
    world = World()
    from zhili.areas.models import Area

    Area.objects.filter(pk=world.town_a1.pk).update(polygon=square)
    Area.objects.filter(pk=world.village_a1.pk).update(polygon=square)
    return world


def test_login_tree_and_user_management(browser, live_server, city):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(locale="zh-CN")
    page.set_default_timeout(30000)
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url

    page.fill("#id_username", "p.district_admin")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit] >> text=登录")
    page.wait_for_selector("text=用户名或密码错误")

    page.fill("#id_username", "p.district_admin")
    page.fill("#id_password", city.PASSWORD)
    page.click("button[type=submit] >> text=登录")
    page.wait_for_selector("[data-testid=area-summary]")
    assert "通州区" in page.inner_text("[data-testid=position-switcher]")

    page.click("nav >> text=区域树")
    tree = page.locator("[data-testid=area-tree]")
    tree.wait_for()
    assert "金沙街道" in tree.inner_text() and "崇川区" not in tree.inner_text()
    page.click(f"[data-testid=expand-{city.town_a1.pk}]")
    page.wait_for_selector("[data-testid=area-tree] >> text=东市社区")

    page.fill("input[name=q]", "东市")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=search-results] >> text=东市社区")
    page.click("[data-testid=search-results] >> text=东市社区")
    page.wait_for_selector("[data-testid=children] >> text=第1网格")
    page.wait_for_selector("[data-testid=area-map][data-features]")
    page.screenshot(path=str(ARTIFACTS / "area-detail.png"), full_page=True)

    page.click("nav >> text=用户")
    page.wait_for_selector("[data-testid=user-list]")
    page.click("text=新建用户")
    page.fill("#id_username", "zhao.liu")
    page.fill("#id_display_name", "赵六")
    page.fill("#id_password", "short")
    page.select_option("#id_role", label="网格员")
    page.select_option("#id_area", value=str(city.grid_a1b.pk))
    page.click("main button[type=submit]")
    page.wait_for_selector(".invalid-feedback")  # password rules, shown on the field
    page.fill("#id_password", "Grid#Worker2026")
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=positions] >> text=第2网格")
    assert "赵六" in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "user-detail.png"), full_page=True)

    page.click("[data-testid=user-menu]")
    page.click("text=退出登录")
    page.wait_for_selector("#id_username")
