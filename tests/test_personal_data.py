"""Personal data (#9 item 6): phones, ID numbers and contact names encrypted at rest
(AES-256-GCM, a random nonce per value, key rotation), blind indexes for exact look-ups, the
validated ID number, masking for every persona on every surface, and the data migration."""

import importlib
import io
import types

import openpyxl
import pytest
from django.apps import apps as django_apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from civilaffairs import checks, crypto
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import AuditEvent, Notification, OrgUnit, TimelineEntry, User
from civilaffairs.notifications import dispatch_pending
from civilaffairs.services import orgunit_create, orgunit_update, user_update
from civilaffairs.validators import id_number_check_char
from rectification import complaints
from rectification.models import Complaint
from tests.complaint_data import NAME, PHONE, register, replied, triage
from tests.test_imports import keyed_file, run

pytestmark = pytest.mark.django_db

ID_NUMBER = "44010619900307" + "123"
ID_NUMBER += id_number_check_char(ID_NUMBER)
OTHER_ID = "11010519491231" + "002"
OTHER_ID += id_number_check_char(OTHER_ID)
# A check character that ends in X: the look-up must not care about its case.
X_ID = next(
    f"44010320000101{n:03d}X"
    for n in range(1000)
    if id_number_check_char(f"44010320000101{n:03d}") == "X"
)
HOUSEHOLD_PERSON, HOUSEHOLD_PHONE = "李四光", "13700001111"
KEY_A = "8ZLG0xbmrPzUdCP7YbGJXwD3cNn9lbTxXpnGqXa1UwI="
KEY_B = "2Bq0o8b1zN4m7Y3pK6r9t2W5x8A1c4E7h0J3l6O9q2s="

# Every column that holds personal data, by table.
COLUMNS = {
    "rectification_complaint": ["complainant_name", "complainant_phone", "complainant_id_number"],
    "civilaffairs_orgunit": ["contact_name", "contact_phone", "contact_id_number"],
    "civilaffairs_user": ["phone"],
}


def household(city, **extra):
    extra.setdefault("contact_name", HOUSEHOLD_PERSON)
    extra.setdefault("contact_phone", HOUSEHOLD_PHONE)
    extra.setdefault("contact_id_number", OTHER_ID)
    return orgunit_create(
        actor=None,
        parent=city.street_a,
        code=extra.pop("code", "T-A-1-H1"),
        name="低保家庭（李*光户）",
        kind="institution",
        institution_type="low_income_household",
        supervising_department=city.dept_relief,
        **extra,
    )


def raw_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        return [" ".join(str(v) for v in row) for row in cursor.fetchall()]


def raw_column(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def plaintexts():
    return [NAME, PHONE, ID_NUMBER, OTHER_ID, HOUSEHOLD_PERSON, HOUSEHOLD_PHONE, "13912345678"]


# --- At rest ----------------------------------------------------------------------------------


def test_no_table_holds_a_phone_or_id_number_in_plaintext(city):
    first = register(city, complainant_id_number=ID_NUMBER)
    second = register(city, complainant_id_number=ID_NUMBER)
    unit = household(city)
    for table in COLUMNS:
        for row in raw_rows(table):
            assert not any(value in row for value in plaintexts()), (table, row)
    # Tokens are versioned, carry the key id, and differ for equal values (random nonce).
    for column in COLUMNS["rectification_complaint"]:
        one = raw_column("rectification_complaint", column, first.pk)
        two = raw_column("rectification_complaint", column, second.pk)
        assert one.startswith(f"enc1:{crypto.keyring().current_id}:") and one != two
    tokens = {raw_column("civilaffairs_user", "phone", u.pk) for u in city.users.values()}
    assert len(tokens) == len(city.users)  # all the personas share one phone number
    assert raw_column("civilaffairs_orgunit", "contact_id_number", unit.pk).startswith("enc1:")
    # The column is wide enough for the longest value of the field.
    longest = "龘" * 50
    first.complainant_name = longest
    first.save()
    first.refresh_from_db()
    assert first.complainant_name == longest


def test_values_come_back_decrypted_with_their_blind_indexes(city):
    complaint = register(city, complainant_id_number=ID_NUMBER.lower()[:-1] + ID_NUMBER[-1])
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert (complaint.complainant_name, complaint.complainant_phone) == (NAME, PHONE)
    assert complaint.complainant_id_number == ID_NUMBER
    assert complaint.complainant_phone_bidx == crypto.blind_index(PHONE, crypto.PHONE)
    assert complaint.complainant_id_number_bidx == crypto.blind_index(ID_NUMBER, crypto.ID_NUMBER)
    assert User.objects.get(pk=city["leader"].pk).phone == "13912345678"
    unit = OrgUnit.objects.get(pk=household(city).pk)
    assert (unit.contact_name, unit.contact_phone, unit.contact_id_number) == (
        HOUSEHOLD_PERSON,
        HOUSEHOLD_PHONE,
        OTHER_ID,
    )
    # An empty value stays empty (and findable as such); a value lookup is refused.
    anonymous = register(city, complainant_name="", complainant_phone="", consent=False)
    assert raw_column("rectification_complaint", "complainant_phone", anonymous.pk) == ""
    assert list(Complaint.objects.filter(complainant_phone="")) == [anonymous]
    for lookup in ("complainant_phone", "complainant_phone__icontains", "complainant_name__gt"):
        with pytest.raises(FieldError):
            list(Complaint.objects.filter(**{lookup: PHONE}))
    # A token moved to another column does not decrypt there.
    token = raw_column("rectification_complaint", "complainant_phone", complaint.pk)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "rectification.complaint.complainant_name")


def test_phone_normalisation_and_blind_index_key():
    same = ["13912348765", "139-1234-8765", "+86 139 1234 8765", "0086 13912348765"]
    assert len({crypto.blind_index(p, crypto.PHONE) for p in same}) == 1
    assert crypto.blind_index("1391234", crypto.PHONE) != crypto.blind_index(PHONE, crypto.PHONE)
    assert crypto.blind_index("", crypto.PHONE) == ""
    assert crypto.blind_index(X_ID.lower(), crypto.ID_NUMBER) == crypto.blind_index(
        X_ID, crypto.ID_NUMBER
    )
    # A phone and an ID number of the same digits do not share an index; the key matters.
    digits = "12345678901234567"
    assert crypto.blind_index(digits, crypto.PHONE) != crypto.blind_index(digits, crypto.ID_NUMBER)
    with override_settings(BLIND_INDEX_KEY=KEY_B):
        other = crypto.blind_index(PHONE, crypto.PHONE)
    assert other != crypto.blind_index(PHONE, crypto.PHONE)


# --- Look-ups through the blind index -----------------------------------------------------


def _listed(client, **params):
    page = client.get(reverse("rectification:complaint-list"), params)
    assert page.status_code == 200
    codes = {c.code for c in page.context["page_obj"].object_list}
    api = client.get(reverse("api-complaint-list"), params)
    assert api.status_code == 200
    data = api.json()
    results = data["results"] if isinstance(data, dict) else data
    assert {c["code"] for c in results} == codes
    return codes


def test_the_complaint_list_finds_a_complainant_by_whole_phone_or_id_number(city, client):
    mine = register(city, complainant_id_number=ID_NUMBER)
    again = register(city, complainant_phone="139-1234-8765")
    other = register(city, complainant_phone="13600000000", complainant_id_number=X_ID)
    register(city, complainant_name="", complainant_phone="", consent=False)
    client.force_login(city["supervisor"])
    assert _listed(client, phone=PHONE) == {mine.code, again.code}
    assert _listed(client, phone="+86 139 1234 8765") == {mine.code, again.code}
    assert _listed(client, id_number=ID_NUMBER) == {mine.code}
    assert _listed(client, id_number=X_ID.lower()) == {other.code}
    assert _listed(client, phone=PHONE, id_number=ID_NUMBER) == {mine.code}
    # Exact matches only: a part of a number, or a mistyped one, finds nothing.
    assert _listed(client, phone="13912348") == set()
    assert _listed(client, phone="abc") == set()
    assert _listed(client, id_number=ID_NUMBER[:17]) == set()
    # The free-text search never looks at the complainant.
    assert _listed(client, q=PHONE) == set()


def test_a_contact_search_only_finds_cases_the_reader_may_reveal(city, client):
    handled_by_a = triage(city, register(city), unit=city.inst_a)
    triage(city, register(city), unit=city.inst_b)
    unassigned = register(city)
    client.force_login(city["liaison_a"])
    assert _listed(client, phone=PHONE) == {handled_by_a.code}
    client.force_login(city["liaison_b"])
    assert len(_listed(client, phone=PHONE)) == 1
    # Leaders see the cases but may not reveal a contact: the search finds nothing, and the
    # page does not offer it.
    client.force_login(city["leader"])
    assert unassigned.code in _listed(client)
    assert _listed(client, phone=PHONE) == set()
    page = client.get(reverse("rectification:complaint-list")).content.decode()
    assert 'type="hidden" name="phone"' in page


# --- Keys ----------------------------------------------------------------------------------


def test_rotation_re_encrypts_with_the_first_key_and_values_stay_readable(city):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        complaint = register(city, complainant_id_number=ID_NUMBER)
        unit = household(city)
        old = raw_column("rectification_complaint", "complainant_phone", complaint.pk)
        assert crypto.token_key_id(old) == crypto.key_id(crypto.decode_key(KEY_A))
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        out = io.StringIO()
        call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
        assert "rectification.Complaint: 1 rows" in out.getvalue()
        new_id = crypto.key_id(crypto.decode_key(KEY_B))
        for table, columns in COLUMNS.items():
            with connection.cursor() as cursor:
                for column in columns:
                    cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                    kids = {crypto.token_key_id(v) for (v,) in cursor.fetchall()}
                    assert kids <= {new_id}, (table, column, kids)
        # A second run finds nothing left to do.
        again = io.StringIO()
        call_command("rotate_field_keys", stdout=again)
        assert "0 rows now encrypted" in again.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):  # the old key is gone
        complaint = Complaint.objects.get(pk=complaint.pk)
        assert (complaint.complainant_phone, complaint.complainant_id_number) == (PHONE, ID_NUMBER)
        assert OrgUnit.objects.get(pk=unit.pk).contact_id_number == OTHER_ID
        assert (
            complaints.contact_lookup(
                Complaint.objects.all(), city["supervisor"], id_number=ID_NUMBER
            ).get()
            == complaint
        )
    # A wrong key reads nothing (and never guesses).
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]), pytest.raises(crypto.DecryptionError):
        Complaint.objects.get(pk=complaint.pk)


def test_reindex_after_a_new_blind_index_key(city):
    complaint = register(city, complainant_id_number=ID_NUMBER)
    with override_settings(BLIND_INDEX_KEY=KEY_B):
        found = complaints.contact_lookup(Complaint.objects.all(), city["supervisor"], phone=PHONE)
        assert not found.exists()
        call_command("rotate_field_keys", "--reindex", stdout=io.StringIO())
        assert found.get() == complaint
        assert complaints.contact_lookup(
            Complaint.objects.all(), city["supervisor"], id_number=ID_NUMBER
        ).exists()


def test_check_deploy_flags_keys_derived_from_the_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY = [], ""
    ids = {m.id for m in checks.check_field_keys_deploy(None)}
    assert ids == {"civilaffairs.E103", "civilaffairs.E104"}
    settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY = [KEY_A], KEY_B
    assert checks.check_field_keys_deploy(None) == []
    assert checks.check_field_keys(None) == []
    settings.FIELD_ENCRYPTION_KEYS = ["not-base64!"]
    assert {m.id for m in checks.check_field_keys(None)} == {"civilaffairs.E101"}
    settings.FIELD_ENCRYPTION_KEYS, settings.BLIND_INDEX_KEY = [KEY_A], KEY_A
    assert {m.id for m in checks.check_field_keys_deploy(None)} == {"civilaffairs.W105"}


# --- The ID number ---------------------------------------------------------------------------

BAD_ID_NUMBERS = {
    ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"): "check character",
    ID_NUMBER[:17]: "18-character",
    "44010619901307123" + "5": "birth date",
    "4401061990030712A" + "X": "18-character",
}


@pytest.mark.parametrize("number", sorted(BAD_ID_NUMBERS))
def test_an_invalid_id_number_is_refused_in_chinese_and_nothing_is_saved(city, client, number):
    before = (Complaint.objects.count(), AuditEvent.objects.count())
    with translation.override("zh-hans"), pytest.raises(ServiceError) as refused:
        register(city, complainant_id_number=number)
    assert refused.value.field == "complainant_id_number"
    assert (Complaint.objects.count(), AuditEvent.objects.count()) == before
    expected = {
        "check character": "The ID number's check character is wrong; check the number.",
        "18-character": "Enter the 18-character resident ID number: 17 digits and a digit or X.",
        "birth date": "The birth date in the ID number is not a real date.",
    }[BAD_ID_NUMBERS[number]]
    with translation.override("zh-hans"):
        assert str(refused.value.message) == translation.gettext(expected)
    # The intake page and the API refuse it the same way.
    client.force_login(city["supervisor"])
    page = client.post(
        reverse("rectification:complaint-create"),
        {
            "channel": "phone",
            "domain": "social_assistance",
            "nature": "personal",
            "title": "低保金发放延迟",
            "content": "请求核查",
            "complainant_name": NAME,
            "complainant_id_number": number,
            "consent": "on",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert page.status_code == 200 and page.context["form"].errors["complainant_id_number"]
    api = client.post(
        reverse("api-complaint-list"),
        {
            "channel": "phone",
            "domain": "social_assistance",
            "nature": "personal",
            "title": "低保金发放延迟",
            "content": "请求核查",
            "complainant_id_number": number,
            "consent": True,
        },
        content_type="application/json",
    )
    assert api.status_code == 400 and "complainant_id_number" in api.content.decode()
    assert Complaint.objects.count() == before[0]


def test_a_unit_contact_id_number_is_for_households_only(city):
    with pytest.raises(ServiceError) as refused:
        orgunit_update(actor=city["sysadmin"], unit=city.inst_a, contact_id_number=ID_NUMBER)
    assert refused.value.field == "contact_id_number"
    with pytest.raises(ServiceError):
        household(city, contact_id_number=ID_NUMBER[:-1] + "Y")
    assert not OrgUnit.objects.filter(code="T-A-1-H1").exists()
    unit = household(city, contact_id_number=X_ID.lower())
    assert OrgUnit.objects.get(pk=unit.pk).contact_id_number == X_ID


# --- Masked everywhere ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["supervisor", "leader", "liaison_a", "department"])
def test_the_id_number_is_masked_on_every_surface_for_every_persona(city, client, persona):
    complaint = replied(city, register(city, complainant_id_number=ID_NUMBER))
    dispatch_pending()
    masked = "4401**********" + ID_NUMBER[-4:]
    client.force_login(city[persona])
    urls = [
        reverse("rectification:complaint-list"),
        reverse("rectification:complaint-detail", args=[complaint.pk]),
        reverse("api-complaint-list"),
        reverse("api-complaint-detail", args=[complaint.pk]),
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert not any(value in body for value in plaintexts()), url
    detail = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert masked in detail.content.decode()
    api = client.get(reverse("api-complaint-detail", args=[complaint.pk])).json()
    assert api["complainant_id_number"] == masked
    export = client.get(reverse("rectification:complaint-list"), {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert masked in cells and not any(v in c for c in cells for v in plaintexts())
    texts = [f"{e.note} {e.data}" for e in TimelineEntry.objects.all()]
    texts += [f"{a.summary} {a.changes} {a.object_repr}" for a in AuditEvent.objects.all()]
    texts += [f"{n.title} {n.body}" for n in Notification.objects.all()]
    assert not any(v in t for t in texts for v in plaintexts())


def test_a_household_contact_is_masked_on_the_directory_page_and_api(city, client):
    unit = household(city)
    for persona in ("sysadmin", "supervisor", "leader"):
        client.force_login(city[persona])
        page = client.get(reverse("orgunit-detail", args=[unit.pk])).content.decode()
        api = client.get(reverse("api-orgunit-detail", args=[unit.pk])).json()
        for body in (page, str(api)):
            assert not any(v in body for v in (HOUSEHOLD_PERSON, HOUSEHOLD_PHONE, OTHER_ID))
        assert "李*光" in page and "1101**********" + OTHER_ID[-4:] in page
        assert api["contact_name"] == "李*光" and api["contact_phone"] == "137****1111"
        assert api["contact_id_number"] == "1101**********" + OTHER_ID[-4:]


def test_the_audit_trail_records_that_personal_data_changed_never_the_value(city):
    unit = household(city)
    orgunit_update(
        actor=city["sysadmin"],
        unit=unit,
        contact_phone="13700002222",
        contact_id_number=ID_NUMBER,
        contact_name="王五",
        address="新地址",
    )
    user_update(actor=city["sysadmin"], user=city["leader"], phone="13700003333")
    created = AuditEvent.objects.get(action="orgunit.create", object_id=str(unit.pk))
    assert created.changes["contact_id_number"] == "recorded"
    assert created.changes["contact_phone"] == "recorded"
    changed = AuditEvent.objects.get(action="orgunit.update", object_id=str(unit.pk))
    assert changed.changes["contact_phone"] == "changed"
    assert changed.changes["contact_id_number"] == "changed"
    assert changed.changes["contact_name"] == "changed"
    assert changed.changes["address"] == ["", "新地址"]
    user_event = AuditEvent.objects.filter(action="user.update").latest("pk")
    assert user_event.changes == {"phone": "changed"}
    secrets = [*plaintexts(), "13700002222", "13700003333", "王五"]
    for event in AuditEvent.objects.all():
        text = f"{event.summary} {event.changes} {event.object_repr}"
        assert not any(v in text for v in secrets), event.action


def test_the_reveal_shows_the_id_number_and_is_audited(city, client):
    complaint = triage(city, register(city, complainant_id_number=ID_NUMBER))
    client.force_login(city["supervisor"])
    url = reverse("rectification:complaint-reveal", args=[complaint.pk])
    body = client.post(url, {"reason": "核对身份"}, HTTP_HX_REQUEST="true").content.decode()
    assert ID_NUMBER in body and PHONE in body and NAME in body
    client.force_login(city["liaison_a"])
    api = client.post(reverse("api-complaint-reveal", args=[complaint.pk]), {"reason": "联系"})
    assert api.json() == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}
    events = AuditEvent.objects.filter(action="complaint.reveal")
    assert events.count() == 2 and not any(ID_NUMBER in str(e.changes) for e in events)
    # An ID number alone is personal data to reveal too.
    only_id = register(city, complainant_name="", complainant_phone="", complainant_id_number=X_ID)
    assert complaints.can_reveal(city["supervisor"], only_id)


# --- Importers -------------------------------------------------------------------------------


def test_the_importers_take_a_validated_id_number(city):
    from tests.test_complaint_import import SLUG, case

    bad = run(SLUG, city["supervisor"], keyed_file(SLUG, [case("XF-9", complainant_id_number="1")]))
    assert not bad.ok and bad.errors[0].column and not Complaint.objects.exists()
    good = run(
        SLUG,
        city["supervisor"],
        keyed_file(SLUG, [case("XF-9", complainant_id_number=X_ID.lower())]),
    )
    assert good.ok, [e.as_dict() for e in good.errors]
    assert Complaint.objects.get().complainant_id_number == X_ID
    rows = [
        {
            "code": "T-A-1-H2",
            "name": "低保家庭（赵*户）",
            "kind": "institution",
            "parent": "T-A-1",
            "institution_type": "low_income_household",
            "contact_name": "赵六",
            "contact_id_number": OTHER_ID,
        }
    ]
    result = run("org-units", city["sysadmin"], keyed_file("org-units", rows))
    assert result.ok, [e.as_dict() for e in result.errors]
    assert OrgUnit.objects.get(code="T-A-1-H2").contact_id_number == OTHER_ID
    rows[0]["contact_id_number"] = ID_NUMBER
    preview = run("org-units", city["sysadmin"], keyed_file("org-units", rows), commit=False)
    assert preview.ok and not any(OTHER_ID in c.summary or ID_NUMBER in c.summary
                                  for c in preview.changes)  # fmt: skip
    rows[0]["contact_id_number"] = ID_NUMBER[:-1] + "Y"
    refused = run("org-units", city["sysadmin"], keyed_file("org-units", rows))
    assert not refused.ok
    assert OrgUnit.objects.get(code="T-A-1-H2").contact_id_number == OTHER_ID


# --- The data migration ----------------------------------------------------------------------


def _migration(app, name):
    return importlib.import_module(f"{app}.migrations.{name}")


def test_the_migration_encrypts_existing_plaintext_rows_in_batches(city):
    first = register(city)
    second = register(city, complainant_phone="13600000000")
    unit = household(city)
    # Rows as they were before the migration: plaintext, no blind index.
    with connection.cursor() as cursor:
        for pk, phone in ((first.pk, PHONE), (second.pk, "13600000000")):
            cursor.execute(
                "UPDATE rectification_complaint SET complainant_name = %s, complainant_phone = %s,"
                " complainant_phone_bidx = '' WHERE id = %s",
                [NAME, phone, pk],
            )
        cursor.execute(
            "UPDATE civilaffairs_orgunit SET contact_name = %s, contact_phone = %s,"
            " contact_phone_bidx = '' WHERE id = %s",
            [HOUSEHOLD_PERSON, HOUSEHOLD_PHONE, unit.pk],
        )
        cursor.execute("UPDATE civilaffairs_user SET phone = '13912345678', phone_bidx = ''")
    assert any(PHONE in row for row in raw_rows("rectification_complaint"))
    editor = types.SimpleNamespace(connection=connection)
    _migration("rectification", "0005_personal_data_encryption").encrypt_existing(
        django_apps, editor, batch_size=1
    )
    _migration("civilaffairs", "0010_personal_data_encryption").encrypt_existing(
        django_apps, editor, batch_size=2
    )
    for table in COLUMNS:
        for row in raw_rows(table):
            assert not any(value in row for value in plaintexts()), (table, row)
    assert Complaint.objects.get(pk=first.pk).complainant_name == NAME
    assert OrgUnit.objects.get(pk=unit.pk).contact_phone == HOUSEHOLD_PHONE
    assert OrgUnit.objects.get(pk=unit.pk).contact_id_number == OTHER_ID  # was a token already
    found = complaints.contact_lookup(Complaint.objects.all(), city["supervisor"], phone=PHONE)
    assert list(found) == [Complaint.objects.get(pk=first.pk)]
    assert User.objects.filter(phone_bidx=crypto.blind_index("13912345678", crypto.PHONE)).count()
    # Running it again changes nothing (tokens are left as they are).
    token = raw_column("rectification_complaint", "complainant_phone", first.pk)
    _migration("rectification", "0005_personal_data_encryption").encrypt_existing(
        django_apps, editor
    )
    assert raw_column("rectification_complaint", "complainant_phone", first.pk) == token
    # And unapplying it gives the plaintext back.
    _migration("rectification", "0005_personal_data_encryption").decrypt_existing(
        django_apps, editor
    )
    assert raw_column("rectification_complaint", "complainant_phone", first.pk) == PHONE
