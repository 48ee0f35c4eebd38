from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0009_audit_chain")]

    operations = []
