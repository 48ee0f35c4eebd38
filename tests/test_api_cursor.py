"""Keyset (cursor) pagination of the API lists (#8): a walk by cursor serves every row exactly
once even when rows arrive during the walk, deep pages cost the same queries as the first, a
bad or foreign cursor answers 400 with a message, and page numbers keep working."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from inspections.models import Finding
from rectification.models import Rectification
from tests.flash_data import finding
from tests.rectification_data import issue

pytestmark = pytest.mark.django_db

BAD_CURSOR = (
    "The cursor is not valid for this list (or its order); start again from the first page."
)


def _findings(city, n, base):
    # Pairs share found_at, so the walk must break ties by id.
    for i in range(n):
        finding(
            city, found_at=base - dt.timedelta(hours=i // 2), severity=("general", "major")[i % 2]
        )


def _walk(client, url, params, on_page=None):
    seen, pages, cursor = [], 0, ""
    while cursor is not None:
        answer = client.get(url, {**params, "cursor": cursor})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["count"] is None
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if on_page:
            on_page(pages)
        cursor = body["next_cursor"]
        if cursor:
            assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [cursor]
        else:
            assert body["next"] is None
    return seen, pages


@pytest.mark.parametrize("ordering", [None, "-severity", "found_at", "filed_at"])
def test_walk_by_cursor_serves_every_finding_once_while_rows_arrive(city, login, ordering):
    now = timezone.now()
    _findings(city, 23, now - dt.timedelta(days=1))
    before = set(Finding.objects.values_list("pk", flat=True))
    client = login(city["supervisor"])
    arrived = []

    def insert(page):
        # New rows at the head (newest), in the middle and at the tail of the list.
        if page in (1, 3):
            for when in (now, now - dt.timedelta(hours=5), now - dt.timedelta(days=30)):
                arrived.append(finding(city, found_at=when).pk)

    params = {"page_size": 5, **({"ordering": ordering} if ordering else {})}
    seen, pages = _walk(client, reverse("api-finding-list"), params, insert)
    assert len(seen) == len(set(seen)), "a row served twice"
    assert before <= set(seen), "a row that was there from the start was missed"
    assert set(seen) <= before | set(arrived)
    assert pages >= 5


def test_walk_by_cursor_serves_every_order_once(city, login):
    orders = [issue(city, title=f"整改{i}") for i in range(12)]
    # Ties on the deadline, some of them overdue.
    for i, order in enumerate(orders):
        Rectification.objects.filter(pk=order.pk).update(
            deadline=timezone.localdate() + dt.timedelta(days=i // 3 - 2)
        )
    client = login(city["supervisor"])
    extra = []

    def insert(page):
        if page == 2:
            extra.append(issue(city, title="新单").pk)

    for ordering in (None, "-dispatched_at", "state"):
        params = {"page_size": 4, **({"ordering": ordering} if ordering else {})}
        seen, _pages = _walk(client, reverse("api-rectification-list"), params, insert)
        assert len(seen) == len(set(seen))
        assert {o.pk for o in orders} <= set(seen)


def test_cursor_rows_follow_the_numbered_pages(city, login):
    _findings(city, 12, timezone.now())
    client = login(city["supervisor"])
    url = reverse("api-finding-list")
    by_page = [
        [r["id"] for r in client.get(url, {"page_size": 5, "page": n}).json()["results"]]
        for n in (1, 2, 3)
    ]
    first = client.get(url, {"page_size": 5}).json()
    assert first["count"] == 12 and first["next_cursor"]
    second = client.get(url, {"page_size": 5, "cursor": first["next_cursor"]}).json()
    assert [r["id"] for r in second["results"]] == by_page[1]
    third = client.get(url, {"page_size": 5, "cursor": second["next_cursor"]}).json()
    assert [r["id"] for r in third["results"]] == by_page[2]
    assert third["next_cursor"] is None
    last = client.get(url, {"page_size": 5, "page": 3}).json()
    assert last["next_cursor"] is None and last["next"] is None


def test_deep_cursor_page_costs_the_queries_of_the_first(city, login):
    _findings(city, 30, timezone.now())
    client = login(city["supervisor"])
    url = reverse("api-finding-list")
    counts, cursor = [], ""
    while cursor is not None:
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url, {"page_size": 5, "cursor": cursor}).json()
        counts.append(len(captured))
        cursor = body["next_cursor"]
    assert len(set(counts)) == 1, counts
    # No COUNT(*) when walking by cursor.
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "eyJvIjpbIi1mb3VuZF9hdCIsIi1pZCJdLCJ2IjpbMSwxXX0:1v:forged", "%00", "a" * 500],
)
def test_bad_cursor_answers_400_with_a_message(city, login, cursor):
    _findings(city, 3, timezone.now())
    client = login(city["supervisor"])
    with translation.override("zh-hans"):
        expected = gettext(BAD_CURSOR)
    answer = client.get(
        reverse("api-finding-list"), {"cursor": cursor}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert answer.status_code == 400
    assert answer.json() == {"cursor": [expected]}


def test_cursor_of_another_ordering_or_list_answers_400(city, login):
    _findings(city, 8, timezone.now())
    for i in range(6):
        issue(city, title=f"整改{i}")
    client = login(city["supervisor"])
    url = reverse("api-finding-list")
    cursor = client.get(url, {"page_size": 3}).json()["next_cursor"]
    assert client.get(url, {"cursor": cursor, "ordering": "severity"}).status_code == 400
    orders = reverse("api-rectification-list")
    assert client.get(orders, {"cursor": cursor}).status_code == 400
    assert client.get(url, {"cursor": cursor}).status_code == 200


def test_cursor_is_documented_in_the_schema():
    from civilaffairs.api.pagination import PageNumberPagination

    paginator = PageNumberPagination()
    names = [p["name"] for p in paginator.get_schema_operation_parameters(view=None)]
    assert names == ["page", "page_size", "cursor"]
    schema = paginator.get_paginated_response_schema({"type": "array"})
    assert schema["properties"]["next_cursor"]["nullable"] is True
    assert schema["properties"]["count"]["nullable"] is True
