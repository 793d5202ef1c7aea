"""Every value a hub table shows as a pill is translated (issue 28): the pill's text is looked up in the
catalogues where shown (``datatable.render_cell``), so each value a ``Col.pills`` names must be marked in
``datatable.PILL_WORDS`` (the extractor reads only literals) and translated in every shipped language.  A new
state added to a table without its words fails here, naming the table, the column and the value."""

from __future__ import annotations

import importlib
import pkgutil

import analytics.web
from analytics.web.datatable import PILL_WORDS, TableSpec
from i18n import SUPPORTED_LANGUAGES
from i18n.catalogues import DEFAULT_LANGUAGE, read_catalogues


def _table_specs() -> dict[str, TableSpec]:
    """Every TableSpec the hub's web modules declare, by module and name."""
    found: dict[str, TableSpec] = {}
    for info in pkgutil.walk_packages(analytics.web.__path__, "analytics.web."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, TableSpec):
                found.setdefault(f"{info.name}.{name}", value)
    return found


def _pill_values() -> set[tuple[str, str, str]]:
    return {(where, col.key, value) for where, spec in _table_specs().items() for col in spec.columns
            if col.kind == "pill" for value in col.pills}


def test_the_hub_declares_pill_columns() -> None:
    # guards the walk below: the fleet's device states and the sales' statuses are pills
    values = {value for _where, _key, value in _pill_values()}
    assert {"online", "offline", "completed", "refunded", "voided"} <= values


def test_every_pill_value_is_marked_in_pill_words() -> None:
    unmarked = sorted(f"{where}: column {key!r} value {value!r}" for where, key, value in _pill_values()
                      if value not in PILL_WORDS)
    assert not unmarked, "add these to analytics.web.datatable.PILL_WORDS (N_) and translate them:\n" + \
        "\n".join(unmarked)


def test_every_pill_value_is_translated_in_each_shipped_language() -> None:
    values = {value for _where, _key, value in _pill_values()} | set(PILL_WORDS)
    for language in SUPPORTED_LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        translated = {m.id for catalogue in read_catalogues(language) for m in catalogue
                      if isinstance(m.id, str) and m.string and not m.fuzzy}
        missing = sorted(values - translated)
        assert not missing, f"{language}: pill words without a translation: {missing}"
