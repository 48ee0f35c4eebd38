"""The digest built at the cut-off (once, with the right missing list), its PDF and Excel, and
the reminders before the cut-off (once per person, unit and day)."""

import datetime as dt
import io
import subprocess

import openpyxl
import pypdf
import pytest

from civilaffairs.models import Notification
from reports.digest import build_digest, build_due_digests, remind_missing
from reports.models import DailyDigest
from tests.daily_data import DAY, at, clock, lines, make_period, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city):
    return make_period(city)


def _names(digest):
    return sorted(m["name"] for m in digest.missing)


def test_missing_list_under_a_1600_cutoff_built_at_the_cutoff(city, period):
    """15:59 is on time; a unit that has not reported at 16:00 is missing in the digest built at
    16:00, even if it reports at 16:01 (late, and not missing in a later snapshot)."""
    submit(city, period, city.district_a, "liaison_a", at(15, 59))
    with clock(at(16)):
        digest = build_digest(period, DAY, now=at(16))
    late, _ = submit(city, period, city.district_b, "liaison_b", at(16, 1))
    assert late.late
    assert digest.reported == 1
    assert _names(digest) == sorted([city.district_b.name, city.affiliated.name])
    assert digest.figures["on_time"] == 1 and digest.figures["late"] == 0


def test_missing_list_built_after_a_late_report(city, period):
    submit(city, period, city.district_a, "liaison_a", at(15, 59))
    submit(city, period, city.district_b, "liaison_b", at(16, 1))
    with clock(at(16, 5)):
        digest = build_digest(period, DAY, now=at(16, 5))
    assert _names(digest) == [city.affiliated.name]
    assert digest.reported == 2
    assert digest.figures["on_time"] == 1 and digest.figures["late"] == 1


def test_no_digest_before_the_cutoff(city):
    period = make_period(city, start_date=DAY)
    with clock(at(15, 59)):
        assert build_digest(period, DAY, now=at(15, 59)) is None
        assert build_due_digests(now=at(15, 59)) == 0
    assert not DailyDigest.objects.exists()


def test_digest_is_built_once_and_delivered_once(city, django_capture_on_commit_callbacks):
    period = make_period(city, start_date=DAY)
    submit(city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": "暖气故障"}))
    with clock(at(16, 5)), django_capture_on_commit_callbacks(execute=False):
        assert build_due_digests(now=at(16, 5)) == 1
        assert build_due_digests(now=at(16, 10)) == 0
        assert build_digest(period, DAY, now=at(16, 15)) is None
    assert DailyDigest.objects.count() == 1
    digest = DailyDigest.objects.get()
    assert digest.abnormal == 1 and digest.pdf and digest.xlsx
    notes = Notification.objects.filter(event_key=f"daily-digest:{digest.pk}")
    assert set(notes.values_list("recipient__username", flat=True)) == {"leader", "office_head"}
    assert notes.count() == 2


def test_reminders_go_once_to_the_liaisons_of_missing_units(city, period):
    submit(city, period, city.district_a, "liaison_a", at(9))
    assert remind_missing(now=at(14, 30)) == 0  # before the window (60 minutes)
    assert remind_missing(now=at(15, 0)) == 1  # liaison_b for district B
    assert remind_missing(now=at(15, 15)) == 0
    assert remind_missing(now=at(15, 45)) == 0
    assert remind_missing(now=at(16, 0)) == 0  # the cut-off has come: the digest says the rest
    reminders = Notification.objects.filter(event_key__startswith="daily-remind:")
    assert list(reminders.values_list("recipient__username", flat=True)) == ["liaison_b"]


@pytest.fixture
def digest(city, period):
    submit(
        city,
        period,
        city.district_a,
        "liaison_a",
        at(10),
        lines=lines({"safety": "东街庇护站暖气故障"}),
    )
    submit(city, period, city.district_b, "liaison_b", at(16, 20))
    with clock(at(16, 30)):
        return build_digest(period, DAY, now=at(16, 30))


def test_pdf_embeds_cjk_fonts_and_extracts_chinese(digest, tmp_path):
    data = digest.pdf.file.read()
    path = tmp_path / "digest.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [r for r in fonts.stdout.splitlines()[2:] if r.strip()]
    assert rows and any("CJK" in r for r in rows)
    assert all(r.split()[-5] == "yes" for r in rows), fonts.stdout  # emb column
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().replace(" ", "")
    assert "2026年冬季寒潮防御期" in text
    assert "东街庇护站暖气故障" in text.replace("\n", "") or "东街庇护站暖气故障" in "".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages
    ).replace("\n", "")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    from PIL import Image

    png = next(tmp_path.glob("p*.png"))
    extrema = Image.open(png).convert("L").getextrema()
    assert extrema[0] < 128 < extrema[1], extrema  # ink on paper, not a blank page


def test_excel_opens_and_has_the_rows(city, digest):
    book = openpyxl.load_workbook(io.BytesIO(digest.xlsx.file.read()))
    first = book.worksheets[0]
    units = [row[0] for row in first.iter_rows(min_row=2, values_only=True)]
    assert sorted(units) == sorted(
        [city.district_a.name, city.district_b.name, city.affiliated.name]
    )
    abnormal = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(abnormal) == 1 and abnormal[0][2] == "东街庇护站暖气故障"


def test_digest_files_follow_the_digest_visibility(city, digest, login):
    url = digest.pdf.get_absolute_url()
    assert login(city["leader"]).get(url).status_code == 200
    assert login(city["liaison_a"]).get(url).status_code == 404


def test_typed_text_stays_text_in_excel(city, period):
    submit(
        city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": "=HYPERLINK(1)"})
    )
    with clock(at(16, 30)):
        digest = build_digest(period, DAY, now=at(16, 30))
    sheet = openpyxl.load_workbook(io.BytesIO(digest.xlsx.file.read())).worksheets[1]
    cell = sheet.cell(row=2, column=3)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


def test_catch_up_does_not_build_days_before_the_period_was_opened(city):
    make_period(city, start_date=DAY - dt.timedelta(days=2))
    # opened on its first day at 09:00 (make_period): the first two days' digests are due
    with clock(at(16, 30)):
        assert build_due_digests(now=at(16, 30)) == 3
