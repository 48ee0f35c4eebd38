"""In a real headless Chromium: a unit liaison reports a rectification with a photo from a
phone (390×844), and the office verifies it at a desktop (1366×768)."""

import os
from pathlib import Path

import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, MISSING_REASON, start_chromium
from tests.chromium import sign_in as chromium_sign_in
from tests.personas import PASSWORD

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots")
)
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING_REASON),
]


@pytest.fixture
def browser():
    driver = start_chromium(*SIZES["phone"])
    yield driver
    driver.quit()


def sign_in(browser, live_server, username):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.delete_all_cookies()
    # Password, then the two-factor step for the roles that need one (tests/chromium.py).
    chromium_sign_in(browser, live_server.url, username, PASSWORD)
    WebDriverWait(browser, 10).until(ec.url_to_be(f"{live_server.url}/"))


def shoot(browser, name):
    """A full-height screenshot (the window grows to the page, then returns)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width, height = browser.get_window_size().values()
    full = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, max(height, min(full + 140, 4000)))
    browser.save_screenshot(str(SHOTS / f"{name}.png"))
    browser.set_window_size(width, height)


def no_horizontal_scroll(browser):
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def gone(element):
    """A wait condition: the page holding ``element`` was replaced. Chromium sometimes answers
    a look at a detached node with a generic error instead of a stale-element one."""
    from selenium.common.exceptions import WebDriverException

    def check(_browser):
        try:
            element.is_enabled()
        except WebDriverException:
            return True
        return False

    return check


def click(browser, element):
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


@pytest.mark.django_db(transaction=True)
def test_liaison_reports_with_a_photo_on_a_phone_and_the_office_verifies(
    browser, live_server, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from civilaffairs.models import Attachment
    from rectification.models import Rectification
    from tests.personas import build_city
    from tests.rectification_data import issue, png_bytes

    city = build_city()
    order = issue(city, title="疏散通道堵塞", requirements="清理杂物，保持通道畅通。")
    photo = tmp_path / "after.png"
    photo.write_bytes(png_bytes((64, 48), "green"))
    wait = WebDriverWait(browser, 10)

    # The liaison, on a phone: to-do → the order → acknowledge → report with a photo.
    browser.set_window_size(*SIZES["phone"])
    sign_in(browser, live_server, "liaison_a")
    browser.get(f"{live_server.url}/rectification/todo/")
    item = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#todo-acknowledge .todo-item")))
    assert no_horizontal_scroll(browser)
    shoot(browser, "flow-1-liaison-todo-phone")
    # A touch target of a decent size.
    assert item.size["height"] >= 44
    click(browser, item)
    button = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "#step-acknowledge button[type=submit]"))
    )
    assert button.size["height"] >= 44 and no_horizontal_scroll(browser)
    shoot(browser, "flow-2-liaison-order-phone")
    click(browser, button)
    wait.until(gone(button))
    wait.until(ec.presence_of_element_located((By.ID, "step-submit")))
    order.refresh_from_db()
    assert order.state == "acknowledged"

    # Reporting without a photo is stopped on the phone itself, the typed note kept.
    browser.find_element(By.ID, "id_submit_note").send_keys("已清理通道杂物，照片附后。")
    click(browser, browser.find_element(By.CSS_SELECTOR, "#step-submit button[type=submit]"))
    missing = browser.find_element(By.CSS_SELECTOR, "#step-submit .evidence-picker")
    wait.until(
        lambda b: (
            missing.get_attribute("data-missing")
            in b.find_element(By.CSS_SELECTOR, "#step-submit .file-list").text
        )
    )
    assert browser.find_element(By.ID, "id_submit_note").get_attribute("value")
    order.refresh_from_db()
    assert order.state == "acknowledged"

    picker = browser.find_element(By.ID, "id_submit_files")
    assert picker.get_attribute("accept") == "image/*,application/pdf"
    camera = browser.find_element(By.ID, "id_submit_camera")
    assert camera.get_attribute("capture") == "environment"
    picker.send_keys(str(photo))
    wait.until(
        lambda b: "after.png" in b.find_element(By.CSS_SELECTOR, "#step-submit .file-list").text
    )
    shoot(browser, "flow-3-liaison-report-phone")
    send = browser.find_element(By.CSS_SELECTOR, "#step-submit button[type=submit]")
    click(browser, send)
    wait.until(gone(send))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".alert-success")))
    order.refresh_from_db()
    assert order.state == "submitted" and order.submitted_by == city["liaison_a"]
    evidence = Attachment.objects.get(object_id=order.pk, content_type__model="rectification")
    assert evidence.original_name == "after.jpg" and len(evidence.sha256) == 64
    assert "after.jpg" in browser.find_element(By.CSS_SELECTOR, ".timeline").text
    assert no_horizontal_scroll(browser)
    shoot(browser, "flow-4-liaison-reported-phone")

    # The office, at a desk: the to-do shows the report; verify it.
    browser.set_window_size(*SIZES["desktop"])
    sign_in(browser, live_server, "supervisor")
    browser.get(f"{live_server.url}/rectification/todo/")
    item = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#todo-verify .todo-item")))
    shoot(browser, "flow-5-office-todo-desktop")
    click(browser, item)
    image = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".photo-tile img")))
    # The evidence is really served to the office through the authenticated view.
    wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", image) == 64)
    shoot(browser, "flow-6-office-order-desktop")
    send = browser.find_element(By.CSS_SELECTOR, "#step-verify button[type=submit]")
    click(browser, send)
    wait.until(gone(send))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".alert-success")))
    order = Rectification.objects.get(pk=order.pk)
    assert order.state == "verified" and order.closed_by == city["supervisor"]
    shoot(browser, "flow-7-office-verified-desktop")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_every_order_page_at_desktop_and_phone_sizes(browser, live_server, size):
    """Screenshots of each new page for people to look at; none scrolls sideways."""
    import datetime as dt

    from django.utils import timezone
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from rectification.models import Rectification
    from tests.personas import build_city
    from tests.rectification_data import issue, step

    city = build_city()
    first = issue(city, title="疏散通道堵塞", requirements="清理杂物，保持通道畅通。")
    step(first, city["liaison_a"], "acknowledge")
    reported = issue(city, title="消防器材过期未更换", priority="urgent")
    step(reported, city["liaison_a"], "acknowledge")
    step(reported, city["liaison_a"], "submit", note="已更换全部灭火器")
    late = issue(city, title="值班记录缺失", deadline=timezone.localdate() + dt.timedelta(days=1))
    step(
        late,
        city["liaison_a"],
        "request_extension",
        note="需补充采购",
        new_deadline=late.deadline + dt.timedelta(days=14),
    )
    issue(city, title="床位设施老化", responsible_unit=city.inst_b, supervising_department=None)
    overdue = issue(city, title="应急预案未演练", working_days=3)
    # Moved into the past directly: the service refuses a past deadline, as it should.
    Rectification.objects.filter(pk=overdue.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=6)
    )
    browser.set_window_size(*SIZES[size])

    sign_in(browser, live_server, "liaison_a")
    pages = [
        ("home-liaison", "/"),
        ("todo-liaison", "/rectification/todo/"),
        ("order-acknowledged-liaison", f"/rectification/orders/{first.pk}/"),
        ("order-issued-liaison", f"/rectification/orders/{late.pk}/"),
    ]
    for name, url in pages:
        browser.get(f"{live_server.url}{url}")
        assert no_horizontal_scroll(browser), name
        shoot(browser, f"{name}-{size}")

    sign_in(browser, live_server, "office_head")
    pages = [
        ("home-office-head", "/"),
        ("todo-office-head", "/rectification/todo/"),
        ("order-list", "/rectification/orders/"),
        ("order-list-overdue-filter", "/rectification/orders/?overdue_level=yellow"),
        ("order-reported-office-head", f"/rectification/orders/{reported.pk}/"),
        ("order-extension-office-head", f"/rectification/orders/{late.pk}/"),
        ("order-issue", "/rectification/new/"),
    ]
    for name, url in pages:
        browser.get(f"{live_server.url}{url}")
        assert "Traceback" not in browser.page_source
        shoot(browser, f"{name}-{size}")
    # The state filter takes several states (checkboxes) and narrows the list through htmx.
    browser.get(f"{live_server.url}/rectification/orders/")
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-bs-target='#list-filters']")
    if toggle.is_displayed():
        click(browser, toggle)
        WebDriverWait(browser, 5).until(
            lambda b: (
                "show" in b.find_element(By.ID, "list-filters").get_attribute("class")
                and "collapsing" not in b.find_element(By.ID, "list-filters").get_attribute("class")
            )
        )
    click(browser, browser.find_element(By.ID, "id_state"))
    box = WebDriverWait(browser, 5).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "input.filter-check[value=submitted]"))
    )
    box.click()
    WebDriverWait(browser, 10).until(
        lambda b: first.title not in b.find_element(By.ID, "list-results").text
    )
    assert reported.title in browser.find_element(By.ID, "list-results").text
    assert "state=submitted" in browser.current_url
    shoot(browser, f"order-list-state-filter-{size}")
    # The issue form refuses an empty submission in Chinese, on the page.
    browser.get(f"{live_server.url}/rectification/new/")
    send = browser.find_element(By.CSS_SELECTOR, "form.order-form button[type=submit]")
    click(browser, send)
    WebDriverWait(browser, 10).until(gone(send))
    assert browser.find_elements(By.CSS_SELECTOR, ".invalid-feedback")
    shoot(browser, f"order-issue-errors-{size}")
    # The cancel step asks first, in a dialog.
    browser.get(f"{live_server.url}/rectification/orders/{first.pk}/")
    click(browser, browser.find_element(By.CSS_SELECTOR, "[data-bs-target='#confirm-cancel']"))
    WebDriverWait(browser, 5).until(ec.visibility_of_element_located((By.ID, "confirm-cancel")))
    browser.save_screenshot(str(SHOTS / f"order-cancel-confirm-{size}.png"))

    sign_in(browser, live_server, "leader")
    browser.get(f"{live_server.url}/rectification/todo/")
    shoot(browser, f"todo-leader-{size}")
