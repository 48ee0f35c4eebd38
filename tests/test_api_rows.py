"""API list pages read as column values (civilaffairs.api.rows, #8) and unfiltered requests
answered without a FilterSet (civilaffairs.api.filters): every API list answers exactly what
DRF's serializers and the FilterSet answer for the same request — the same keys in the same order,
the same values, the same count and cursors — for every persona, on numbered pages and walked
by cursor; the finding and order lists really are read as values; a serializer with a field
that is not a column is left to DRF."""

import json

import pytest
from django.core import signing
from django.utils import translation
from rest_framework import serializers

from civilaffairs.api import rows
from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.api.filters import FilterBackend
from inspections.api.serializers import FindingSerializer
from inspections.models import Finding, InspectionPlan
from rectification.api.serializers import RectificationSerializer
from tests.busy_city import fill
from tests.complaint_data import register, triage
from tests.test_query_baseline import PERSONAS, list_urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed_city(city):
    """The query baseline's city: a little of everything on every list."""
    fill(city)
    triage(city, register(city))
    return city


def _answer(client, url, params, fast, monkeypatch):
    """The answer read as values and without a FilterSet when nothing is filtered (``fast``),
    or through DRF's serializers and a FilterSet always."""
    monkeypatch.setattr(VisibleViewSetMixin, "list_as_values", fast)
    monkeypatch.setattr(FilterBackend, "skip_unfiltered", fast)
    # A cursor is signed with the time of signing: the same second for both answers.
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: "1xW4L4")
    response = client.get(url, params)
    # Keys in order: json.loads keeps the order of the document.
    return response.status_code, json.dumps(response.json(), ensure_ascii=False)


def test_every_api_list_answers_the_same_read_as_values(listed_city, client, monkeypatch):
    city = listed_city
    compared = 0
    for url in [u for u in list_urls() if u.startswith("/api/")]:
        for persona in PERSONAS:
            client.force_login(city[persona])
            for params in (
                {},
                {"page_size": 2},
                {"page_size": 2, "cursor": ""},
                {"ordering": "-id", "page": 1},
            ):
                drf = _answer(client, url, params, False, monkeypatch)
                if drf[0] != 200:
                    break
                fast = _answer(client, url, params, True, monkeypatch)
                assert fast == drf, (persona, url, params)
                compared += 1
                body = json.loads(drf[1])
                following = isinstance(body, dict) and body.get("next_cursor")
                if params.get("cursor") == "" and following:
                    after = {**params, "cursor": following}
                    second = _answer(client, url, after, True, monkeypatch)
                    assert second == _answer(client, url, after, False, monkeypatch), (
                        persona,
                        url,
                    )
    assert compared >= 60


def test_the_finding_and_order_lists_are_read_as_values(listed_city, client, monkeypatch):
    city = listed_city
    client.force_login(city["supervisor"])
    planned = []
    original = rows.plan_for

    def spy(serializer_class, queryset):
        plan = original(serializer_class, queryset)
        planned.append((serializer_class, plan is not None))
        return plan

    monkeypatch.setattr(rows, "plan_for", spy)
    for url in ("/api/v1/findings/", "/api/v1/rectifications/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["count"] > 0
    assert planned == [(FindingSerializer, True), (RectificationSerializer, True)]


def test_a_planned_row_renders_labels_in_the_active_language(city):
    from tests.flash_data import finding

    finding(city, severity="serious")
    queryset = Finding.objects.with_repeat_visibility(city["supervisor"]).order_by("-id")
    plan = rows.plan_for(FindingSerializer, queryset)
    row = plan.select(queryset)[0]
    obj = queryset[0]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            rendered = plan.renderer()(row)
            assert rendered["severity_display"] == obj.get_severity_display()
            assert rendered["state_display"] == obj.get_state_display()
            assert rendered["target"] == {
                "id": obj.target.id,
                "name": obj.target.name,
                "code": obj.target.code,
                "kind": obj.target.kind,
            }
    with translation.override("zh-hans"):
        chinese = plan.renderer()(row)["severity_display"]
    with translation.override("en"):
        assert plan.renderer()(row)["severity_display"] != chinese


class _WithProperty(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["id", "is_repeat"]


class _WithManyRelation(serializers.ModelSerializer):
    class Meta:
        model = InspectionPlan
        fields = ["id", "team"]


class _WithStar(serializers.ModelSerializer):
    everything = serializers.CharField(source="*", read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "everything"]


class _WithLabel(serializers.ModelSerializer):
    state_display = ChoiceLabelField("state")
    visit_target = serializers.IntegerField(source="visit.target_id", read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "state_display", "visit_target", "visit"]


def test_fields_that_are_not_columns_leave_the_list_to_drf():
    queryset = Finding.objects.all()
    assert rows.plan_for(_WithProperty, queryset) is None
    assert rows.plan_for(_WithStar, queryset) is None
    assert rows.plan_for(_WithManyRelation, InspectionPlan.objects.all()) is None
    # Another model's serializer, or a queryset already read as values: not planned either.
    assert rows.plan_for(RectificationSerializer, queryset) is None
    assert rows.plan_for(FindingSerializer, queryset.values("id")) is None
    plan = rows.plan_for(_WithLabel, queryset)
    assert plan is not None
    assert plan.columns == ["id", "state", "visit__target_id", "visit"]


def test_a_filterset_is_built_only_when_something_is_filtered(listed_city, client, monkeypatch):
    client.force_login(listed_city["supervisor"])
    built = []
    original = FilterBackend.get_filterset

    def spy(self, request, queryset, view):
        built.append(request.query_params.dict())
        return original(self, request, queryset, view)

    monkeypatch.setattr(FilterBackend, "get_filterset", spy)
    everything = client.get("/api/v1/findings/", {"page_size": 50, "ordering": "-found_at"})
    serious = client.get("/api/v1/findings/", {"severity": "serious"})
    assert everything.status_code == serious.status_code == 200
    assert built == [{"severity": "serious"}]
    severities = {row["severity"] for row in serious.json()["results"]}
    assert severities == {"serious"}
    assert serious.json()["count"] < everything.json()["count"]
    # A value the filter refuses still answers 400 with the field named, as before.
    refused = client.get("/api/v1/findings/", {"severity": "nonsense"})
    assert refused.status_code == 400 and "severity" in refused.json()


def test_only_the_page_is_read_as_values_not_the_count(listed_city, client):
    """The count stays the model queryset's: the joins of the page's columns (the unit's name)
    would keep PostgreSQL from counting by an index-only scan of the findings alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(listed_city["supervisor"])
    with CaptureQueriesContext(connection) as captured:
        answer = client.get("/api/v1/findings/", {"severity": "serious", "page_size": 1})
    assert answer.status_code == 200 and answer.json()["count"] >= 1
    counts = [q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*)")]
    page = [q["sql"] for q in captured if '"target__name"' in q["sql"]]
    assert len(counts) == 1 and "civilaffairs_orgunit" not in counts[0]
    assert len(page) == 1 and "LIMIT 1" in page[0]
