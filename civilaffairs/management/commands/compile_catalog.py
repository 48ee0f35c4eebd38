"""``manage.py compile_catalog``: compile the gettext catalogs with polib (no GNU gettext needed).

Every ``<locale dir>/*/LC_MESSAGES/*.po`` is compiled to the ``.mo`` beside it when that ``.mo``
is missing or older than the ``.po``. Like ``msgfmt``, fuzzy and untranslated entries are left
out of the ``.mo`` (``check_catalog`` is what refuses them). The ``.mo`` is written to a temporary
file and renamed, so a process reading the catalog never sees half a file.
"""

import os
import tempfile
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo where the .mo is missing or out of date."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale-dir",
            action="append",
            dest="locale_dirs",
            metavar="DIR",
            help="a locale directory to compile (repeatable; default: settings.LOCALE_PATHS)",
        )
        parser.add_argument(
            "--force", action="store_true", help="compile every catalog even when up to date"
        )

    def handle(self, *args, locale_dirs=None, force=False, **options):
        dirs = [Path(d) for d in (locale_dirs or settings.LOCALE_PATHS)]
        compiled = skipped = 0
        for locale_dir in dirs:
            if not locale_dir.is_dir():
                raise CommandError(f"no locale directory at {locale_dir}")
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if not force and _up_to_date(mo_path, po_path):
                    skipped += 1
                    continue
                _compile(po_path, mo_path)
                compiled += 1
                if options["verbosity"] >= 2:
                    self.stdout.write(f"compiled {po_path} -> {mo_path.name}")
        if options["verbosity"] >= 1:
            self.stdout.write(f"compile_catalog: {compiled} compiled, {skipped} up to date")


def _up_to_date(mo_path: Path, po_path: Path) -> bool:
    try:
        return mo_path.stat().st_mtime >= po_path.stat().st_mtime
    except FileNotFoundError:
        return False


def _compile(po_path: Path, mo_path: Path) -> None:
    try:
        catalog = polib.pofile(str(po_path), encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise CommandError(f"{po_path}: cannot be read: {exc}") from exc
    handle, tmp_name = tempfile.mkstemp(dir=mo_path.parent, prefix=f".{mo_path.name}.")
    os.close(handle)
    try:
        catalog.save_as_mofile(tmp_name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, mo_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
