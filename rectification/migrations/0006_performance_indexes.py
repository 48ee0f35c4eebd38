from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rectification", "0005_personal_data_encryption")]

    operations = []
