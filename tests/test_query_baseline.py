"""Query-count regression: every list page and every API list endpoint, opened by the first
persona allowed to, runs no more queries than the committed baseline
(tests/query_baseline.json). A new list must be added to the baseline; a list that got
cheaper passes (lower its number when you like). To rewrite the baseline after a deliberate
change: ``UPDATE_QUERY_BASELINE=1 pytest tests/test_query_baseline.py``."""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from civilaffairs.views.generic import ObjectListView
from tests.busy_city import fill
from tests.complaint_data import register, triage

BASELINE = Path(__file__).with_name("query_baseline.json")
# Who opens each list: the first of these who may.
PERSONAS = [
    "supervisor",
    "office_head",
    "leader",
    "liaison_a",
    "department",
    "inspector",
    "auditor",
    "sysadmin",
]


# Pages that are not lists but read many rows: the dashboard (recomputed, not its snapshot),
# the to-do, the boards and figures.
OTHER_PAGES = [
    "/",
    "/reports/dashboard/?preset=year&refresh=1",
    "/rectification/todo/",
    "/reports/daily/board/",
    "/rectification/figures/complaints/",
    "/reports/briefs/",
    "/imports/",
    "/public/commitments/",
]


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def list_urls() -> list[str]:
    """Every URL without parameters that is a list page or an API list endpoint."""
    urls = []
    for route, entry in _walk(get_resolver().url_patterns):
        if "<" in route or "(?P" in route or route.startswith("admin/"):
            continue
        callback = entry.callback
        view_class = getattr(callback, "view_class", None)
        actions = getattr(callback, "actions", None) or {}
        is_page = view_class is not None and issubclass(view_class, ObjectListView)
        is_api = actions.get("get") == "list"
        if is_page or is_api:
            urls.append("/" + route.replace("^", "").replace("$", ""))
    return sorted(set(urls) | set(OTHER_PAGES))


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response.status_code, len(captured)


@pytest.fixture
def baseline_city(city):
    fill(city)
    complaint = register(city)
    triage(city, complaint)
    register(city, title="婚姻登记排长队", domain="marriage")
    return city


def test_list_query_counts_stay_within_the_baseline(baseline_city, client):
    city = baseline_city
    measured = {}
    for url in list_urls():
        for persona in PERSONAS:
            client.force_login(city[persona])
            status, _warm = _count(client, url)  # warm per-user caches (roles, content types)
            if status != 200:
                continue
            status, queries = _count(client, url)
            measured[url] = {"persona": persona, "queries": queries}
            break
        else:
            measured[url] = {"persona": None, "queries": None}
    if os.environ.get("UPDATE_QUERY_BASELINE"):
        BASELINE.write_text(json.dumps(measured, indent=2, ensure_ascii=False) + "\n")
    baseline = json.loads(BASELINE.read_text())
    assert sorted(measured) == sorted(baseline), "lists added or removed: update the baseline"
    worse = {
        url: (baseline[url]["queries"], m["queries"], m["persona"])
        for url, m in measured.items()
        if m["queries"] is not None
        and (baseline[url]["queries"] is None or m["queries"] > baseline[url]["queries"])
    }
    assert not worse, f"more queries than the baseline (baseline, now, persona): {worse}"
    unreachable = [url for url, m in measured.items() if m["persona"] is None]
    assert not unreachable, f"no persona could open: {unreachable}"
    assert len(measured) >= 40


def test_no_list_answers_500_for_any_persona(baseline_city, client):
    """Every persona on every list: allowed, refused or hidden — never a server error."""
    city = baseline_city
    errors = []
    client.raise_request_exception = False
    for persona in PERSONAS:
        client.force_login(city[persona])
        for url in list_urls():
            status = client.get(url).status_code
            if status >= 500 or status not in (200, 302, 403, 404):
                errors.append((persona, url, status))
    assert not errors


def test_no_detail_page_answers_500_for_any_persona(baseline_city, client):
    """Every kind of object page (up to three of each, plus their API detail), for every
    persona: shown, refused or hidden — never a server error."""
    from django.urls import reverse

    from civilaffairs.models import OrgUnit, User
    from inspections.models import ChecklistTemplate, Finding, InspectionPlan, Visit
    from rectification.models import Commitment, Complaint, Rectification
    from reports.models import DailyDigest, FlashReport

    city = baseline_city
    pages = [
        (OrgUnit, "orgunit-detail", "/api/v1/org-units/{}/"),
        (User, "user-detail", "/api/v1/users/{}/"),
        (InspectionPlan, "inspections:plan-detail", "/api/v1/plans/{}/"),
        (ChecklistTemplate, "inspections:checklist-detail", "/api/v1/checklists/{}/"),
        (Visit, "inspections:visit-detail", "/api/v1/visits/{}/"),
        (Finding, "inspections:finding-detail", "/api/v1/findings/{}/"),
        (Rectification, "rectification:order-detail", "/api/v1/rectifications/{}/"),
        (Complaint, "rectification:complaint-detail", "/api/v1/complaints/{}/"),
        (Commitment, "rectification:commitment-detail", "/api/v1/commitments/{}/"),
        (FlashReport, "reports:flash-detail", "/api/v1/flash-reports/{}/"),
        (DailyDigest, "reports:digest-detail", "/api/v1/daily-digests/{}/"),
        (OrgUnit, "rectification:scorecard-detail", None),
    ]
    urls = []
    for model, name, api in pages:
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:3]:
            urls.append(reverse(name, args=[pk]))
            if api:
                urls.append(api.format(pk))
    assert len(urls) >= 40
    errors, shown = [], {}
    client.raise_request_exception = False
    for persona in PERSONAS:
        client.force_login(city[persona])
        for url in urls:
            status = client.get(url).status_code
            if status >= 500:
                errors.append((persona, url, status))
            shown[url] = shown.get(url, False) or status == 200
    assert not errors
    assert all(shown.values()), [u for u, ok in shown.items() if not ok]  # the URLs are real
