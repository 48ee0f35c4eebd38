"""Excel imports: a downloadable template per kind of data, a dry run that lists every bad row
with its reason in Chinese, and an all-or-nothing commit that can be repeated safely.

How an import runs (``run_import``)
-----------------------------------
1. The upload is checked by content (``civilaffairs.files.check_upload``: only .xlsx) and hashed.
2. ``Importer.parse`` reads the first sheet with openpyxl in read-only mode: the header row must
   name every required column and nothing unknown; at most ``IMPORT_MAX_ROWS`` data rows; every
   cell is read as the text the user typed (a formula such as ``=1+1`` is kept as that text and
   never evaluated). Each column's parser turns the text into a value or a cell error.
3. Inside one transaction, under an advisory lock per importer (two imports of the same kind run
   one after the other), the importer loads what the rows refer to in a fixed number of queries
   (``load``), decides for each row whether it creates, changes or leaves alone an object
   (``check``), and checks the rows together (``check_file``). Duplicate natural keys inside the
   file are refused by the framework.
4. Without errors, the changes are written through the project's services (``apply``), so every
   rule of the services holds and each write leaves its usual audit event; a ServiceError (or a
   conflict with a concurrent writer) becomes the error of its row.
5. A dry run, or any error, rolls the whole transaction back: nothing is imported. A commit that
   created or changed anything adds one ``import.commit`` audit event (kind, file name, SHA-256,
   counts). Re-importing the same file finds every row unchanged and writes nothing at all.

Adding an importer
------------------
Create ``<app>/importers.py`` (it is discovered automatically) with a class like::

    from django.utils.translation import gettext_lazy as _
    from civilaffairs import imports

    @imports.register
    class ComplaintImporter(imports.Importer):
        slug = "complaints"                          # URL part and API ``kind``
        title = _("Referred complaints")
        description = _("One row per referred case …")
        roles = (Role.SUPERVISOR, Role.OFFICE_HEAD)  # who may use it
        key = ("referral_number",)                   # natural key: duplicates in a file refused
        columns = (
            imports.Column("referral_number", _("Referral number"), required=True,
                           parse=imports.text(40)),
            imports.Column("unit_code", _("Unit code"), parse=imports.text(40)),
            imports.Column("channel", _("Channel"), parse=imports.choice(Channel)),
            …
        )

        def load(self, rows):            # preload what the rows refer to (constant queries)
            …
        def check(self, row):            # -> imports.Change(row, action, key, summary, data)
            …                            # raise imports.RowProblem(message, column="unit_code")
        def apply(self, change):         # write through the services
            …

``row.values`` holds the parsed values of the columns present in the file (a column left out
of the file is missing from it: keep the stored value); ``row.raw`` holds the cell texts. Use
``self.actor`` and ``Model.objects.visible_to(self.actor)`` for every lookup, so a reference
outside the actor's scope is reported as not found. Give the menu entry in
``civilaffairs/navigation.py`` the new roles if they are not there yet.
"""

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.files import XLSX, check_upload, hash_file
from civilaffairs.import_cells import (  # noqa: F401 - importers use them as imports.text…
    CellError,
    boolean,
    cell_text,
    choice,
    choices_text,
    decimal,
    integer,
    multi_choice,
    text,
)
from civilaffairs.models.audit import CHANGE_LABELS, register_action

XLSX_MIME = XLSX.mime
# A workbook is a zip archive: its parts may not expand beyond this, whatever the archive
# claims about itself (zipfile never inflates a member past its declared size).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Physical rows read at most, empty ones included (a sheet padded with a million empty rows
# is refused instead of being read for a minute).
MAX_PHYSICAL_ROWS_FACTOR = 3
# Cells with control characters other than tab and line breaks cannot be stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

register_action("import.commit", gettext_lazy("Data imported"))
# Change keys of the import's own event; prefixed so they never rename a model field.
CHANGE_LABELS.update(
    {
        "import_kind": gettext_lazy("kind of data"),
        "import_file": gettext_lazy("file name"),
        "import_rows": gettext_lazy("data rows"),
        "import_created": gettext_lazy("rows created"),
        "import_updated": gettext_lazy("rows changed"),
        "import_unchanged": gettext_lazy("rows unchanged"),
    }
)


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 5000))


class RowAction(models.TextChoices):
    CREATE = "create", gettext_lazy("New")
    UPDATE = "update", gettext_lazy("Changed")
    UNCHANGED = "unchanged", gettext_lazy("Unchanged")


# --- Declarations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import file."""

    key: str
    header: Any  # a gettext_lazy msgid: the column's Chinese header
    required: bool = False
    parse: Callable[[str], Any] = field(default_factory=text)
    help: Any = ""
    empty: Any = ""  # the value of an empty, optional cell
    width: int = 0

    @property
    def choices(self):
        return getattr(self.parse, "choices", None)

    def header_text(self) -> str:
        return str(self.header) + (" *" if self.required else "")


@dataclass
class Row:
    """One data row: its Excel row number, the parsed values and the texts of its cells."""

    number: int
    values: dict[str, Any]
    raw: dict[str, str]
    failed: bool = False  # a cell of the row could not be read

    def has(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str, default=None):
        return self.values.get(key, default)


@dataclass
class RowError:
    row: int  # Excel row number (the header is row 1); 0 for the file as a whole
    column: str  # the column's header, or "" for the row as a whole
    value: str
    message: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class RowProblem(Exception):
    """Raised by ``Importer.check``: the row cannot be imported, for this reason."""

    def __init__(self, message, column: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.column = column


@dataclass
class Change:
    """What one row does: create, update or nothing, with a readable summary for the preview."""

    row: Row
    action: str
    key: str
    summary: str = ""
    data: Any = None

    @property
    def action_display(self) -> str:
        return str(RowAction(self.action).label)

    def as_dict(self) -> dict:
        return {
            "row": self.row.number,
            "action": str(self.action),
            "action_display": self.action_display,
            "key": self.key,
            "summary": self.summary,
        }


@dataclass
class ImportResult:
    kind: str
    file_name: str
    sha256: str
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. "2 checklists get a new version"

    def count(self, action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def created(self) -> int:
        return self.count(RowAction.CREATE)

    @property
    def updated(self) -> int:
        return self.count(RowAction.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(RowAction.UNCHANGED)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != RowAction.UNCHANGED]

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "committed": self.committed,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "notes": list(self.notes),
            "errors": [e.as_dict() for e in self.errors],
            "changes": [c.as_dict() for c in self.pending],
        }


class ImportFileError(ServiceError):
    """The file as a whole cannot be imported (wrong type, headers, size, no rows)."""

    def __init__(self, message, code="import_file"):
        super().__init__(message, field="file", code=code)


class _Rejected(Exception):
    """Rolls the import's transaction back."""


# --- The importer -------------------------------------------------------------------------


class Importer:
    """Base of every importer: declare the columns, then implement load/check/apply."""

    slug: str = ""
    title: Any = ""
    description: Any = ""
    roles: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()  # the natural key's column keys
    key_casefold = False  # "ABC" and "abc" are the same key (usernames)
    do_not_call_in_templates = True  # templates show the class's title, slug…

    def __init__(self, actor):
        self.actor = actor

    # -- who and what

    @classmethod
    def allowed(cls, user) -> bool:
        return bool(
            getattr(user, "is_authenticated", False)
            and user.is_active
            and user.has_role(*cls.roles)
        )

    @classmethod
    def column(cls, key: str) -> Column:
        return next(c for c in cls.columns if c.key == key)

    @classmethod
    def filename(cls) -> str:
        return f"import-{cls.slug}.xlsx"

    # -- to implement

    def load(self, rows: list[Row]) -> None:
        """Preload whatever the rows refer to, in a fixed number of queries."""

    def check(self, row: Row) -> Change:  # pragma: no cover - the contract
        raise NotImplementedError

    def check_file(self, rows: list[Row], changes: list[Change]) -> list[RowError]:
        """Checks across rows (references between rows, cycles…)."""
        return []

    def apply(self, change: Change) -> None:  # pragma: no cover - the contract
        raise NotImplementedError

    def apply_all(self, changes: list[Change]) -> list[RowError]:
        """Write the changes (create and update only), each through the services; override to
        order them or to write several rows at once."""
        errors = []
        for change in changes:
            errors += self.guarded(change.row, lambda c=change: self.apply(c))
        return errors

    def notes(self, changes: list[Change]) -> list[str]:
        """Extra lines for the summary."""
        return []

    # -- helpers for subclasses

    def error(self, row: Row, message, column: str | None = None) -> RowError:
        col = self.column(column) if column else None
        return RowError(
            row=row.number,
            column=str(col.header) if col else "",
            value=row.raw.get(column, "") if column else "",
            message=str(message),
        )

    def guarded(self, row: Row, write: Callable[[], Any]) -> list[RowError]:
        """Run one write; a refusal of the services becomes the row's error. The write runs in
        a savepoint so the import's transaction stays usable for the other rows."""
        try:
            with transaction.atomic():
                write()
        except ServiceError as exc:
            return [self.error(row, exc.message, self._column_of(exc.field))]
        except DatabaseError:
            return [
                self.error(
                    row,
                    _(
                        "This row conflicts with a change made at the same time; "
                        "check the data and import again."
                    ),
                )
            ]
        return []

    def _column_of(self, field_name):
        keys = {c.key for c in self.columns}
        return field_name if field_name in keys else None

    # -- the template

    def template_workbook(self) -> bytes:
        """The .xlsx template: the data sheet (headers, frozen header row, widths, every column
        formatted as text, dropdowns for choice columns) and an instructions sheet."""
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        as_text = book.add_format({"num_format": "@"})
        required = book.add_format(
            {"bold": True, "bg_color": "#FCE4D6", "border": 1, "num_format": "@"}
        )
        optional = book.add_format(
            {"bold": True, "bg_color": "#E8EEF7", "border": 1, "num_format": "@"}
        )
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        bold = book.add_format({"bold": True})

        sheet = book.add_worksheet(_sheet_name(self.title))
        lists = book.add_worksheet("lists")
        list_col = 0
        last_row = max_rows()
        for col, column in enumerate(self.columns):
            header = column.header_text()
            sheet.write_string(0, col, header, required if column.required else optional)
            width = column.width or max(10, _display_width(header) + 4)
            sheet.set_column(col, col, width, as_text)
            if column.help:
                sheet.write_comment(0, col, str(column.help), {"x_scale": 2, "y_scale": 1.5})
            choices = column.choices
            if choices and not getattr(column.parse, "multiple", False):
                for i, (_value, label) in enumerate(choices):
                    lists.write_string(i, list_col, str(label))
                letter = xlsxwriter.utility.xl_col_to_name(list_col)
                sheet.data_validation(
                    1,
                    col,
                    last_row,
                    col,
                    {
                        "validate": "list",
                        "source": f"=lists!${letter}$1:${letter}${len(choices)}",
                        "error_type": "warning",
                        "error_title": str(column.header)[:32],
                        "error_message": _("Choose one of the listed values.")[:255],
                    },
                )
                list_col += 1
        sheet.freeze_panes(1, 0)
        lists.hide()

        notes = book.add_worksheet(_("Instructions")[:31])
        notes.set_column(0, 0, 24)
        notes.set_column(1, 1, 8)
        notes.set_column(2, 2, 60)
        notes.set_column(3, 3, 50)
        notes.write_string(0, 0, str(self.title), bold)
        lines = [
            str(self.description),
            _(
                "Fill in the first sheet, one row per record, below the header row; do not "
                "rename or reorder the headers. Columns marked * are required."
            ),
            _(
                "A row whose key already exists updates that record; importing the same "
                "file again changes nothing. Upload the file for a check first: nothing is "
                "imported until you confirm, and a file with any error imports nothing."
            ),
            _("At most %(count)s data rows per file.") % {"count": max_rows()},
        ]
        for i, line in enumerate(lines, start=1):
            notes.write_string(i, 0, line)
        top = len(lines) + 2
        for col, label in enumerate(
            [_("Column"), _("Required"), _("Description"), _("Allowed values")]
        ):
            notes.write_string(top, col, label, optional)
        for i, column in enumerate(self.columns, start=top + 1):
            notes.write_string(i, 0, str(column.header))
            notes.write_string(i, 1, _("Yes") if column.required else _("No"))
            notes.write_string(i, 2, str(column.help), wrap)
            choices = column.choices
            if choices:
                notes.write_string(i, 3, choices_text(choices), wrap)
            elif getattr(column.parse, "max_length", None):
                notes.write_string(
                    i,
                    3,
                    _("Text, at most %(limit)s characters") % {"limit": column.parse.max_length},
                )
        book.close()
        return buffer.getvalue()

    # -- reading a file

    def parse(self, upload) -> tuple[list[Row], list[RowError]]:
        """Read the uploaded workbook's first sheet into rows and cell errors; a file that
        cannot be read at all raises ImportFileError."""
        _check_archive(upload)
        try:
            from openpyxl import load_workbook

            upload.seek(0)
            book = load_workbook(upload, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise ImportFileError(
                _("The file could not be read as an Excel workbook (.xlsx)."), code="unreadable"
            ) from exc
        try:
            return self._read_sheet(book)
        except ImportFileError:
            raise
        except Exception as exc:
            raise ImportFileError(
                _("The file could not be read as an Excel workbook (.xlsx)."), code="unreadable"
            ) from exc
        finally:
            book.close()

    def _read_sheet(self, book) -> tuple[list[Row], list[RowError]]:
        sheets = [s for s in book.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
        if not sheets:
            raise ImportFileError(_("The workbook has no sheet."), code="empty")
        sheet = sheets[0]
        limit = max_rows()
        width = len(self.columns) + 30
        iterator = sheet.iter_rows(min_row=1, max_col=width, values_only=True)
        header = next(iterator, None)
        if header is None or not any(cell_text(v) for v in header):
            raise ImportFileError(
                _(
                    "The first row of the first sheet must hold the column headers; it is "
                    "empty. Download the template and fill it in."
                ),
                code="headers",
            )
        positions = self._match_headers(header)
        rows, errors = [], []
        physical_cap = max(limit * MAX_PHYSICAL_ROWS_FACTOR, limit + 10000)
        for number, values in enumerate(iterator, start=2):
            if number > physical_cap + 1:
                raise _too_many(limit)
            texts = {key: cell_text(values[i]) if i < len(values) else "" for key, i in positions}
            if not any(texts.values()):
                continue
            if len(rows) >= limit:
                raise _too_many(limit)
            rows.append(self._parse_row(number, texts, errors))
        if not rows:
            raise ImportFileError(
                _("The file has no data rows below the header row."), code="empty"
            )
        return rows, errors

    def _match_headers(self, header) -> list[tuple[str, int]]:
        known = {}
        for column in self.columns:
            for name in (str(column.header), column.key, _english(column.header)):
                known[_normal(name)] = column
        found, unknown, seen = [], [], {}
        for index, value in enumerate(header):
            name = cell_text(value)
            if not name:
                continue
            column = known.get(_normal(name))
            if column is None:
                unknown.append(name)
            elif column.key in seen:
                raise ImportFileError(
                    _("The column “%(name)s” appears twice in the header row.")
                    % {"name": column.header},
                    code="headers",
                )
            else:
                seen[column.key] = index
                found.append((column.key, index))
        problems = []
        missing = [str(c.header) for c in self.columns if c.required and c.key not in seen]
        if missing:
            problems.append(
                _("Required columns are missing: %(names)s.") % {"names": "、".join(missing)}
            )
        if unknown:
            problems.append(
                _("Unknown columns: %(names)s.")
                % {"names": "、".join(u[:40] for u in unknown[:10])}
            )
        if problems:
            problems.append(_("Download the template and keep its header row."))
            raise ImportFileError(" ".join(problems), code="headers")
        return found

    def _parse_row(self, number: int, texts: dict[str, str], errors: list[RowError]) -> Row:
        row = Row(number=number, values={}, raw=texts)
        for key, value in texts.items():
            column = self.column(key)
            if _CONTROL.search(value):
                errors.append(
                    RowError(
                        number,
                        str(column.header),
                        _CONTROL.sub("?", value)[:100],
                        _("The cell contains control characters that cannot be stored."),
                    )
                )
                row.failed = True
                continue
            if value == "":
                if column.required:
                    errors.append(
                        RowError(number, str(column.header), "", _("This column is required."))
                    )
                    row.failed = True
                else:
                    row.values[key] = column.empty
                continue
            try:
                row.values[key] = column.parse(value)
            except CellError as exc:
                errors.append(RowError(number, str(column.header), value[:100], str(exc)))
                row.failed = True
        return row

    def row_key(self, row: Row):
        if any(k not in row.values for k in self.key):
            return None
        parts = tuple(row.values[k] for k in self.key)
        if self.key_casefold:
            parts = tuple(str(p).casefold() for p in parts)
        return parts


def _too_many(limit: int) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(count)s data rows; split it into several files.")
        % {"count": limit},
        code="too_many_rows",
    )


def _check_archive(upload):
    """Refuse an archive whose parts would expand beyond MAX_UNCOMPRESSED_BYTES (zip bomb)."""
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(
            _("The file could not be read as an Excel workbook (.xlsx)."), code="unreadable"
        ) from exc
    finally:
        upload.seek(0)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ImportFileError(
            _("The workbook is too large to import; split it into several files."),
            code="too_large",
        )


def _normal(name: str) -> str:
    return re.sub(r"[\s*＊]+", "", str(name)).casefold()


def _english(msgid) -> str:
    from django.utils import translation

    with translation.override(None):
        return str(msgid)


def _display_width(value: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in value)


def _sheet_name(title) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", str(title)).strip() or "data"
    return name[:31]


# --- The registry -------------------------------------------------------------------------

_REGISTRY: dict[str, type[Importer]] = {}
_discovered = False


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator: make an importer available under its slug."""
    if not cls.slug or not cls.roles or not cls.columns:
        raise TypeError(f"{cls.__name__} needs a slug, roles and columns")
    _REGISTRY[cls.slug] = cls
    return cls


def registry() -> dict[str, type[Importer]]:
    global _discovered
    if not _discovered:
        autodiscover_modules("importers")
        _discovered = True
    return dict(_REGISTRY)


def importers_for(user) -> list[type[Importer]]:
    return [cls for cls in registry().values() if cls.allowed(user)]


def import_roles() -> tuple[str, ...]:
    return tuple(sorted({role for cls in registry().values() for role in cls.roles}))


def importer_for(slug: str, user) -> type[Importer] | None:
    """The importer ``slug`` if ``user`` may use it; None otherwise (unknown or not allowed
    look the same to the caller, who answers 404)."""
    cls = registry().get(slug)
    if cls is None or not cls.allowed(user):
        return None
    return cls


# --- Running an import --------------------------------------------------------------------


def run_import(
    importer: type[Importer] | str, *, actor, upload, commit: bool, file_name: str | None = None
) -> ImportResult:
    """Check the file and, with ``commit``, import it all or nothing. File-level problems raise
    ImportFileError (a ServiceError); row-level problems are in the result's ``errors``."""
    cls = registry().get(importer) if isinstance(importer, str) else importer
    if cls is None or not cls.allowed(actor):
        raise PermissionDenied(_("Your role does not allow this action."))
    check_upload(upload, allowed=(XLSX,))
    sha256 = hash_file(upload)
    name = (file_name or getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200]
    imp = cls(actor)
    rows, errors = imp.parse(upload)
    result = ImportResult(kind=cls.slug, file_name=name, sha256=sha256, rows=len(rows))
    try:
        with transaction.atomic():
            _lock(cls.slug)
            _check_rows(imp, rows, errors, result)
            if not result.errors and result.pending:
                result.errors = imp.apply_all(result.pending)
                result.errors.sort(key=lambda e: e.row)
            if result.errors or not commit:
                raise _Rejected
            result.notes = imp.notes(result.changes)
            if result.pending:
                from civilaffairs.services import audit_record

                audit_record(
                    actor=actor,
                    action="import.commit",
                    summary=_("Imported %(title)s from %(file)s")
                    % {"title": cls.title, "file": name},
                    changes={
                        "import_kind": str(cls.title),
                        "import_file": name,
                        "sha256": sha256,
                        "import_rows": result.rows,
                        "import_created": result.created,
                        "import_updated": result.updated,
                        "import_unchanged": result.unchanged,
                    },
                )
            result.committed = True
    except _Rejected:
        if not result.errors:
            result.notes = imp.notes(result.changes)
    return result


def _lock(slug: str):
    # Two imports of the same kind run one after the other: the second sees the first's rows.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"import:{slug}"])


def _check_rows(imp: Importer, rows: list[Row], errors: list[RowError], result: ImportResult):
    imp.load(rows)
    seen: dict[Any, int] = {}
    changes = []
    for row in rows:
        key = imp.row_key(row)
        if key is not None:
            if key in seen:
                header = "、".join(str(imp.column(k).header) for k in imp.key)
                errors.append(
                    RowError(
                        row.number,
                        header,
                        " / ".join(row.raw.get(k, "") for k in imp.key)[:100],
                        _("The same key already appears in row %(row)s.") % {"row": seen[key]},
                    )
                )
                row.failed = True
                continue
            seen[key] = row.number
        if row.failed:
            continue
        try:
            changes.append(imp.check(row))
        except RowProblem as problem:
            errors.append(imp.error(row, problem.message, problem.column))
            row.failed = True
    errors += imp.check_file(rows, changes)
    failed = {e.row for e in errors}
    result.changes = [c for c in changes if c.row.number not in failed]
    result.errors = sorted(errors, key=lambda e: e.row)


# --- Small helpers for importers ------------------------------------------------------------


def describe(pairs: Iterable[tuple[Any, Any, Any]]) -> str:
    """Each changed field as “label: old → new”, for the preview."""

    def show(value):
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return str(value)

    return "；".join(f"{label}：{show(old)} → {show(new)}" for label, old, new in pairs)


def label_of(choices: Sequence, value) -> str:
    return str(dict(choices).get(value, value)) if value else ""
