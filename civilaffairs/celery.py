import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civilaffairs.settings")

app = Celery("civilaffairs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
