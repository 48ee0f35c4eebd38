"""The audit trail becomes a hash chain (civilaffairs.auditchain), with purge anchors.

Events already present are chained here, in id order and in batches, with the append-only
trigger switched off for this transaction only (ALTER TABLE holds the table exclusively until
the migration commits, so nothing else writes meanwhile).

The append-only trigger learns one exception: a transaction that sets
``civilaffairs.audit_purge = on`` may delete events older than 180 days (the legal minimum);
younger ones stay refused whatever the application asks. Purge anchors are append-only too."""

import json

from django.db import migrations, models

BATCH = 2000

FUNCTION_WITH_PURGE = """
CREATE OR REPLACE FUNCTION civilaffairs_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'civilaffairs_auditevent'
       AND coalesce(current_setting('civilaffairs.audit_purge', true), '') = 'on' THEN
        IF OLD.at < now() - interval '180 days' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER civilaffairs_auditpurge_no_update_delete
    BEFORE UPDATE OR DELETE ON civilaffairs_auditpurge
    FOR EACH ROW EXECUTE FUNCTION civilaffairs_audit_append_only();
"""

FUNCTION_WITHOUT_PURGE = """
DROP TRIGGER IF EXISTS civilaffairs_auditpurge_no_update_delete ON civilaffairs_auditpurge;
CREATE OR REPLACE FUNCTION civilaffairs_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def chain_existing(cursor, batch: int = BATCH) -> int:
    """Chain every event in id order from the genesis; returns how many were chained. The
    caller switches the update trigger off around it."""
    from civilaffairs import auditchain

    columns = ", ".join(auditchain.CONTENT_FIELDS)
    prev, last_id, done = auditchain.GENESIS, 0, 0
    while True:
        cursor.execute(
            f"SELECT {columns} FROM civilaffairs_auditevent WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
            [last_id, batch],
        )
        rows = cursor.fetchall()
        if not rows:
            return done
        values = []
        for row in rows:
            content = dict(zip(auditchain.CONTENT_FIELDS, row, strict=True))
            if isinstance(content["changes"], str):
                content["changes"] = json.loads(content["changes"])
            hashed = auditchain.digest(content, prev)
            values.append((content["id"], prev, hashed))
            prev = hashed
        placeholders = ", ".join(["(%s::bigint, %s, %s)"] * len(values))
        cursor.execute(
            "UPDATE civilaffairs_auditevent AS e SET prev_hash = v.p, hash = v.h "  # noqa: S608
            f"FROM (VALUES {placeholders}) AS v(id, p, h) WHERE e.id = v.id",
            [item for value in values for item in value],
        )
        done += len(rows)
        last_id = rows[-1][0]


def chain_forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "DISABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )
        chain_existing(cursor)
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "ENABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0008_password_policy")]

    operations = [
        migrations.CreateModel(
            name="AuditPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="time")),
                ("cutoff", models.DateTimeField(verbose_name="removed events before")),
                ("last_id", models.BigIntegerField(verbose_name="last removed event")),
                (
                    "last_hash",
                    models.CharField(max_length=64, verbose_name="hash of the last removed event"),
                ),
                ("removed", models.PositiveIntegerField(verbose_name="events removed")),
            ],
            options={
                "verbose_name": "audit purge",
                "verbose_name_plural": "audit purges",
                "ordering": ["-id"],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="previous hash"
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, editable=False, verbose_name="time"),
        ),
        migrations.RunPython(chain_forward, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(FUNCTION_WITH_PURGE, FUNCTION_WITHOUT_PURGE),
    ]
