# Indexes for city scale (#8): the order lists' default orders (API by deadline, page by
# dispatch), the dispatch-date filters, and a partial index of open orders by deadline for the
# overdue lists and the deadline scan. Built CONCURRENTLY, so the migration is not atomic.
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("rectification", "0005_personal_data_encryption")]

    operations = [
        AddIndexConcurrently(
            model_name="rectification",
            index=models.Index(fields=["deadline", "id"], name="order_deadline_id"),
        ),
        AddIndexConcurrently(
            model_name="rectification",
            index=models.Index(fields=["dispatched_at", "id"], name="order_dispatched_at_id"),
        ),
        AddIndexConcurrently(
            model_name="rectification",
            index=models.Index(
                condition=models.Q(
                    ("state__in", ["acknowledged", "issued", "returned", "submitted"])
                ),
                fields=["deadline", "id"],
                name="order_open_deadline",
            ),
        ),
    ]
