import pytest
from django.urls import reverse

from civilaffairs.choices import Role
from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.masking import mask_id_number, mask_name, mask_phone
from civilaffairs.models import AuditEvent, OrgUnit
from civilaffairs.services import orgunit_create, orgunit_update, role_grant, user_create

pytestmark = pytest.mark.django_db


def test_paths_and_districts_follow_the_tree(city):
    assert city.inst_a.path.startswith(city.street_a.path)
    assert city.inst_a.district == city.district_a
    assert city.district_a.district == city.district_a
    assert city.root.district is None
    assert set(OrgUnit.objects.subtree(city.district_a)) == {
        city.district_a,
        city.street_a,
        city.inst_a,
    }


def test_moving_a_unit_moves_its_subtree_and_recomputes_districts(city):
    orgunit_update(actor=city["sysadmin"], unit=city.street_a, parent=city.district_b)
    street = OrgUnit.objects.get(pk=city.street_a.pk)
    inst = OrgUnit.objects.get(pk=city.inst_a.pk)
    assert street.path.startswith(city.district_b.path)
    assert inst.path.startswith(street.path)
    assert inst.depth == street.depth + 1
    assert street.district == city.district_b
    assert inst.district == city.district_b
    # The liaison of district A no longer sees the moved institution; B's does.
    assert not OrgUnit.objects.visible_to(city["liaison_a"]).filter(pk=inst.pk).exists()
    assert OrgUnit.objects.visible_to(city["liaison_b"]).filter(pk=inst.pk).exists()


def test_a_unit_cannot_move_under_itself(city):
    with pytest.raises(ServiceError, match="不能移动到自身"):
        orgunit_update(actor=city["sysadmin"], unit=city.district_a, parent=city.street_a)


def test_only_sysadmin_manages_the_directory(city):
    with pytest.raises(PermissionDenied):
        orgunit_create(
            actor=city["supervisor"], parent=city.root, code="X", name="X", kind="department"
        )
    with pytest.raises(PermissionDenied):
        orgunit_update(actor=city["leader"], unit=city.inst_a, name="改名")


def test_institution_needs_a_type_and_codes_are_unique(city):
    with pytest.raises(ServiceError):
        orgunit_create(
            actor=None, parent=city.street_a, code="N1", name="无类型机构", kind="institution"
        )
    with pytest.raises(ServiceError, match=city.inst_a.code):
        orgunit_create(
            actor=None, parent=city.street_a, code=city.inst_a.code, name="重复", kind="street"
        )
    assert not OrgUnit.objects.filter(name__in=["无类型机构", "重复"]).exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Role.SYSADMIN, Role.AUDITOR),
        (Role.AUDITOR, Role.SUPERVISOR),
        (Role.SUPERVISOR, Role.SYSADMIN),
        (Role.LEADER, Role.AUDITOR),
    ],
)
def test_sysadmin_auditor_and_business_roles_exclude_each_other(city, first, second):
    user = user_create(actor=None, username="mixed", real_name="混合", roles=[(first, None)])
    with pytest.raises(ServiceError, match="互斥"):
        role_grant(actor=city["sysadmin"], user=user, role=second)
    assert list(user.roles.values_list("role", flat=True)) == [first]


def test_business_roles_combine(city):
    user = city["supervisor"]
    role_grant(actor=city["sysadmin"], user=user, role=Role.INSPECTOR)
    user.refresh_roles()
    assert user.role_set == {Role.SUPERVISOR, Role.INSPECTOR}
    assert AuditEvent.objects.filter(action="role.grant", object_id=str(user.pk)).exists()


def test_scoped_roles_need_a_scope(city):
    user = user_create(actor=None, username="noscope", real_name="无范围")
    with pytest.raises(ServiceError):
        role_grant(actor=city["sysadmin"], user=user, role=Role.UNIT_LIAISON)
    with pytest.raises(PermissionDenied):
        role_grant(actor=city["supervisor"], user=user, role=Role.INSPECTOR)


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳明华") == "欧**华"
    assert mask_id_number("440104199001011234") == "4401**********1234"


def test_phone_is_stored_whole_and_shown_masked(city, client):
    user = city["liaison_a"]
    assert user.phone == "13912345678"
    client.force_login(city["supervisor"])
    page = client.get(reverse("user-detail", args=[user.pk])).content.decode()
    api = client.get(reverse("api-user-detail", args=[user.pk])).json()
    assert "139****5678" in page and "13912345678" not in page
    assert api["phone"] == "139****5678"


def test_api_token_authentication(city, client):
    response = client.post(
        reverse("api-token"), {"username": "supervisor", "password": "Test@2026pw"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api = client.__class__()
    assert api.get(reverse("api-orgunit-list")).status_code in (401, 403)
    ok = api.get(reverse("api-orgunit-list"), HTTP_AUTHORIZATION=f"Token {token}")
    assert ok.status_code == 200
    assert ok.json()["count"] == OrgUnit.objects.count()
    bad = client.post(reverse("api-token"), {"username": "supervisor", "password": "x"})
    assert bad.status_code == 400


def test_api_filters_match_the_page_filters(city, client):
    client.force_login(city["supervisor"])
    response = client.get(
        reverse("api-orgunit-list"), {"district": city.district_a.pk, "kind": "institution"}
    )
    assert [row["id"] for row in response.json()["results"]] == [city.inst_a.pk]
    response = client.get(reverse("api-user-list"), {"role": "unit_liaison"})
    assert {row["username"] for row in response.json()["results"]} == {"liaison_a", "liaison_b"}
    within = client.get(reverse("api-orgunit-list"), {"within": city.district_a.pk})
    assert {row["id"] for row in within.json()["results"]} == {
        city.district_a.pk,
        city.street_a.pk,
        city.inst_a.pk,
    }


def test_bad_filter_values_answer_400_not_500(city, client):
    client.force_login(city["supervisor"])
    assert client.get(reverse("api-orgunit-list"), {"district": "abc"}).status_code == 400
    assert client.get(reverse("api-orgunit-list"), {"kind": "nope"}).status_code == 400
    page = client.get(reverse("orgunit-list"), {"kind": "nope", "page": "x", "sort": "zzz"})
    assert page.status_code == 200


def test_me_endpoint(city, client):
    client.force_login(city["auditor"])
    body = client.get(reverse("api-user-me")).json()
    assert body["username"] == "auditor"
    assert body["roles"][0]["role"] == "auditor"


def test_openapi_schema_is_served_and_docs_are_local(city, client):
    client.force_login(city["supervisor"])
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert b"/api/v1/org-units/" in schema.content
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_admin_is_for_sysadmins_only(city, client):
    client.force_login(city["sysadmin"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/civilaffairs/orgunit/").status_code == 200
    client.force_login(city["supervisor"])
    assert client.get("/admin/").status_code == 302
    client.force_login(city["auditor"])
    assert client.get("/admin/civilaffairs/orgunit/").status_code == 302
