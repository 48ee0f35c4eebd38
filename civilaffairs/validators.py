"""Validators of personal data: the 18-character resident ID number (居民身份证号码,
GB 11643-1999): 6 digits of region, 8 of birth date, 3 of sequence and a check character
(0-9 or X) computed from the other 17 (ISO 7064 MOD 11-2)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civilaffairs.crypto import normalize_id_number

# The import column's help: Excel turns a number of 18 digits into a float and loses the last.
ID_NUMBER_HELP = _(
    "18 characters (the last may be X). Format the column as text in Excel, or Excel loses "
    "the last digits."
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


def id_number_check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str) -> None:
    number = normalize_id_number(value)
    if not number:
        return
    if not _SHAPE.match(number):
        raise ValidationError(
            _("Enter the 18-character resident ID number: 17 digits and a digit or X."),
            code="id_number_format",
        )
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > dt.date.today():
        raise ValidationError(
            _("The birth date in the ID number is not a real date."), code="id_number_birth"
        )
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check character is wrong; check the number."),
            code="id_number_check",
        )


def clean_id_number(value: str | None) -> str:
    """The ID number as stored (no spaces, X in upper case), or ValidationError."""
    number = normalize_id_number(value or "")
    validate_id_number(number)
    return number
