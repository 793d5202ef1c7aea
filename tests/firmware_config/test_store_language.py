"""``store.language``: the language a store starts in (issue 28)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_config import ConfigError, load_config


def test_a_store_speaks_english_unless_the_file_names_a_language(tmp_path: Path) -> None:
    default = load_config(env={})
    assert default.store.language == "en"
    assert "language" not in default.store.model_fields_set  # `tillsight demo` then picks Spanish
    path = tmp_path / "tillsight.yaml"
    path.write_text("store:\n  language: fr\n", encoding="utf-8")
    chosen = load_config(path, env={})
    assert chosen.store.language == "fr" and "language" in chosen.store.model_fields_set


def test_a_language_tillsight_does_not_ship_is_refused_by_key(tmp_path: Path) -> None:
    path = tmp_path / "tillsight.yaml"
    path.write_text("store:\n  language: de\n", encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    lines = [p for p in excinfo.value.problems if p.startswith("store.language: ")]
    assert lines and "'es'" in lines[0], excinfo.value.problems
