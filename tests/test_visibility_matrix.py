"""The persona matrix for the org directory: every role × in scope / out of scope × list page /
detail page / API list / API detail (issue: foundation, acceptance 3)."""

import pytest
from django.urls import reverse

from tests.visibility import ALLOWED, FORBIDDEN, HIDDEN, Surface, check_visibility

pytestmark = pytest.mark.django_db

# persona → (what it sees of the district-A object, of the district-B object)
EXPECTED = {
    "anonymous": (None, None),
    "sysadmin": (ALLOWED, ALLOWED),
    "auditor": (FORBIDDEN, FORBIDDEN),
    "supervisor": (ALLOWED, ALLOWED),
    "office_head": (ALLOWED, ALLOWED),
    "inspector": (ALLOWED, ALLOWED),
    "leader": (ALLOWED, ALLOWED),
    "leader_a": (ALLOWED, HIDDEN),
    "liaison_a": (ALLOWED, HIDDEN),
    "liaison_b": (HIDDEN, ALLOWED),
    "department": (ALLOWED, HIDDEN),
}


def orgunit_surface(unit):
    return Surface(
        list_url=reverse("orgunit-list") + "?page_size=100",
        detail_url=reverse("orgunit-detail", args=[unit.pk]),
        api_list_url=reverse("api-orgunit-list"),
        api_detail_url=reverse("api-orgunit-detail", args=[unit.pk]),
        marker=unit.name,
        api_id=unit.pk,
    )


def user_surface(user):
    return Surface(
        list_url=reverse("user-list") + "?page_size=100",
        detail_url=reverse("user-detail", args=[user.pk]),
        api_list_url=reverse("api-user-list"),
        api_detail_url=reverse("api-user-detail", args=[user.pk]),
        marker=user.real_name,
        api_id=user.pk,
    )


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_org_unit_visibility(city, persona):
    user = None if persona == "anonymous" else city[persona]
    in_a, in_b = EXPECTED[persona]
    check_visibility(user, orgunit_surface(city.inst_a), in_a)
    check_visibility(user, orgunit_surface(city.inst_b), in_b)


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_user_visibility(city, persona):
    user = None if persona == "anonymous" else city[persona]
    in_a, in_b = EXPECTED[persona]
    check_visibility(user, user_surface(city.staff_a), in_a)
    check_visibility(user, user_surface(city.staff_b), in_b)


def test_every_user_sees_themselves(city):
    from civilaffairs.models import User

    for user in city.users.values():
        assert User.objects.visible_to(user).filter(pk=user.pk).exists(), user.username


def test_inactive_user_sees_nothing(city):
    from civilaffairs.models import OrgUnit

    supervisor = city["supervisor"]
    supervisor.is_active = False
    supervisor.save()
    supervisor.refresh_roles()
    assert not OrgUnit.objects.visible_to(supervisor).exists()


def test_auditor_reads_audit_trail_and_sysadmin_does_not(city, login):
    assert login(city["auditor"]).get(reverse("audit-list")).status_code == 200
    assert login(city["sysadmin"]).get(reverse("audit-list")).status_code == 403
    assert login(city["supervisor"]).get(reverse("audit-list")).status_code == 403
