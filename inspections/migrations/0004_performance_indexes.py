# Indexes for city scale (#8): the finding and visit lists' default orders and date filters,
# and a BRIN for the dashboard's long time ranges. Built CONCURRENTLY (no write lock on a table
# of a million rows), so the migration is not atomic.
import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inspections", "0003_finding_repeat_of")]

    operations = [
        AddIndexConcurrently(
            model_name="finding",
            index=models.Index(fields=["found_at", "id"], name="finding_found_at_id"),
        ),
        AddIndexConcurrently(
            model_name="finding",
            index=django.contrib.postgres.indexes.BrinIndex(
                fields=["found_at"], name="finding_found_at_brin"
            ),
        ),
        AddIndexConcurrently(
            model_name="visit",
            index=models.Index(fields=["scheduled_date", "id"], name="visit_scheduled_date_id"),
        ),
    ]
