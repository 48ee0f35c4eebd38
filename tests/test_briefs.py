"""Leadership briefs (#6): asked for on the page, the dashboard's button or the API, made by a
background job into an A4 PDF with embedded CJK fonts, server-side charts and key findings with
photos, within the owner's visibility (a district leader's brief shows only their district, a
finding not filed yet is never in it); bad input queues nothing; redelivery makes one file."""

import datetime as dt
import subprocess
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image

from civilaffairs import jobs
from civilaffairs.choices import JobState
from civilaffairs.models import Attachment, BackgroundJob
from inspections import services as inspections
from inspections.models import Finding
from reports import briefs, svg_charts
from reports.dashboard import Row, Series
from reports.flash_pdf import long_date
from tests.flash_data import finding, photo_upload
from tests.inspection_data import walked_visit

pytestmark = pytest.mark.django_db

TITLE_A = "甲区庇护站二楼安全出口被铁链锁闭"
TITLE_B = "乙区颐养院厨房燃气报警器失效"
TITLE_SECRET = "暗访未归档问题不应出现在简报中"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)
    return queued


@pytest.fixture
def data(city):
    """A major finding with a photo in district A (from a secret plan's visit, filed), a serious
    one in district B, and a draft of that secret visit that nobody outside it may see yet."""
    visit = walked_visit(city)
    filed, _created = inspections.finding_create(
        actor=city["inspector"],
        visit=visit,
        bottom_line="safety",
        category="fire_hazard",
        severity="major",
        title=TITLE_A,
        description="夜间巡查发现。",
    )
    inspections.photo_add(
        actor=city["inspector"], visit=visit, upload=photo_upload(), finding=filed
    )
    Finding.objects.filter(pk=filed.pk).update(state="open", filed_at=timezone.now())
    secret, _created = inspections.finding_create(
        actor=city["inspector"],
        visit=visit,
        bottom_line="safety",
        category="safety_hazard",
        severity="major",
        title=TITLE_SECRET,
    )
    assert Finding.objects.get(pk=secret.pk).state == "draft"
    other = finding(city, target=city.inst_b, severity="serious")
    Finding.objects.filter(pk=other.pk).update(title=TITLE_B)
    return city


def _pdf(tool, path, *args) -> str:
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()


def _brief(client, user, tmp_path, **post):
    """Ask for a brief on the page, run its job as a worker would and return (job, pdf path)."""
    client.force_login(user)
    response = client.post(reverse("reports:brief-create"), post or {"preset": "month"})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = BackgroundJob.objects.get(owner=user, kind="brief", state=JobState.QUEUED)
    assert response.url == job.get_absolute_url()
    assert jobs.run_job(job.pk) == JobState.DONE
    job.refresh_from_db()
    download = client.get(reverse("job-download", args=[job.uuid]))
    assert download.status_code == 200
    path = tmp_path / f"brief-{job.pk}.pdf"
    path.write_bytes(b"".join(download.streaming_content))
    return job, path


def _flat(text: str) -> str:
    return "".join(text.split())


def test_a_city_leaders_brief_has_figures_charts_findings_and_embedded_fonts(
    data, client, tmp_path
):
    job, path = _brief(client, data["leader"], tmp_path)
    assert path.read_bytes().startswith(b"%PDF-")
    assert job.result.original_name.endswith(".pdf") and job.percent == 100
    fonts = _pdf("pdffonts", path).splitlines()[2:]
    assert fonts
    for line in fonts:
        assert "CJK" in line.split()[0] and line.split()[-5] == "yes", line
    text = _flat(_pdf("pdftotext", path))
    today = timezone.localdate()
    with translation.override("zh-hans"):
        expected = [
            _("Wuwu inspection work brief"),
            long_date(today.replace(day=1)),
            long_date(today),
            _("Whole city"),
            _("Problems found"),
            _("Overdue now"),
            _("Key findings"),
            data["leader"].real_name,
        ]
    for piece in expected:
        assert _flat(piece) in text, piece
    # Chart labels are SVG text drawn in the CJK font: the districts of the district chart.
    assert "甲区民政局" in text and "乙区民政局" in text
    assert TITLE_A in text and TITLE_B in text
    assert TITLE_SECRET not in text


def test_page_one_rasterises_with_ink(data, client, tmp_path):
    _job, path = _brief(client, data["leader"], tmp_path)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    dark = sum(1 for value in image.tobytes() if value < 128)
    assert dark > 500, dark


def test_the_key_finding_photo_is_embedded_downscaled(data, client, tmp_path):
    import io

    import pypdf

    _job, path = _brief(client, data["leader"], tmp_path)
    images = [i for page in pypdf.PdfReader(str(path)).pages for i in page.images]
    assert images
    for image in images:
        assert max(Image.open(io.BytesIO(image.data)).size) <= 900


def test_a_district_leaders_brief_shows_only_their_district(data, client, tmp_path):
    _job, path = _brief(client, data["leader_a"], tmp_path)
    text = _flat(_pdf("pdftotext", path))
    assert data.district_a.name in text
    assert TITLE_A in text
    for name in (data.district_b.name, data.inst_b.name, TITLE_B, TITLE_SECRET):
        assert name not in text, name


def test_a_district_brief_of_the_office_is_scoped_to_the_district(data, client, tmp_path):
    _job, path = _brief(
        client, data["supervisor"], tmp_path, preset="month", district=str(data.district_b.pk)
    )
    text = _flat(_pdf("pdftotext", path))
    assert TITLE_B in text and data.district_b.name in text
    assert TITLE_A not in text and data.inst_a.name not in text


def test_a_brief_with_no_data_at_all_still_renders(city, client, tmp_path):
    job, path = _brief(client, city["office_head"], tmp_path, preset="week")
    text = _flat(_pdf("pdftotext", path))
    with translation.override("zh-hans"):
        assert _flat(_("No major or serious problems in this period.")) in text
        assert _flat(_("No order is overdue.")) in text
    assert job.state == JobState.DONE


def test_custom_dates_from_the_dashboard_button(data, client, tmp_path):
    since = timezone.localdate() - dt.timedelta(days=40)
    until = timezone.localdate()
    job, _path = _brief(
        client,
        data["leader"],
        tmp_path,
        preset="",
        since=since.isoformat(),
        until=until.isoformat(),
        district="",
    )
    assert job.params == {"since": since.isoformat(), "until": until.isoformat()}


def test_progress_goes_through_the_stages(data):
    job = BackgroundJob.objects.create(
        owner=data["leader"], kind="brief", title="t", params={"since": "2026-01-01"}
    )
    seen = []
    output = briefs.run_brief(job, lambda done, total=None, stage=None: seen.append(stage))
    assert output.content.startswith(b"%PDF-")
    with translation.override("zh-hans"):
        assert seen == [
            _("Summary figures"),
            _("Charts"),
            _("Key findings"),
            _("Rendering the PDF"),
            _("Saving the file"),
        ]


def test_redelivery_makes_one_file(data, client, tmp_path):
    job, _path = _brief(client, data["leader"], tmp_path)
    assert jobs.run_job(job.pk) is None
    assert Attachment.objects.filter(object_id=job.pk, extension="pdf").count() == 1
    assert BackgroundJob.objects.filter(kind="brief").count() == 1


def test_the_owner_who_lost_the_dashboard_role_gets_a_failed_job(data, client):
    from civilaffairs.choices import Role

    client.force_login(data["supervisor"])
    client.post(reverse("reports:brief-create"), {"preset": "month"})
    job = BackgroundJob.objects.get(kind="brief")
    data["supervisor"].roles.filter(role=Role.SUPERVISOR).delete()
    assert jobs.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.error and job.result is None


def test_the_owner_who_lost_the_district_gets_a_failed_job(data, client):
    client.force_login(data["supervisor"])
    client.post(
        reverse("reports:brief-create"), {"preset": "month", "district": data.district_a.pk}
    )
    job = BackgroundJob.objects.get(kind="brief")
    data.district_a.kind = "street"
    data.district_a.save(update_fields=["kind"])
    assert jobs.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.error and job.result is None


def test_the_list_shows_the_persons_briefs_only(data, client, tmp_path):
    job, _path = _brief(client, data["leader"], tmp_path)
    client.force_login(data["leader"])
    page = client.get(reverse("reports:brief-list")).content.decode()
    assert reverse("job-download", args=[job.uuid]) in page
    assert 'name="district"' in page and data.district_b.name in page
    client.force_login(data["leader_a"])
    page = client.get(reverse("reports:brief-list")).content.decode()
    assert str(job.uuid) not in page
    assert data.district_b.name not in page  # not a district leader_a may choose
    assert client.get(reverse("home")).status_code == 200


def _chinese(message: str, msgid: str | None) -> bool:
    """An error in Chinese: Django's, DRF's and the dashboard's messages are in the catalog;
    ours are compared with the catalog's translation of their msgid."""
    if msgid is not None:
        with translation.override("zh-hans"):
            return message == _(msgid)
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)


@pytest.mark.parametrize(
    ("post", "msgid"),
    [
        ({"preset": "custom", "since": "2026-13-45", "until": "2026-01-01"}, None),
        ({"preset": "custom", "since": "", "until": ""}, "Enter both dates of the period."),
        ({"preset": "", "since": "2026-03-10", "until": "2026-03-01"}, None),
        ({"preset": "decade"}, None),
        ({"preset": "month", "district": "999999"}, None),
        (
            {"preset": "custom", "since": "2099-01-01", "until": "2099-02-01"},
            "The period has not started yet.",
        ),
    ],
)
def test_bad_input_shows_the_form_with_a_chinese_error_and_queues_nothing(
    city, client, post, msgid
):
    client.force_login(city["leader"])
    response = client.post(reverse("reports:brief-create"), post)
    assert response.status_code == 200
    body = response.content.decode()
    assert "invalid-feedback" in body or "alert-danger" in body
    errors = [e for f in response.context["form"].errors.values() for e in f]
    assert errors
    assert all(_chinese(e, msgid) for e in errors), errors
    assert not BackgroundJob.objects.exists()


def test_a_district_leader_cannot_ask_for_another_district(data, client):
    client.force_login(data["leader_a"])
    response = client.post(
        reverse("reports:brief-create"), {"preset": "month", "district": data.district_b.pk}
    )
    assert response.status_code == 200
    assert not BackgroundJob.objects.exists()


@pytest.mark.parametrize("persona", ["liaison_a", "inspector", "department", "auditor"])
def test_roles_without_the_dashboard_cannot_ask(city, client, persona):
    client.force_login(city[persona])
    assert client.get(reverse("reports:brief-list")).status_code == 403
    assert client.post(reverse("reports:brief-create"), {"preset": "month"}).status_code == 403
    assert client.post("/api/v1/briefs/", {"preset": "month"}).status_code == 403
    assert client.get("/api/v1/briefs/").status_code == 403
    assert not BackgroundJob.objects.exists()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("reports:brief-list"))
    assert response.status_code == 302 and "login" in response.url


def test_the_menu_has_briefs_for_dashboard_roles_only(city, client):
    url = reverse("reports:brief-list")
    client.force_login(city["leader"])
    assert f'href="{url}"' in client.get(reverse("home")).content.decode()
    client.force_login(city["liaison_a"])
    assert f'href="{url}"' not in client.get(reverse("home")).content.decode()


# --- API -------------------------------------------------------------------------------------


def test_api_request_answers_202_with_the_job_and_lists_it(data, client, _no_broker):
    client.force_login(data["leader"])
    response = client.post(
        "/api/v1/briefs/", {"preset": "week", "district": data.district_a.pk}, "application/json"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    job = BackgroundJob.objects.get(kind="brief")
    assert body["uuid"] == str(job.uuid) and body["state"] == "queued"
    assert body["url"] == f"/api/v1/jobs/{job.uuid}/"
    assert body["district"] == data.district_a.pk and body["district_name"] == "甲区民政局"
    assert client.get(body["url"]).status_code == 200
    jobs.run_job(job.pk)
    listed = client.get("/api/v1/briefs/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["state"] == "done" and listed["results"][0]["download_url"]
    client.force_login(data["office_head"])
    assert client.get("/api/v1/briefs/").json()["count"] == 0


@pytest.mark.parametrize(
    ("payload", "msgid"),
    [
        ({"preset": "decade"}, None),
        ({"since": "2026-13-01", "until": "2026-12-01"}, None),
        ({"since": "2026-03-10", "until": "2026-03-01"}, None),
        ({"preset": "custom"}, "Enter both dates of the period."),
        ({"preset": "month", "district": 999999}, None),
        ({"preset": "month", "district": "abc"}, None),
    ],
)
def test_api_bad_input_is_refused_in_chinese(city, client, payload, msgid):
    client.force_login(city["leader"])
    response = client.post("/api/v1/briefs/", payload, "application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    messages = [body["detail"]] if "detail" in body else [m for v in body.values() for m in v]
    assert messages and all(_chinese(str(m), msgid) for m in messages), body
    assert not BackgroundJob.objects.exists()


def test_api_without_a_period_asks_for_this_month(city, client):
    client.force_login(city["office_head"])
    response = client.post("/api/v1/briefs/", {}, "application/json")
    assert response.status_code == 202
    since = timezone.localdate().replace(day=1).isoformat()
    assert response.json()["since"] == since


# --- charts and the benchmark ------------------------------------------------------------------


def _series(rows):
    return Series("k", "标题", [Row(label, value, "") for label, value in rows])


@pytest.mark.parametrize(
    "draw", [svg_charts.horizontal_bar_chart, svg_charts.vertical_bar_chart, svg_charts.line_chart]
)
def test_charts_are_well_formed_svg_with_escaped_labels(draw):
    svg = str(draw(_series([("<script>&", 3), ("安全", 12), ("稳定", 0)]), empty_text="无数据"))
    root = ET.fromstring(svg)  # noqa: S314 - our own output: well-formed, every label escaped
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "<script>&" in texts and "安全" in texts and "12" in texts
    assert "<script>" not in svg
    assert all(
        t.get("font-family") == "Noto Sans CJK SC"
        for t in root.iter("{http://www.w3.org/2000/svg}text")
    )
    empty = str(draw(_series([("安全", 0)]), empty_text="无数据"))
    assert "无数据" in empty
    if draw is not svg_charts.horizontal_bar_chart:
        labelled = str(draw(_series([("11-02", 4)]), axis_label="发现问题<数>"))
        assert "发现问题&lt;数&gt;" in labelled


def test_nice_ticks():
    assert svg_charts.nice_ticks(0) == [0, 1]
    assert svg_charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert svg_charts.nice_ticks(142)[-1] >= 142


def test_bench_brief_command(data, tmp_path):
    import io

    out = io.StringIO()
    call_command("bench_brief", runs=1, output=str(tmp_path / "b.pdf"), stdout=out)
    printed = out.getvalue()
    assert "page(s)" in printed and "cold:" in printed and "warm median of 1:" in printed
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF-")


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_page_and_api_queries_do_not_grow_with_the_briefs(city, client):
    user = city["leader"]
    client.force_login(user)

    def add(n):
        for i in range(n):
            params = {"since": "2026-01-01", "until": "2026-01-31"}
            if i % 2:
                params["district"] = str((city.district_a if i % 4 == 1 else city.district_b).pk)
            BackgroundJob.objects.create(owner=user, kind="brief", title=f"b{i}", params=params)

    add(3)
    for url in (reverse("reports:brief-list"), "/api/v1/briefs/"):
        _queries(client, url)  # warm caches
    few = [_queries(client, u) for u in (reverse("reports:brief-list"), "/api/v1/briefs/")]
    add(15)
    many = [_queries(client, u) for u in (reverse("reports:brief-list"), "/api/v1/briefs/")]
    assert few == many
