"""Repeat problems (#4 item 7): a finding links the earlier finding it repeats — same unit,
same category, within settings.REPEAT_PROBLEM_MONTHS, on another visit — and existing findings
are linked here.

The backfill streams the findings ordered by unit, category and time and writes the links in
batches, so it runs in constant memory on a city's history. It repeats the rule of
FindingQuerySet.previous_occurrence on purpose: a migration must not import code that will
change after it."""

import calendar

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

BATCH = 1000


def _months_back(moment, months):
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def link_repeats(apps, schema_editor):
    Finding = apps.get_model("inspections", "Finding")
    months = getattr(settings, "REPEAT_PROBLEM_MONTHS", 6)
    rows = (
        Finding.objects.order_by("target_id", "category", "found_at", "id")
        .values_list("id", "target_id", "category", "found_at", "visit_id", "state")
        .iterator(chunk_size=2000)
    )
    pending = []
    group = None
    earlier = []  # filed findings of the current unit and category, oldest first
    for pk, target_id, category, found_at, visit_id, state in rows:
        if (target_id, category) != group:
            group, earlier = (target_id, category), []
        start = _months_back(found_at, months)
        link = None
        for other_pk, other_visit, other_found in reversed(earlier):
            if other_found < start:
                break
            if visit_id is None or other_visit != visit_id:
                link = other_pk
                break
        if link is not None:
            pending.append(Finding(pk=pk, repeat_of_id=link))
            if len(pending) >= BATCH:
                Finding.objects.bulk_update(pending, ["repeat_of"])
                pending = []
        if state != "draft":
            earlier.append((pk, visit_id, found_at))
    if pending:
        Finding.objects.bulk_update(pending, ["repeat_of"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0002_visit_submit_client_uuid"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="repeat_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="repeats",
                to="inspections.finding",
                verbose_name="repeat of",
            ),
        ),
        migrations.RunPython(link_repeats, migrations.RunPython.noop, elidable=True),
    ]
