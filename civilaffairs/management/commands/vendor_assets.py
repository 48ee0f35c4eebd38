"""Copy the few files the pages use from the pinned npm packages into static/vendor/.

Only what is served is copied (a handful of files, not whole ``dist`` trees), so collectstatic
and WhiteNoise's compression stay fast. static/vendor/ is ignored by git: nothing third-party is
committed; set-up runs ``npm ci`` then this command."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# destination under static/vendor/  ←  source under node_modules/
ASSETS = {
    "bootstrap/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap/css/bootstrap.min.css.map": "bootstrap/dist/css/bootstrap.min.css.map",
    "bootstrap/js/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap/js/bootstrap.bundle.min.js.map": "bootstrap/dist/js/bootstrap.bundle.min.js.map",
    "bootstrap-icons/bootstrap-icons.min.css": "bootstrap-icons/font/bootstrap-icons.min.css",
    "bootstrap-icons/fonts/bootstrap-icons.woff2": (
        "bootstrap-icons/font/fonts/bootstrap-icons.woff2"
    ),
    "bootstrap-icons/fonts/bootstrap-icons.woff": "bootstrap-icons/font/fonts/bootstrap-icons.woff",
    "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
}


class Command(BaseCommand):
    help = "Copy the served front-end files from node_modules into static/vendor/."

    def handle(self, *args, **options):
        node = Path(settings.BASE_DIR) / "node_modules"
        target = Path(settings.BASE_DIR) / "static" / "vendor"
        missing = [src for src in ASSETS.values() if not (node / src).is_file()]
        if missing:
            raise CommandError(
                "Front-end packages are missing (run `npm ci` first): " + ", ".join(missing)
            )
        copied = 0
        for dest, src in ASSETS.items():
            source, destination = node / src, target / dest
            if destination.exists() and destination.read_bytes() == source.read_bytes():
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            copied += 1
        if options["verbosity"]:
            self.stdout.write(f"vendor assets: {copied} copied, {len(ASSETS) - copied} current")
