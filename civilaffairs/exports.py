"""Excel ledgers. Every cell a user could have typed is written as a string, so a value that
starts with ``=``, ``+``, ``-`` or ``@`` stays text and can never become a formula; dates are
real dates; rows stream through XlsxWriter's constant-memory mode."""

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _


def _display_width(text: str) -> int:
    # CJK characters are about twice as wide as Latin ones in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(target, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """Write one sheet to ``target`` (a path or a binary file object)."""
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
    sheet = workbook.add_worksheet(sheet_title[:31])
    header_format = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    widths = [max(8, _display_width(str(h)) + 2) for h in headers]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, str(header), header_format)
    sheet.freeze_panes(1, 0)
    row_index = 0
    for row_index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(row_index, col, str(_("Yes") if value else _("No")))
            elif isinstance(value, dt.datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value)
                sheet.write_datetime(row_index, col, value.replace(tzinfo=None), datetime_format)
                widths[col] = max(widths[col], 17)
            elif isinstance(value, dt.date):
                sheet.write_datetime(
                    row_index, col, dt.datetime.combine(value, dt.time()), date_format
                )
                widths[col] = max(widths[col], 11)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(row_index, col, float(value))
            else:
                text = str(value)
                sheet.write_string(row_index, col, text)
                if row_index <= 200:  # widths from a sample: later rows do not reflow
                    widths[col] = max(widths[col], min(60, _display_width(text) + 2))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    if row_index:
        sheet.autofilter(0, 0, row_index, max(0, len(headers) - 1))
    workbook.close()


def xlsx_response(filename: str, sheet_title: str, headers, rows) -> FileResponse:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(handle, sheet_title, headers, rows)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
