"""``manage.py bench --quick`` on a little data: BENCHMARKS.md has every case, the machine and
the dataset, and each measured case has its figures (no wrk needed: --quick skips the load)."""

import re
import time

import pytest
from django.core.management import call_command

from inspections.models import Finding
from tests.busy_city import fill

pytestmark = pytest.mark.django_db

CASES = [f"## Case {n}:" for n in range(1, 10)]


def test_bench_quick_writes_every_case_with_numbers(city, tmp_path):
    fill(city)
    before = Finding.objects.count()
    output = tmp_path / "BENCHMARKS.md"
    started = time.monotonic()
    call_command("bench", "--quick", "--output", str(output))
    assert time.monotonic() - started < 120  # a shared 2-core machine: generous
    text = output.read_text(encoding="utf-8")
    for heading in ("## Machine", "## Dataset", "## Summary", *CASES):
        assert heading in text, heading
    assert "PostgreSQL" in text and "| findings |" in text
    assert "NOT the city-scale dataset" in text
    sections = re.split(r"^## ", text, flags=re.M)
    cases = {s.split(":")[0]: s for s in sections if s.startswith("Case ")}
    assert len(cases) == 9
    measured = [body for body in cases.values() if "**measured**" in body]
    assert len(measured) >= 7, [body[:300] for body in cases.values()]
    for body in measured:
        assert re.search(r"\| \d+\.\d+ \| \d+\.\d+ \|", body), body[:500]  # median, p95
        if not body.startswith("Case 8:"):  # the plans have no target of their own
            assert re.search(r"\| (PASS|GAP) \|", body), body[:500]
        assert "N = " in body
    assert "**not measured**: skipped in --quick mode" in cases["Case 7"]
    assert "**not measured**: skipped in --quick mode" in cases["Case 9"]
    # Deep pages by cursor, the dashboard as served, and the plans of the top queries.
    assert "deep page by cursor" in cases["Case 2"]
    assert "/api/v1/dashboard/?preset=month as served" in cases["Case 1"]
    assert cases["Case 8"].count("Execution Time") >= 5 and "```" in cases["Case 8"]
    assert "**error**" not in text
    assert Finding.objects.count() == before  # nothing kept
