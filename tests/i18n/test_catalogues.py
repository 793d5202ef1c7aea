"""The shipped catalogues are complete, and messages come out in the language and plural form asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

import i18n
from i18n import catalogues
from i18n.extraction import check, extract


def test_every_marked_message_is_translated_in_every_shipped_language() -> None:
    """Extracts every marked string of the device, the hub, the shared web layer and the command line
    (Python, Jinja templates, JavaScript) and holds each shipped language's catalogues against them."""
    template = extract()
    assert len(template) > 0
    problems = check(template)
    assert not problems, f"{len(problems)} messages lack a translation (python -m i18n missing --into PART):\n" + \
        "\n".join(str(p) for p in problems[:60])


def _po(folder: Path, language: str, name: str, body: str, plural: str = "nplurals=2; plural=(n != 1);") -> None:
    path = folder / language / "LC_MESSAGES" / f"{name}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'msgid ""\nmsgstr ""\n"Language: {language}\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
                    f'"Plural-Forms: {plural}\\n"\n\n{body}', encoding="utf-8")


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(catalogues, "LOCALES_DIR", tmp_path)
    catalogues.reload()
    yield tmp_path
    monkeypatch.undo()
    catalogues.reload()


LINES = 'msgid "%(num)d line"\nmsgid_plural "%(num)d lines"\nmsgstr[0] "%(num)d línea"\nmsgstr[1] "%(num)d líneas"\n'


def test_plural_forms_follow_each_language(locales: Path) -> None:
    _po(locales, "es", "tillsight", LINES)
    _po(locales, "fr", "tillsight", 'msgid "%(num)d line"\nmsgid_plural "%(num)d lines"\n'
        'msgstr[0] "%(num)d ligne"\nmsgstr[1] "%(num)d lignes"\n', plural="nplurals=3; plural=(n > 1 ? 2 : 0);")
    with i18n.use_language("es"):
        assert [i18n.ngettext("%(num)d line", "%(num)d lines", n) for n in (0, 1, 2)] == \
            ["0 líneas", "1 línea", "2 líneas"]
    with i18n.use_language("fr"):  # French counts 0 as singular; the shipped rule wins over a file's header
        assert [i18n.ngettext("%(num)d line", "%(num)d lines", n) for n in (0, 1, 2)] == \
            ["0 ligne", "1 ligne", "2 lignes"]
    assert i18n.ngettext("%(num)d line", "%(num)d lines", 1) == "1 line"


def test_a_languages_files_are_merged_and_fuzzy_guesses_never_shown(locales: Path) -> None:
    _po(locales, "es", "tillsight", 'msgid "Pay"\nmsgstr "Cobrar"\n\n#, fuzzy\nmsgid "Refund"\nmsgstr "Reembolso?"\n')
    _po(locales, "es", "hub", 'msgid "Fleet"\nmsgstr "Flota"\n')
    with i18n.use_language("es_DO"):
        assert (i18n.gettext("Pay"), i18n.gettext("Fleet"), i18n.gettext("Refund")) == ("Cobrar", "Flota", "Refund")
    assert i18n.gettext("Pay") == "Pay"  # the language comes back after the block
    assert i18n.translate_in("es", "Pay") == "Cobrar"
    problems = check(_template("Pay", "Refund", "Fleet", "Stock"), languages=["es"])
    assert sorted(p.msgid for p in problems) == ["Refund", "Stock"]


def test_a_translation_that_loses_a_placeholder_is_named(locales: Path) -> None:
    _po(locales, "fr", "tillsight", 'msgid "Change %(amount)s"\nmsgstr "Monnaie"\n')
    problems = check(_template("Change %(amount)s"), languages=["fr"])
    assert len(problems) == 1 and "placeholders differ" in problems[0].why


def _template(*messages: str):
    from babel.messages.catalog import Catalog

    template = Catalog()
    for message in messages:
        template.add(message, locations=[("test.py", 1)])
    return template


def test_an_unknown_language_falls_back_to_english() -> None:
    assert i18n.normalize_language("de_DE") == "en"
    assert i18n.normalize_language("FR-ca") == "fr"
    with i18n.use_language("xx"):
        assert i18n.current_language() == "en"
