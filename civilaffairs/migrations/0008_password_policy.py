from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0007_background_jobs")]

    operations = []
