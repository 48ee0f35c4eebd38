"""The WSGI module settles its process: the URLconf loaded and start-up's objects frozen out of
the garbage collector's full passes (the city-scale list page's 110 ms stalls, #8)."""

import gc
import importlib
import sys


def test_importing_the_wsgi_module_freezes_start_up_objects():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    sys.modules.pop("civilaffairs.wsgi", None)
    try:
        wsgi = importlib.import_module("civilaffairs.wsgi")
        assert callable(wsgi.application)
        assert gc.get_freeze_count() > 10_000  # Django, the apps and the URLconf's modules
        assert "civilaffairs.urls" in sys.modules
    finally:
        gc.unfreeze()
