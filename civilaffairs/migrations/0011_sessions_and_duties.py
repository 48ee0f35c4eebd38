from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0010_personal_data_encryption")]

    operations = []
