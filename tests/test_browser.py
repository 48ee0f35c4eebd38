"""In a real headless Chromium: sign in through the form at desktop and phone sizes."""

import os
from pathlib import Path

import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.chromium import sign_in as chromium_sign_in
from tests.personas import PASSWORD

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots")
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="Chromium/chromedriver not installed: browser tests skipped",
    ),
]

SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def browser():
    driver = start_chromium(*SIZES["desktop"])
    yield driver
    driver.quit()


def sign_in(browser, live_server, username):
    # Password, then the two-factor step where the user needs one (tests/chromium.py); it
    # returns once the sign-in has landed, before the caller navigates away.
    chromium_sign_in(browser, live_server.url, username, PASSWORD)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_supervisor_signs_in_and_browses_the_directory(browser, live_server, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.personas import build_city

    city = build_city()
    browser.set_window_size(*SIZES[size])
    SHOTS.mkdir(parents=True, exist_ok=True)

    browser.get(f"{live_server.url}/login/")
    assert "登录" in browser.page_source
    browser.save_screenshot(str(SHOTS / f"login-{size}.png"))

    sign_in(browser, live_server, "supervisor")
    WebDriverWait(browser, 10).until(ec.url_to_be(f"{live_server.url}/"))
    assert city["supervisor"].real_name in browser.page_source
    browser.save_screenshot(str(SHOTS / f"home-{size}.png"))

    browser.get(f"{live_server.url}/org/")
    WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".list-table"))
    )
    assert city.inst_b.name in browser.page_source
    # Filtering by search narrows the list through htmx without a page load. On a phone the
    # filters are folded away behind a button.
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-bs-target='#list-filters']")
    if toggle.is_displayed():
        toggle.click()
        WebDriverWait(browser, 5).until(ec.visibility_of_element_located((By.NAME, "q")))
    search = browser.find_element(By.NAME, "q")
    search.send_keys("甲区东街")
    WebDriverWait(browser, 10).until(
        lambda b: city.inst_b.name not in b.find_element(By.ID, "list-results").text
    )
    assert city.inst_a.name in browser.find_element(By.ID, "list-results").text
    browser.save_screenshot(str(SHOTS / f"org-list-{size}.png"))

    browser.get(f"{live_server.url}/org/tree/")
    browser.save_screenshot(str(SHOTS / f"org-tree-{size}.png"))
    browser.get(f"{live_server.url}/org/{city.inst_a.pk}/")
    assert "138****8000" in browser.page_source  # the contact phone, masked
    browser.save_screenshot(str(SHOTS / f"org-detail-{size}.png"))


@pytest.mark.django_db(transaction=True)
def test_wrong_password_gets_a_chinese_error(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.personas import build_city

    build_city()
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.NAME, "username").send_keys("supervisor")
    browser.find_element(By.NAME, "password").send_keys("wrong-password")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The click submits the form; wait for the answer rather than race it.
    alert = (
        WebDriverWait(browser, 10)
        .until(ec.presence_of_element_located((By.CSS_SELECTOR, ".alert-danger")))
        .text
    )
    assert "用户名或密码" in alert
