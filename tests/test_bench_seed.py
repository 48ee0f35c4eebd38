"""bench_seed: counts, reproducibility from the seed, pages answering on the seeded data, and
--drop removing exactly the benchmark rows."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civilaffairs.benchdata import BULK_MODELS, DIGEST_UNITS, SCALES, secondary_indexes
from civilaffairs.models import OrgUnit, TimelineEntry, User
from inspections.models import Finding, Visit
from rectification.models import Complaint, Rectification
from reports.models import DailyReport, SensitivePeriod

pytestmark = pytest.mark.django_db

TINY = SCALES["tiny"]


def _checksum() -> str:
    with connection.cursor() as cursor:
        digest = hashlib.sha256()
        for sql in (
            "SELECT code, kind, institution_type, depth FROM civilaffairs_orgunit"
            " WHERE code LIKE 'BENCH-%' ORDER BY code",
            "SELECT f.bottom_line, f.category, f.severity, f.disposition, f.state, o.code"
            " FROM inspections_finding f JOIN civilaffairs_orgunit o ON o.id = f.target_id"
            " WHERE f.code LIKE 'BENCH-%' ORDER BY f.id",
            "SELECT state, deadline - dispatched_at::date, times_returned FROM"
            " rectification_rectification WHERE code LIKE 'BENCH-%' ORDER BY id",
            "SELECT channel, domain, nature, state FROM rectification_complaint"
            " WHERE code LIKE 'BENCH-%' ORDER BY id",
        ):
            cursor.execute(sql)
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (OrgUnit, User, Visit, Finding, Rectification, Complaint, DailyReport)
    } | {"TimelineEntry": TimelineEntry.objects.count()}


def test_seed_counts_pages_reproducible_and_drop(city, client):
    before = _counts()
    indexes_before = secondary_indexes(BULK_MODELS)
    assert len(indexes_before) >= 10  # the load drops and rebuilds these
    call_command("bench_seed", "--scale", "tiny", "--on-top-of-demo", stdout=io.StringIO())
    assert OrgUnit.objects.filter(code__startswith="BENCH-").count() == TINY["units"]
    assert Visit.objects.filter(plan__code__startswith="BENCH-").count() == TINY["visits"]
    findings = Finding.objects.filter(code__startswith="BENCH-")
    assert findings.count() == TINY["findings"]
    assert Complaint.objects.filter(code__startswith="BENCH-").count() == TINY["complaints"]
    orders = Rectification.objects.filter(code__startswith="BENCH-")
    # Every finding not fixed on site has its order; triaged complaints have theirs.
    assert orders.filter(finding__isnull=False).count() == findings.exclude(state="closed").count()
    assert not orders.filter(state="verified", closed_at__isnull=True).exists()
    assert not orders.exclude(state="verified").filter(closed_at__isnull=False).exists()
    assert not findings.filter(disposition="transferred", transferred_to__isnull=True).exists()
    # Timelines are consistent with the states and never queue notifications.
    assert TimelineEntry.objects.filter(object_id__in=orders.values("pk"), verb="issued").exists()
    assert not TimelineEntry.objects.filter(notified_at__isnull=True).exists()
    assert DailyReport.objects.filter(unit__code__startswith="BENCH-").exists()
    # The current period reports from DIGEST_UNITS units, institutions included.
    benchmark_periods = SensitivePeriod.objects.filter(name__startswith="基准")
    current = benchmark_periods.order_by("-start_date").first()
    assert current.units.count() == DIGEST_UNITS["tiny"]
    assert current.units.filter(kind="institution").exists()
    reporters = DailyReport.objects.filter(period=current, unit__kind="institution")
    assert reporters.exists() and not reporters.filter(reporter__isnull=True).exists()
    # Every secondary index dropped for the load is there again (PostgreSQL prints a partial
    # index's predicate back in another, equivalent form: names and partiality compared).
    after = secondary_indexes(BULK_MODELS)
    assert [(name, "WHERE" in sql) for name, sql in after] == [
        (name, "WHERE" in sql) for name, sql in indexes_before
    ]
    first = _checksum()

    supervisor = User.objects.get(username="bench_sup01")
    client.force_login(supervisor)
    for url in (
        "/inspections/findings/",
        "/rectification/orders/",
        "/rectification/complaints/",
        "/api/v1/findings/",
        "/api/v1/rectifications/",
        "/reports/dashboard/?preset=year&refresh=1",
    ):
        assert client.get(url).status_code == 200, url
    order = orders.filter(state="verified").first()
    assert client.get(f"/rectification/orders/{order.pk}/").status_code == 200
    client.logout()

    # Refused while loaded; --drop removes exactly the benchmark rows.
    with pytest.raises(CommandError):
        call_command("bench_seed", "--scale", "tiny", "--on-top-of-demo")
    call_command("bench_seed", "--drop", stdout=io.StringIO())
    assert _counts() == before

    # The same seed gives the same rows.
    call_command("bench_seed", "--scale", "tiny", "--on-top-of-demo", stdout=io.StringIO())
    assert _checksum() == first
    call_command("bench_seed", "--drop", stdout=io.StringIO())
    call_command(
        "bench_seed", "--scale", "tiny", "--on-top-of-demo", "--seed", "7",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert _checksum() != first


def test_refuses_a_database_with_business_data_unless_told(city):
    from tests.flash_data import finding

    finding(city)
    with pytest.raises(CommandError, match="business data"):
        call_command("bench_seed", "--scale", "tiny")
