"""Complainants' personal data encrypted at rest (#9 item 6): name, phone and the new ID number
become AES-GCM tokens, phone and ID number with blind indexes for look-ups. Existing plaintext
rows are encrypted in batches (civilaffairs.crypto.encrypt_plaintext_rows)."""

from django.db import migrations

import civilaffairs.fields
import civilaffairs.validators
from civilaffairs import crypto

# (column, associated data, blind index column, kind): the associated data is the field's label
# (app.model.field), fixed here as the tokens are bound to it.
COLUMNS = [
    ("complainant_name", "rectification.complaint.complainant_name", None, None),
    (
        "complainant_phone",
        "rectification.complaint.complainant_phone",
        "complainant_phone_bidx",
        crypto.PHONE,
    ),
    (
        "complainant_id_number",
        "rectification.complaint.complainant_id_number",
        "complainant_id_number_bidx",
        crypto.ID_NUMBER,
    ),
]


def encrypt_existing(apps, schema_editor, batch_size=1000):
    table = apps.get_model("rectification", "Complaint")._meta.db_table
    crypto.encrypt_plaintext_rows(schema_editor.connection, table, COLUMNS, batch_size)


def decrypt_existing(apps, schema_editor):
    table = apps.get_model("rectification", "Complaint")._meta.db_table
    crypto.decrypt_token_rows(schema_editor.connection, table, COLUMNS)


class Migration(migrations.Migration):
    dependencies = [("rectification", "0004_complaints_and_commitments")]

    operations = [
        migrations.AddField(
            model_name="complaint",
            name="complainant_id_number",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True,
                max_length=18,
                validators=[civilaffairs.validators.validate_id_number],
                verbose_name="complainant's ID number",
            ),
        ),
        migrations.AddField(
            model_name="complaint",
            name="complainant_id_number_bidx",
            field=civilaffairs.fields.BlindIndexField(
                kind="id_number", source="complainant_id_number"
            ),
        ),
        migrations.AddField(
            model_name="complaint",
            name="complainant_phone_bidx",
            field=civilaffairs.fields.BlindIndexField(kind="phone", source="complainant_phone"),
        ),
        migrations.AlterField(
            model_name="complaint",
            name="complainant_name",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True, max_length=50, verbose_name="complainant's name"
            ),
        ),
        migrations.AlterField(
            model_name="complaint",
            name="complainant_phone",
            field=civilaffairs.fields.EncryptedCharField(
                blank=True, max_length=30, verbose_name="complainant's phone"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]
