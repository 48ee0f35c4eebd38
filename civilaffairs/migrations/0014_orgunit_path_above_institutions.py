# The unit select of the list pages' filter bars (#8): the units above the institutions by path
# prefix, without a sequential scan of the institutions. Built CONCURRENTLY, so the migration is
# not atomic.
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("civilaffairs", "0013_performance_indexes")]

    operations = [
        AddIndexConcurrently(
            model_name="orgunit",
            index=models.Index(
                condition=models.Q(("kind", "institution"), _negated=True),
                fields=["path"],
                name="orgunit_path_above_inst",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
