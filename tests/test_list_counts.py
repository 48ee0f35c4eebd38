"""Counting lists at city scale (#8): a list with no filter at all over a large table shows the
table's estimate (no COUNT over a million rows), any filter keeps the count exact."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inspections.models import Finding
from tests.flash_data import finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def estimated_findings(city, settings):
    settings.LIST_COUNT_ESTIMATE_ABOVE = 3
    for _n in range(5):
        finding(city, found_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inspections_finding")
    # Rows added after the statistics: the estimate (5) and the exact count (7) differ.
    finding(city, state="closed")
    finding(city, state="closed")
    return city


def _counts(captured):
    """Plain COUNTs of the findings table (the estimate's statement only counts small tables:
    its COUNT branch is not run above the limit)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "pg_class" not in q["sql"]
    ]


def test_unfiltered_page_and_api_show_the_estimate_without_counting(estimated_findings, client):
    client.force_login(estimated_findings["supervisor"])
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("inspections:finding-list"))
    assert page.context["total"] == 5 and page.context["paginator"].estimated
    assert "about" in page.content.decode() or "约" in page.content.decode()
    assert not [sql for sql in _counts(captured) if "inspections_finding" in sql]
    with CaptureQueriesContext(connection) as captured:
        body = client.get(reverse("api-finding-list")).json()
    assert body["count"] == 5 and body["count_estimated"] is True
    assert not [sql for sql in _counts(captured) if "inspections_finding" in sql]


def test_any_filter_counts_exactly(estimated_findings, client):
    client.force_login(estimated_findings["supervisor"])
    page = client.get(reverse("inspections:finding-list"), {"state": "closed"})
    assert page.context["total"] == 2 and not page.context["paginator"].estimated
    body = client.get(reverse("api-finding-list"), {"state": "open"}).json()
    assert body["count"] == 5 and body["count_estimated"] is False


def test_a_reader_with_a_limited_view_counts_exactly(estimated_findings, client):
    city = estimated_findings
    client.force_login(city["liaison_a"])
    body = client.get(reverse("api-finding-list")).json()
    assert body["count"] == Finding.objects.visible_to(city["liaison_a"]).count()
    assert body["count_estimated"] is False


def test_zero_always_counts(estimated_findings, client, settings):
    settings.LIST_COUNT_ESTIMATE_ABOVE = 0
    client.force_login(estimated_findings["supervisor"])
    assert client.get(reverse("api-finding-list")).json()["count"] == 7
    assert client.get(reverse("inspections:finding-list")).context["total"] == 7
