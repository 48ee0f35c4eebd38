"""``manage.py restore ARCHIVE [--yes] [--force]``: put a backup made by ``manage.py backup``
into the configured database and MEDIA_ROOT (see civilaffairs.backup)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from civilaffairs.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive: verify its SHA-256 manifest, restore the database with "
        "pg_restore (--clean --if-exists --no-owner) and unpack the uploaded files. Refuses a "
        "database that already has tables unless --force."
    )
    # The target database is usually empty: nothing may need it before the restore.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar file written by manage.py backup")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--force",
            action="store_true",
            help="overwrite a database that has tables and media files of the same name, and "
            "accept an archive from a newer version",
        )
        parser.add_argument(
            "--no-media", action="store_true", help="restore the database only, not the files"
        )

    def handle(self, *args, **options):
        name = connection.settings_dict["NAME"]
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("Not confirmed: add --yes to restore without a question.")
            self.stdout.write(
                f"This restores {options['archive']} into the database {name!r}"
                + (" and OVERWRITES what is there." if options["force"] else ".")
            )
            if input(f"Type the database name ({name}) to go on: ").strip() != name:
                raise CommandError("Not confirmed: nothing was restored.")
        try:
            result = restore_backup(
                options["archive"], force=options["force"], media=not options["no_media"]
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        made = result.manifest.get("created_at", "?")
        self.stdout.write(f"Archive verified (made {made}); restored into {name!r}:")
        self.stdout.write(f"  {result.tables} tables, {result.rows} rows")
        self.stdout.write(f"  {result.media_files} media files")
        if result.media_note:
            self.stdout.write(f"  {result.media_note}")
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"  {len(result.pending_migrations)} migrations of this version are newer "
                    "than the archive: run `manage.py migrate` now."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Done. Personal data decrypts only with the same FIELD_ENCRYPTION_KEYS / "
                "BLIND_INDEX_KEY (or SECRET_KEY) as the backed-up installation."
            )
        )
