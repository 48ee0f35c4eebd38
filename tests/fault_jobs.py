"""A slow background job for the worker-kill test, registered in the test process and, through
``celery worker --include tests.fault_jobs``, in the worker it starts. It records each start and
each finish in the file named by its params, so the test can count attempts and completions."""

import os
import time
from pathlib import Path

from civilaffairs import jobs
from civilaffairs.files import PDF

KIND = "fault_test_slow"


def _note(job, line: str):
    with open(Path(job.params["log"]), "a", encoding="utf-8") as handle:
        handle.write(f"{line} {job.attempts} {os.getpid()}\n")


def run_slow(job, progress):
    _note(job, "start")
    steps = max(1, int(float(job.params.get("seconds", 8)) / 0.1))
    for step in range(steps):
        progress(step, steps, "working")
        time.sleep(0.1)
    _note(job, "finish")
    return jobs.JobOutput(
        filename="fault-test.pdf", kind=PDF, content=f"%PDF-1.4 job {job.pk}\n".encode()
    )


jobs.register(KIND, "fault test job", run_slow)
