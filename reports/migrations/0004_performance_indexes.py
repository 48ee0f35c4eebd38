from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_dashboard_snapshots")]

    operations = []
