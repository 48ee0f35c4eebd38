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


def next_totp_token(device) -> str:
    """A code the device accepts now and has not accepted before (a code is good once: a second
    sign-in within the same 30 s takes the next step's code, which the tolerance allows)."""
    import time

    from civilaffairs.security import totp_token

    step = int((time.time() - device.t0) // device.step)
    step = max(step, device.last_t + 1)
    return totp_token(device, at=device.t0 + step * device.step + 1)


def sign_in(driver, base_url: str, username: str, password: str | None = None):
    """Sign in through the form, and through the second step where the user needs one: the
    code of their device, or, on first sign-in of a role that requires it, set-up with the key
    the page shows. Returns once the browser has left the sign-in pages."""
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.personas import PASSWORD

    driver.get(f"{base_url}/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password or PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: "/login/" not in d.current_url)
    if "/account/2fa/verify/" in driver.current_url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    elif "/account/2fa/setup/" in driver.current_url:
        secret = driver.find_element(By.CSS_SELECTOR, "[data-otp-secret]").text.replace(" ", "")
        key = b32decode(secret + "=" * (-len(secret) % 8)).hex()
        device = TOTPDevice(key=key, last_t=-1)
    else:
        return
    step_page = driver.current_url
    # Enter submits the code's form (a click can land on the card's footer on a short window).
    driver.find_element(By.NAME, "otp_token").send_keys(next_totp_token(device) + Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: d.current_url != step_page)
