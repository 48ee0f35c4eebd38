from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0011_sessions_and_duties")]

    operations = []
