"""Headless Chromium for browser tests (Debian's chromium and chromium-driver)."""

import os
import shutil

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING_REASON = "Chromium/chromedriver not installed: browser tests skipped"

# Without the background-networking flags Chromium tries to reach the internet at start-up.
FLAGS = (
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
)


def start_chromium(width: int, height: int, console_log: bool = False):
    """A headless Chromium; with ``console_log`` the page's console is kept for
    ``driver.get_log("browser")``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(width, height)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver
