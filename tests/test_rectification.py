"""The rectification engine's guarded state machine (toward #4)."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent, TimelineEntry
from civilaffairs.services import timeline_of
from rectification import services
from rectification.choices import RectificationState as S
from rectification.models import Rectification
from tests.personas import build_city
from tests.rectification_data import evidence, issue, step

pytestmark = pytest.mark.django_db


def test_the_happy_path_and_its_timeline(city):
    order = issue(city)
    assert order.state == S.ISSUED and order.code.startswith("ZG")
    order = step(order, city["liaison_a"], "acknowledge")
    order = step(order, city["liaison_a"], "submit", note="已清理通道，附照片")
    order = step(order, city["supervisor"], "verify")
    assert order.state == S.VERIFIED and order.closed_by == city["supervisor"]
    verbs = [e.verb for e in timeline_of(order)]
    assert verbs == ["issued", "acknowledge", "submit", "verify"]


def test_the_verifier_is_not_the_rectifier(city):
    from civilaffairs.choices import Role
    from civilaffairs.services import role_grant

    # A department officer who is also liaison of the unit reports, then tries to verify.
    both = city["department"]
    role_grant(actor=None, user=both, role=Role.UNIT_LIAISON, scope=city.inst_a)
    both.refresh_roles()
    order = issue(city)
    step(order, both, "acknowledge")
    order = step(order, both, "submit")
    with pytest.raises(PermissionDenied, match="不能"):
        step(order, both, "verify")
    order.refresh_from_db()
    assert order.state == S.SUBMITTED


def test_liaison_of_another_unit_and_wrong_states_are_refused(city):
    order = issue(city)
    with pytest.raises(PermissionDenied):
        step(order, city["liaison_b"], "acknowledge")
    with pytest.raises(ServiceError):
        step(order, city["supervisor"], "verify")  # not submitted yet
    with pytest.raises(PermissionDenied):
        step(order, city["inspector"], "cancel")


def test_the_clock_starts_at_dispatch_not_at_signing(city, monkeypatch):
    order = issue(city, working_days=3)
    expected = services.compute_deadline(order.dispatched_at, 3).date
    later = timezone.now() + dt.timedelta(days=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    order = step(order, city["liaison_a"], "acknowledge")
    assert order.deadline == expected


def test_extension_needs_the_office_head(city):
    order = issue(city, working_days=5)
    new = order.deadline + dt.timedelta(days=10)
    step(order, city["liaison_a"], "request_extension", note="需采购设备", new_deadline=new)
    with pytest.raises(ServiceError):
        step(order, city["liaison_a"], "request_extension", new_deadline=new)
    with pytest.raises(PermissionDenied):
        step(order, city["supervisor"], "approve_extension")
    order = step(order, city["office_head"], "approve_extension")
    assert order.deadline == new


def test_a_stale_version_is_a_conflict(city):
    order = issue(city)
    step(order, city["liaison_a"], "acknowledge", version=1)
    with pytest.raises(Conflict):
        step(order, city["liaison_a"], "acknowledge", version=1)


def test_a_provisional_deadline_is_recomputed_when_its_year_is_loaded(city, tmp_path, monkeypatch):
    from django.core.management import call_command

    dispatched = dt.datetime(2026, 12, 28, 10, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: dispatched)
    order = issue(city, working_days=10)
    assert order.deadline_provisional and order.deadline == dt.date(2027, 1, 11)
    notice = tmp_path / "2027.csv"
    notice.write_text("date,is_workday,name\n2027-01-01,0,元旦\n", encoding="utf-8")
    call_command("load_calendar", year=2027, file=str(notice))
    services.recompute_provisional_deadlines([2027])  # on commit in production
    order.refresh_from_db()
    assert (order.deadline, order.deadline_provisional) == (dt.date(2027, 1, 12), False)
    assert timeline_of(order).last().verb == "deadline_recomputed"


@pytest.mark.django_db(transaction=True)
def test_two_verifications_at_once_exactly_one_succeeds():
    city = build_city()
    order = issue(city)
    step(order, city["liaison_a"], "acknowledge")
    step(order, city["liaison_a"], "submit")
    barrier, outcomes = threading.Barrier(2), []

    def verify(actor):
        try:
            barrier.wait()
            step(Rectification.objects.get(pk=order.pk), actor, "verify", version=3)
            outcomes.append("ok")
        except (ServiceError, Conflict) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=verify, args=(city[p],)) for p in ("supervisor", "office_head")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["Conflict", "ok"], outcomes
    assert TimelineEntry.objects.filter(object_id=order.pk, verb="verify").count() == 1


class RectificationMachine(RuleBasedStateMachine):
    """Random actions by random personas: an illegal step never succeeds, and each successful
    one leaves exactly one timeline row and one audit event."""

    succeeded: set = set()  # actions that succeeded at least once over the whole run

    PERSONAS = [
        "supervisor",
        "office_head",
        "inspector",
        "liaison_a",
        "liaison_b",
        "department",
        "leader",
        "auditor",
    ]

    @initialize()
    def setup(self):
        # Each example runs in a savepoint rolled back at teardown: a fresh city every time.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.city = build_city()
        self.order = issue(self.city)

    def teardown(self):
        if hasattr(self, "savepoint"):
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

    # Weighted so that legal walks happen often enough to reach every state.
    @rule(
        persona=st.sampled_from(PERSONAS + ["liaison_a"] * 4 + ["supervisor", "office_head"]),
        action=st.sampled_from(sorted(services.STEPS)),
        with_note=st.sampled_from([True, True, True, False]),
        stale=st.sampled_from([False, False, False, False, True]),
    )
    def act(self, persona, action, with_note, stale):
        self._attempt(persona, action, with_note, stale)

    @rule(verifier=st.sampled_from(["supervisor", "office_head", "department"]))
    def advance(self, verifier):
        """The next step a well-behaved user would take, so every state is reached."""
        order = Rectification.objects.get(pk=self.order.pk)
        liaison = "liaison_a" if order.responsible_unit_id == self.city.inst_a.pk else "liaison_b"
        persona, action = {
            S.ISSUED: (liaison, "acknowledge"),
            S.RETURNED: (liaison, "acknowledge"),
            S.ACKNOWLEDGED: (liaison, "submit"),
            S.SUBMITTED: (verifier, "verify"),
            S.VERIFIED: ("supervisor", "reopen"),
            S.CANCELLED: ("supervisor", "reopen"),
        }[order.state]
        self._attempt(persona, action, True, False)

    def _attempt(self, persona, action, with_note, stale):
        actor = self.city[persona]
        # Uploaded before counting: the upload has its own audit event.
        files = [evidence(actor)] if action == "submit" and with_note else []
        before = Rectification.objects.get(pk=self.order.pk)
        timeline = TimelineEntry.objects.count()
        audits = AuditEvent.objects.count()
        step_def = services.STEPS[action]
        kwargs = {
            "note": "说明" if with_note else "",
            "version": before.version - 1 if stale else before.version,
        }
        if files:
            kwargs["attachments"] = files
        if action == "request_extension":
            kwargs["new_deadline"] = before.deadline + dt.timedelta(days=7)
        if action == "reassign":
            kwargs["responsible_unit"] = (
                self.city.inst_b
                if before.responsible_unit_id == self.city.inst_a.pk
                else self.city.inst_a
            )
        try:
            after = services.rectification_transition(
                rectification=before, actor=actor, action=action, **kwargs
            )
        except (ServiceError, Conflict):
            unchanged = Rectification.objects.get(pk=self.order.pk)
            assert (unchanged.state, unchanged.version) == (before.state, before.version)
            assert TimelineEntry.objects.count() == timeline
            assert AuditEvent.objects.count() == audits
            return
        # It succeeded: it must have been legal.
        assert not stale
        assert before.state in step_def.sources
        assert step_def.allowed(actor, before)
        assert with_note or not step_def.needs_note
        if step_def.needs_evidence:
            assert kwargs.get("attachments") and TimelineEntry.objects.latest("pk").data[
                "attachments"
            ] == [str(a.uuid) for a in kwargs["attachments"]]
        if action in ("verify", "return"):
            assert before.submitted_by_id != actor.pk
        if step_def.target is not None:
            assert after.state == step_def.target
        assert after.version == before.version + 1
        assert TimelineEntry.objects.count() == timeline + 1
        assert AuditEvent.objects.count() == audits + 1
        RectificationMachine.succeeded.add(action)


@pytest.mark.slow
def test_random_actions_by_random_personas(db):
    machine = RectificationMachine.TestCase
    machine.settings = settings(
        max_examples=40,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    RectificationMachine.succeeded.clear()
    machine().runTest()
    # Not vacuous: the random walk really moved orders through the machine.
    assert {"acknowledge", "submit", "verify"} <= RectificationMachine.succeeded, (
        RectificationMachine.succeeded
    )


def test_filing_a_visit_issues_orders_for_its_findings(city, django_capture_on_commit_callbacks):
    from inspections import services as inspections
    from inspections.choices import Disposition
    from tests.inspection_data import walked_visit

    visit = walked_visit(city)
    inspections.finding_create(
        actor=city["inspector"],
        visit=visit,
        title="救助政策落实不到位",
        bottom_line="stability",
        category="poor_service",
        severity="general",
        disposition=Disposition.TRANSFERRED,
        transferred_to=city.dept_relief,
    )
    with django_capture_on_commit_callbacks(execute=True):
        inspections.visit_submit(actor=city["inspector"], visit=visit)
    orders = Rectification.objects.order_by("pk")
    assert orders.count() == 2
    first, transferred = orders
    assert first.responsible_unit == city.inst_a and first.created_by is None
    assert first.deadline == services.compute_deadline(first.dispatched_at, 10).date  # serious
    assert transferred.supervising_department == city.dept_relief
    # The department verifies what was transferred to it; the unit's liaison sees both.
    assert Rectification.objects.visible_to(city["department"]).filter(pk=transferred.pk).exists()
    assert Rectification.objects.visible_to(city["liaison_a"]).count() == 2
    # Running the listener again issues nothing twice.
    assert services.issue_for_filed_findings(visit.pk) == 0


def test_the_api_moves_orders_and_refuses_stale_or_foreign_steps(city, client):
    from django.urls import reverse

    order = issue(city)
    url = reverse("api-rectification-transition", args=[order.pk])
    client.force_login(city["liaison_b"])
    assert (
        client.post(url, {"action": "acknowledge"}, content_type="application/json").status_code
        == 404
    )
    assert client.get(reverse("api-rectification-list")).json()["count"] == 0
    client.force_login(city["liaison_a"])
    listed = client.get(reverse("api-rectification-list"), {"overdue": "false"}).json()
    assert [row["id"] for row in listed["results"]] == [order.pk]
    ok = client.post(url, {"action": "acknowledge", "version": 1}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == "acknowledged"
    stale = client.post(
        url, {"action": "submit", "note": "已整改", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409 and "刷新" in stale.json()["detail"]
    bad = client.post(url, {"action": "verify", "version": 2}, content_type="application/json")
    assert bad.status_code in (400, 403)
    assert Rectification.objects.get(pk=order.pk).state == S.ACKNOWLEDGED


def test_reporting_needs_evidence_of_ones_own(city):
    from civilaffairs.models import Attachment

    order = step(issue(city), city["liaison_a"], "acknowledge")
    with pytest.raises(ServiceError, match="证明材料"):
        services.rectification_transition(
            rectification=order, actor=city["liaison_a"], action="submit", note="已整改"
        )
    # Someone else's upload cannot be moved onto the order.
    foreign = evidence(city["liaison_b"])
    with pytest.raises(ServiceError, match="重新上传"):
        step(order, city["liaison_a"], "submit", attachments=[foreign])
    assert Rectification.objects.get(pk=order.pk).state == S.ACKNOWLEDGED
    photo = evidence(city["liaison_a"])
    order = step(order, city["liaison_a"], "submit", attachments=[photo])
    photo.refresh_from_db()
    assert photo.owner == order
    assert Attachment.objects.visible_to(city["supervisor"]).filter(pk=photo.pk).exists()
    assert not Attachment.objects.visible_to(city["liaison_b"]).filter(pk=photo.pk).exists()
    # Once attached it cannot be attached again.
    with pytest.raises(ServiceError):
        step(issue(city), city["liaison_a"], "request_extension", attachments=[photo])


def test_an_unreadable_version_is_a_conflict_and_changes_nothing(city):
    order = issue(city)
    with pytest.raises(Conflict):
        step(order, city["liaison_a"], "acknowledge", version="abc")
    assert Rectification.objects.get(pk=order.pk).state == S.ISSUED
