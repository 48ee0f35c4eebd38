"""check_catalog and compile_catalog on throw-away catalogs (no database, no GNU gettext)."""

import gettext
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

HEADER = """\
#, fuzzy
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: zh_Hans\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

"""

CLEAN = (
    HEADER
    + """\
msgid "Plans"
msgstr "督查计划"

#, python-format
msgid "%(count)s open finding"
msgid_plural "%(count)s open findings"
msgstr[0] "%(count)s 个未整改问题"
"""
)

BROKEN = (
    HEADER
    + """\
msgid "Plans"
msgstr "督查计划"

#, fuzzy
msgid "Overdue orders"
msgstr "逾期工单"

msgid "Flash report"
msgstr ""
"""
)


def _locale_dir(tmp_path: Path, django_po: str, djangojs_po: str | None = None) -> Path:
    messages = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(django_po, encoding="utf-8")
    if djangojs_po is not None:
        (messages / "djangojs.po").write_text(djangojs_po, encoding="utf-8")
    return tmp_path / "locale"


def test_check_catalog_names_fuzzy_and_untranslated_entries(tmp_path):
    locale_dir = _locale_dir(tmp_path, BROKEN)
    with pytest.raises(CommandError) as excinfo:
        call_command("check_catalog", locale_dir=str(locale_dir))
    message = str(excinfo.value)
    assert "2 problem(s)" in message
    assert "fuzzy: 'Overdue orders'" in message
    assert "untranslated: 'Flash report'" in message
    assert "Plans" not in message  # translated entries and the fuzzy header are fine


def test_check_catalog_passes_a_clean_catalog(tmp_path):
    locale_dir = _locale_dir(tmp_path, CLEAN, djangojs_po=HEADER)
    out = StringIO()
    call_command("check_catalog", locale_dir=str(locale_dir), stdout=out)
    assert out.getvalue().strip() == (
        "zh_Hans catalog complete: django.po 2 messages, djangojs.po 0 messages; "
        "none untranslated, fuzzy or obsolete"
    )


def test_check_catalog_checks_djangojs_and_obsolete_entries(tmp_path):
    js = HEADER + '#~ msgid "Gone"\n#~ msgstr "已删除"\n\nmsgid "Saved"\nmsgstr ""\n'
    locale_dir = _locale_dir(tmp_path, CLEAN, djangojs_po=js)
    with pytest.raises(CommandError) as excinfo:
        call_command("check_catalog", locale_dir=str(locale_dir))
    message = str(excinfo.value)
    assert "djangojs.po" in message
    assert "obsolete: 'Gone'" in message
    assert "untranslated: 'Saved'" in message


def test_check_catalog_refuses_a_placeholder_the_msgid_does_not_have(tmp_path):
    po = HEADER + '#, python-format\nmsgid "%(name)s was saved"\nmsgstr "%(title)s 已保存"\n'
    with pytest.raises(CommandError, match="placeholder title is not in the msgid"):
        call_command("check_catalog", locale_dir=str(_locale_dir(tmp_path, po)))


def test_check_catalog_fails_when_the_catalog_is_missing(tmp_path):
    (tmp_path / "locale").mkdir()
    with pytest.raises(CommandError, match=r"django\.po: missing"):
        call_command("check_catalog", locale_dir=str(tmp_path / "locale"))


def test_compile_catalog_writes_a_mo_gettext_reads_and_skips_it_when_up_to_date(tmp_path):
    locale_dir = _locale_dir(tmp_path, BROKEN)
    mo = locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    out = StringIO()
    call_command("compile_catalog", locale_dirs=[str(locale_dir)], stdout=out)
    assert "1 compiled, 0 up to date" in out.getvalue()
    with mo.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Plans") == "督查计划"
    assert translations.gettext("Overdue orders") == "Overdue orders"  # fuzzy: left out

    out = StringIO()
    call_command("compile_catalog", locale_dirs=[str(locale_dir)], stdout=out)
    assert "0 compiled, 1 up to date" in out.getvalue()

    po = mo.with_suffix(".po")
    later = mo.stat().st_mtime + 10
    os.utime(po, (later, later))
    out = StringIO()
    call_command("compile_catalog", locale_dirs=[str(locale_dir)], stdout=out)
    assert "1 compiled, 0 up to date" in out.getvalue()
