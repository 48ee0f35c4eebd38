"""The UI is Simplified Chinese: a complete catalog, and no English msgid on any page."""

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries():
    for name in ("django.po", "djangojs.po"):
        path = CATALOG / name
        if path.exists():
            yield from polib.pofile(str(path))


def test_catalog_has_no_untranslated_or_fuzzy_entry():
    problems = []
    for name in ("django.po", "djangojs.po"):
        po = polib.pofile(str(CATALOG / name))
        problems += [f"{name}: untranslated {e.msgid!r}" for e in po.untranslated_entries()]
        problems += [f"{name}: fuzzy {e.msgid!r}" for e in po.fuzzy_entries()]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="GNU gettext (xgettext) is not installed: msgid extraction not checked",
)
def test_every_msgid_in_the_code_is_in_the_catalog(tmp_path):
    """Extract msgids from a copy of the sources into a copy of the catalog: anything the code
    says that the catalog lacks shows up as a new, untranslated entry."""
    for name in (
        "civilaffairs",
        "inspections",
        "rectification",
        "reports",
        "templates",
        "static",
        "locale",
    ):
        if (ROOT / name).exists():
            shutil.copytree(
                ROOT / name,
                tmp_path / name,
                ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.mo"),
            )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://x@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PYTHONPATH": str(tmp_path),
    }
    for domain, extra in (("django", []), ("djangojs", ["--ignore", "static/vendor/*"])):
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                "zh_Hans",
                "-d",
                domain,
                "--ignore",
                "tests/*",
                *extra,
            ],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
            timeout=240,
        )
    missing = []
    for name in ("django.po", "djangojs.po"):
        po = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / name))
        missing += [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
    assert not missing, f"msgids missing from the catalog: {missing}"


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for key, value in attrs:
            if key in ("title", "placeholder", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_msgids():
    ids = set()
    for entry in _entries():
        for msgid in (entry.msgid, entry.msgid_plural):
            if msgid and re.search(r"[A-Za-z]{3}", msgid) and not re.search(r"%|\{\{", msgid):
                ids.add(msgid)
    return ids


PAGES = ["home", "orgunit-list", "orgunit-tree", "user-list", "audit-list"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        "sysadmin",
        "auditor",
        "supervisor",
        "office_head",
        "inspector",
        "liaison_a",
        "department",
        "leader",
    ],
)
def test_no_english_msgid_on_any_page(city, client, persona):
    client.force_login(city[persona])
    msgids = english_msgids()
    assert msgids, "the catalog is empty"
    pages = [reverse(name) for name in PAGES]
    pages += [
        reverse("orgunit-detail", args=[city.inst_a.pk]),
        reverse("user-detail", args=[city[persona].pk]),
    ]
    for url in pages:
        response = client.get(url)
        if response.status_code in (403, 404):  # not this role's section
            continue
        assert response.status_code == 200, (url, response.status_code)
        text = visible_text(response.content.decode())
        # A URL path shown as data (the audit trail records refused requests' paths, such as
        # /users/) is not interface text.
        words = re.sub(r"(?<!\w)/[\w\-./?=&%]*", " ", text)
        leaked = sorted(m for m in msgids if m in words)
        assert not leaked, f"{persona} {url}: untranslated text {leaked}"
        assert re.search(r"[\u4e00-\u9fff]", text)
