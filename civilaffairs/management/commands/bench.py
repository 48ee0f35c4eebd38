"""``manage.py bench``: run the benchmark suite (civilaffairs.benchmarks) and write
BENCHMARKS.md — the machine, the dataset, and for each case median and p95 over N runs, with
each ratio against the bare operation underneath measured in the same run, the target and
PASS/GAP. Runs on whatever data the database holds and says which."""

import importlib
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from civilaffairs import benchmarks


class Command(BaseCommand):
    help = "Run the benchmark suite and write BENCHMARKS.md."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="few runs, small sizes")
        parser.add_argument(
            "--only", default="", help=f"comma-separated cases of: {', '.join(benchmarks.CASES)}"
        )
        parser.add_argument("--runs", type=int, help="runs per operation (overrides defaults)")
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "BENCHMARKS.md"), help="file to write"
        )

    def handle(self, *args, quick, only, runs, output, **options):
        keys = [k.strip() for k in only.split(",") if k.strip()] or list(benchmarks.CASES)
        unknown = [k for k in keys if k not in benchmarks.CASES]
        if unknown:
            raise CommandError(
                f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(benchmarks.CASES)}"
            )
        opts = benchmarks.Options(quick=quick, runs=runs)
        # The in-process cases run in a process settled as each server worker settles itself
        # (URLconf loaded, start-up objects frozen out of the collector's full passes).
        importlib.import_module("civilaffairs.wsgi")
        started = time.perf_counter()
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
            info = benchmarks.machine()
            counts = benchmarks.dataset()
            self.stdout.write(
                "dataset: " + ", ".join(f"{label} {n}" for label, n in counts if n is not None)
            )
            self.stdout.write(benchmarks.dataset_label(dict(counts)))
            cases = []
            try:
                for key in benchmarks.CASES:
                    if key not in keys:
                        case = benchmarks.Case(key, benchmarks.TITLES[key], "not measured")
                        case.reason = "not selected in this run (--only)"
                    else:
                        self.stdout.write(f"running {key} …")
                        case = benchmarks.run_case(key, opts)
                    self.stdout.write(case.summary())
                    for label, median, p95 in case.rows:
                        self.stdout.write(f"    {label}: median {median:.1f} ms, p95 {p95:.1f} ms")
                    cases.append(case)
            finally:
                benchmarks.cleanup()
        text = benchmarks.render(cases, info, counts, opts, time.perf_counter() - started)
        Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
