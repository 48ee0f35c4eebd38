"""``manage.py embedded status|start|stop``: the embedded PostgreSQL and Redis under ``var/``.

These are the servers settings start when ``DATABASE_URL``/``REDIS_URL`` are unset (see
:mod:`civilaffairs.embedded`). They keep running between commands; ``stop`` ends them.

Settings start the embedded servers as soon as Django loads when the URLs are unset, so
``status`` and ``stop`` are best run with dummy URLs set (``make stop`` does so) when you do not
want a stopped server started first only to be looked at or stopped again. The URLs are never
used here: this command talks to the servers through their pid files and sockets only.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from civilaffairs import embedded


def _pid(pid_file) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Command(BaseCommand):
    help = "Show, start or stop the embedded PostgreSQL and Redis kept under var/."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args, action, **options):
        if options["verbosity"] < 2:
            logging.getLogger("pgserver").setLevel(logging.WARNING)
        getattr(self, f"_{action}")()

    def _servers(self):
        pg_pid_file = embedded.PG_DIR / "postmaster.pid"
        pg_socket = embedded.PG_DIR / ".s.PGSQL.5432"
        redis_pid_file = embedded.REDIS_DIR / "redis.pid"
        return [
            ("postgresql", pg_pid_file, pg_socket, embedded.PG_DIR),
            ("redis", redis_pid_file, embedded.REDIS_SOCKET, embedded.REDIS_DIR),
        ]

    def _status(self):
        self.stdout.write(f"data directory: {embedded.VAR_DIR}")
        for name, pid_file, socket, data_dir in self._servers():
            if embedded._pid_alive(pid_file):
                line = f"{name}: running (pid {_pid(pid_file)}, socket {socket})"
                self.stdout.write(self.style.SUCCESS(line))
            elif data_dir.exists():
                self.stdout.write(f"{name}: stopped (data in {data_dir})")
            else:
                self.stdout.write(f"{name}: not created yet")
        if not settings.EMBEDDED_SERVICES:
            self.stdout.write(
                "DATABASE_URL and REDIS_URL are set: this environment does not use the "
                "embedded servers."
            )

    def _start(self):
        self.stdout.write(f"postgresql: {embedded.database_url()}")
        self.stdout.write(f"redis: {embedded.redis_url()}")

    def _stop(self):
        stopped = embedded.stop()
        if stopped:
            self.stdout.write(self.style.SUCCESS(f"stopped: {', '.join(stopped)}"))
        else:
            self.stdout.write("no embedded server was running")
