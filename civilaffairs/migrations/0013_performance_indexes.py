from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0012_fault_tolerance")]

    operations = []
