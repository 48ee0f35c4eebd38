# The finding list's typical filters (state + district + dates) at city scale (#8): counted
# through (target, state, found_at) by an index-only scan per unit of the district. Built
# CONCURRENTLY, so the migration is not atomic.
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inspections", "0004_performance_indexes")]

    operations = [
        AddIndexConcurrently(
            model_name="finding",
            index=models.Index(
                fields=["target", "state", "found_at"], name="finding_target_state_found"
            ),
        ),
    ]
