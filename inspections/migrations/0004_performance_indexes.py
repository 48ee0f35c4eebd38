from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inspections", "0003_finding_repeat_of")]

    operations = []
