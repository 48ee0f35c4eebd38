"""Backups of the database and the uploaded files, and their restore (``manage.py backup`` and
``manage.py restore``).

An archive is one uncompressed tar file, ``wuwu-backup-<YYYYmmdd-HHMMSS>.tar``, holding:

- ``manifest.json`` — when and from what it was made, the migrations applied, and the size and
  SHA-256 of every other part;
- ``database.dump`` — ``pg_dump --format=custom`` of the whole database (compressed by pg_dump),
  made with the pg_dump of the server's major version;
- ``media.tar`` — every file under MEDIA_ROOT; or, when media live in S3-compatible storage,
  ``media-keys.txt`` — the list of object keys only: the bucket is backed up by the object
  store's own tools (versioning, replication, ``mc mirror``).

A restore verifies every part against the manifest before it touches anything, refuses a
database that already has tables (or a MEDIA_ROOT that has files) unless forced, and restores
with ``pg_restore --clean --if-exists --no-owner`` in one transaction, then unpacks the media.

Personal data is stored encrypted (civilaffairs.crypto): a restored database is readable only
with the same FIELD_ENCRYPTION_KEYS / BLIND_INDEX_KEY (or SECRET_KEY, when they are derived
from it). Keep those keys apart from the archives."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database.dump"
MEDIA = "media.tar"
MEDIA_KEYS = "media-keys.txt"
PARTS = (DATABASE, MEDIA, MEDIA_KEYS)
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


# --- the PostgreSQL client programs --------------------------------------------------------------


def _tool_dirs() -> list[Path]:
    """Where pg_dump/pg_restore may be: PG_BIN_DIR, the embedded server's own (pgserver ships
    them), Debian's per-version directories, then PATH."""
    dirs = []
    if getattr(settings, "PG_BIN_DIR", ""):
        dirs.append(Path(settings.PG_BIN_DIR))
    try:
        import pgserver

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    dirs += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return dirs


def tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 — a PostgreSQL client program, no shell  # nosec B603
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return int(match.group(1)) if match else None


def find_tool(name: str, server_major: int, minimum: int = 0) -> Path:
    """The ``name`` program of the server's major version, else the oldest newer one (pg_dump
    and pg_restore read older servers and archives, never newer ones)."""
    found: dict[int, Path] = {}
    for directory in _tool_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            major = tool_major(candidate)
            if major is not None:
                found.setdefault(major, candidate)
    need = max(server_major, minimum)
    if need in found:
        return found[need]
    newer = sorted(m for m in found if m >= need)
    if newer:
        return found[newer[0]]
    raise BackupError(
        f"No {name} of PostgreSQL {need} or newer was found (found: "
        f"{', '.join(f'{m} at {p}' for m, p in sorted(found.items())) or 'none'}). Install the "
        f"PostgreSQL {need} client programs or set PG_BIN_DIR to their directory."
    )


def server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def _libpq(database: dict | None = None) -> tuple[list[str], dict]:
    """Connection arguments and environment for a client program (the password goes in the
    environment, never on the command line)."""
    db = database or connection.settings_dict
    options = db.get("OPTIONS") or {}
    args = ["--no-password", "--dbname", db["NAME"]]
    # A Unix-socket URL (the embedded server: ``…@/name?host=/dir``) puts host and port in
    # OPTIONS.
    host, port = db.get("HOST") or options.get("host"), db.get("PORT") or options.get("port")
    if host:
        args += ["--host", str(host)]
    if port:
        args += ["--port", str(port)]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):
            env[variable] = str(options[option])
    return args, env


def _run(command: list, env: dict, what: str):
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{result.stderr.strip()}")
    return result


# --- helpers -------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def applied_migrations() -> dict[str, list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    applied = defaultdict(list)
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied[app].append(name)
    return dict(applied)


def known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def media_on_filesystem() -> bool:
    from django.core.files.storage import FileSystemStorage, default_storage

    return isinstance(default_storage, FileSystemStorage)


def media_root() -> Path:
    from django.core.files.storage import default_storage

    return Path(default_storage.location)


def _media_files(root: Path):
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _s3_keys():
    from django.core.files.storage import default_storage

    def walk(prefix):
        directories, files = default_storage.listdir(prefix)
        for name in files:
            yield f"{prefix}{name}"
        for directory in directories:
            yield from walk(f"{prefix}{directory}/")

    yield from walk("")


def user_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def row_counts() -> dict[str, int]:
    from psycopg2 import sql

    counts = {}
    with connection.cursor() as cursor:
        for table in user_tables(cursor):
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


# --- backup --------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def create_backup(output_dir: Path | str | None = None) -> BackupResult:
    """Write an archive of the database and media into ``output_dir`` (BACKUP_DIR by default)."""
    output = Path(output_dir or settings.BACKUP_DIR)
    output.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    target = output / f"wuwu-backup-{stamp}.tar"
    suffix = 1
    while target.exists():
        suffix += 1
        target = output / f"wuwu-backup-{stamp}-{suffix}.tar"
    major = server_major()
    pg_dump = find_tool("pg_dump", major)
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=output))
    try:
        args, env = _libpq()
        dump = work / DATABASE
        _run([str(pg_dump), "--format=custom", "--file", str(dump), *args], env, "pg_dump")
        media_info: dict = {}
        if media_on_filesystem():
            root = media_root()
            count = size = 0
            with tarfile.open(work / MEDIA, "w", format=tarfile.PAX_FORMAT) as archive:
                for path in _media_files(root):
                    archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
                    count += 1
                    size += path.stat().st_size
            media_info = {"storage": "filesystem", "files": count, "bytes": size}
        else:
            keys = list(_s3_keys())
            (work / MEDIA_KEYS).write_text("".join(f"{k}\n" for k in keys), encoding="utf-8")
            media_info = {
                "storage": "s3",
                "bucket": getattr(settings, "STORAGES", {})
                .get("default", {})
                .get("OPTIONS", {})
                .get("bucket_name", ""),
                "files": len(keys),
                "note": "object keys only: back the bucket up with the object store's tools",
            }
        parts = {
            path.name: {"sha256": sha256_of(path), "bytes": path.stat().st_size}
            for path in sorted(work.iterdir())
        }
        manifest = {
            "format": FORMAT,
            "product": "civilaffairs",
            "created_at": timezone.now().isoformat(),
            "database": {
                "name": connection.settings_dict["NAME"],
                "server_major": major,
                "pg_dump": str(pg_dump),
                "pg_dump_major": tool_major(pg_dump),
            },
            "migrations": applied_migrations(),
            "media": media_info,
            "parts": parts,
        }
        (work / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            archive.add(work / MANIFEST, arcname=MANIFEST)
            for name in parts:
                archive.add(work / name, arcname=name)
        os.replace(partial, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(target, manifest)


# --- restore -------------------------------------------------------------------------------------


@dataclass
class VerifiedArchive:
    manifest: dict
    directory: Path
    parts: dict[str, Path] = field(default_factory=dict)

    def cleanup(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def open_archive(path: Path | str, work_dir: Path | str | None = None) -> VerifiedArchive:
    """Unpack an archive into a temporary directory and check every part against the
    manifest; raises BackupError for anything missing, extra, unreadable or altered."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such archive: {path}")
    directory = Path(tempfile.mkdtemp(prefix=".restore-", dir=work_dir))
    verified = VerifiedArchive({}, directory)
    try:
        try:
            with tarfile.open(path, "r:") as archive:
                members = archive.getmembers()
                names = [m.name for m in members]
                if MANIFEST not in names:
                    raise BackupError(f"{path.name} is not a backup archive (no {MANIFEST}).")
                for member in members:
                    if member.name not in (MANIFEST, *PARTS) or not member.isfile():
                        raise BackupError(f"Unexpected entry in the archive: {member.name!r}")
                    if names.count(member.name) > 1:
                        raise BackupError(f"Entry {member.name!r} appears twice in the archive.")
                    archive.extract(member, directory, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{path.name} cannot be read as a tar archive: {error}") from error
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise BackupError(f"The manifest cannot be read: {error}") from error
        if manifest.get("format") != FORMAT or manifest.get("product") != "civilaffairs":
            raise BackupError(
                f"Unknown archive format {manifest.get('format')!r}; this version reads {FORMAT}."
            )
        expected = manifest.get("parts") or {}
        if DATABASE not in expected:
            raise BackupError("The manifest lists no database dump.")
        present = {p.name for p in directory.iterdir()} - {MANIFEST}
        if present != set(expected):
            raise BackupError(
                f"The archive's parts {sorted(present)} do not match the manifest "
                f"{sorted(expected)}."
            )
        for name, facts in expected.items():
            part = directory / name
            if part.stat().st_size != facts.get("bytes") or sha256_of(part) != facts.get("sha256"):
                raise BackupError(
                    f"{name} does not match its SHA-256 in the manifest: the archive is damaged "
                    "or was altered. Nothing was restored."
                )
            verified.parts[name] = part
        verified.manifest = manifest
    except BaseException:
        verified.cleanup()
        raise
    return verified


@dataclass
class RestoreResult:
    manifest: dict
    tables: int
    rows: int
    media_files: int
    media_note: str
    pending_migrations: list[str]


def database_tables() -> list[str]:
    with connection.cursor() as cursor:
        return user_tables(cursor)


def restore_backup(path: Path | str, *, force: bool = False, media: bool = True) -> RestoreResult:
    """Restore an archive into the configured database (and MEDIA_ROOT)."""
    parent = Path(path).resolve().parent
    archive = open_archive(path, parent if os.access(parent, os.W_OK) else None)
    try:
        manifest = archive.manifest
        archived = {
            (app, n) for app, names in manifest.get("migrations", {}).items() for n in names
        }
        unknown = sorted(archived - known_migrations())
        if unknown and not force:
            raise BackupError(
                "The archive comes from a newer version of the application (migrations unknown "
                f"here: {', '.join(f'{a}.{n}' for a, n in unknown[:5])}"
                f"{' …' if len(unknown) > 5 else ''}). Deploy that version first, or use --force."
            )
        tables = database_tables()
        if tables and not force:
            raise BackupError(
                f"The database {connection.settings_dict['NAME']!r} is not empty ({len(tables)} "
                "tables). A restore replaces its content: restore into a new, empty database, "
                "or add --force to overwrite this one."
            )
        restore_media = media and MEDIA in archive.parts and media_on_filesystem()
        if restore_media and any(_media_files(media_root())) and not force:
            raise BackupError(
                f"MEDIA_ROOT ({media_root()}) already holds files. Restore into an empty "
                "directory, or add --force to write over files of the same name."
            )
        pg_restore = find_tool(
            "pg_restore", server_major(), minimum=manifest["database"].get("pg_dump_major") or 0
        )
        args, env = _libpq()
        connection.close()
        _run(
            [
                str(pg_restore),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(archive.parts[DATABASE]),
            ],
            env,
            "pg_restore",
        )
        media_files, media_note = 0, ""
        if restore_media:
            root = media_root()
            root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archive.parts[MEDIA], "r:") as media_tar:
                for member in media_tar.getmembers():
                    if member.isfile():
                        media_tar.extract(member, root, filter="data")
                        media_files += 1
        elif MEDIA_KEYS in archive.parts:
            media_note = (
                "Media are in S3-compatible storage: the archive lists their keys only; restore "
                "the bucket with the object store's own tools."
            )
        elif MEDIA in archive.parts and not media_on_filesystem():
            media_note = "Media were on disk but this installation keeps them in S3: not restored."
        elif not media:
            media_note = "Media skipped (--no-media)."
        counts = row_counts()
        pending = sorted(known_migrations() - archived)
        return RestoreResult(
            manifest=manifest,
            tables=len(counts),
            rows=sum(counts.values()),
            media_files=media_files,
            media_note=media_note,
            pending_migrations=[f"{a}.{n}" for a, n in pending],
        )
    finally:
        archive.cleanup()
