"""Excel imports (#6): templates, dry run with row errors, all-or-nothing commit, idempotent
re-import, the three importers, bad files, personas for pages and API, concurrency."""

import io
import re
import threading
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civilaffairs import imports
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import Attachment, AuditEvent, OrgUnit, RoleAssignment, User
from inspections.models import ChecklistItem, ChecklistTemplate
from inspections.services import checklist_create
from tests.personas import build_city

CJK = re.compile(r"[\u4e00-\u9fff]")
MINE = ("org-units", "users", "checklist-items")


def workbook(rows, name="import.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def headers(slug) -> list[str]:
    cls = imports.registry()[slug]
    return [str(c.header) for c in cls.columns]


def org_file(rows):
    """Rows as dicts by column key; the header is the template's."""
    cls = imports.registry()["org-units"]
    keys = [c.key for c in cls.columns]
    return workbook([headers("org-units"), *[[r.get(k, "") for k in keys] for r in rows]])


def keyed_file(slug, rows):
    cls = imports.registry()[slug]
    keys = [c.key for c in cls.columns]
    return workbook([headers(slug), *[[r.get(k, "") for k in keys] for r in rows]])


def run(slug, actor, upload, commit=True):
    upload.seek(0)
    return imports.run_import(slug, actor=actor, upload=upload, commit=commit)


def snapshot():
    return (
        OrgUnit.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        ChecklistTemplate.objects.count(),
        ChecklistItem.objects.count(),
        # What was changed, not who signed in or was refused meanwhile.
        AuditEvent.objects.exclude(
            action__in=("auth.login", "auth.logout", "access.denied")
        ).count(),
    )


def good_units():
    return [
        {"code": "N-A", "name": "丙区民政局", "kind": "区民政局", "parent": "T"},
        {"code": "N-A-1", "name": "丙区南街道", "kind": "镇街", "parent": "N-A"},
        {
            "code": "N-A-1-1",
            "name": "丙区南街颐养院",
            "kind": "服务机构",
            "parent": "N-A-1",
            "institution_type": "养老机构",
            "supervising_department": "T-YL",
            "latitude": "23.1",
            "longitude": "113.2",
            "contact_phone": "020-12345678",
            "capacity": "120",
            "active": "是",
        },
        {
            "code": "N-A-1-2",
            "name": "丙区南街救助站",
            "kind": "服务机构",
            "parent": "N-A-1",
            "institution_type": "救助管理站",
        },
        {"code": "N-FLY", "name": "测试市第二福利院", "kind": "局属单位", "parent": "T"},
        {"code": "N-A-2", "name": "丙区北街道", "kind": "镇街", "parent": "N-A"},
        {"code": "N-A-3", "name": "丙区西街道", "kind": "street", "parent": "N-A"},
        {"code": "T-B", "name": "乙区民政局", "kind": "区民政局", "parent": "T"},  # unchanged
    ]


# --- The acceptance case ------------------------------------------------------------------


def test_three_bad_rows_are_reported_and_nothing_is_imported_then_the_fix_imports_once(city):
    admin = city["sysadmin"]
    rows = good_units()
    bad = [dict(r) for r in rows]
    bad[1]["parent"] = "NOPE"  # Excel row 3: unknown parent
    bad[3]["institution_type"] = ""  # row 5: an institution without a type
    bad[5]["kind"] = "宇宙站"  # row 7: not a kind
    before = snapshot()

    dry = run("org-units", admin, org_file(bad), commit=False)
    assert sorted({e.row for e in dry.errors}) == [3, 5, 7]
    assert all(e.message for e in dry.errors)
    by_row = {e.row: e for e in dry.errors}
    assert by_row[3].column == str(imports.registry()["org-units"].column("parent").header)
    assert by_row[3].value == "NOPE"
    assert "NOPE" in by_row[3].message
    assert by_row[7].value == "宇宙站"
    assert not dry.committed

    committed = run("org-units", admin, org_file(bad), commit=True)
    assert sorted({e.row for e in committed.errors}) == [3, 5, 7]
    assert not committed.committed
    assert snapshot() == before

    fixed = run("org-units", admin, org_file(rows), commit=True)
    assert fixed.errors == []
    assert fixed.committed
    assert (fixed.created, fixed.updated, fixed.unchanged) == (7, 0, 1)
    home = OrgUnit.objects.get(code="N-A-1-1")
    assert home.parent.code == "N-A-1"
    assert home.district.code == "N-A"  # derived, as the services do
    assert home.supervising_department.code == "T-YL"
    assert str(home.latitude) == "23.100000"
    assert home.capacity == 120
    imported = AuditEvent.objects.filter(action="import.commit")
    assert imported.count() == 1
    event = imported.get()
    assert event.actor == admin
    assert event.changes["sha256"] == fixed.sha256
    assert event.changes["import_created"] == 7
    assert AuditEvent.objects.filter(action="orgunit.create").count() >= 7

    after = snapshot()
    again = run("org-units", admin, org_file(rows), commit=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    assert again.errors == []
    assert snapshot() == after  # no rows, no audit events


def test_a_dry_run_changes_nothing(city):
    before = snapshot()
    result = run("org-units", city["sysadmin"], org_file(good_units()), commit=False)
    assert result.ok and result.created == 7
    assert not result.committed
    assert snapshot() == before


# --- Org units ----------------------------------------------------------------------------


def test_org_import_updates_and_moves_by_code(city):
    admin = city["sysadmin"]
    rows = [
        {
            "code": "T-A-1-1",
            "name": "甲区东街防寒庇护站（新址）",
            "kind": "服务机构",
            "parent": "T-B",  # moved to district B
            "institution_type": "防寒庇护站",
            "supervising_department": "T-JZ",
        }
    ]
    result = run("org-units", admin, org_file(rows), commit=False)
    assert (result.created, result.updated) == (0, 1)
    assert "新址" in result.pending[0].summary
    run("org-units", admin, org_file(rows))
    unit = OrgUnit.objects.get(code="T-A-1-1")
    assert unit.name.endswith("（新址）")
    assert unit.parent == city.district_b
    assert unit.district == city.district_b
    assert AuditEvent.objects.filter(action="orgunit.update", object_id=str(unit.pk)).exists()
    assert run("org-units", admin, org_file(rows)).unchanged == 1


def test_org_import_refuses_loops_duplicates_and_moves_under_itself(city):
    admin = city["sysadmin"]
    rows = [
        {"code": "L-1", "name": "环1", "kind": "镇街", "parent": "L-2"},
        {"code": "L-2", "name": "环2", "kind": "镇街", "parent": "L-1"},
        {"code": "T-A", "name": "甲区民政局", "kind": "区民政局", "parent": "T-A-1"},
        {"code": "D-1", "name": "重复", "kind": "镇街", "parent": "T-A"},
        {"code": "D-1", "name": "重复", "kind": "镇街", "parent": "T-A"},
        {
            "code": "S-1",
            "name": "监管错",
            "kind": "镇街",
            "parent": "T-A",
            "supervising_department": "T-B",
        },
    ]
    before = snapshot()
    result = run("org-units", admin, org_file(rows))
    assert sorted({e.row for e in result.errors}) == [2, 3, 4, 6, 7]
    assert snapshot() == before


# --- Users --------------------------------------------------------------------------------


def test_users_import_creates_without_password_grants_roles_and_is_idempotent(city):
    admin = city["sysadmin"]
    rows = [
        {
            "username": "zhang3",
            "real_name": "张三",
            "phone": "13800000001",
            "org_unit": "T-A",
            "roles": "责任单位联络员",
            "scope": "T-A",
        },
        {"username": "li4", "real_name": "李四", "org_unit": "T-ZXB", "roles": "督查员、检查员"},
        {"username": "wang5", "real_name": "王五", "roles": "审计员"},
    ]
    result = run("users", admin, keyed_file("users", rows))
    assert result.ok, result.errors
    assert result.created == 3
    zhang = User.objects.get(username="zhang3")
    assert not zhang.has_usable_password()
    assert zhang.org_unit == city.district_a
    assert {(a.role, a.scope_id) for a in zhang.roles.all()} == {
        ("unit_liaison", city.district_a.pk)
    }
    li = User.objects.get(username="li4")
    assert {a.role for a in li.roles.all()} == {"supervisor", "inspector"}
    assert {a.scope_id for a in li.roles.all()} == {city.root.pk}  # the whole city
    assert User.objects.get(username="wang5").roles.get().scope is None
    assert AuditEvent.objects.filter(action="role.grant").count() >= 4

    after = snapshot()
    # User names match whatever their case.
    rows[0]["username"] = "ZHANG3"
    again = run("users", admin, keyed_file("users", rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert snapshot() == after


def test_users_import_changes_fields_and_swaps_roles(city):
    admin = city["sysadmin"]
    rows = [
        {
            "username": "liaison_a",
            "real_name": "甲区联络员",
            "phone": "13912345678",
            "org_unit": "T-A",
            "title": "科员",
            "roles": "业务处室人员",
            "scope": "T-JZ",
        }
    ]
    result = run("users", admin, keyed_file("users", rows))
    assert result.ok, result.errors
    assert result.updated == 1
    user = User.objects.get(username="liaison_a")
    assert user.title == "科员"
    assert {(a.role, a.scope_id) for a in user.roles.all()} == {("department", city.dept_relief.pk)}
    assert AuditEvent.objects.filter(action="role.revoke", object_id=str(user.pk)).exists()
    assert run("users", admin, keyed_file("users", rows)).unchanged == 1


def test_users_import_rules(city):
    admin = city["sysadmin"]
    rows = [
        {"username": "mix", "real_name": "混合", "roles": "系统管理员、督查员"},
        {"username": "noscope", "real_name": "无范围", "roles": "责任单位联络员"},
        {"username": "bad name!", "real_name": "坏名"},
        {"username": "sysadmin", "real_name": "系统管理员", "roles": "审计员"},
        {"username": "far", "real_name": "远", "org_unit": "NOPE"},
        {"username": "mail", "real_name": "邮件", "email": "not-an-email"},
        {"username": "Mail", "real_name": "邮件2"},
    ]
    before = snapshot()
    result = run("users", admin, keyed_file("users", rows))
    assert sorted({e.row for e in result.errors}) == [2, 3, 4, 5, 6, 7, 8]
    assert snapshot() == before


def test_a_password_column_is_refused(city):
    upload = workbook([[*headers("users"), "password"], ["x1", "某人", *[""] * 7, "Secret@123"]])
    with pytest.raises(ServiceError) as caught:
        run("users", city["sysadmin"], upload)
    assert caught.value.code == "headers"
    assert "password" in str(caught.value.message)
    assert not User.objects.filter(username="x1").exists()


# --- Checklist items ----------------------------------------------------------------------


def items(code="IMP-1", name="导入检查表", count=3, **extra):
    return [
        {
            "checklist": code,
            "checklist_name": name,
            "position": str(n),
            "bottom_line": "安全",
            "category": "火灾隐患",
            "text": f"检查项{n}",
            "legal_basis": "《消防法》",
            **extra,
        }
        for n in range(1, count + 1)
    ]


def test_checklist_import_creates_versions_only_on_change(city):
    supervisor = city["supervisor"]
    result = run("checklist-items", supervisor, keyed_file("checklist-items", items()))
    assert result.ok, result.errors
    assert result.created == 3
    assert result.notes
    first = ChecklistTemplate.objects.get(code="IMP-1", is_current=True)
    assert first.version == 1
    assert [i.text for i in first.items.order_by("position")] == ["检查项1", "检查项2", "检查项3"]
    assert first.items.first().default_severity == "general"

    after = snapshot()
    again = run("checklist-items", supervisor, keyed_file("checklist-items", items()))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert again.notes == []
    assert snapshot() == after

    changed = items()
    changed[1]["text"] = "检查项2（修订）"
    changed[1]["default_severity"] = "重大"
    changed.append({**changed[0], "position": "4", "text": "新增检查项"})
    result = run("checklist-items", city["office_head"], keyed_file("checklist-items", changed))
    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    current = ChecklistTemplate.objects.get(code="IMP-1", is_current=True)
    assert current.version == 2
    texts = list(current.items.order_by("position").values_list("text", "default_severity"))
    assert texts == [
        ("检查项1", "general"),
        ("检查项2（修订）", "major"),
        ("检查项3", "general"),
        ("新增检查项", "general"),
    ]
    assert first.items.count() == 3  # the old version is kept as it was


def test_checklist_import_keeps_unmentioned_items_and_the_template_settings(city):
    template = checklist_create(
        actor=city["supervisor"],
        code="KEEP",
        name="保留",
        items=[{"bottom_line": "safety", "category": "other", "text": f"项{n}"} for n in (1, 2)],
        institution_types=["elder_care"],
    )
    rows = [
        {
            "checklist": "KEEP",
            "position": "2",
            "bottom_line": "安全",
            "category": "其他",
            "text": "项2改",
        }
    ]
    result = run("checklist-items", city["supervisor"], keyed_file("checklist-items", rows))
    assert result.ok and result.updated == 1
    current = ChecklistTemplate.objects.get(code="KEEP", is_current=True)
    assert current.version == template.version + 1
    assert current.institution_types == ["elder_care"]
    assert current.name == "保留"
    assert list(current.items.values_list("text", flat=True)) == ["项1", "项2改"]


def test_checklist_import_refuses_gaps_names_and_missing_names(city):
    rows = items(count=2)
    rows.append({**rows[0], "position": "5", "text": "跳号"})
    rows.append({**rows[0], "position": "3", "checklist_name": "另一个名字"})
    rows.append({**items(code="NEW-2", name="")[0]})
    before = snapshot()
    result = run("checklist-items", city["supervisor"], keyed_file("checklist-items", rows))
    assert sorted({e.row for e in result.errors}) == [4, 5, 6]
    assert snapshot() == before


# --- Cells are text -----------------------------------------------------------------------


def test_formula_like_cells_are_stored_as_literal_text(city):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers("org-units"))
    # openpyxl writes "=1+1" as a real formula; "+SUM(A1)" and "@cmd" as text.
    sheet.append(["F-1", "=1+1", "", "镇街", "T-A", "", "", "+SUM(A1)", "", "", "@cmd", "", "", ""])
    sheet.append(
        ["F-2", "-2+3", "", "镇街", "T-A", "", "", '=HYPERLINK("x")', "", "", "", "0012", "", ""]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("f.xlsx", buffer.getvalue())
    result = run("org-units", city["sysadmin"], upload)
    assert result.ok, result.errors
    first, second = OrgUnit.objects.get(code="F-1"), OrgUnit.objects.get(code="F-2")
    assert (first.name, first.address, first.contact_name) == ("=1+1", "+SUM(A1)", "@cmd")
    assert (second.name, second.address, second.contact_phone) == (
        "-2+3",
        '=HYPERLINK("x")',
        "0012",
    )


def test_numbers_typed_as_numbers_are_read_as_their_text(city):
    upload = workbook([headers("users"), ["u13800", "号码", 13800138000, "", "", "", "", "", ""]])
    result = run("users", city["sysadmin"], upload)
    assert result.ok, result.errors
    assert User.objects.get(username="u13800").phone == "13800138000"


# --- Bad files ----------------------------------------------------------------------------


def refused(city, upload, slug="org-units", actor="sysadmin"):
    before = snapshot()
    with pytest.raises(ServiceError) as caught:
        run(slug, city[actor], upload)
    assert snapshot() == before
    return caught.value


def test_a_file_that_is_not_xlsx_is_refused_by_content(city):
    error = refused(city, SimpleUploadedFile("units.xlsx", b"%PDF-1.4 not a workbook"))
    assert error.code == "file_type"
    assert CJK.search(str(error.message))
    assert refused(city, SimpleUploadedFile("units.xlsx", b"")).code == "empty_file"
    assert refused(city, SimpleUploadedFile("a.xlsx", b"name,code\n")).code == "file_type"


def test_a_docx_or_broken_archive_is_refused(city):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not-really/>")
    error = refused(city, SimpleUploadedFile("broken.xlsx", buffer.getvalue()))
    assert error.code == "unreadable"


def test_an_archive_that_expands_too_much_is_refused(city, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UNCOMPRESSED_BYTES", 1000)
    upload = workbook([headers("org-units"), ["Z-1", "单位", "", "镇街", "T-A"]])
    assert refused(city, upload).code == "too_large"


def test_wrong_missing_and_duplicate_headers_are_refused(city):
    assert refused(city, workbook([["编码", "名称"], ["X", "Y"]])).code == "headers"
    hdr = headers("org-units")
    assert refused(city, workbook([hdr[1:], ["x"] * 13])).code == "headers"
    assert refused(city, workbook([[*hdr, hdr[0]], ["x"] * 15])).code == "headers"


def test_empty_sheets_are_refused(city):
    assert refused(city, workbook([])).code == "headers"
    assert refused(city, workbook([headers("org-units")])).code == "empty"
    assert refused(city, workbook([headers("org-units"), [""] * 14, [None] * 14])).code == "empty"


def test_more_rows_than_the_limit_are_refused(city, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [{"code": f"M-{n}", "name": "多", "kind": "镇街", "parent": "T-A"} for n in range(4)]
    assert refused(city, org_file(rows)).code == "too_many_rows"
    assert run("org-units", city["sysadmin"], org_file(rows[:3])).created == 3


def test_a_sheet_padded_with_empty_rows_is_refused_without_reading_it_all(city, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [headers("org-units"), ["P-1", "单位", "", "镇街", "T-A"]]
    rows += [[" "]] * (imports.MAX_PHYSICAL_ROWS_FACTOR * 3 + 10000)
    assert refused(city, workbook(rows)).code == "too_many_rows"


def test_the_template_can_be_filled_in_and_imported(city):
    cls = imports.registry()["org-units"]
    book = openpyxl.load_workbook(io.BytesIO(cls(city["sysadmin"]).template_workbook()))
    sheet = book.worksheets[0]
    sheet.append(["TPL-1", "模板单位", "", "镇街", "T-A"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = run("org-units", city["sysadmin"], SimpleUploadedFile("t.xlsx", buffer.getvalue()))
    assert result.ok and result.created == 1


@pytest.mark.parametrize("slug", ["org-units", "users", "checklist-items"])
def test_templates_open_with_the_expected_headers(city, slug):
    cls = imports.registry()[slug]
    book = openpyxl.load_workbook(io.BytesIO(cls(city["sysadmin"]).template_workbook()))
    sheet = book.worksheets[0]
    found = [c.value for c in sheet[1]]
    assert found == [c.header_text() for c in cls.columns]
    assert sheet.freeze_panes == "A2"
    assert len(book.worksheets) == 3
    instructions = book.worksheets[2]
    listed = [instructions.cell(row=r, column=1).value for r in range(1, instructions.max_row + 1)]
    assert all(str(c.header) in listed for c in cls.columns)
    choice_columns = [c for c in cls.columns if c.choices and not getattr(c.parse, "multiple", 0)]
    assert len(sheet.data_validations.dataValidation) == len(choice_columns)


# --- Query counts -------------------------------------------------------------------------


def test_checking_a_file_costs_the_same_queries_for_5_or_50_rows(city):
    admin = city["sysadmin"]
    many = [
        {"code": f"Q-{n}", "name": f"单位{n}", "kind": "镇街", "parent": "T-A"} for n in range(50)
    ]
    run("org-units", admin, org_file(many))

    def cost(rows):
        with CaptureQueriesContext(connection) as queries:
            result = run("org-units", admin, org_file(rows))
        assert result.unchanged == len(rows)
        return len(queries)

    assert cost(many[:5]) == cost(many)


# --- Pages --------------------------------------------------------------------------------


def test_import_index_per_persona(city, client):
    url = reverse("imports:index")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    expectations = {
        "sysadmin": (200, ["org-units", "users"]),
        "supervisor": (200, ["checklist-items"]),
        "office_head": (200, ["checklist-items"]),
        "leader": (403, []),
        "auditor": (403, []),
        "liaison_a": (403, []),
        "inspector": (403, []),
    }
    for persona, (status, slugs) in expectations.items():
        client.force_login(city[persona])
        response = client.get(url)
        assert response.status_code == status, persona
        if status == 200:
            for slug in MINE:  # other apps may add importers of their own
                link = reverse("imports:template", args=[slug])
                assert (link in response.content.decode()) == (slug in slugs), (persona, slug)


def test_importer_pages_are_404_for_other_roles(city, client):
    client.force_login(city["supervisor"])
    assert client.get(reverse("imports:upload", args=["users"])).status_code == 404
    assert client.get(reverse("imports:template", args=["org-units"])).status_code == 404
    assert client.get(reverse("imports:upload", args=["nonsense"])).status_code == 404
    client.force_login(city["sysadmin"])
    assert client.get(reverse("imports:upload", args=["checklist-items"])).status_code == 404
    client.logout()
    assert client.get(reverse("imports:template", args=["users"])).status_code == 302


def test_template_download_page(city, client):
    client.force_login(city["sysadmin"])
    response = client.get(reverse("imports:template", args=["users"]))
    assert response.status_code == 200
    assert response["Content-Type"] == imports.XLSX_MIME
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert (
        next(c.value for c in book.worksheets[0][1])
        == imports.registry()["users"].columns[0].header_text()
    )


def test_page_flow_dry_run_confirm_and_result(city, client):
    client.force_login(city["sysadmin"])
    upload_url = reverse("imports:upload", args=["org-units"])
    assert client.get(upload_url).status_code == 200
    before = OrgUnit.objects.count()
    response = client.post(upload_url, {"file": org_file(good_units())})
    assert response.status_code == 200
    token = response.context["token"]
    assert token is not None
    assert response.context["result"].created == 7
    assert OrgUnit.objects.count() == before
    page = response.content.decode()
    assert reverse("imports:commit", args=["org-units"]) in page
    assert "N-A-1-1" in page

    response = client.post(reverse("imports:commit", args=["org-units"]), {"token": token})
    assert response.status_code == 302
    assert response.url == reverse("imports:done", args=["org-units"])
    assert OrgUnit.objects.count() == before + 7
    done = client.get(response.url)
    assert done.status_code == 200
    assert done.context["outcome"]["created"] == 7

    # Confirming twice imports nothing more.
    response = client.post(reverse("imports:commit", args=["org-units"]), {"token": token})
    assert client.get(response.url).context["outcome"]["created"] == 0
    assert OrgUnit.objects.count() == before + 7


def test_page_dry_run_with_errors_shows_the_rows_and_offers_no_confirmation(city, client):
    client.force_login(city["sysadmin"])
    rows = good_units()
    rows[2]["latitude"] = "北纬"
    response = client.post(reverse("imports:upload", args=["org-units"]), {"file": org_file(rows)})
    assert response.status_code == 200
    assert response.context["token"] is None
    assert [e.row for e in response.context["result"].errors] == [4]
    page = response.content.decode()
    assert "北纬" in page
    assert reverse("imports:commit", args=["org-units"]) not in page
    assert not Attachment.objects.exists()


def test_page_bad_files_get_a_message_not_a_500(city, client):
    client.force_login(city["sysadmin"])
    url = reverse("imports:upload", args=["org-units"])
    for upload in (
        SimpleUploadedFile("a.xlsx", b"PK\x03\x04garbage"),
        SimpleUploadedFile("a.xlsx", b"\x00" * 100),
        workbook([["?"]]),
    ):
        response = client.post(url, {"file": upload})
        assert response.status_code == 400
        assert response.context["form"].errors["file"]
    assert client.post(url, {}).status_code == 400


def test_commit_with_a_foreign_expired_or_garbage_token_imports_nothing(city, client):
    client.force_login(city["sysadmin"])
    url = reverse("imports:upload", args=["org-units"])
    token = client.post(url, {"file": org_file(good_units())}).context["token"]
    commit = reverse("imports:commit", args=["org-units"])
    # Another sysadmin cannot use it.
    other = User.objects.create(username="admin2", real_name="管理员2")
    RoleAssignment.objects.create(user=other, role="sysadmin")
    before = snapshot()
    client.force_login(other)
    response = client.post(commit, {"token": token})
    assert response.status_code == 302 and response.url == url
    for garbage in ("", "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert client.post(commit, {"token": garbage}).status_code == 302
    # An upload of another kind is not a pending import file.
    client.force_login(city["sysadmin"])
    stored = Attachment.objects.get(uuid=token)
    assert (
        client.post(reverse("imports:commit", args=["users"]), {"token": token}).status_code == 302
    )
    # The file is gone from storage (purged): a message, not a 500.
    stored.file.storage.delete(stored.file.name)
    response = client.post(commit, {"token": token})
    assert response.status_code == 302
    assert snapshot() == before


def test_the_menu_shows_the_entry_to_importers(city, client):
    link = f'href="{reverse("imports:index")}"'
    client.force_login(city["sysadmin"])
    assert link in client.get(reverse("home")).content.decode()
    client.force_login(city["leader"])
    assert link not in client.get(reverse("home")).content.decode()


# --- API ----------------------------------------------------------------------------------


def test_api_lists_the_importers_of_the_caller(city, client):
    url = reverse("api-import-list")
    assert client.get(url).status_code == 403
    client.force_login(city["sysadmin"])
    body = client.get(url).json()
    assert [i["kind"] for i in body if i["kind"] in MINE] == ["org-units", "users"]
    assert body[0]["columns"][0]["required"] is True
    client.force_login(city["office_head"])
    assert [i["kind"] for i in client.get(url).json() if i["kind"] in MINE] == ["checklist-items"]
    for persona in ("leader", "auditor", "liaison_a"):
        client.force_login(city[persona])
        assert client.get(url).status_code == 403


def test_api_template(city, client):
    client.force_login(city["supervisor"])
    response = client.get(reverse("api-import-template", args=["checklist-items"]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["A1"].value.startswith(
        str(imports.registry()["checklist-items"].columns[0].header)
    )
    assert client.get(reverse("api-import-template", args=["users"])).status_code == 404
    response = client.get(
        reverse("api-import-template", args=["checklist-items"]), HTTP_ACCEPT=imports.XLSX_MIME
    )
    assert response.status_code == 200


def test_api_dry_run_commit_and_errors(city, client):
    url = reverse("api-import-run", args=["org-units"])
    client.force_login(city["sysadmin"])
    before = snapshot()
    response = client.post(url, {"file": org_file(good_units())})
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["committed"], body["errors"]) == (7, False, [])
    assert snapshot() == before

    rows = good_units()
    rows[0]["kind"] = "错"
    response = client.post(url, {"file": org_file(rows), "dry_run": "false"})
    assert response.status_code == 400
    assert [e["row"] for e in response.json()["errors"]] == [2]
    assert response.json()["errors"][0]["column"]
    assert snapshot() == before

    response = client.post(url, {"file": org_file(good_units()), "dry_run": "false"})
    assert response.status_code == 200
    assert response.json()["committed"] is True
    assert response.json()["created"] == 7
    response = client.post(url, {"file": org_file(good_units()), "dry_run": "false"})
    assert (response.json()["created"], response.json()["unchanged"]) == (0, 8)


def test_api_bad_files_are_400_in_chinese(city, client):
    client.force_login(city["sysadmin"])
    url = reverse("api-import-run", args=["users"])
    response = client.post(url, {"file": SimpleUploadedFile("a.xlsx", b"hello")})
    assert response.status_code == 400
    assert CJK.search(response.json()["detail"])
    response = client.post(url, {"file": workbook([["x"], ["y"]])})
    assert response.status_code == 400
    assert response.json()["code"] == "headers"
    assert client.post(url, {}).status_code == 400


def test_api_roles_that_may_not_import_get_404_or_403(city, client):
    url = reverse("api-import-run", args=["users"])
    assert client.post(url, {"file": workbook([["x"]])}).status_code == 403  # anonymous
    for persona in ("supervisor", "leader", "auditor"):
        client.force_login(city[persona])
        assert client.post(url, {"file": workbook([["x"]])}).status_code == 404, persona
    client.force_login(city["sysadmin"])
    assert client.post(reverse("api-import-run", args=["nope"]), {}).status_code == 404


# --- Concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_commits_of_the_same_file_end_with_one_set_of_rows():
    city = build_city()
    admin = city["sysadmin"]
    content = org_file(good_units()).read()
    barrier, outcomes, errors = threading.Barrier(2), [], []

    def commit():
        try:
            barrier.wait()
            result = imports.run_import(
                "org-units",
                actor=admin,
                upload=SimpleUploadedFile("same.xlsx", content),
                commit=True,
            )
            outcomes.append((result.committed, result.created, result.unchanged))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == [(True, 0, 8), (True, 7, 1)]
    assert OrgUnit.objects.filter(code__startswith="N-").count() == 7
    assert AuditEvent.objects.filter(action="import.commit").count() == 1
