"""Referred cases imported from Excel through the shared import framework (#7): dry run with
row errors, all-or-nothing commit, and a re-import that changes nothing."""

import pytest

from civilaffairs import imports
from civilaffairs.models import AuditEvent
from rectification.models import Complaint
from tests.complaint_data import NAME, PHONE
from tests.test_imports import keyed_file, run

pytestmark = pytest.mark.django_db

SLUG = "referred-cases"


def case(number, **extra):
    row = {
        "referring_body": "市信访局",
        "reference_number": number,
        "channel": "referral",
        "received_at": "2026-03-02 10:15",
        "domain": "social_assistance",
        "nature": "personal",
        "title": f"转办件{number}",
        "content": "群众来信反映临时救助申请未获答复。",
        "complainant_name": NAME,
        "complainant_phone": PHONE,
        "consent": "是",
        "district": "甲区民政局",
    }
    row.update(extra)
    return row


def test_the_importer_is_registered_for_the_office_only(city):
    assert SLUG in imports.registry()
    assert imports.registry()[SLUG].allowed(city["supervisor"])
    assert not imports.registry()[SLUG].allowed(city["liaison_a"])
    assert not imports.registry()[SLUG].allowed(city["sysadmin"])


def test_a_dry_run_lists_row_errors_and_imports_nothing(city):
    upload = keyed_file(
        SLUG,
        [
            case("XF-1"),
            case("XF-2", consent="否"),  # personal data without consent
            case("XF-3", domain="天文"),  # not a domain
            case("XF-4", received_at="三月二日"),  # not a date
            case("XF-5", district="火星区"),
        ],
    )
    result = run(SLUG, city["supervisor"], upload, commit=True)
    assert not result.ok
    assert sorted(e.row for e in result.errors) == [3, 4, 5, 6]
    assert not Complaint.objects.exists()
    dry = run(SLUG, city["supervisor"], keyed_file(SLUG, [case("XF-1")]), commit=False)
    assert dry.ok and dry.created == 1 and not Complaint.objects.exists()


def test_the_commit_registers_the_cases_and_a_reimport_changes_nothing(city):
    upload = keyed_file(
        SLUG, [case("XF-1"), case("XF-2", complainant_name="", complainant_phone="", consent="")]
    )
    result = run(SLUG, city["supervisor"], upload)
    assert result.ok and result.created == 2, [e.as_dict() for e in result.errors]
    complaint = Complaint.objects.get(reference_number="XF-1")
    assert complaint.channel == "referral" and complaint.domain == "social_assistance"
    assert complaint.district == city.district_a and complaint.received_by == city["supervisor"]
    assert complaint.complainant_phone == PHONE and complaint.consent
    # The preview never shows the personal data.
    assert not any(NAME in c.summary or PHONE in c.summary for c in result.changes)
    events = AuditEvent.objects.count()
    again = run(SLUG, city["supervisor"], upload)
    assert again.ok and again.created == 0 and again.unchanged == 2
    assert Complaint.objects.count() == 2 and AuditEvent.objects.count() == events
