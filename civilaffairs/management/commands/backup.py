"""``manage.py backup [--output DIR]``: one archive of the database and the uploaded files (see
civilaffairs.backup for what it holds)."""

from django.core.management.base import BaseCommand, CommandError

from civilaffairs.backup import BackupError, create_backup


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, custom format) and the uploaded files (MEDIA_ROOT) into "
        "one timestamped archive with a manifest of SHA-256 hashes and the migration state."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="directory for the archive (default: BACKUP_DIR, var/backups)",
        )

    def handle(self, *args, **options):
        try:
            result = create_backup(options["output"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        media = manifest["media"]
        self.stdout.write(f"Backup written: {result.path}")
        self.stdout.write(
            f"  database {manifest['database']['name']} (PostgreSQL "
            f"{manifest['database']['server_major']}): "
            f"{_size(manifest['parts']['database.dump']['bytes'])}"
        )
        if media["storage"] == "filesystem":
            self.stdout.write(f"  media: {media['files']} files, {_size(media['bytes'])}")
        else:
            self.stdout.write(
                f"  media: {media['files']} object keys listed (S3 bucket "
                f"{media.get('bucket') or '?'}); back the bucket up with the object store's tools"
            )
        self.stdout.write(
            "  migrations: "
            + ", ".join(f"{app} {names[-1]}" for app, names in manifest["migrations"].items())
        )
        self.stdout.write(self.style.SUCCESS("Done. Copy the archive off this host."))
