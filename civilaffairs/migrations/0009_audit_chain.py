from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0008_password_policy")]

    operations = []
