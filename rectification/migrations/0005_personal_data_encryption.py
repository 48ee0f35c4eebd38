from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rectification", "0004_complaints_and_commitments")]

    operations = []
