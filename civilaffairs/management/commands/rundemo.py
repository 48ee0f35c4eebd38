"""``manage.py rundemo``: the web server, a Celery worker and Celery beat in the foreground.

This is what ``make demo`` ends with. It prints the URL and the demo logins, then runs

- ``[web]``    gunicorn serving ``civilaffairs.wsgi`` on ``0.0.0.0:$PORT`` (default 8000),
- ``[worker]`` ``celery -A civilaffairs worker``,
- ``[beat]``   ``celery -A civilaffairs beat`` (its scheduler comes from settings),

each from this virtualenv, each in its own process group, with every output line prefixed by
its name. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops all three (SIGTERM to each process group,
SIGKILL after 10 s; a second Ctrl-C kills at once) and exits 0. When one of them dies on its
own the others are stopped and the command exits non-zero. On Linux the children also get
SIGTERM if this process is killed outright, so nothing is left behind.

The children inherit the environment: with ``DATABASE_URL``/``REDIS_URL`` set they use those
servers, otherwise settings in each of them reuse the embedded servers under ``var/`` (started
once, under a file lock, by whichever process comes first).
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from civilaffairs.envtools import env_int

STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.25
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
REPEAT_SIGNAL_GAP = 0.5


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _display_width(text), 0)


def _venv_program(script: str, module: str) -> list[str]:
    """The console script next to this interpreter, or ``python -m module`` without one."""
    path = Path(sys.executable).parent / script
    if path.is_file() and os.access(path, os.X_OK):
        return [str(path)]
    return [sys.executable, "-m", module]


def _gunicorn_has_setting(name: str) -> bool:
    try:
        from gunicorn import config
    except ImportError:
        return False
    return any(setting.name == name for setting in config.KNOWN_SETTINGS)


def _parent_death_signal():
    """A preexec function asking Linux to SIGTERM the child when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec():
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class Child:
    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def group_alive(self) -> bool:
        """Whether the leader or anything else is left in the child's process group."""
        if self.process is None:
            return False
        if self.process.poll() is None:
            return True
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


class Command(BaseCommand):
    help = "Run gunicorn, a Celery worker and Celery beat in the foreground until Ctrl-C."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="port for the web server (default: $PORT, else 8000)",
        )

    def handle(self, *args, port=None, **options):
        port = port or env_int("PORT", 8000)
        self._output_lock = threading.Lock()
        # Plain flags: the signal handler must take no lock (it runs in the main thread, which
        # may hold that very lock at the moment the signal arrives).
        self._stop_requested = False
        self._stop_requested_at = 0.0
        self._force = False
        self._print_banner(port)

        children = self._children(port)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in HANDLED_SIGNALS}
        failed = None
        try:
            self._start(children)
            failed = self._watch(children)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed is not None:
            raise CommandError(
                f"{failed.name} exited with code {failed.process.returncode}; "
                "stopped the others (see the lines above)"
            )
        self._say("stopped")

    # --- what runs --------------------------------------------------------------------------

    def _children(self, port: int) -> list[Child]:
        web = [
            *_venv_program("gunicorn", "gunicorn"),
            "civilaffairs.wsgi",
            "--bind",
            f"0.0.0.0:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            "--access-logformat",
            "%(s)s %(m)s %(U)s %(M)sms",
        ]
        if _gunicorn_has_setting("control_socket_disable"):
            # gunicorn >= 25.1 otherwise opens one control socket per user, shared by every
            # instance (a test run, a second demo).
            web.append("--no-control-socket")
        celery = [*_venv_program("celery", "celery"), "-A", "civilaffairs"]
        # One worker: nothing to synchronise with at start-up, so no 1 s "mingle" wait.
        worker = [*celery, "worker", "-l", "info", "--concurrency", "2", "--without-mingle"]
        return [
            Child("web", web),
            Child("worker", worker),
            Child("beat", [*celery, "beat", "-l", "info"]),
        ]

    def _print_banner(self, port: int) -> None:
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS(f"{settings.SITE_NAME} demo: http://localhost:{port}/"))
        rows = []
        try:
            from civilaffairs.demo.city import demo_logins
        except ImportError:
            demo_logins = None
        if demo_logins is not None:
            try:
                rows = list(demo_logins())
            except Exception as exc:  # the listing must never stop the demo
                write(f"(the demo logins could not be listed: {exc!r})")
        if rows:
            write(f"Demo logins, all with the password {settings.DEMO_PASSWORD}:")
            header = ("username", "role", "name")
            widths = [max(_display_width(str(row[i])) for row in [header, *rows]) for i in range(2)]
            for row in [header, *rows]:
                write(f"  {_pad(str(row[0]), widths[0])}  {_pad(str(row[1]), widths[1])}  {row[2]}")
        else:
            write(f"Demo password: {settings.DEMO_PASSWORD} (run `manage.py load_demo` first)")
        write(
            "Roles " + ", ".join(settings.OTP_REQUIRED_ROLES) + " also need a two-factor code: "
            "`python manage.py otp_code <username>` prints it (e.g. for leader)."
        )
        write("Ctrl-C stops the web server, the worker and beat.")
        if settings.EMBEDDED_SERVICES:
            write("The embedded PostgreSQL/Redis under var/ keep running; `make stop` stops them.")
        write("")
        self.stdout.flush()

    # --- running ----------------------------------------------------------------------------

    def _on_signal(self, signum, frame):
        now = time.monotonic()
        if not self._stop_requested:
            self._stop_requested, self._stop_requested_at = True, now
        elif now - self._stop_requested_at >= REPEAT_SIGNAL_GAP:
            # A second Ctrl-C. (A copy of the first signal, such as the SIGTERM `make` passes
            # on to its recipe when it gets one itself, arrives within milliseconds.)
            self._force = True

    def _say(self, text: str) -> None:
        with self._output_lock:
            self.stdout.write(f"[rundemo] {text}")
            self.stdout.flush()

    def _pump(self, child: Child) -> None:
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._output_lock:
                self.stdout.write(f"[{child.name}] {line}")
                self.stdout.flush()
        child.process.stdout.close()

    def _start(self, children: list[Child]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "civilaffairs.settings")
        preexec = _parent_death_signal()
        for child in children:
            if self._stop_requested:
                return
            try:
                # An argument list without a shell, programs of this machine (bandit B603).
                child.process = subprocess.Popen(  # nosec B603
                    child.argv,
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                    preexec_fn=preexec,
                )
            except OSError as exc:
                raise CommandError(f"cannot start {child.name} ({child.argv[0]}): {exc}") from exc
        # Readers start once every fork is done (a preexec function and threads do not mix).
        for child in children:
            if child.process is not None:
                child.reader = threading.Thread(
                    target=self._pump, args=(child,), name=f"rundemo-{child.name}", daemon=True
                )
                child.reader.start()

    def _watch(self, children: list[Child]) -> Child | None:
        """Wait for a signal (returns None) or for a child to exit (returns it)."""
        while not self._stop_requested:
            for child in children:
                if child.process is not None and not child.running:
                    return child
            time.sleep(POLL_INTERVAL)
        return None

    def _stop(self, children: list[Child]) -> None:
        started = [child for child in children if child.process is not None]
        if not any(child.group_alive() for child in started):
            self._join(started)
            return
        self._say("stopping " + ", ".join(c.name for c in started if c.group_alive()))
        for child in started:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(child.group_alive() for child in started):
            if self._force or time.monotonic() >= deadline:
                left = [c.name for c in started if c.group_alive()]
                self._say("killing " + ", ".join(left))
                for child in started:
                    child.signal_group(signal.SIGKILL)
                for child in started:
                    child.process.wait()
                # Killed group members (gunicorn workers, pool processes) are reaped by init.
                settle = time.monotonic() + 3
                while any(c.group_alive() for c in started) and time.monotonic() < settle:
                    time.sleep(0.05)
                break
            time.sleep(0.1)
        self._join(started)

    def _join(self, children: list[Child]) -> None:
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout=2)
