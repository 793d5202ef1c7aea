"""The message catalogues: gettext ``.po`` files kept in the repo, read with Babel on first use.

English is the source language (the msgids), so it has no catalogue. Each shipped language has a
folder ``locales/<lang>/LC_MESSAGES/`` of ``.po`` files, one per part of the product (``tillsight.po``
for the device and the shared web layer, others per feature or side, e.g. ``hub.po``), so people
translating different parts never edit the same file. They form one gettext domain: every file is
parsed and compiled in memory the first time a message in that language is asked for (no ``.mo``
file, no build step) and merged, the files in name order (a later file's entry wins). Fuzzy entries
are left out, as ``msgfmt`` would: a guess never reaches a screen. Every file of a language counts
plurals the same way (:data:`PLURAL_FORMS`, the classic two gettext forms), whatever its header says.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

DOMAIN = "tillsight"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
#: the languages Tillsight ships, in the order a language picker lists them
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "fr")
#: each language's own name, as its speakers look for it in a picker
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français"}


def normalize_language(value: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A shipped language code from ``value`` ("es", "es_DO", "fr-FR", "FR"), else ``default``."""
    if value:
        code = value.strip().replace("-", "_").split("_")[0].lower()
        if code in SUPPORTED_LANGUAGES:
            return code
    return default


#: how each shipped language picks a plural form (gettext's Plural-Forms): English and Spanish "one"
#: for 1 only; French for 0 and 1 ("0 article", "2 articles")
PLURAL_FORMS: dict[str, tuple[int, str]] = {"en": (2, "(n != 1)"), "es": (2, "(n != 1)"), "fr": (2, "(n > 1)")}


def po_paths(language: str) -> list[Path]:
    """The ``.po`` files of ``language``, in the order they are merged."""
    return sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"))


def po_path(language: str, part: str = DOMAIN) -> Path:
    """The file of one part of the catalogue (``tillsight`` unless named)."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{part}.po"


def read_po_file(path: Path, language: str) -> Catalog:
    """One ``.po`` file as Babel reads it (fuzzy entries included, marked), with the language's plural rule."""
    with path.open("rb") as f:
        catalogue = read_po(f, locale=language, domain=DOMAIN)
    set_plural_forms(catalogue, language)
    return catalogue


def set_plural_forms(catalogue: Catalog, language: str) -> None:
    """Give ``catalogue`` the language's plural rule (:data:`PLURAL_FORMS`), whatever its header said."""
    if language in PLURAL_FORMS:
        count, expression = PLURAL_FORMS[language]
        catalogue.mime_headers = [("Plural-Forms", f"nplurals={count}; plural={expression};")]


def read_catalogues(language: str) -> list[Catalog]:
    return [read_po_file(path, language) for path in po_paths(language)]


@functools.cache
def translations(language: str) -> NullTranslations:
    """Compiled translations for ``language``; English (the source) and an unknown language translate
    nothing."""
    merged: Translations | None = None
    for catalogue in ([] if language == DEFAULT_LANGUAGE else read_catalogues(language)):
        buffer = io.BytesIO()
        write_mo(buffer, catalogue, use_fuzzy=False)
        buffer.seek(0)
        compiled = Translations(fp=buffer, domain=DOMAIN)
        merged = compiled if merged is None else merged.merge(compiled)
    return merged if merged is not None else NullTranslations()


def reload() -> None:
    """Forget the compiled catalogues (a catalogue edited under a running process, or a test)."""
    translations.cache_clear()
    from i18n import web  # the JavaScript catalogues are built from the same compiled ones

    web.js_catalogue.cache_clear()
