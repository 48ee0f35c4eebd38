"""``manage.py check_catalog``: fail unless the zh_Hans catalog is complete and clean.

The interface is Simplified Chinese and every msgid is English, so an untranslated entry shows
English to a user. This command (run by ``make test``) reads
``<locale dir>/<locale>/LC_MESSAGES/django.po`` (required) and ``djangojs.po`` (when present) with
polib and lists every entry that is

- untranslated (an empty ``msgstr``, or any empty plural form),
- fuzzy (gettext leaves fuzzy entries out of the compiled catalog, so they show English too),
- obsolete (``#~`` leftovers: re-run ``make messages``, which drops them), or
- using a format placeholder its msgid does not have (``%(name)s`` or ``{name}`` that would
  raise at run time, or a different number of ``%s``).

It exits non-zero (CommandError) when there is any, or when ``django.po`` is missing, and prints
one summary line when the catalog is clean.
"""

import re
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

REQUIRED_DOMAINS = ("django",)
OPTIONAL_DOMAINS = ("djangojs",)

# A printf-style conversion as Python's % operator (and Django's JS interpolate) reads it.
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
_BRACE = re.compile(r"(?<!\{)\{(?P<name>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def _percent_fields(text: str) -> tuple[set[str], int]:
    names, positional = set(), 0
    for match in _PERCENT.finditer(text):
        if match["conv"] == "%":
            continue
        if match["name"] is not None:
            names.add(match["name"])
        else:
            positional += 1
    return names, positional


def _brace_fields(text: str) -> set[str]:
    return {m["name"] for m in _BRACE.finditer(text)}


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[key] for key in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _format_problem(entry: polib.POEntry) -> str | None:
    """Why the translation's placeholders do not fit the msgid, or None when they do."""
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    flags = set(entry.flags)
    if flags & {"python-format", "javascript-format"}:
        source_names = set().union(*(_percent_fields(s)[0] for s in sources))
        source_counts = {_percent_fields(s)[1] for s in sources}
        for text in _translations(entry):
            names, positional = _percent_fields(text)
            unknown = names - source_names
            if unknown:
                return f"placeholder {', '.join(sorted(unknown))} is not in the msgid"
            if positional not in source_counts:
                return "a different number of %s placeholders than the msgid"
    if "python-brace-format" in flags:
        source_names = set().union(*(_brace_fields(s) for s in sources))
        for text in _translations(entry):
            unknown = _brace_fields(text) - source_names
            if unknown:
                return f"placeholder {{{', '.join(sorted(unknown))}}} is not in the msgid"
    return None


def catalog_problems(po_path: Path) -> tuple[list[str], int]:
    """(one line per problem, number of live messages) for one .po file."""
    try:
        catalog = polib.pofile(str(po_path), encoding="utf-8")
    except (OSError, ValueError) as exc:
        return [f"{po_path}: cannot be read: {exc}"], 0
    problems, live = [], 0
    for entry in catalog:
        where = f"{po_path}:{entry.linenum}"
        msgid = entry.msgid if len(entry.msgid) <= 70 else entry.msgid[:67] + "..."
        label = f"{msgid!r}" + (f" (context {entry.msgctxt!r})" if entry.msgctxt else "")
        if entry.obsolete:
            problems.append(f"{where}: obsolete: {label}")
            continue
        live += 1
        if "fuzzy" in entry.flags:
            problems.append(f"{where}: fuzzy: {label}")
        elif not entry.translated():
            problems.append(f"{where}: untranslated: {label}")
        else:
            reason = _format_problem(entry)
            if reason:
                problems.append(f"{where}: {reason}: {label}")
    return problems, live


class Command(BaseCommand):
    help = "Fail when the zh_Hans catalog has untranslated, fuzzy or obsolete entries."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale-dir",
            metavar="DIR",
            help="the locale directory (default: the first of settings.LOCALE_PATHS)",
        )
        parser.add_argument("--locale", default="zh_Hans", help="the locale (default zh_Hans)")

    def handle(self, *args, locale_dir=None, locale="zh_Hans", **options):
        base = Path(locale_dir) if locale_dir else Path(settings.LOCALE_PATHS[0])
        messages_dir = base / locale / "LC_MESSAGES"
        problems, counts = [], []
        for domain in REQUIRED_DOMAINS + OPTIONAL_DOMAINS:
            po_path = messages_dir / f"{domain}.po"
            if not po_path.is_file():
                if domain in REQUIRED_DOMAINS:
                    problems.append(f"{po_path}: missing (run `make messages`)")
                continue
            found, live = catalog_problems(po_path)
            problems.extend(found)
            counts.append(f"{po_path.name} {live} messages")
        if problems:
            raise CommandError(
                f"the {locale} catalog has {len(problems)} problem(s):\n"
                + "\n".join(problems)
                + "\nTranslate them (every msgid needs a Chinese msgstr), remove the fuzzy flags "
                "once checked, and drop obsolete entries with `make messages`."
            )
        self.stdout.write(
            f"{locale} catalog complete: {', '.join(counts)}; none untranslated, fuzzy or obsolete"
        )
