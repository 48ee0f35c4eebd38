"""Build (or drop) the benchmark dataset: ``bench_seed --scale city`` makes 20k org units, 200k
visits, 1M findings, about 1M rectification orders with their timelines, 100k complaints and
two years of daily reports, from ``--seed``, with COPY. See civilaffairs/benchdata.py.

Safety: it refuses to run when a benchmark dataset is already there (``--drop`` it first) and
when the database holds business data of its own (visits, findings, orders, complaints, daily
reports) unless ``--on-top-of-demo`` says that is expected (the demo). It only inserts; it never
changes an existing row and writes no audit event. ``--drop`` deletes exactly the benchmark rows
(codes ``BENCH-…``, users ``bench_…`` and what hangs off them)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from civilaffairs import benchdata
from civilaffairs.models import OrgUnit, User
from inspections.models import Finding, Visit
from rectification.models import Complaint, Rectification
from reports.models import DailyReport

BUSINESS = [Visit, Finding, Rectification, Complaint, DailyReport]

# (table model path, SQL condition selecting benchmark rows), deleted in this order.
DROP = [
    ("civilaffairs.TimelineEntry",
     "(content_type_id = %(ct_order)s AND object_id IN (SELECT id FROM rectification_rectification"
     " WHERE code LIKE 'BENCH-%%')) OR (content_type_id = %(ct_complaint)s AND object_id IN"
     " (SELECT id FROM rectification_complaint WHERE code LIKE 'BENCH-%%'))"),
    ("rectification.Alert",
     "rectification_id IN (SELECT id FROM rectification_rectification WHERE code LIKE 'BENCH-%%')"),
    ("rectification.ExtensionRequest",
     "rectification_id IN (SELECT id FROM rectification_rectification WHERE code LIKE 'BENCH-%%')"),
    ("rectification.Rectification", "code LIKE 'BENCH-%%'"),
    ("rectification.Complaint", "code LIKE 'BENCH-%%' AND merged_into_id IS NOT NULL"),
    ("rectification.Complaint", "code LIKE 'BENCH-%%'"),
    ("reports.DailyReportLine",
     "report_id IN (SELECT id FROM reports_dailyreport WHERE unit_id IN (%(units)s))"),
    ("reports.DailyReport", "unit_id IN (%(units)s)"),
    ("reports.SensitivePeriod_units",
     "sensitiveperiod_id IN (SELECT id FROM reports_sensitiveperiod"
     " WHERE name LIKE '基准%%' AND created_by_id IN (%(users)s))"),
    ("reports.SensitivePeriod", "name LIKE '基准%%' AND created_by_id IN (%(users)s)"),
    ("inspections.Finding", "code LIKE 'BENCH-%%'"),
    ("inspections.Visit_inspectors",
     "visit_id IN (SELECT id FROM inspections_visit WHERE plan_id IN"
     " (SELECT id FROM inspections_inspectionplan WHERE code LIKE 'BENCH-%%'))"),
    ("inspections.Visit",
     "plan_id IN (SELECT id FROM inspections_inspectionplan WHERE code LIKE 'BENCH-%%')"),
    ("inspections.InspectionPlan_team",
     "inspectionplan_id IN (SELECT id FROM inspections_inspectionplan WHERE code LIKE 'BENCH-%%')"),
    ("inspections.InspectionPlan", "code LIKE 'BENCH-%%'"),
    # What the app made for benchmark users while they were used (snapshots, notifications).
    ("reports.DashboardSnapshot", "user_id IN (%(users)s)"),
    ("civilaffairs.Delivery", "notification_id IN (SELECT id FROM civilaffairs_notification"
     " WHERE recipient_id IN (%(users)s))"),
    ("civilaffairs.Notification", "recipient_id IN (%(users)s)"),
    ("civilaffairs.NotificationPreference", "user_id IN (%(users)s)"),
    ("civilaffairs.RoleAssignment", "user_id IN (%(users)s)"),
    ("civilaffairs.User", "id IN (%(users)s)"),
    ("civilaffairs.OrgUnit", "code LIKE 'BENCH-%%' AND kind NOT IN ('bureau', 'department',"
     " 'district_bureau', 'affiliated_unit')"),
    ("civilaffairs.OrgUnit", "code LIKE 'BENCH-%%' AND kind <> 'bureau'"),
    ("civilaffairs.OrgUnit", "code LIKE 'BENCH-%%'"),
]  # fmt: skip


def _table(label: str) -> str:
    from django.apps import apps

    name, _, field = label.partition("_")
    model = apps.get_model(name)
    if field:
        return getattr(model, field).through._meta.db_table
    return model._meta.db_table


class Command(BaseCommand):
    help = "Build the reproducible benchmark dataset (COPY), or --drop it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(benchdata.SCALES), default="small")
        parser.add_argument("--seed", type=int, default=20260501)
        parser.add_argument(
            "--on-top-of-demo",
            action="store_true",
            help="Run although the database holds business data (e.g. the demo); it is kept.",
        )
        parser.add_argument("--drop", action="store_true", help="Delete the benchmark dataset.")

    def handle(self, *args, scale, seed, on_top_of_demo, drop, **options):
        if drop:
            return self.drop()
        if OrgUnit.objects.filter(code__startswith=benchdata.PREFIX).exists() or (
            User.objects.filter(username__startswith=benchdata.USER_PREFIX).exists()
        ):
            raise CommandError("A benchmark dataset is already loaded: run with --drop first.")
        foreign = {
            model._meta.verbose_name_plural: model.objects.count()
            for model in BUSINESS
            if model.objects.exists()
        }
        if foreign and not on_top_of_demo:
            listed = ", ".join(f"{n} {name}" for name, n in foreign.items())
            raise CommandError(
                f"This database holds business data ({listed}). Use an empty database, or pass "
                "--on-top-of-demo to add the benchmark rows beside it (nothing existing is "
                "changed)."
            )
        started = time.monotonic()
        self.stdout.write(f"bench_seed: scale {scale}, seed {seed}")
        builder = benchdata.Builder(scale, seed, out=self.stdout.write)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
            builder.load()
        builder.analyze()
        self.choices_changed()
        self.stdout.write(f"total {time.monotonic() - started:.1f} s")

    def choices_changed(self):
        """COPY and DELETE send no signals: the filter selects' kept choices go stale here."""
        from civilaffairs import choice_cache
        from civilaffairs.models import OrgUnit
        from inspections.models import InspectionPlan

        for model in (OrgUnit, InspectionPlan):
            choice_cache.bump(model)

    def drop(self):
        from django.contrib.contenttypes.models import ContentType

        started = time.monotonic()
        params = {
            "ct_order": ContentType.objects.get_for_model(Rectification).pk,
            "ct_complaint": ContentType.objects.get_for_model(Complaint).pk,
            "units": "SELECT id FROM civilaffairs_orgunit WHERE code LIKE 'BENCH-%'",
            "users": "SELECT id FROM civilaffairs_user WHERE username LIKE 'bench\\_%'",
        }
        with transaction.atomic(), connection.cursor() as cursor:
            for label, condition in DROP:
                sql = condition % params
                cursor.execute(f"DELETE FROM {_table(label)} WHERE {sql}")  # noqa: S608 (constants)  # nosec B608
                if cursor.rowcount:
                    self.stdout.write(f"{label:<34}{cursor.rowcount:>10} rows deleted")
        self.choices_changed()
        self.stdout.write(f"dropped in {time.monotonic() - started:.1f} s")
