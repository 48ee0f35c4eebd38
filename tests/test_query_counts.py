"""Every list page and endpoint runs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civilaffairs.choices import Role
from civilaffairs.services import audit_record, orgunit_create, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded_city(city):
    for i in range(120):
        unit = orgunit_create(
            actor=None,
            parent=city.street_a,
            code=f"Q-{i}",
            name=f"机构{i}",
            kind="institution",
            institution_type="elder_care",
        )
        if i % 2 == 0:
            user_create(
                actor=None,
                username=f"q{i}",
                real_name=f"用户{i}",
                org_unit=unit,
                roles=[(Role.UNIT_LIAISON, unit)],
            )
        audit_record(actor=city["sysadmin"], action="test.fill", summary=str(i))
    return city


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize(
    ("persona", "url_name"),
    [
        ("supervisor", "orgunit-list"),
        ("supervisor", "user-list"),
        ("auditor", "audit-list"),
        ("supervisor", "api-orgunit-list"),
        ("supervisor", "api-user-list"),
        ("liaison_a", "orgunit-list"),
        ("department", "api-orgunit-list"),
    ],
)
def test_query_count_does_not_depend_on_page_size(crowded_city, client, persona, url_name):
    client.force_login(crowded_city[persona])
    url = reverse(url_name)
    count_queries(client, url, page_size=25)  # warm caches (content types, sessions)
    small = count_queries(client, url, page_size=25)
    large = count_queries(client, url, page_size=100)
    assert small == large, f"{url_name}: {small} queries at 25 a page, {large} at 100"
