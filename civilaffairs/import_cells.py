"""Cell parsers of the Excel imports: each turns the text of a cell into a value or raises
CellError with a message in Chinese. Importers use them through ``civilaffairs.imports``."""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class CellError(ValueError):
    """A cell's text cannot become a value; the message is shown to the user."""


def text(max_length: int | None = None, validator: Callable[[str], None] | None = None):
    """Text as typed. ``validator`` may raise CellError or Django's ValidationError."""

    def parse(value: str) -> str:
        if max_length and len(value) > max_length:
            raise CellError(
                _("At most %(limit)s characters (this cell has %(count)s).")
                % {"limit": max_length, "count": len(value)}
            )
        if validator is not None:
            _run_validator(validator, value)
        return value

    parse.max_length = max_length
    return parse


def _run_validator(validator, value):
    from django.core.exceptions import ValidationError

    try:
        validator(value)
    except ValidationError as exc:
        raise CellError("；".join(str(m) for m in exc.messages)) from exc


def _choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in choices:
        lookup[str(value).casefold()] = value
        lookup[str(label).casefold()] = value
    return lookup


def choices_text(choices) -> str:
    return "、".join(str(label) for _value, label in choices)


def choice(choices):
    """One of ``choices`` (a TextChoices class or pairs), by its Chinese label or its code."""
    pairs = list(choices.choices if hasattr(choices, "choices") else choices)

    def parse(value: str) -> str:
        found = _choice_lookup(pairs).get(value.strip().casefold())
        if found is None:
            raise CellError(
                _("“%(value)s” is not an allowed value; allowed: %(choices)s.")
                % {"value": value, "choices": choices_text(pairs)}
            )
        return found

    parse.choices = pairs
    return parse


_SEPARATORS = re.compile(r"[,，、;；/\n]+")


def multi_choice(choices):
    """Several of ``choices`` separated by 、 , ; or line breaks; returns a sorted tuple."""
    pairs = list(choices.choices if hasattr(choices, "choices") else choices)

    def parse(value: str) -> tuple[str, ...]:
        lookup = _choice_lookup(pairs)
        found, bad = set(), []
        for part in _SEPARATORS.split(value):
            part = part.strip()
            if not part:
                continue
            if part.casefold() in lookup:
                found.add(lookup[part.casefold()])
            else:
                bad.append(part)
        if bad:
            raise CellError(
                _("“%(value)s” is not an allowed value; allowed: %(choices)s.")
                % {"value": "、".join(bad), "choices": choices_text(pairs)}
            )
        return tuple(sorted(found))

    parse.choices = pairs
    parse.multiple = True
    return parse


_TRUE = {"是", "1", "true", "yes", "y", "启用", "有效", "√"}
_FALSE = {"否", "0", "false", "no", "n", "停用", "无效", "×"}


def boolean():
    def parse(value: str) -> bool:
        lowered = value.strip().casefold()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise CellError(_("Enter 是 (yes) or 否 (no)."))

    parse.choices = [("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))]
    return parse


def integer(minimum: int | None = None, maximum: int | None = None):
    def parse(value: str) -> int:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CellError(_("Enter a whole number.")) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise CellError(_("Enter a whole number."))
        number = int(number)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(
                _("Enter a number from %(min)s to %(max)s.")
                % {"min": minimum if minimum is not None else "", "max": maximum or ""}
            )
        return number

    return parse


def decimal(minimum, maximum, places: int):
    quantum = Decimal(1).scaleb(-places)

    def parse(value: str) -> Decimal:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CellError(_("Enter a number.")) from None
        if not number.is_finite():
            raise CellError(_("Enter a number."))
        if number < minimum or number > maximum:
            raise CellError(
                _("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
            )
        return number.quantize(quantum)

    return parse


def cell_text(value) -> str:
    """What the user typed, as text: numbers without a spurious ``.0``, dates as ISO dates,
    a formula as its own text (openpyxl gives it as ``=…``; it is never evaluated)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
