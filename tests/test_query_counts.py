"""Every list page and endpoint runs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test import TestCase
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


class InspectionListQueryCounts(TestCase):
    """Built once for the class (setUpTestData): 30 visits, 28 submitted, 84 findings."""

    URLS = [
        ("supervisor", "inspections:plan-list"),
        ("supervisor", "inspections:visit-list"),
        ("supervisor", "inspections:finding-list"),
        ("liaison_a", "inspections:finding-list"),
        ("inspector", "inspections:visit-list"),
        ("supervisor", "api-plan-list"),
        ("supervisor", "api-visit-list"),
        ("inspector", "api-visit-list"),
        ("supervisor", "api-finding-list"),
        ("liaison_a", "api-finding-list"),
        ("supervisor", "api-checklist-list"),
        ("supervisor", "api-photo-list"),
    ]

    @classmethod
    def setUpTestData(cls):
        from inspections import services
        from tests.inspection_data import make_plan
        from tests.personas import build_city

        cls.city = build_city()
        targets = [
            orgunit_create(
                actor=None,
                parent=cls.city.street_a,
                code=f"V-{i}",
                name=f"检查对象{i}",
                kind="institution",
                institution_type="cold_shelter",
            )
            for i in range(30)
        ]
        plan = make_plan(cls.city, targets=targets)
        for visit in plan.visits.all()[:28]:
            services.visit_checkin(
                actor=cls.city["inspector"], visit=visit, latitude=23.12, longitude=113.26
            )
            for item in visit.templates.get().items.all():
                services.result_record(
                    actor=cls.city["inspector"], visit=visit, item=item, outcome="fail"
                )
            services.visit_submit(actor=cls.city["inspector"], visit=visit)

    def test_query_count_does_not_depend_on_page_size(self):
        for persona, url_name in self.URLS:
            with self.subTest(persona=persona, url=url_name):
                self.client.force_login(self.city[persona])
                url = reverse(url_name)
                count_queries(self.client, url, page_size=25)
                small = count_queries(self.client, url, page_size=25)
                large = count_queries(self.client, url, page_size=100)
                assert small == large, f"{url_name}: {small} queries at 25, {large} at 100"
