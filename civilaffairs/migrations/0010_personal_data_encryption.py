"""Personal data encrypted at rest (#9 item 6): users' phones and org units' contacts become
AES-GCM tokens with blind indexes for look-ups; households' contacts get an ID number. Existing
plaintext rows are encrypted in batches (civilaffairs.crypto.encrypt_plaintext_rows)."""

from django.db import migrations

import civilaffairs.fields
import civilaffairs.validators
from civilaffairs import crypto

# (column, associated data, blind index column, kind) per model; the associated data is the
# field's label (app.model.field), fixed here as the tokens are bound to it.
COLUMNS = {
    "User": [("phone", "civilaffairs.user.phone", "phone_bidx", crypto.PHONE)],
    "OrgUnit": [
        ("contact_name", "civilaffairs.orgunit.contact_name", None, None),
        ("contact_phone", "civilaffairs.orgunit.contact_phone", "contact_phone_bidx", crypto.PHONE),
        (
            "contact_id_number",
            "civilaffairs.orgunit.contact_id_number",
            "contact_id_number_bidx",
            crypto.ID_NUMBER,
        ),
    ],
}


def encrypt_existing(apps, schema_editor, batch_size=1000):
    for model_name, columns in COLUMNS.items():
        table = apps.get_model("civilaffairs", model_name)._meta.db_table
        crypto.encrypt_plaintext_rows(schema_editor.connection, table, columns, batch_size)


def decrypt_existing(apps, schema_editor):
    for model_name, columns in COLUMNS.items():
        table = apps.get_model("civilaffairs", model_name)._meta.db_table
        crypto.decrypt_token_rows(schema_editor.connection, table, columns)


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0009_audit_chain")]

    operations = [
        migrations.AddField(
            model_name="orgunit",
            name="contact_id_number",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True,
                max_length=18,
                validators=[civilaffairs.validators.validate_id_number],
                verbose_name="contact's ID number",
            ),
        ),
        migrations.AddField(
            model_name="orgunit",
            name="contact_id_number_bidx",
            field=civilaffairs.fields.BlindIndexField(kind="id_number", source="contact_id_number"),
        ),
        migrations.AddField(
            model_name="orgunit",
            name="contact_phone_bidx",
            field=civilaffairs.fields.BlindIndexField(kind="phone", source="contact_phone"),
        ),
        migrations.AddField(
            model_name="user",
            name="phone_bidx",
            field=civilaffairs.fields.BlindIndexField(kind="phone", source="phone"),
        ),
        migrations.AlterField(
            model_name="orgunit",
            name="contact_name",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True, max_length=50, verbose_name="contact person"
            ),
        ),
        migrations.AlterField(
            model_name="orgunit",
            name="contact_phone",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True, max_length=30, verbose_name="contact phone"
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True, max_length=20, verbose_name="mobile phone"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]
