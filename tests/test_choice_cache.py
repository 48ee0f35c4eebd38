"""Filter-select choices kept in the cache (civilaffairs.choice_cache, #8): the same select read
again costs no query; a unit or plan saved or deleted through the models is shown at once (the
version is bumped on save and again on commit); another reader's view is kept apart; with the
setting at 0 or a queryset that can match nothing, rows are read as before."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civilaffairs import choice_cache
from civilaffairs.filtersets import without_institutions
from civilaffairs.models import OrgUnit

pytestmark = pytest.mark.django_db


def _units(user):
    return without_institutions(OrgUnit.objects.visible_to(user)).values_list("pk", "name")[:500]


def _new_street(city, parent, name, code):
    from civilaffairs.services import orgunit_create

    return orgunit_create(
        actor=city["sysadmin"], parent=parent, name=name, code=code, kind="street"
    )


def _queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, len(captured)


def test_a_select_read_again_costs_no_query_and_matches_the_database(city):
    user = city["supervisor"]
    assert user.role_set  # the user's roles read before counting
    first, queries = _queries(lambda: choice_cache.rows(_units(user)))
    assert queries == 1
    again, queries = _queries(lambda: choice_cache.rows(_units(user)))
    assert queries == 0
    assert again == first == list(_units(user))


def test_a_change_through_the_models_is_shown_at_once(city, django_capture_on_commit_callbacks):
    from civilaffairs.services import orgunit_update

    user = city["supervisor"]
    choice_cache.rows(_units(user))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        orgunit_update(actor=city["sysadmin"], unit=city.district_b, name="乙区民政局（新）")
    assert callbacks, "the version is bumped again when the change commits"
    assert (city.district_b.pk, "乙区民政局（新）") in choice_cache.rows(_units(user))
    leaf = _new_street(city, city.district_b, "待撤销街道", "TMP-1")
    assert (leaf.pk, "待撤销街道") in choice_cache.rows(_units(user))
    leaf.delete()
    assert (leaf.pk, "待撤销街道") not in choice_cache.rows(_units(user))


def test_a_bump_makes_kept_rows_stale(city):
    user = city["supervisor"]
    choice_cache.rows(_units(user))
    # A change without signals (as bench_seed's COPY): stale until bumped.
    OrgUnit.objects.filter(pk=city.district_a.pk).update(name="甲区（批量改名）")
    assert (city.district_a.pk, "甲区（批量改名）") not in choice_cache.rows(_units(user))
    choice_cache.bump(OrgUnit)
    assert (city.district_a.pk, "甲区（批量改名）") in choice_cache.rows(_units(user))


def test_readers_with_different_views_are_kept_apart(city):
    wide = choice_cache.rows(_units(city["supervisor"]))
    narrow = choice_cache.rows(_units(city["liaison_a"]))
    assert narrow == list(_units(city["liaison_a"]))
    assert set(narrow) < set(wide)


def test_rows_are_read_each_time_when_turned_off_or_empty(city, settings):
    settings.CHOICE_CACHE_SECONDS = 0
    user = city["supervisor"]
    choice_cache.rows(_units(user))
    _rows, queries = _queries(lambda: choice_cache.rows(_units(user)))
    assert queries == 1
    settings.CHOICE_CACHE_SECONDS = 300
    assert choice_cache.rows(OrgUnit.objects.none().values_list("pk", "name")) == []


def test_the_page_select_shows_a_new_unit_at_once(city, client):
    client.force_login(city["supervisor"])
    client.get("/rectification/orders/")  # the select's rows are kept now
    unit = _new_street(city, city.district_a, "甲区新街道", "JA-NEW-1")
    html = client.get("/rectification/orders/").content.decode()
    select = re.search(r'<select name="unit"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert f'<option value="{unit.pk}">甲区新街道</option>' in select
