"""Importer of referred cases (转办件) from an Excel sheet, through the shared import framework
(template, dry run with row errors, all-or-nothing commit). A case is known by its referring
body and that body's reference number: a row whose case is already registered is left as it
is, so importing the same sheet again changes nothing. New cases are registered through
``complaint_create``, with every rule of the intake form (consent for personal data, …)."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import imports
from civilaffairs.choices import OrgKind, Role
from civilaffairs.imports import Change, Column, RowAction, RowProblem
from civilaffairs.models import OrgUnit
from civilaffairs.validators import ID_NUMBER_HELP, validate_id_number
from rectification.choices import ComplaintChannel, ComplaintDomain, ComplaintNature
from rectification.complaints import complaint_create
from rectification.models import Complaint

DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def _received(text: str | None):
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            moment = dt.datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        if pattern.endswith("%d"):
            moment = moment.replace(hour=9)
        return timezone.make_aware(moment)
    raise RowProblem(_("Write the date as 2026-03-01 or 2026-03-01 14:30."), column="received_at")


@imports.register
class ReferredCaseImporter(imports.Importer):
    slug = "referred-cases"
    title = gettext_lazy("Referred cases")
    description = gettext_lazy(
        "One row per case referred by another body (the letters and visits bureau, the 12345 "
        "hotline, a higher authority). A case is known by its referring body and reference "
        "number: one already registered is left as it is, so the same sheet can be imported "
        "again safely. The complainant's name, phone and ID number are kept only with their "
        "consent."
    )
    roles = (Role.SUPERVISOR, Role.OFFICE_HEAD)
    key = ("referring_body", "reference_number")
    columns = (
        Column(
            "referring_body",
            gettext_lazy("Referring body"),
            required=True,
            parse=imports.text(100),
            width=20,
        ),
        Column(
            "reference_number",
            gettext_lazy("Reference number"),
            required=True,
            parse=imports.text(60),
            width=18,
        ),
        Column(
            "channel",
            gettext_lazy("Channel"),
            parse=imports.choice(ComplaintChannel),
            empty=ComplaintChannel.REFERRAL,
            help=gettext_lazy("Empty means referred by a higher authority."),
        ),
        Column(
            "received_at",
            gettext_lazy("Received at"),
            parse=imports.text(20),
            help=gettext_lazy("2026-03-01 or 2026-03-01 14:30; empty means now."),
        ),
        Column(
            "domain", gettext_lazy("Domain"), required=True, parse=imports.choice(ComplaintDomain)
        ),
        Column(
            "nature", gettext_lazy("Nature"), required=True, parse=imports.choice(ComplaintNature)
        ),
        Column("title", gettext_lazy("Summary"), required=True, parse=imports.text(200), width=30),
        Column(
            "content", gettext_lazy("Content"), required=True, parse=imports.text(10000), width=40
        ),
        Column("complainant_name", gettext_lazy("Complainant's name"), parse=imports.text(50)),
        Column("complainant_phone", gettext_lazy("Complainant's phone"), parse=imports.text(30)),
        Column(
            "complainant_id_number",
            gettext_lazy("Complainant's ID number"),
            parse=imports.text(18, validate_id_number),
            width=22,
            help=ID_NUMBER_HELP,
        ),
        Column(
            "consent",
            gettext_lazy("Consent recorded"),
            parse=imports.boolean(),
            empty=False,
            help=gettext_lazy("是 when the complainant agreed that their name and phone be kept."),
        ),
        Column(
            "district",
            gettext_lazy("District concerned"),
            parse=imports.text(100),
            help=gettext_lazy("The district bureau's name or code; may be empty."),
        ),
    )

    def load(self, rows):
        bodies = {row.get("referring_body") for row in rows} - {None}
        numbers = {row.get("reference_number") for row in rows} - {None}
        # The natural key is unique across the city, not only within the actor's view.
        self.existing = {
            (c.referring_body, c.reference_number): c.code
            for c in Complaint.objects.filter(
                referring_body__in=bodies, reference_number__in=numbers
            ).only("code", "referring_body", "reference_number")
        }
        districts = OrgUnit.objects.visible_to(self.actor).filter(kind=OrgKind.DISTRICT_BUREAU)
        self.districts = {}
        for unit in districts:
            for name in (unit.name, unit.short_name, unit.code):
                if name:
                    self.districts[name] = unit

    def check(self, row):
        key = (row.get("referring_body"), row.get("reference_number"))
        label = f"{key[0]} {key[1]}"
        if key in self.existing:
            return Change(
                row,
                RowAction.UNCHANGED,
                label,
                _("Already registered as %(code)s.") % {"code": self.existing[key]},
            )
        district = None
        if row.get("district"):
            district = self.districts.get(row.get("district"))
            if district is None:
                raise RowProblem(
                    _("No district named %(name)s in your scope.") % {"name": row.get("district")},
                    column="district",
                )
        has_personal = bool(
            row.get("complainant_name")
            or row.get("complainant_phone")
            or row.get("complainant_id_number")
        )
        if has_personal and not row.get("consent"):
            raise RowProblem(
                _("Record the complainant's consent before keeping their name or phone."),
                column="consent",
            )
        data = {
            "referring_body": key[0],
            "reference_number": key[1],
            "channel": row.get("channel") or ComplaintChannel.REFERRAL,
            "received_at": _received(row.get("received_at")),
            "domain": row.get("domain"),
            "nature": row.get("nature"),
            "title": row.get("title"),
            "content": row.get("content"),
            "complainant_name": row.get("complainant_name") or "",
            "complainant_phone": row.get("complainant_phone") or "",
            "complainant_id_number": row.get("complainant_id_number") or "",
            "consent": bool(row.get("consent")),
            "district": district,
        }
        return Change(row, RowAction.CREATE, label, _("New case: %(title)s") % data, data)

    def apply(self, change):
        complaint_create(actor=self.actor, **change.data)
