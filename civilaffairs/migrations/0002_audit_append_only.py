"""The audit trail is append-only inside PostgreSQL itself.

A row trigger refuses UPDATE and DELETE of any row, whoever asks through the application's
connection (superusers included); removing it takes a migration, which is itself reviewable.
TRUNCATE is refused too unless the session has explicitly set
``civilaffairs.allow_audit_truncate = on``: the application never does; the test harness does,
because Django empties tables between transactional tests with TRUNCATE."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION civilaffairs_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER civilaffairs_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON civilaffairs_auditevent
    FOR EACH ROW EXECUTE FUNCTION civilaffairs_audit_append_only();

CREATE OR REPLACE FUNCTION civilaffairs_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('civilaffairs.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit trail is append-only: TRUNCATE refused on %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER civilaffairs_auditevent_no_truncate
    BEFORE TRUNCATE ON civilaffairs_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION civilaffairs_audit_no_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS civilaffairs_auditevent_no_truncate ON civilaffairs_auditevent;
DROP TRIGGER IF EXISTS civilaffairs_auditevent_no_update_delete ON civilaffairs_auditevent;
DROP FUNCTION IF EXISTS civilaffairs_audit_append_only();
DROP FUNCTION IF EXISTS civilaffairs_audit_no_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
