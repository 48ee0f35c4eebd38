"""The inspector's mobile PWA (/m/) in a real headless Chromium at phone size: it is opened once
online, then the whole visit is recorded offline (check-in, three items, two findings, two
photos, submit), synced when the network is back, and synced again without doubling anything.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from django.urls import include, path

from tests.personas import PASSWORD

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots")
)
INST_A = {"latitude": 23.12, "longitude": 113.26, "accuracy": 10}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="Chromium/chromedriver not installed: browser tests skipped",
    ),
]

# Used only while the project's URLconf does not route /m/ yet (see the `mobile_urls` fixture).
urlpatterns = [
    path("m/", include("inspections.mobile_urls")),
    path("", include("civilaffairs.urls")),
]


@pytest.fixture
def mobile_urls(settings):
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("mobile-home")
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__


@pytest.fixture
def phone():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(390, 844)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _jpeg(target: Path, colour: str, size=(2400, 1800)) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 150):
        draw.line([(i, 0), (size[0] - i, size[1])], fill="white", width=12)
    draw.ellipse([300, 300, 900, 900], fill="black")
    image.save(target, "JPEG", quality=90)
    return target


def _network(driver, *, offline: bool):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"mobile-{name}.png"))


def _counts(driver):
    badge = driver.find_element("id", "sync-status")
    return int(badge.get_attribute("data-pending")), int(badge.get_attribute("data-failed"))


def _failed_text(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#failed-list li'))"
        ".map(li => li.textContent.trim()).join(' | ')"
    )


@pytest.mark.django_db(transaction=True)
def test_a_visit_recorded_offline_is_synced_exactly_once(phone, live_server, mobile_urls, tmp_path):
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from inspections.models import Finding, ItemResult, Photo, Visit
    from tests.inspection_data import make_visit
    from tests.personas import build_city

    city = build_city()
    visit = make_visit(city)
    items = list(
        visit.templates.get().items.order_by("position", "id").values_list("id", flat=True)
    )
    assert len(items) == 3
    pass_1, fail_item, pass_3 = items
    photo_1 = _jpeg(tmp_path / "fail-item.jpg", "#8a3b2c")
    photo_2 = _jpeg(tmp_path / "adhoc.jpg", "#2c5e8a", size=(1200, 2000))
    wait = WebDriverWait(phone, 20)

    def css(selector):
        return phone.find_element(By.CSS_SELECTOR, selector)

    def click(selector):
        # The page re-renders as the queue changes: scroll, then click, again if it moved.
        for attempt in range(5):
            element = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector)))
            phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            try:
                element.click()
                return
            except (ElementClickInterceptedException, StaleElementReferenceException):
                if attempt == 4:
                    raise
                time.sleep(0.3)

    def ready():
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))

    # --- online: sign in, open the app, let the service worker install, open the visit ---
    phone.get(f"{live_server.url}/login/")
    phone.find_element(By.NAME, "username").send_keys("inspector")
    phone.find_element(By.NAME, "password").send_keys(PASSWORD)
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/login/" not in d.current_url)

    phone.get(f"{live_server.url}/m/")
    ready()
    wait.until(
        lambda d: d.execute_script(
            "return !!(navigator.serviceWorker && navigator.serviceWorker.controller"
            " && navigator.serviceWorker.controller.state === 'activated')"
        )
    )
    card = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f"a[data-visit-id='{visit.pk}']"))
    )
    assert city.inst_a.name in card.text
    _shot(phone, "list")
    card.click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#checklist .m-item")) == 3)
    assert css("#checkin-btn").is_displayed()
    # The shell and the visit are cached by the service worker; the visit is in IndexedDB.
    wait.until(
        lambda d: d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all([caches.match('/m/'),"
            " caches.open('wuwu-m-api-u' + document.body.dataset.userId)"
            "   .then(c => c.match(arguments[0], {ignoreVary: true}))])"
            ".then(([shell, api]) => done(!!shell && !!api), () => done(false));",
            f"{live_server.url}/api/v1/visits/{visit.pk}/",
        )
    )
    _shot(phone, "visit-online")

    # --- offline ----------------------------------------------------------------------------
    _network(phone, offline=True)
    phone.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]}
    )
    phone.execute_cdp_cmd("Emulation.setGeolocationOverride", INST_A)
    # A reload without network still opens the visit: the shell from the service worker,
    # the visit from IndexedDB.
    phone.refresh()
    ready()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#checklist .m-item")) == 3)
    assert css("#offline-banner").is_displayed()

    click("#checkin-btn")
    wait.until(lambda d: "±10" in d.find_element(By.ID, "checkin-info").text)
    assert css("#visit-state").get_attribute("data-state") == "in_progress"

    click(f"#item-{pass_1} .m-seg-btn[data-outcome='pass']")
    note = css(f"#item-{fail_item} .m-item-note")
    note.send_keys("两具灭火器压力不足")
    click(f"#item-{fail_item} .m-seg-btn[data-outcome='fail']")
    click(f"#item-{pass_3} .m-seg-btn[data-outcome='na']")
    wait.until(lambda d: d.find_element(By.ID, "checklist-progress").text == "3/3")

    # The failed item's problem, with a photo.
    click(f"#item-{fail_item} .m-item-record")
    wait.until(ec.visibility_of_element_located((By.ID, "finding-form")))
    assert css("#f-title").get_attribute("value") == "灭火器在有效期内且压力正常"
    click("#f-disposition input[value='rectify_by_deadline']")
    click("#f-save")
    checklist_finding = "#findings-list .m-finding[data-source='checklist']"
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, checklist_finding)))
    css(f"{checklist_finding} .m-finding-photo-input").send_keys(str(photo_1))
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{checklist_finding} .m-thumb")) == 1
    )

    # An ad-hoc problem, transferred to a department, with a photo.
    click("#add-finding")
    wait.until(ec.visibility_of_element_located((By.ID, "finding-form")))
    css("#f-title").send_keys("楼道堆放杂物")
    Select(css("#f-bottom-line")).select_by_value("safety")
    Select(css("#f-category")).select_by_value("safety_hazard")
    click("#f-severity .m-seg-btn[data-value='serious']")
    css("#f-description").send_keys("二楼东侧楼道堆放纸箱，影响疏散")
    css("#f-location").send_keys("二楼东侧楼道")
    click("#f-disposition input[value='transferred']")
    Select(css("#f-department")).select_by_value(str(city.dept_relief.pk))
    _shot(phone, "finding-form")
    click("#f-save")
    adhoc_finding = "#findings-list .m-finding[data-source='adhoc']"
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, adhoc_finding)))
    css(f"{adhoc_finding} .m-finding-photo-input").send_keys(str(photo_2))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{adhoc_finding} .m-thumb")) == 1)

    css("#visit-summary").send_keys("整体运行正常，发现问题两处")
    click("#submit-btn")
    wait.until(ec.visibility_of_element_located((By.ID, "confirm-dialog")))
    _shot(phone, "submit-confirm")
    click("#confirm-ok")
    wait.until(
        lambda d: d.find_element(By.ID, "visit-state").get_attribute("data-state") == "submitted"
    )

    # Everything is on the phone, nothing on the server: 1 check-in + 3 results + 2 findings
    # + 2 photos + 1 submission.
    wait.until(lambda d: _counts(d) == (9, 0))
    assert css("#visit-unsynced").is_displayed()
    assert len(phone.find_elements(By.CSS_SELECTOR, ".m-thumb[data-local='pending']")) == 2
    _shot(phone, "offline-recorded")
    assert Visit.objects.get(pk=visit.pk).state == "planned"
    assert not ItemResult.objects.filter(visit=visit).exists()
    assert not Finding.objects.filter(visit=visit).exists()
    assert not Photo.objects.exists()

    # Reloading offline keeps the queue and the local view.
    phone.refresh()
    ready()
    wait.until(lambda d: _counts(d) == (9, 0))
    wait.until(
        lambda d: d.find_element(By.ID, "visit-state").get_attribute("data-state") == "submitted"
    )

    # --- back online: sync ------------------------------------------------------------------
    _network(phone, offline=False)
    click("#sync-now")
    try:
        WebDriverWait(phone, 90).until(lambda d: _counts(d)[0] == 0)
    finally:
        _shot(phone, "synced")
    assert _counts(phone) == (0, 0), _failed_text(phone)

    visit = Visit.objects.get(pk=visit.pk)
    assert visit.state == "submitted"
    assert visit.summary == "整体运行正常，发现问题两处"
    assert float(visit.checkin_latitude) == pytest.approx(23.12)
    assert visit.checkin_accuracy_m == 10
    assert not visit.checkin_far
    outcomes = dict(ItemResult.objects.filter(visit=visit).values_list("item_id", "outcome"))
    assert outcomes == {pass_1: "pass", fail_item: "fail", pass_3: "na"}
    assert ItemResult.objects.get(visit=visit, item_id=fail_item).note == "两具灭火器压力不足"
    findings = {f.source: f for f in Finding.objects.filter(visit=visit)}
    assert len(findings) == 2 and Finding.objects.filter(visit=visit).count() == 2
    adhoc, derived = findings["adhoc"], findings["checklist"]
    assert adhoc.title == "楼道堆放杂物"
    assert (adhoc.severity, adhoc.disposition, adhoc.state) == (
        "serious",
        "transferred",
        "transferred",
    )
    assert adhoc.transferred_to == city.dept_relief
    assert derived.item_result.item_id == fail_item
    assert (derived.disposition, derived.state) == ("rectify_by_deadline", "open")
    photos = list(Photo.objects.filter(visit=visit).order_by("id"))
    assert len(photos) == 2
    assert {p.finding_id for p in photos} == {adhoc.pk, derived.pk}
    for photo in photos:
        assert photo.client_uuid is not None
        assert photo.captured_at is not None
        assert float(photo.latitude) == pytest.approx(23.12)
        assert max(photo.width, photo.height) <= 1600  # downscaled on the phone

    # --- sync again and reload: nothing doubles --------------------------------------------
    click("#sync-now")
    WebDriverWait(phone, 30).until(
        lambda d: d.find_element(By.ID, "sync-status").get_attribute("data-phase") == "idle"
    )
    phone.refresh()
    ready()
    WebDriverWait(phone, 30).until(
        lambda d: d.find_element(By.ID, "sync-status").get_attribute("data-phase") == "idle"
    )
    wait.until(
        lambda d: d.find_element(By.ID, "visit-state").get_attribute("data-state") == "submitted"
    )
    assert _counts(phone) == (0, 0)
    assert not css("#visit-unsynced").is_displayed()
    assert len(phone.find_elements(By.CSS_SELECTOR, "#findings-list .m-finding")) == 2
    _shot(phone, "after-resync")
    assert Visit.objects.filter(pk=visit.pk, state="submitted").count() == 1
    assert ItemResult.objects.filter(visit=visit).count() == 3
    assert Finding.objects.filter(visit=visit).count() == 2
    assert Photo.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_shell_needs_a_session_but_the_worker_and_manifest_do_not(client, mobile_urls):
    from tests.personas import build_city

    response = client.get("/m/visits/1/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/m/visits/1/"

    sw = client.get("/m/sw.js")
    assert sw.status_code == 200
    assert sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/m/"
    assert sw["Cache-Control"] == "no-cache"
    body = sw.content.decode()
    assert "@@CONFIG@@" not in body and '"/jsi18n/"' in body and '"/m/"' in body

    manifest = client.get("/m/manifest.webmanifest")
    data = manifest.json()
    assert data["name"] == "五五督查·现场检查"
    assert (data["start_url"], data["display"], data["theme_color"]) == (
        "/m/",
        "standalone",
        "#1d4f91",
    )
    assert {icon["sizes"] for icon in data["icons"]} == {"any", "192x192", "512x512"}

    build_city()
    client.login(username="inspector", password=PASSWORD)
    page = client.get("/m/visits/1/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-csrf="' in html and "<script>" not in html
