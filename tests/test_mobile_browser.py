"""The inspector's mobile PWA (/m/) in a real headless Chromium at phone size: it is opened once
online, then the whole visit is recorded offline (check-in, three items, two findings, two
photos, submit), synced when the network is back, and synced again without doubling anything.
"""

import os
import re
import time
from pathlib import Path

import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.personas import PASSWORD

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots")
)
INST_A = {"latitude": 23.12, "longitude": 113.26, "accuracy": 10}

USER_ID = "return document.body.dataset.userId"
# Copy the queued results, findings and photos aside in the app's own database… (A phone
# replays its check-in and submission only before what follows them in its queue.)
REPLAY_SAVE = """
const [userId, done] = arguments;
const open = indexedDB.open("wuwu-m-u" + userId);
open.onsuccess = () => {
  const db = open.result;
  const tx = db.transaction(["queue", "meta"], "readwrite");
  let count = 0;
  tx.objectStore("queue").getAll().onsuccess = (event) => {
    const rows = event.target.result.filter((row) => !["checkin", "submit"].includes(row.kind));
    count = rows.length;
    tx.objectStore("meta").put({key: "test-replay", value: rows});
  };
  tx.oncomplete = () => { db.close(); done(count); };
  tx.onerror = () => done(String(tx.error));
};
"""
# …and put them back in the queue, unchanged (same UUIDs, same content).
REPLAY_RESTORE = """
const [userId, done] = arguments;
const open = indexedDB.open("wuwu-m-u" + userId);
open.onsuccess = () => {
  const db = open.result;
  const tx = db.transaction(["queue", "meta"], "readwrite");
  let count = 0;
  tx.objectStore("meta").get("test-replay").onsuccess = (event) => {
    const rows = event.target.result.value;
    count = rows.length;
    for (const row of rows) {
      delete row.seq;
      Object.assign(row, {attempts: 0, status: "pending", lastError: ""});
      tx.objectStore("queue").add(row);
    }
    tx.objectStore("meta").delete("test-replay");
  };
  tx.oncomplete = () => { db.close(); done(count); };
  tx.onerror = () => done(String(tx.error));
};
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="Chromium/chromedriver not installed: browser tests skipped",
    ),
]


@pytest.fixture
def phone():
    driver = start_chromium(390, 844)
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


class Network:
    """Offline and back, through the DevTools protocol. The page's emulation does not reach the
    service worker (its fetches would still get through), so the worker's own target gets the
    same emulation over a second DevTools connection."""

    def __init__(self, driver):
        self.driver = driver
        self.workers = []

    def _conditions(self, offline):
        return {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

    def _worker_targets(self):
        import json
        import urllib.request

        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list", timeout=5) as answer:
            targets = json.load(answer)
        return [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "service_worker"]

    def _send(self, connection, method, params):
        import json

        self._id = getattr(self, "_id", 0) + 1
        connection.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(connection.recv())
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message

    def offline(self):
        import websocket

        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", self._conditions(True))
        urls = self._worker_targets()
        assert urls, "no service worker to take offline"
        for url in urls:
            connection = websocket.create_connection(url, timeout=10, suppress_origin=True)
            self._send(connection, "Network.enable", {})
            self._send(connection, "Network.emulateNetworkConditions", self._conditions(True))
            self.workers.append(connection)

    def online(self):
        for connection in self.workers:
            self._send(connection, "Network.emulateNetworkConditions", self._conditions(False))
            connection.close()
        self.workers = []
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", self._conditions(False))


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
def test_a_visit_recorded_offline_is_synced_exactly_once(phone, live_server, tmp_path):
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
            phone.execute_script(
                "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
            )
            try:
                element.click()
                return
            except (ElementClickInterceptedException, StaleElementReferenceException):
                if attempt == 4:
                    _shot(phone, "click-failed")
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
    network = Network(phone)
    network.offline()
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
    # The API answer comes from the service worker's cache (the last good response).
    cached = phone.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {'X-Wuwu-User': document.body.dataset.userId}})"
        ".then(r => r.json().then(j => done([r.status, r.headers.get('X-Wuwu-Cache'), j.id])),"
        " e => done(String(e)));",
        f"/api/v1/visits/{visit.pk}/",
    )
    assert cached == [200, "hit", visit.pk]

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

    phone.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({behavior: 'instant'})",
        f"item-{fail_item}",
    )
    _shot(phone, "checklist-offline")

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

    # Keep copies of the queued writes, to send them again after they have been applied (as a
    # phone does when an answer is lost on the way back).
    assert phone.execute_async_script(REPLAY_SAVE, phone.execute_script(USER_ID)) == 7

    # --- back online: sync ------------------------------------------------------------------
    network.online()
    wait.until(lambda d: d.execute_script("return navigator.onLine"))
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

    # --- the same writes again, same UUIDs: answered, not applied twice ----------------------
    assert phone.execute_async_script(REPLAY_RESTORE, phone.execute_script(USER_ID)) == 7
    phone.refresh()  # the app syncs on opening
    ready()
    WebDriverWait(phone, 60).until(lambda d: _counts(d)[0] == 0)
    assert _counts(phone) == (0, 0), _failed_text(phone)
    assert Visit.objects.filter(pk=visit.pk, state="submitted").count() == 1
    assert ItemResult.objects.filter(visit=visit).count() == 3
    assert Finding.objects.filter(visit=visit).count() == 2
    assert Photo.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_shell_needs_a_session_but_the_worker_and_manifest_do_not(client):
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
    assert 'data-csrf="' in html
    # No inline script: every <script> loads a file (CSP-ready).
    assert re.findall(r"<script\b[^>]*>", html)
    assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))


@pytest.mark.django_db(transaction=True)
def test_a_refused_write_is_shown_with_the_servers_message_and_can_be_discarded(phone, live_server):
    """The visit was checked in from another device meanwhile: the phone's check-in gets 409,
    is parked as failed with the server's Chinese message, and is discarded after a confirm."""
    import uuid

    from django.conf import settings
    from django.utils import translation
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from inspections.services import visit_checkin
    from tests.inspection_data import make_visit
    from tests.personas import build_city

    city = build_city()
    visit = make_visit(city)
    wait = WebDriverWait(phone, 20)
    phone.get(f"{live_server.url}/login/?next=/m/visits/{visit.pk}/")
    phone.find_element(By.NAME, "username").send_keys("inspector")
    phone.find_element(By.NAME, "password").send_keys(PASSWORD)
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#checklist .m-item")) == 3)
    phone.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]}
    )
    phone.execute_cdp_cmd("Emulation.setGeolocationOverride", INST_A)

    # Another phone of the same inspector checks in first.
    visit_checkin(
        actor=city["inspector"],
        visit=visit,
        latitude=23.12,
        longitude=113.26,
        client_uuid=uuid.uuid4(),
    )
    with translation.override(settings.LANGUAGE_CODE):
        expected = translation.gettext("This visit was already checked in from another device.")

    wait.until(ec.element_to_be_clickable((By.ID, "checkin-btn"))).click()
    WebDriverWait(phone, 30).until(lambda d: _counts(d) == (0, 1))
    phone.find_element(By.ID, "sync-status").click()
    failed = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#failed-list li")))
    assert expected in failed.text
    _shot(phone, "failed-item")

    failed.find_element(By.CSS_SELECTOR, "[data-action='discard']").click()
    wait.until(ec.visibility_of_element_located((By.ID, "confirm-dialog")))
    phone.find_element(By.ID, "confirm-cancel").click()  # cancelling keeps it
    assert _counts(phone) == (0, 1)
    phone.find_element(By.CSS_SELECTOR, "#failed-list [data-action='discard']").click()
    wait.until(ec.visibility_of_element_located((By.ID, "confirm-dialog")))
    phone.find_element(By.ID, "confirm-ok").click()
    wait.until(lambda d: _counts(d) == (0, 0))
    # The server's state shows: checked in (by the other device), results can be recorded.
    phone.find_element(By.ID, "sync-now").click()
    wait.until(
        lambda d: d.find_element(By.ID, "visit-state").get_attribute("data-state") == "in_progress"
    )
    assert phone.find_element(By.CSS_SELECTOR, ".m-item .m-seg-btn").is_enabled()
