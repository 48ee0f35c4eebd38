"""In a real headless Chromium: a leader opens the dashboard, clicks a figure, sees the list
behind it with the same count, exports it, and downloads a brief PDF of the same view."""

import threading
import time

import pytest

from tests.chromium import CHROMEDRIVER, CHROMIUM, MISSING_REASON, start_chromium
from tests.test_rectification_browser import SIZES, click, gone, shoot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING_REASON),
]


def _wait_for_file(folder, suffix, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file downloaded into {folder}: {list(folder.iterdir())}")


@pytest.mark.django_db(transaction=True)
def test_leader_drills_down_exports_and_downloads_a_brief(live_server, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from civilaffairs import jobs
    from tests.flash_data import finding
    from tests.personas import build_city

    city = build_city()
    for target, severity in [
        (city.inst_a, "major"),
        (city.inst_a, "general"),
        (city.inst_b, "serious"),
    ]:
        finding(city, target=target, severity=severity)

    # The worker: a queued job runs in a thread of its own, as a Celery worker would.
    workers = []

    def worker(job_id):
        thread = threading.Thread(target=jobs.run_job, args=(job_id,))
        thread.start()
        workers.append(thread)

    monkeypatch.setattr(jobs, "_enqueue", worker)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser = start_chromium(*SIZES["desktop"])
    try:
        browser.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        wait = WebDriverWait(browser, 20)
        sign_in(browser, live_server, "leader")
        browser.get(f"{live_server.url}/reports/dashboard/?preset=year")
        card = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-figure=findings]")))
        shown = int(card.find_element(By.CSS_SELECTOR, ".stat-value").text)
        assert shown == 3
        wait.until(
            lambda b: b.execute_script("return !!document.querySelector('[data-chart] svg')")
        )
        shoot(browser, "dashboard-leader-desktop")
        click(browser, card)
        wait.until(gone(card))
        assert "/inspections/findings/" in browser.current_url
        rows = browser.find_elements(By.CSS_SELECTOR, "#list-results tbody tr")
        assert len(rows) == shown
        export = browser.find_element(By.PARTIAL_LINK_TEXT, "导出")
        click(browser, export)
        ledger = _wait_for_file(downloads, ".xlsx")
        import openpyxl

        assert openpyxl.load_workbook(ledger).active.max_row == shown + 1

        browser.get(f"{live_server.url}/reports/dashboard/?preset=year")
        button = wait.until(ec.element_to_be_clickable((By.ID, "brief-create")))
        click(browser, button)
        wait.until(gone(button))
        assert "/downloads/" in browser.current_url
        download = WebDriverWait(browser, 90).until(
            ec.element_to_be_clickable((By.ID, "job-download"))
        )
        click(browser, download)
        brief = _wait_for_file(downloads, ".pdf", timeout=60)
        assert brief.read_bytes().startswith(b"%PDF-")
    finally:
        browser.quit()
        for thread in workers:
            thread.join(timeout=60)
