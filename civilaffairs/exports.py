"""Excel ledgers. Every cell a user could have typed is written as a string, so a value that
starts with ``=``, ``+``, ``-`` or ``@`` stays text and can never become a formula; dates are
real dates; rows stream through XlsxWriter's constant-memory mode."""

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _


def _display_width(text: str) -> int:
    # CJK characters are about twice as wide as Latin ones in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


@dataclass
class Sheet:
    """One worksheet of a ledger: a title, Chinese headers and an iterable of rows."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    # How many rows it will have, for a background job's progress bar (asked only there).
    count: Callable[[], int] | None = None


def write_xlsx(target, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """Write one sheet to ``target`` (a path or a binary file object)."""
    write_workbook(target, [Sheet(sheet_title, headers, rows)])


def write_workbook(target, sheets: Sequence[Sheet], progress=None) -> int:
    """Write ``sheets`` to ``target``; rows are streamed (constant memory), so the size of a
    ledger does not change the memory it needs. ``progress(rows_written)`` is called as rows
    are written. Returns the number of rows written."""
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    written = 0
    used_titles: set[str] = set()
    for sheet in sheets:
        title = _sheet_title(sheet.title, used_titles)
        written += _write_sheet(workbook.add_worksheet(title), sheet, formats, progress, written)
    workbook.close()
    return written


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel refuses these characters and titles over 31 characters or used twice.
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in str(title)).strip()[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        candidate = f"{clean[:28]}({n})"
        n += 1
    used.add(candidate)
    return candidate


def _write_sheet(worksheet, sheet: Sheet, formats, progress, offset: int) -> int:
    headers = sheet.headers
    widths = [max(8, _display_width(str(h)) + 2) for h in headers]
    for col, header in enumerate(headers):
        worksheet.write_string(0, col, str(header), formats["header"])
    worksheet.freeze_panes(1, 0)
    yes_no = {True: str(_("Yes")), False: str(_("No"))}  # once, not per cell
    row_index = 0
    for row_index, row in enumerate(sheet.rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                worksheet.write_string(row_index, col, yes_no[value])
            elif isinstance(value, dt.datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value)
                worksheet.write_datetime(
                    row_index, col, value.replace(tzinfo=None), formats["datetime"]
                )
                widths[col] = max(widths[col], 17)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(
                    row_index, col, dt.datetime.combine(value, dt.time()), formats["date"]
                )
                widths[col] = max(widths[col], 11)
            elif isinstance(value, int | float | Decimal):
                worksheet.write_number(row_index, col, float(value))
            else:
                text = str(value)
                worksheet.write_string(row_index, col, text)
                if row_index <= 200:  # widths from a sample: later rows do not reflow
                    widths[col] = max(widths[col], min(60, _display_width(text) + 2))
        if progress is not None:
            progress(offset + row_index)
    for col, width in enumerate(widths):
        worksheet.set_column(col, col, width)
    if row_index:
        worksheet.autofilter(0, 0, row_index, max(0, len(headers) - 1))
    return row_index


def xlsx_response(filename: str, sheet_title: str, headers, rows, sheets=()) -> FileResponse:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_workbook(handle, [Sheet(sheet_title, headers, rows), *sheets])
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
