"""Ledgers: any list exports exactly what it shows; large ones run as background jobs with a
progress bar, a notification and a download only their owner can fetch; cells a user typed are
text, never formulas."""

import io
import zipfile

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from civilaffairs import jobs
from civilaffairs.choices import JobState, NotificationKind, Role
from civilaffairs.models import Attachment, AuditEvent, BackgroundJob, Notification, OrgUnit

DANGEROUS = ["=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0", '=HYPERLINK("x")']


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)
    return queued


def _rows(content: bytes):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _download(client, job) -> bytes:
    response = client.get(reverse("job-download", args=[job.uuid]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _start_large_export(client, url, params=None):
    page = client.get(url, {**(params or {}), "export": "xlsx"})
    assert page.status_code == 200
    assert 'id="export-confirm"' in page.content.decode()
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    response = client.post(f"{url}?{query}", {"export": "xlsx"})
    assert response.status_code == 302
    return BackgroundJob.objects.get(uuid=response.url.rstrip("/").split("/")[-1])


def test_small_export_downloads_at_once(city, client, settings):
    settings.EXPORT_SYNC_LIMIT = 1000
    client.force_login(city["supervisor"])
    response = client.get(reverse("orgunit-list"), {"export": "xlsx", "kind": "institution"})
    assert response.status_code == 200
    rows = next(iter(_rows(b"".join(response.streaming_content)).values()))
    visible = OrgUnit.objects.visible_to(city["supervisor"]).filter(kind="institution")
    assert len(rows) - 1 == visible.count() > 0
    assert not BackgroundJob.objects.exists()


def test_large_export_runs_in_the_background_and_matches_the_list(
    city, client, settings, _no_broker, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_LIMIT = 2
    user = city["leader_a"]
    client.force_login(user)
    url = reverse("orgunit-list")
    listed = client.get(url, {"active": "true"}).context["total"]
    assert listed > 2
    with django_capture_on_commit_callbacks(execute=True):
        job = _start_large_export(client, url, {"active": "true"})
    assert job.owner == user and job.state == JobState.QUEUED and job.kind == "ledger"
    assert _no_broker == [job.pk]
    assert AuditEvent.objects.filter(action="job.ledger", object_id=str(job.pk)).exists()
    progress = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in progress.content.decode()

    assert jobs.run_job(job.pk) == JobState.DONE
    assert jobs.run_job(job.pk) is None  # a redelivered task does nothing
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.done == job.total == listed
    finished = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in finished and 'id="job-download"' in finished
    rows = next(iter(_rows(_download(client, job)).values()))
    assert len(rows) - 1 == listed
    codes = {r[1] for r in rows[1:]}
    expected = set(
        OrgUnit.objects.visible_to(user).filter(active=True).values_list("code", flat=True)
    )
    assert codes == expected
    ready = Notification.objects.filter(recipient=user, kind=NotificationKind.FILE_READY)
    assert ready.count() == 1 and ready.get().url == job.get_absolute_url()


def test_only_the_owner_sees_the_job_and_its_file(city, client, settings):
    settings.EXPORT_SYNC_LIMIT = 1
    client.force_login(city["supervisor"])
    job = _start_large_export(client, reverse("orgunit-list"))
    jobs.run_job(job.pk)
    job.refresh_from_db()
    client.force_login(city["leader"])
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("job-download", args=[job.uuid])).status_code == 404
    assert client.get(reverse("attachment-download", args=[job.result.uuid])).status_code == 404
    api = client.get("/api/v1/jobs/").json()
    assert api["count"] == 0
    client.force_login(city["supervisor"])
    mine = client.get("/api/v1/jobs/").json()
    assert mine["count"] == 1 and mine["results"][0]["download_url"]
    assert client.get(reverse("job-list")).status_code == 200


def test_user_typed_cells_never_become_formulas(city, client, settings):
    parent = city.district_a
    for i, name in enumerate(DANGEROUS):
        OrgUnit.objects.create(
            parent=parent,
            code=f"T-A-X{i}",
            name=name,
            kind="street",
            address=name,
            path=f"{parent.path}x{i}/",
            district=parent,
        )
    client.force_login(city["supervisor"])
    for limit in (100000, 1):  # at once, and as a background job
        settings.EXPORT_SYNC_LIMIT = limit
        url = reverse("orgunit-list")
        if limit > 1:
            response = client.get(url, {"export": "xlsx", "q": "T-A-X"})
            content = b"".join(response.streaming_content)
        else:
            job = _start_large_export(client, url, {"q": "T-A-X"})
            jobs.run_job(job.pk)
            content = _download(client, job)
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml
        book = openpyxl.load_workbook(io.BytesIO(content))
        cells = [c for row in book.active.iter_rows(min_row=2) for c in row if c.value]
        typed = [c for c in cells if str(c.value) in DANGEROUS]
        assert len(typed) == 2 * len(DANGEROUS)  # name and address
        assert all(c.data_type == "s" for c in typed)


def test_owner_who_lost_the_right_gets_a_failed_job(city, client, settings):
    settings.EXPORT_SYNC_LIMIT = 1
    user = city["supervisor"]
    client.force_login(user)
    job = _start_large_export(client, reverse("orgunit-list"))
    user.roles.filter(role=Role.SUPERVISOR).delete()
    assert jobs.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.error and job.result is None
    assert not Notification.objects.filter(kind=NotificationKind.FILE_READY).exists()


def test_too_many_jobs_at_once_is_refused_in_chinese(city, client, settings):
    settings.EXPORT_SYNC_LIMIT = 1
    settings.JOBS_MAX_ACTIVE_PER_USER = 1
    client.force_login(city["supervisor"])
    _start_large_export(client, reverse("orgunit-list"))
    response = client.post(reverse("orgunit-list"), {"export": "xlsx"}, follow=True)
    assert BackgroundJob.objects.count() == 1
    assert "请等其中一个完成后再试" in response.content.decode()


def test_sweep_requeues_lost_fails_stuck_and_removes_old_ledgers(city, settings, _no_broker):
    user = city["supervisor"]
    now = timezone.now()
    lost = BackgroundJob.objects.create(owner=user, kind="ledger", title="a")
    stuck = BackgroundJob.objects.create(
        owner=user, kind="ledger", title="b", state=JobState.RUNNING, started_at=now
    )
    old = BackgroundJob.objects.create(owner=user, kind="ledger", title="c")
    BackgroundJob.objects.filter(pk=lost.pk).update(created_at=now - timezone.timedelta(minutes=5))
    BackgroundJob.objects.filter(pk=stuck.pk).update(
        started_at=now - timezone.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)
    )
    jobs.run_job(old.pk)
    BackgroundJob.objects.filter(pk=old.pk).update(
        created_at=now - timezone.timedelta(days=settings.JOBS_EXPORT_KEEP_DAYS + 1)
    )
    attachment_id = BackgroundJob.objects.get(pk=old.pk).result_id
    result = jobs.sweep(now)
    assert result == {"requeued": 1, "failed": 1, "removed": 1}
    assert lost.pk in _no_broker
    assert BackgroundJob.objects.get(pk=stuck.pk).state == JobState.FAILED
    assert not BackgroundJob.objects.filter(pk=old.pk).exists()
    assert not Attachment.objects.filter(pk=attachment_id).exists()
