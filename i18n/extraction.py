"""Finding the marked messages in the sources and keeping the catalogues in step with them.

``extract()`` reads every package's Python (``_``, ``gettext``, ``ngettext``, ``pgettext``,
``lazy_gettext``, ``N_``, ``translate_in``), Jinja templates (``_()``, ``gettext``, ``ngettext``,
``{% trans %}``) and JavaScript (``_()``, ``gettext()``, ``ngettext()``) with Babel's extractors.
``add_missing(part)`` writes every message a language has in none of its files into that language's
``<part>.po`` (untranslated, with where it is used), for a person to translate; no other file is
touched. ``check()`` names every message a shipped language lacks or whose ``%(name)s`` placeholders
differ from the English: the test that keeps the catalogues complete runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import write_po
from jinja2.ext import babel_extract

from i18n.catalogues import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    SUPPORTED_LANGUAGES,
    po_path,
    read_catalogues,
    read_po_file,
    set_plural_forms,
)

REPO = Path(__file__).resolve().parents[1]
#: the packages whose messages people read (the device, the hub, the shared web guard, the command line)
PACKAGES: tuple[str, ...] = ("edge", "analytics", "runtime", "i18n", "tillsight_cli")
# plural_phrase: analytics/pricing/reasons.py, a plural message kept with its values and worded where shown
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "translate_in": (2,), "plural_phrase": (1, 2)}
METHODS = [
    ("**/static/vendor/**", "ignore"),
    ("**/static/**.js", "javascript"),
    ("**/templates/**.html", babel_extract),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
_PLACEHOLDER = re.compile(r"%\((\w+)\)")


def extract(packages: Iterable[str] = PACKAGES, root: Path = REPO) -> Catalog:
    """Every marked message of ``packages`` as a template catalogue (with where each one is used)."""
    template = Catalog(domain=DOMAIN, project="tillsight", fuzzy=False)
    for package in packages:
        folder = root / package
        for filename, lineno, found, comments, context in extract_from_dir(
                str(folder), METHODS, OPTIONS, keywords=KEYWORDS,  # type: ignore[arg-type]
                comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            where = (f"{package}/{filename}", lineno)
            message: str | tuple[str, ...]
            if isinstance(found, tuple | list):
                message = tuple(str(part) for part in found[:2])
                if not message[0]:
                    continue
            elif not found:
                continue
            else:
                message = str(found)
            template.add(message, locations=[where], auto_comments=comments, context=context)
    return template


def _header(language: str) -> Catalog:
    catalogue = Catalog(locale=language, domain=DOMAIN, project="tillsight", fuzzy=False)
    set_plural_forms(catalogue, language)
    return catalogue


def translated_messages(language: str) -> dict[tuple[str, str | None], Message]:
    """Every translated message of ``language``'s files, by (msgid, context); a later file wins, as at run time."""
    found: dict[tuple[str, str | None], Message] = {}
    for catalogue in read_catalogues(language):
        for message in catalogue:
            if message.id and _translated(message):
                found[(_key(message), message.context)] = message
    return found


def _key(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple | list) else message.id)


def add_missing(part: str = DOMAIN, template: Catalog | None = None,
                languages: Iterable[str] = SUPPORTED_LANGUAGES) -> dict[str, int]:
    """Write every message of ``template`` (default: :func:`extract`) that a language translates in none
    of its files into its ``<part>.po``, untranslated; returns how many each language got."""
    template = template or extract()
    added: dict[str, int] = {}
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        have = translated_messages(language)
        path = po_path(language, part)
        catalogue = read_po_file(path, language) if path.is_file() else _header(language)
        count = 0
        for message in template:
            if not message.id or (_key(message), message.context) in have:
                continue
            if catalogue.get(message.id, context=message.context) is None:
                count += 1
            catalogue[message.id] = Message(message.id, "" if not isinstance(message.id, tuple) else ("", ""),
                                            locations=message.locations, flags=message.flags,
                                            auto_comments=message.auto_comments, context=message.context)
        if count or not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as f:
                write_po(f, catalogue, width=116, omit_header=False)
        added[language] = count
    return added


def _translated(message: Message) -> bool:
    if message.fuzzy:
        return False
    forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(forms) and all(str(form or "").strip() for form in forms)


@dataclass(frozen=True)
class Problem:
    language: str
    msgid: str
    why: str
    where: str

    def __str__(self) -> str:
        return f"{self.language}: {self.msgid!r} ({self.where}): {self.why}"


def check(template: Catalog | None = None, languages: Iterable[str] = SUPPORTED_LANGUAGES) -> list[Problem]:
    """What keeps a shipped language from showing every message: a message with no translation (or
    only a fuzzy guess), or a translation whose ``%(name)s`` placeholders differ from the English."""
    template = template or extract()
    problems: list[Problem] = []
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        have = translated_messages(language)
        for message in template:
            if not message.id:
                continue
            key = _key(message)
            where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
            found = have.get((key, message.context))
            if found is None:
                problems.append(Problem(language, key, "not translated", where))
                continue
            problems += [Problem(language, key, why, where) for why in _placeholder_problems(message, found)]
    return problems


def _placeholder_problems(english: Message, translated: Message) -> list[str]:
    ids = english.id if isinstance(english.id, tuple | list) else (english.id,)
    wanted = set().union(*(_PLACEHOLDER.findall(text) for text in ids))
    forms = translated.string if isinstance(translated.string, tuple | list) else (translated.string,)
    problems = []
    for form in forms:
        have = set(_PLACEHOLDER.findall(str(form)))
        extra = have - wanted
        # a plural's singular form may drop %(num)d ("una línea"); every other placeholder must stay
        missing = wanted - have - ({"num"} if len(ids) > 1 else set())
        if extra or missing:
            problems.append(f"placeholders differ: {str(form)!r} has {sorted(have)}, English {sorted(wanted)}")
    return problems
