from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from civilaffairs.choices import InstitutionType, OrgKind, Role
from civilaffairs.demo import city as demo_city
from civilaffairs.models import AuditEvent, OrgUnit, RoleAssignment, User

pytestmark = pytest.mark.django_db

GUANGZHOU_LAT = (Decimal("22.5"), Decimal("23.95"))
GUANGZHOU_LNG = (Decimal("112.9"), Decimal("114.1"))


def _snapshot():
    return {
        "units": OrgUnit.objects.count(),
        "users": User.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "audit": AuditEvent.objects.count(),
        "by_kind": Counter(OrgUnit.objects.values_list("kind", flat=True)),
    }


def _load(**options):
    out = StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo city, loaded once for the module inside a transaction rolled back at its end
    (each test runs in a savepoint within it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        assert _load(quiet=True) == ""
        yield _snapshot()
        transaction.set_rollback(True)


def test_second_load_is_a_no_op(demo):
    assert _load(quiet=True) == ""
    after = _snapshot()
    assert after == demo  # same counts of everything, and not one new audit event
    codes = list(OrgUnit.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))
    assert demo["units"] == len(demo_city.units())
    assert demo["users"] == len(demo_city.users())


def test_load_prints_the_logins_and_password(demo):
    output = _load()
    assert settings.DEMO_PASSWORD in output
    for username, _role, real_name in demo_city.demo_logins():
        assert username in output
        assert real_name in output


def test_city_has_every_kind_of_unit(demo):
    assert OrgUnit.objects.get(parent__isnull=True).code == "GZMZ"
    assert OrgUnit.objects.get(code="GZMZ-ZXB").kind == OrgKind.DEPARTMENT
    assert demo["by_kind"][OrgKind.DEPARTMENT] >= 8
    assert demo["by_kind"][OrgKind.AFFILIATED_UNIT] >= 10
    assert demo["by_kind"][OrgKind.INSTITUTION] >= 300
    types = set(OrgUnit.objects.institutions().values_list("institution_type", flat=True))
    assert types == set(InstitutionType.values)

    districts = OrgUnit.objects.filter(kind=OrgKind.DISTRICT_BUREAU)
    assert districts.count() == 11
    for district in districts:
        streets = district.children.filter(kind=OrgKind.STREET).count()
        assert streets >= 4, district.name


def test_every_role_is_held_by_a_demo_user(demo):
    held = set(RoleAssignment.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    leader = User.objects.get(username="leader_tianhe")
    assert [a.scope.name for a in leader.role_assignments] == ["天河区民政局"]
    assert User.objects.get(username="zxb01").has_role(Role.SUPERVISOR, Role.INSPECTOR)
    assert User.objects.get(username="liaison_yuexiu").check_password(settings.DEMO_PASSWORD)


def test_institutions_lie_in_guangzhou_under_their_district(demo):
    units = {u.pk: u for u in OrgUnit.objects.all()}
    institutions = [u for u in units.values() if u.kind == OrgKind.INSTITUTION]
    for unit in institutions:
        assert GUANGZHOU_LAT[0] <= unit.latitude <= GUANGZHOU_LAT[1], unit.code
        assert GUANGZHOU_LNG[0] <= unit.longitude <= GUANGZHOU_LNG[1], unit.code
        ancestor = units[unit.parent_id]
        while ancestor.kind != OrgKind.DISTRICT_BUREAU:
            ancestor = units[ancestor.parent_id]
        assert unit.district_id == ancestor.pk, unit.code
        assert unit.supervising_department is not None
        assert unit.contact_phone


def test_household_names_are_masked(demo):
    households = OrgUnit.objects.filter(institution_type=InstitutionType.LOW_INCOME_HOUSEHOLD)
    assert households.count() >= 50
    for household in households:
        assert "*" in household.name
        assert household.contact_name  # the full name is kept, as personal data
        assert household.contact_name not in household.name


def test_every_change_in_the_demo_audit_trail_is_shown_with_a_label(demo):
    """The trail shows what changed with names people read: no key of a step's changes is
    shown as the programmer's identifier."""
    import re

    raw = set()
    for event in AuditEvent.objects.exclude(changes=None).iterator():
        if isinstance(event.changes, dict):
            shown = event.changes_display()
            raw |= {k for k in event.changes if re.search(rf"(^|；){re.escape(k)}：", shown)}
    assert not raw, f"change keys shown raw: {sorted(raw)}"


def test_nothing_in_the_demo_happened_in_the_future(demo):
    """Every recorded step of the demo lies in the past (a case received "today" at 16:00 and
    triaged the next day was shown as done tomorrow)."""
    import datetime as dt

    from django.utils import timezone

    from civilaffairs.models import TimelineEntry

    soon = timezone.now() + dt.timedelta(minutes=5)
    assert not AuditEvent.objects.filter(at__gt=soon).exists()
    assert not TimelineEntry.objects.filter(at__gt=soon).exists()
