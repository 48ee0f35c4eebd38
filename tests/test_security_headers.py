"""Security headers (#9 item 5): a Content-Security-Policy without inline script, HSTS under
HTTPS, nosniff, frame denial, the referrer and opener policies, and ``no-store`` on the API.

The policy is only as good as the markup: a static scan of every template and of the
application's own JavaScript, a crawl of the pages every persona reaches, and (marker
``browser``) real Chromium on the main pages listening for ``securitypolicyviolation``."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client, override_settings

from tests.chromium import CHROMEDRIVER, CHROMIUM, MISSING_REASON, sign_in, start_chromium
from tests.test_query_baseline import (
    OTHER_PAGES,
    PERSONAS,
    baseline_city,  # noqa: F401  (the crawl's data)
    list_urls,
)
from tests.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'")
# Script types a browser does not run: data blocks such as Django's json_script.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


# --- reading a policy and a page --------------------------------------------------------------
def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_script_src_is_strict(directives: dict[str, list[str]]):
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, directives
    assert not set(scripts) & set(UNSAFE), scripts
    assert directives.get("object-src") == ["'none'"]
    assert directives.get("base-uri") == ["'self'"]
    assert directives.get("frame-ancestors") == ["'none'"]
    # Inline <style> elements are refused unless they carry the nonce.
    assert "'unsafe-inline'" not in directives.get("style-src", [])


class InlineCode(HTMLParser):
    """What a browser would run from the markup itself: scripts without src, event-handler
    attributes, javascript: URLs; and <style> elements without a nonce."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self._line = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        where = f"line {self.getpos()[0]}"
        if tag == "script":
            kind = (values.get("type") or "").strip().lower()
            if not values.get("src") and kind not in DATA_SCRIPT_TYPES:
                self.problems.append(f"{where}: inline <script>")
        if tag == "style" and not values.get("nonce"):
            self.problems.append(f"{where}: <style> without a nonce")
        if "style" in values:
            self.problems.append(f"{where}: <{tag} style=…> (refused: no 'unsafe-inline')")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{where}: <{tag} {name}=…>")
            if name in ("hx-on", "hx-vars") or name.startswith(("hx-on:", "hx-on-")):
                self.problems.append(f"{where}: <{tag} {name}=…> (htmx evaluates it)")
            if name == "hx-vals" and (value or "").strip().startswith(("js:", "javascript:")):
                self.problems.append(f"{where}: <{tag} hx-vals=js:…>")
            if name in self.URL_ATTRIBUTES and is_javascript_url(value):
                self.problems.append(f"{where}: <{tag} {name}=javascript:…>")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])

    handle_startendtag = handle_starttag


def is_javascript_url(value) -> bool:
    return bool(value) and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("javascript:")


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser


# --- (1) the static scan ----------------------------------------------------------------------
def template_files() -> list[Path]:
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(p for folder in folders for p in folder.rglob("*.html"))


def script_files() -> list[Path]:
    static = ROOT / "static"
    return sorted(p for p in static.rglob("*.js") if "vendor" not in p.relative_to(static).parts)


# A start tag as written in a template: quoted attribute values may hold '>' and template tags.
TAG = re.compile(
    r"<(?P<name>[a-zA-Z][\w:-]*)(?P<attrs>(?:\"[^\"]*\"|'[^']*'|\{[%{].*?[%}]\}|[^>'\"])*)>", re.S
)
ATTRIBUTE = re.compile(
    r"(?<![\w:-])(?P<name>[a-zA-Z_:][\w:.-]*)\s*(?:=\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s>]+))?"
)
# JavaScript that compiles strings, or writes markup that would run code.
SCRIPT_PATTERNS = [
    (re.compile(r"\beval\s*\("), "eval()"),
    (re.compile(r"\bnew\s+Function\s*\(|(?<![\w.])Function\s*\(\s*['\"]"), "new Function()"),
    (
        re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"),
        "setTimeout/setInterval with a string",
    ),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"<script(?![^>]*\bsrc=)", re.I), "markup with an inline <script>"),
    (re.compile(r"<[a-z][^<>]*\son[a-z]+\s*=", re.I), "markup with an event-handler attribute"),
    (re.compile(r"<[a-z][^<>]*\sstyle\s*=", re.I), "markup with a style attribute"),
    (re.compile(r"setAttribute\(\s*['\"]on[a-z]+['\"]", re.I), "an event-handler attribute"),
    (re.compile(r"\bhx-on|hx-vars\b"), "an htmx attribute htmx evaluates"),
]


COMMENTS = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}|<!--.*?-->", re.S)


def template_problems(text: str) -> list[str]:
    found = []
    text = COMMENTS.sub(lambda m: "\n" * m.group().count("\n"), text)
    for tag in TAG.finditer(text):
        name = tag.group("name").lower()
        line = text.count("\n", 0, tag.start()) + 1
        attrs = {
            m.group("name").lower(): (m.group("value") or "").strip("\"'")
            for m in ATTRIBUTE.finditer(re.sub(r"\{[%{].*?[%}]\}", " ", tag.group("attrs")))
        }
        if name == "script" and "src" not in attrs:
            kind = attrs.get("type", "").lower()
            if kind not in DATA_SCRIPT_TYPES:
                found.append(f"line {line}: inline <script>")
        if name == "style" and "nonce" not in attrs:
            found.append(f"line {line}: <style> without a nonce")
        if "style" in attrs:
            found.append(f"line {line}: <{name} style=…>")
        for attr, value in attrs.items():
            if attr.startswith("on"):
                found.append(f"line {line}: <{name} {attr}=…>")
            if attr in ("hx-on", "hx-vars") or attr.startswith(("hx-on:", "hx-on-")):
                found.append(f"line {line}: <{name} {attr}=…>")
            if attr == "hx-vals" and value.strip().startswith(("js:", "javascript:")):
                found.append(f"line {line}: <{name} hx-vals=js:…>")
            if is_javascript_url(value):
                found.append(f"line {line}: <{name} {attr}=javascript:…>")
    return found


def script_problems(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("//"):
            continue
        found += [
            f"line {number}: {what}" for pattern, what in SCRIPT_PATTERNS if pattern.search(line)
        ]
    return found


def test_the_scan_catches_inline_code():
    """The scanners themselves: each kind of inline code is reported, data blocks are not."""
    bad = [
        "<script>alert(1)</script>",
        '<script type="text/javascript">x()</script>',
        '<select name="day" onchange="this.form.submit()">',
        "<button type=button onclick='window.print()'>",
        '<a href="javascript:void(0)">',
        '<a href=" JavaScript:go()">',
        '<div hx-on:click="go()">',
        '<div hx-vars="count: 1">',
        "<div hx-vals='js:{a: b()}'>",
        "<style>.x { color: red }</style>",
        '<img src="x.png" style="object-fit: cover">',
        '<body\n  onload="start()">',
    ]
    for markup in bad:
        assert template_problems(markup), markup
        assert inline_code(markup).problems, markup
    good = [
        "<script src=\"{% static 'js/app.js' %}\" defer></script>",
        '<script id="d" type="application/json">{"a": 1}</script>',
        '<div data-online="1" data-autosubmit hx-vals=\'{"a": 1}\'>',
        '<style nonce="{{ request.csp_nonce }}">p {}</style>',
        '<a href="{% url \'home\' %}" data-confirm="确定?">',
        "<p>Ask one=two in text, not in a tag</p>",
        "{# a <style> in a comment #}<!-- <script>x()</script> -->",
    ]
    for markup in good:
        assert not template_problems(markup), markup
    for code in [
        'eval("1")',
        'var f = new Function("return 1");',
        'setTimeout("go()", 10);',
        'el.innerHTML = "<img src=x onerror=alert(1)>";',
        "el.innerHTML = '<script>go()</script>';",
        'link.href = "javascript:void 0";',
        'el.setAttribute("onclick", "go()");',
        "box.innerHTML = '<span style=\"color: red\">x</span>';",
    ]:
        assert script_problems(code), code
    assert not script_problems('el.addEventListener("click", go); setTimeout(go, 10);')
    assert not script_problems("dot.style.backgroundColor = colour; el.style.cssText = css;")


def test_no_template_or_script_holds_inline_code():
    templates, scripts = template_files(), script_files()
    assert len(templates) > 50 and any(p.name == "base.html" for p in templates)
    assert {"app.js", "sw.js"} <= {p.name for p in scripts}
    problems = {
        str(path.relative_to(ROOT)): found
        for path in templates
        if (found := template_problems(path.read_text(encoding="utf-8")))
    }
    # The PDF documents are rendered by WeasyPrint, never served to a browser with their
    # styles; the flash report's, also shown as a preview page, carries the nonce (and the
    # crawl checks that page as served).
    problems = {
        path: [p for p in found if not (path.endswith("_pdf.html") and "style" in p)]
        for path, found in problems.items()
    }
    problems.update(
        {
            str(path.relative_to(ROOT)): found
            for path in scripts
            if (found := script_problems(path.read_text(encoding="utf-8")))
        }
    )
    assert not {path: found for path, found in problems.items() if found}


# --- (2) the crawl ----------------------------------------------------------------------------
# Not pages: files, PDFs, downloads, the sign-out, the JavaScript catalog.
SKIP = re.compile(
    r"^/(logout|files|static|media|jsi18n)/|/photos/|pdf|/export|/download|\.(xlsx|zip|png|jpe?g)$"
)
PER_SHAPE = 2  # pages of one shape (the same path but for its ids) each persona opens


def shape(path: str) -> str:
    """The path with its ids (numbers, UUIDs, dates: any segment with a digit) as <id>."""
    return re.sub(r"/[^/]*\d[^/]*(?=/)", "/<id>", path)


def check_page(response, path) -> list[str]:
    found = []
    directives = policy(response)
    try:
        assert_script_src_is_strict(directives)
    except AssertionError as error:
        found.append(f"{path}: weak policy {error}")
    for header, value in [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]:
        if response.headers.get(header) != value:
            found.append(f"{path}: {header} is {response.headers.get(header)!r}")
    if response.headers.get("Content-Type", "").startswith("text/html"):
        page = inline_code(response.content.decode())
        found += [f"{path}: {problem}" for problem in page.problems]
    return found


def crawl(client, seeds, limit=400) -> tuple[list[str], list[str]]:
    """Opens the seeds and, breadth first, the same-site links of every page, at most
    PER_SHAPE pages of a shape. Returns the pages opened and the problems found."""
    queue, seen, shapes, opened, problems = list(seeds), set(), {}, [], []
    while queue and len(opened) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        path = parts.path
        key = shape(path)
        if url in seen or SKIP.search(path) or path.startswith("/api/"):
            continue
        seen.add(url)
        if url not in seeds and shapes.get(key, 0) >= PER_SHAPE:
            continue
        shapes[key] = shapes.get(key, 0) + 1
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        opened.append(url)
        problems += check_page(response, url)
        if response.status_code == 200 and "text/html" in response.headers.get("Content-Type", ""):
            for href in inline_code(response.content.decode()).links:
                target = urlsplit(urljoin(url, href))
                if not target.netloc or target.netloc == "testserver":
                    queue.append(target.path)  # queries are filters and pages of one list
    return opened, problems


@pytest.mark.slow
def test_every_page_every_persona_reaches_is_under_a_strict_policy(baseline_city):  # noqa: F811
    """As each persona: the menu, every list page and the pages they link to (details,
    forms, boards, previews), up to two of each shape. Each carries a policy without
    'unsafe-inline'/'unsafe-eval' for scripts and HTML without inline code."""
    city = baseline_city
    pages = [url for url in list_urls() if not url.startswith("/api/")]
    problems, opened = [], set()
    for persona in [*PERSONAS, "leader_a"]:
        client = Client(raise_request_exception=False)
        client.force_login(city[persona])
        seen, found = crawl(client, ["/", *pages, *OTHER_PAGES])
        problems += [f"{persona} {p}" for p in found]
        opened |= set(seen)
    # The crawl went beyond the lists: detail pages of every kind were opened.
    kinds = {shape(url) for url in opened}
    for detail in [
        "/inspections/findings/<id>/",
        "/rectification/orders/<id>/",
        "/reports/flash/<id>/",
        "/org/<id>/",
        "/account/",
        "/admin/",
        "/admin/civilaffairs/orgunit/<id>/change/",
    ]:
        assert detail in kinds, sorted(kinds)
    assert len(opened) > 80
    assert not problems, "\n".join(problems[:60])


def test_sign_in_and_error_pages_carry_the_policy(client, city):
    for url, status in [("/login/", 200), ("/no-such-page/", 404), ("/rectification/todo/", 302)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert not check_page(response, url)
    client.force_login(city["liaison_a"])
    response = client.get("/audit/")
    assert response.status_code in (403, 404)
    assert not check_page(response, "/audit/")


def test_the_flash_preview_styles_itself_with_a_nonce(city, client):
    """The one inline stylesheet (shared with the PDF renderer) is allowed by the nonce of its
    own response, and by nothing else."""
    from tests.flash_data import distributed

    report = distributed(city)
    client.force_login(city["leader"])
    response = client.get(f"/reports/flash/{report.pk}/preview/")
    assert response.status_code == 200
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in policy(response)["style-src"]
    again = client.get(f"/reports/flash/{report.pk}/preview/")
    assert f"'nonce-{nonce}'" not in again.headers["Content-Security-Policy"]
    # Other pages get no nonce at all: nothing inline to allow.
    assert "nonce" not in client.get("/").headers["Content-Security-Policy"]


# --- (4) the API is never stored -------------------------------------------------------------
def test_every_api_answer_is_no_store(city, client):
    from tests.flash_data import finding

    mine = finding(city)
    anonymous = Client(raise_request_exception=False)
    answers = {
        "anonymous list (401/403)": anonymous.get("/api/v1/findings/"),
        "anonymous schema": anonymous.get("/api/schema/"),
        "no such endpoint (404)": anonymous.get("/api/v1/no-such-thing/"),
    }
    client.force_login(city["supervisor"])
    client.raise_request_exception = False
    answers.update(
        {
            "list": client.get("/api/v1/findings/"),
            "detail": client.get(f"/api/v1/findings/{mine.pk}/"),
            "missing (404)": client.get("/api/v1/findings/999999/"),
            "bad filter (400)": client.get("/api/v1/findings/?found_after=yesterday"),
            "method not allowed (405)": client.delete("/api/v1/org-units/"),
            "invalid body (400)": client.post(
                "/api/v1/rectifications/", data="{", content_type="application/json"
            ),
            "no trailing slash (301)": client.get("/api/v1/findings"),
            "schema": client.get("/api/schema/"),
            "docs": client.get("/api/docs/"),
            "docs script": client.get("/api/docs/?script="),
        }
    )
    statuses = {name: r.status_code for name, r in answers.items()}
    assert {401, 403} & {statuses["anonymous list (401/403)"]}, statuses
    assert statuses["list"] == statuses["detail"] == statuses["schema"] == 200, statuses
    assert statuses["missing (404)"] == statuses["no such endpoint (404)"] == 404, statuses
    assert statuses["method not allowed (405)"] == 405, statuses
    assert statuses["no trailing slash (301)"] in (301, 308), statuses
    assert statuses["invalid body (400)"] == 400, statuses
    stored = {
        name: r.headers.get("Cache-Control")
        for name, r in answers.items()
        if "no-store" not in (r.headers.get("Cache-Control") or "").split(", ")
    }
    assert not stored, stored
    # Pages keep their own caching: the header is the API's.
    assert "no-store" not in (client.get("/").headers.get("Cache-Control") or "")


def test_the_api_docs_page_runs_no_inline_script(city, client):
    client.force_login(city["supervisor"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert not check_page(page, "/api/docs/")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


# --- (5) the header trio, and HSTS under HTTPS -------------------------------------------------
def test_pages_api_and_static_files_say_nosniff_deny_and_same_origin(city, client):
    client.force_login(city["supervisor"])
    for url in ["/", "/api/v1/findings/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    # WhiteNoise answers static files before most middleware: nosniff still holds.
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        static = Client().get("/static/js/app.js")
    assert static.status_code == 200
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    assert static.headers["Referrer-Policy"] == "same-origin"


@override_settings(
    SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True
)
def test_hsts_is_sent_over_https_only(city):
    client = Client()  # a new handler, built under these settings
    secure = client.get("/login/", secure=True)
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "Strict-Transport-Security" not in client.get("/login/")


def test_https_environment_turns_on_hsts_and_the_redirect():
    """With the production variables (HTTPS=1), a request through the proxy gets HSTS and the
    policy; a plain one is redirected to https."""
    probe = (
        "import json, django; django.setup();"
        "from django.test import Client;"
        "c = Client(HTTP_HOST='ducha.mzj.gov.cn');"
        "s = c.get('/login/', HTTP_X_FORWARDED_PROTO='https');"
        "p = c.get('/login/');"
        "print(json.dumps([s.status_code, dict(s.headers), p.status_code, p.get('Location')]))"
    )
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "civilaffairs.settings",
        "STATIC_MANIFEST": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, headers, plain_status, location = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert plain_status == 301 and location == "https://ducha.mzj.gov.cn/login/"


# --- (3) real Chromium: no violation on the main pages ----------------------------------------
# Registered before any page script runs (CDP Page.addScriptToEvaluateOnNewDocument): every
# violation is kept in the tab's sessionStorage, so those of pages passed through (the sign-in
# steps, redirects) are read too.
LISTENER = """
window.__cspListening = true;
document.addEventListener("securitypolicyviolation", function (event) {
  var kept = JSON.parse(sessionStorage.getItem("__csp") || "[]");
  kept.push({
    page: location.pathname, directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI, source: event.sourceFile, line: event.lineNumber,
    sample: event.sample
  });
  sessionStorage.setItem("__csp", JSON.stringify(kept));
});
"""
READ_VIOLATIONS = """
var kept = JSON.parse(sessionStorage.getItem("__csp") || "[]");
sessionStorage.removeItem("__csp");
return window.__cspListening === true ? kept : null;
"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING_REASON)
@pytest.mark.django_db(transaction=True)
def test_main_pages_run_in_chromium_without_a_policy_violation(live_server):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from rectification.models import Rectification
    from reports.models import FlashReport
    from tests.busy_city import fill
    from tests.personas import build_city
    from tests.test_rectification_browser import SIZES

    fill(build_city())
    order = Rectification.objects.order_by("pk").first()
    report = FlashReport.objects.get()
    browser = start_chromium(*SIZES["desktop"], console_log=True)
    violations = []

    def collect(label):
        found = browser.execute_script(READ_VIOLATIONS)
        assert found is not None, f"{label}: the listener was not installed"
        violations.extend(f"{label}: {v}" for v in found)
        for entry in browser.get_log("browser"):
            if (
                "Content Security Policy" in entry["message"]
                or "Content-Security-Policy" in (entry["message"])
            ):
                violations.append(f"{label}: console {entry['message']}")

    def visit(label, url, ready):
        browser.get(f"{live_server.url}{url}")
        wait.until(ready)
        collect(label)

    def script(code):
        return lambda b: b.execute_script(code)

    def become(username):
        """Signs in afresh (password, then the two-factor step where the role needs it). Once
        more on a timeout: on a loaded machine the set-up step sometimes outlasts the helper's
        wait, which is not what this test is about."""
        from selenium.common.exceptions import WebDriverException

        for attempt in (1, 2):
            browser.delete_all_cookies()
            try:
                sign_in(browser, live_server.url, username)
                break
            except WebDriverException:
                if attempt == 2:
                    raise
        collect(f"{username} signing in")

    try:
        browser.execute_cdp_cmd("Page.enable", {})
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTENER})
        wait = WebDriverWait(browser, 20)

        # Signing in passes the two-factor set-up page (with its QR code) for the roles that
        # need it: the listener is on those pages too.
        become("leader")
        visit(
            "dashboard",
            "/reports/dashboard/?preset=year",
            script("return document.querySelectorAll('[data-chart] svg').length > 1"),
        )
        # The charts' tooltip, which ECharts writes as markup.
        chart = browser.find_element(By.CSS_SELECTOR, "[data-chart] svg")
        from selenium.webdriver import ActionChains

        ActionChains(browser).move_to_element(chart).perform()
        wait.until(
            script(
                "return !!document.querySelector('.chart-tip-title')"
                " || (sessionStorage.getItem('__csp') || '[]') !== '[]'"
            )
        )
        collect("dashboard tooltip")
        visit(
            "flash preview",
            f"/reports/flash/{report.pk}/preview/",
            script(
                "return getComputedStyle(document.querySelector('.masthead')).color"
                " === 'rgb(212, 0, 0)'"
            ),
        )

        become("supervisor")
        visit(
            "findings list",
            "/inspections/findings/",
            ec.presence_of_element_located((By.CSS_SELECTOR, "#list-results tbody tr")),
        )
        rows = len(browser.find_elements(By.CSS_SELECTOR, "#list-results tbody tr"))
        search = browser.find_element(By.CSS_SELECTOR, "form input[type=search]")
        search.send_keys("没有这样的问题")
        wait.until(
            script(
                f"return document.querySelectorAll('#list-results tbody tr').length < {rows}"
                " && !document.querySelector('.htmx-request')"
            )
        )
        collect("findings list after an htmx filter")
        visit(
            "order",
            f"/rectification/orders/{order.pk}/",
            ec.presence_of_element_located((By.CSS_SELECTOR, "h1")),
        )
        visit(
            "daily board",
            "/reports/daily/board/",
            ec.presence_of_element_located((By.ID, "board-day")),
        )
        # The day picker sends its form by itself (was an inline onchange).
        from selenium.webdriver.support.ui import Select

        day = Select(browser.find_element(By.ID, "board-day"))
        if len(day.options) > 1:
            before = browser.current_url
            day.select_by_index(1)
            try:
                wait.until(lambda b: b.current_url != before and "day=" in b.current_url)
            except TimeoutException:
                violations.append("daily board: choosing a day did not send the form")
        collect("daily board, another day")
        visit(
            "API docs",
            "/api/docs/",
            ec.presence_of_element_located((By.CSS_SELECTOR, "#swagger-ui .opblock")),
        )

        become("sysadmin")
        visit("admin", "/admin/", ec.presence_of_element_located((By.ID, "content")))
        visit(
            "admin list",
            "/admin/civilaffairs/orgunit/",
            ec.presence_of_element_located((By.ID, "changelist")),
        )
        visit(
            "admin form",
            "/admin/civilaffairs/orgunit/add/",
            ec.presence_of_element_located((By.CSS_SELECTOR, "form")),
        )

        # Last, as its service worker stays behind: the inspector's PWA on a phone.
        become("inspector")
        browser.set_window_size(*SIZES["phone"])
        visit(
            "mobile PWA",
            "/m/",
            script(
                "return !!navigator.serviceWorker.controller"
                " || document.querySelector('#page-list:not([hidden]), #page-visit:not([hidden])')"
            ),
        )
    finally:
        browser.quit()
    assert not violations, "\n".join(violations)
