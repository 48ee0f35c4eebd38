"""``manage.py backup`` and ``manage.py restore`` (#9 item 8): an archive restored into a fresh
database and an empty MEDIA_ROOT gives back every table row for row and every file byte for
byte; a damaged or altered archive, and a database that is not empty, are refused."""

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from civilaffairs.models import Attachment
from tests.fault_helpers import ROOT, database_url, dead_redis_url, subprocess_env
from tests.personas import build_city
from tests.rectification_data import issue, step

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _server_params(name=None) -> dict:
    s = connection.settings_dict
    options = s.get("OPTIONS") or {}
    return {
        "dbname": name or s["NAME"],
        "user": s["USER"],
        "password": s.get("PASSWORD") or None,
        "host": s.get("HOST") or options.get("host") or "127.0.0.1",
        "port": s.get("PORT") or options.get("port") or 5432,
    }


@pytest.fixture
def fresh_database():
    """A new, empty database on the same server, dropped afterwards."""
    name = f"ca_restore_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(**_server_params("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


def fingerprint(cursor) -> dict:
    """Per table: its row count and an MD5 of its rows as text in order; and every sequence's
    position (so new rows after a restore do not collide with restored ones)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    result = {}
    for table in tables:
        cursor.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                " FROM {} AS t"
            ).format(sql.Identifier(table))
        )
        result[table] = tuple(cursor.fetchone())
    cursor.execute(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
        "ORDER BY sequencename"
    )
    result["sequences"] = cursor.fetchall()
    return result


def media_hashes(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build_data():
    city = build_city()
    order = issue(city)
    step(order, city["liaison_a"], "acknowledge")
    step(order, city["liaison_a"], "submit")  # with an evidence photo
    assert Attachment.objects.exists()
    return city


def backup(tmp_path) -> Path:
    out = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=out)
    [archive] = (tmp_path / "backups").glob("wuwu-backup-*.tar")
    assert str(archive) in out.getvalue()
    return archive


def restore_in_subprocess(archive, database, media_root, *extra):
    env = subprocess_env(
        DATABASE_URL=database_url(database), MEDIA_ROOT=media_root, REDIS_URL=dead_redis_url()
    )
    return subprocess.run(  # the project's own manage.py
        [sys.executable, "manage.py", "restore", str(archive), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_restores_into_a_fresh_database_identically(tmp_path, settings, fresh_database):
    build_data()
    archive = backup(tmp_path)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["database.dump", "manifest.json", "media.tar"]
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "0001_initial" in manifest["migrations"]["civilaffairs"]
    assert manifest["media"]["files"] == Attachment.objects.count() >= 1

    restored_media = tmp_path / "restored-media"
    done = restore_in_subprocess(archive, fresh_database, restored_media, "--yes")
    assert done.returncode == 0, done.stderr
    assert "restored into" in done.stdout and "media files" in done.stdout

    with connection.cursor() as cursor:
        source = fingerprint(cursor)
    target_connection = psycopg2.connect(**_server_params(fresh_database))
    try:
        with target_connection.cursor() as cursor:
            target = fingerprint(cursor)
    finally:
        target_connection.close()
    assert source["civilaffairs_attachment"][0] >= 1 and source["civilaffairs_user"][0] >= 10
    assert target == source
    assert media_hashes(restored_media) == media_hashes(Path(settings.MEDIA_ROOT))
    assert len(media_hashes(restored_media)) == manifest["media"]["files"]

    # The restored database is not empty any more: a second restore is refused.
    again = restore_in_subprocess(archive, fresh_database, tmp_path / "other-media", "--yes")
    assert again.returncode != 0 and "not empty" in again.stderr


def _rewrite(archive: Path, target: Path, change):
    """Copy an archive, passing each member's (name, bytes) through ``change``."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            replaced = change(member.name, data)
            if replaced is None:
                continue
            member.size = len(replaced)
            copy.addfile(member, io.BytesIO(replaced))
    return target


def test_a_damaged_or_altered_archive_is_refused_before_anything_is_touched(tmp_path):
    build_data()
    archive = backup(tmp_path)
    before = Attachment.objects.count()

    def flip(name, data):
        if name == "database.dump":
            return data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
        return data

    tampered = _rewrite(archive, tmp_path / "tampered.tar", flip)
    with pytest.raises(CommandError, match="SHA-256"):
        call_command("restore", str(tampered), "--yes", "--force")
    missing = _rewrite(
        archive, tmp_path / "missing.tar", lambda n, d: None if n == "media.tar" else d
    )
    with pytest.raises(CommandError, match="do not match the manifest"):
        call_command("restore", str(missing), "--yes", "--force")
    not_a_backup = tmp_path / "notes.tar"
    not_a_backup.write_bytes(b"hello")
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("restore", str(not_a_backup), "--yes")
    assert Attachment.objects.count() == before


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    build_data()
    archive = backup(tmp_path)
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), "--yes")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(archive))  # no terminal to confirm on
