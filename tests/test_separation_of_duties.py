"""Separation of duties (三权分立, #9 item 3): sysadmin, auditor and business roles exclude each
other on every path; the sysadmin neither reads nor changes the audit trail; the superuser flag
opens nothing; idle accounts are disabled by a scheduled job, never the last administrator."""

import datetime as dt

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from civilaffairs import account_security, imports
from civilaffairs.choices import ROLE_FAMILY, Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import (
    AuditEvent,
    BackgroundJob,
    Notification,
    RoleAssignment,
    User,
    UserSession,
)
from civilaffairs.models.audit import ACTION_LABELS
from civilaffairs.services import role_grant, role_revoke, user_create, user_update
from tests.admin_forms import admin_form_data
from tests.test_imports import keyed_file

pytestmark = pytest.mark.django_db

FAMILY_ROLE = {"sysadmin": Role.SYSADMIN, "auditor": Role.AUDITOR, "business": Role.SUPERVISOR}
MIXES = [(a, b) for a in FAMILY_ROLE for b in FAMILY_ROLE if a != b]


def roles_of(user):
    return sorted(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


# --- Role families exclude each other, on every path --------------------------------------


@pytest.mark.parametrize(("held", "asked"), MIXES)
def test_service_refuses_every_mix_of_families(city, held, asked):
    user = user_create(
        actor=None, username="x", real_name="某人", roles=[(FAMILY_ROLE[held], None)]
    )
    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as caught:
        role_grant(actor=city["sysadmin"], user=user, role=FAMILY_ROLE[asked])
    assert caught.value.field == "role"
    assert roles_of(user) == [FAMILY_ROLE[held]]
    assert AuditEvent.objects.count() == before


def test_every_role_belongs_to_exactly_one_family():
    assert set(ROLE_FAMILY) == set(Role)
    assert {ROLE_FAMILY[r] for r in Role if r not in (Role.SYSADMIN, Role.AUDITOR)} == {"business"}


@pytest.mark.parametrize(("persona", "asked"), [("auditor", "supervisor"), ("leader", "auditor")])
def test_admin_inline_cannot_mix_families(city, client, persona, asked):
    user = city[persona]
    held = roles_of(user)
    client.force_login(city["sysadmin"])
    url = reverse("admin:civilaffairs_user_change", args=[user.pk])
    data = admin_form_data(client.get(url))
    total = int(data["roles-TOTAL_FORMS"])
    data["roles-TOTAL_FORMS"] = str(total + 1)
    data[f"roles-{total}-role"] = asked
    if asked not in (Role.SYSADMIN, Role.AUDITOR):
        data[f"roles-{total}-scope"] = str(city.root.pk)
    grants = AuditEvent.objects.filter(action="role.grant", object_id=str(user.pk)).count()
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert roles_of(user) == held
    shown = [str(m) for m in response.context["messages"]]
    assert any("互斥" in m for m in shown), shown
    assert AuditEvent.objects.filter(action="role.grant", object_id=str(user.pk)).count() == grants


def test_sysadmin_cannot_give_themselves_another_family_in_the_admin(city, client):
    admin_user = city["sysadmin"]
    client.force_login(admin_user)
    url = reverse("admin:civilaffairs_user_change", args=[admin_user.pk])
    data = admin_form_data(client.get(url))
    total = int(data["roles-TOTAL_FORMS"])
    data["roles-TOTAL_FORMS"] = str(total + 1)
    data[f"roles-{total}-role"] = Role.AUDITOR
    client.post(url, data)
    assert roles_of(admin_user) == [Role.SYSADMIN]


@pytest.mark.parametrize(
    "field", ["is_superuser", "is_staff", "groups", "user_permissions", "password"]
)
def test_admin_form_has_no_field_that_bypasses_roles(city, client, field):
    client.force_login(city["sysadmin"])
    form = (
        client.get(reverse("admin:civilaffairs_user_change", args=[city["leader"].pk]))
        .context["adminform"]
        .form
    )
    assert field not in form.fields or form.fields[field].disabled


def test_posting_superuser_groups_or_permissions_in_the_admin_changes_nothing(city, client):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="后门")
    permission = Permission.objects.get(codename="view_auditevent")
    user = city["leader"]
    client.force_login(city["sysadmin"])
    url = reverse("admin:civilaffairs_user_change", args=[user.pk])
    data = admin_form_data(client.get(url))
    data.update(
        is_superuser="on",
        is_staff="on",
        groups=[str(group.pk)],
        user_permissions=[str(permission.pk)],
    )
    assert client.post(url, data).status_code == 302
    user.refresh_from_db()
    assert not user.is_superuser and not user.is_staff
    assert not user.groups.exists() and not user.user_permissions.exists()


def test_users_import_refuses_mixed_families_on_the_page_and_the_api(city, client):
    rows = [{"username": "mix", "real_name": "混合", "roles": "系统管理员、审计员"}]
    client.force_login(city["sysadmin"])
    page = client.post(
        reverse("imports:upload", args=["users"]), {"file": keyed_file("users", rows)}
    )
    assert page.status_code == 200
    assert page.context["token"] is None
    assert [e.row for e in page.context["result"].errors] == [2]
    api = client.post(
        reverse("api-import-run", args=["users"]),
        {"file": keyed_file("users", rows), "dry_run": "false"},
    )
    assert api.status_code == 400
    assert api.json()["errors"][0]["column"]
    assert not User.objects.filter(username="mix").exists()
    assert imports.registry()["users"].roles == (Role.SYSADMIN,)


def test_the_api_has_no_way_to_write_roles_or_users(city, client):
    client.force_login(city["sysadmin"])
    user = city["leader"]
    assert client.post(reverse("api-user-list"), {"username": "x"}).status_code in (403, 405)
    detail = reverse("api-user-detail", args=[user.pk])
    for method in (client.patch, client.put):
        response = method(detail, {"roles": [{"role": "auditor"}]}, content_type="application/json")
        assert response.status_code in (403, 405)
    assert roles_of(user) == [Role.LEADER]


# --- The last administrator ------------------------------------------------------------------


def test_the_last_active_sysadmin_cannot_be_disabled_or_lose_the_role(city):
    admin_user = city["sysadmin"]
    with pytest.raises(ServiceError) as caught:
        user_update(actor=admin_user, user=admin_user, is_active=False)
    assert caught.value.code == "last_sysadmin"
    with pytest.raises(ServiceError):
        role_revoke(actor=admin_user, assignment=admin_user.roles.get())
    admin_user.refresh_from_db()
    assert admin_user.is_active and roles_of(admin_user) == [Role.SYSADMIN]
    # With a second administrator, either may go.
    second = user_create(
        actor=admin_user, username="admin2", real_name="二号", roles=[(Role.SYSADMIN, None)]
    )
    user_update(actor=second, user=admin_user, is_active=False)
    assert not User.objects.get(pk=admin_user.pk).is_active


def test_the_admin_refuses_to_disable_or_demote_the_last_sysadmin(city, client):
    admin_user = city["sysadmin"]
    client.force_login(admin_user)
    url = reverse("admin:civilaffairs_user_change", args=[admin_user.pk])
    data = admin_form_data(client.get(url))
    del data["is_active"]
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["is_active"]
    data = admin_form_data(client.get(url))
    data["roles-0-DELETE"] = "on"
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.is_active and roles_of(admin_user) == [Role.SYSADMIN]


# --- The sysadmin and the audit trail ---------------------------------------------------------


def _superuser_sysadmin():
    return User.objects.create_superuser("root", "root@example.org", "Root@2026pw", real_name="根")


@pytest.mark.parametrize("who", ["sysadmin", "superuser"])
def test_sysadmin_reads_no_audit_trail_anywhere(city, client, who):
    user = city["sysadmin"] if who == "sysadmin" else _superuser_sysadmin()
    assert user.is_sysadmin
    client.force_login(user)
    assert client.get(reverse("audit-list")).status_code == 403
    assert client.get(reverse("audit-list"), {"export": "xlsx"}).status_code == 403
    assert client.post(reverse("audit-list") + "?export=xlsx", {"export": "xlsx"}).status_code in (
        403,
        405,
    )
    home = client.get(reverse("home"))
    assert "recent_events" not in home.context
    assert not AuditEvent.objects.visible_to(user).exists()
    for path in ("/api/v1/audit/", "/api/v1/audit-events/", "/api/v1/auditevents/"):
        assert client.get(path).status_code == 404, path
    assert client.get("/admin/civilaffairs/auditevent/").status_code == 404
    assert client.get(reverse("admin:index")).status_code == 200
    assert "auditevent" not in client.get(reverse("admin:index")).content.decode().lower()


def test_the_audit_trail_is_in_no_admin_and_no_api():
    from django.urls import get_resolver

    assert AuditEvent not in admin.site._registry

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield pattern.callback

    for callback in views(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None)  # DRF viewsets and API views
        queryset = getattr(cls, "queryset", None)
        model = getattr(cls, "model", None) or getattr(queryset, "model", None)
        assert model is not AuditEvent, cls


def test_a_background_export_of_the_trail_refuses_a_sysadmin(city):
    from civilaffairs.ledgers import run_ledger

    job = BackgroundJob.objects.create(
        owner=city["sysadmin"],
        kind="ledger",
        title="审计日志",
        params={"path": reverse("audit-list"), "query": ""},
    )
    with pytest.raises(ServiceError):
        run_ledger(job, lambda *args: None)


def test_the_auditor_reads_and_the_sysadmin_cannot_change_the_trail(city, client):
    from django.db import DatabaseError, transaction

    client.force_login(city["auditor"])
    assert client.get(reverse("audit-list")).status_code == 200
    event = AuditEvent.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="改写")


# --- The superuser flag opens nothing -----------------------------------------------------------


def test_a_superuser_without_a_role_can_do_nothing(city, client):
    root = User.objects.create(username="root", real_name="根", is_superuser=True, is_staff=True)
    assert not root.has_perm("civilaffairs.view_auditevent")
    assert not root.has_module_perms("civilaffairs")
    assert not root.has_perms(["auth.add_group"])
    client.force_login(root)
    assert client.get(reverse("audit-list")).status_code == 403
    assert client.get(reverse("orgunit-list")).status_code == 403
    assert client.get(reverse("api-orgunit-list")).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 302  # the admin's sign-in


def test_createsuperuser_makes_a_sysadmin_and_nothing_more(city, client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Root@2026pw-long")
    call_command(
        "createsuperuser",
        interactive=False,
        username="boot",
        real_name="首任管理员",
        verbosity=0,
    )
    user = User.objects.get(username="boot")
    assert roles_of(user) == [Role.SYSADMIN]
    granted = AuditEvent.objects.get(action="role.grant", object_id=str(user.pk))
    assert granted.actor is None
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200
    # The superuser flag does not open Django's other admin pages (groups, API tokens).
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 403
    assert client.get(reverse("audit-list")).status_code == 403
    # Nor a business role's pages.
    assert client.get(reverse("rectification:order-list")).status_code == 403


# --- Idle accounts ------------------------------------------------------------------------------


def age(user, *, days, signed_in=True):
    when = timezone.now() - dt.timedelta(days=days)
    fields = {"last_login": when} if signed_in else {"last_login": None, "date_joined": when}
    User.objects.filter(pk=user.pk).update(**fields)


def test_idle_accounts_are_disabled_audited_and_reported_to_sysadmins(city):
    age(city["leader"], days=91)
    age(city["supervisor"], days=89)
    age(city["department"], days=91, signed_in=False)  # never signed in, created long ago
    age(city["inspector"], days=10, signed_in=False)
    token = Token.objects.create(user=city["leader"])
    from django.test import Client

    browser = Client()
    browser.force_login(city["leader"])
    age(city["leader"], days=91)  # force_login signed in just now

    disabled = account_security.idle_accounts_disable()
    assert {u.username for u in disabled} == {"leader", "department"}
    assert not User.objects.get(pk=city["leader"].pk).is_active
    assert not User.objects.get(pk=city["department"].pk).is_active
    assert User.objects.get(pk=city["supervisor"].pk).is_active
    assert User.objects.get(pk=city["inspector"].pk).is_active

    events = AuditEvent.objects.filter(action="user.idle_disable")
    assert {e.object_id for e in events} == {str(city["leader"].pk), str(city["department"].pk)}
    leader_event = events.get(object_id=str(city["leader"].pk))
    assert leader_event.actor is None
    assert leader_event.changes["is_active"] == [True, False]
    assert leader_event.changes["idle_days"] == 91
    assert leader_event.changes["sessions"] == 1 and leader_event.changes["tokens"] == 1
    assert "user.idle_disable" in ACTION_LABELS

    assert not UserSession.objects.filter(user=city["leader"]).exists()
    assert not Token.objects.filter(pk=token.pk).exists()
    assert browser.get(reverse("api-user-me")).status_code == 403

    told = Notification.objects.filter(recipient=city["sysadmin"])
    assert told.count() == 2
    assert {n.url for n in told} == {
        reverse("user-detail", args=[city["leader"].pk]),
        reverse("user-detail", args=[city["department"].pk]),
    }
    assert not Notification.objects.exclude(recipient=city["sysadmin"]).exists()

    # A second run (or a concurrent one) finds nothing more to do.
    assert account_security.idle_accounts_disable() == []
    assert AuditEvent.objects.filter(action="user.idle_disable").count() == 2
    assert Notification.objects.count() == 2


def test_the_last_active_sysadmin_is_never_disabled_for_idleness(city):
    age(city["sysadmin"], days=400)
    assert account_security.idle_accounts_disable() == []
    assert User.objects.get(pk=city["sysadmin"].pk).is_active
    assert not AuditEvent.objects.filter(action="user.idle_disable").exists()

    second = user_create(
        actor=None, username="admin2", real_name="二号", roles=[(Role.SYSADMIN, None)]
    )
    disabled = account_security.idle_accounts_disable()
    assert city["sysadmin"].pk in [u.pk for u in disabled]
    assert not User.objects.get(pk=city["sysadmin"].pk).is_active
    # … and the remaining administrator is told.
    assert Notification.objects.filter(recipient=second).count() == 1


def test_idle_limit_setting(city, settings):
    assert settings.ACCOUNT_IDLE_DAYS == 90
    age(city["leader"], days=40)
    assert account_security.idle_accounts_disable() == []
    settings.ACCOUNT_IDLE_DAYS = 30
    assert [u.username for u in account_security.idle_accounts_disable()] == ["leader"]
    settings.ACCOUNT_IDLE_DAYS = 0
    age(city["supervisor"], days=1000)
    assert account_security.idle_accounts_disable() == []


def test_the_idle_job_is_a_scheduled_task(city):
    from django_celery_beat.models import PeriodicTask

    from civilaffairs import tasks
    from civilaffairs.management.commands.setup_schedules import setup_schedules

    setup_schedules()
    entry = PeriodicTask.objects.get(task="civilaffairs.tasks.disable_idle_accounts")
    assert entry.enabled and entry.crontab is not None
    assert PeriodicTask.objects.filter(task="civilaffairs.tasks.clear_expired_sessions").exists()
    age(city["leader"], days=100)
    assert tasks.disable_idle_accounts.apply().get() == 1
    assert not User.objects.get(pk=city["leader"].pk).is_active
