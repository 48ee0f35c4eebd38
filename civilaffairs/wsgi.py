import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civilaffairs.settings")
application = get_wsgi_application()


def settle():
    """Load what the first request would (the URLconf and, through it, every view, serializer
    and filterset), then hand everything start-up made to gc.freeze(). The collector's full
    passes otherwise walk those hundreds of thousands of long-lived objects again and again:
    measured on the city-scale list page, one request in about fifteen took 110-120 ms instead
    of 50. Each gunicorn worker imports this module, so each worker settles itself."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and what it names)
    gc.collect()
    gc.freeze()


settle()
