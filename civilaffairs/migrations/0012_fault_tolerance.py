from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0011_sessions_and_duties")]

    operations = [
        migrations.AddField(
            model_name="backgroundjob",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
