"""The ``llm`` config section: defaults mean no LLM, unknown keys and bad values are refused naming
the key, the API key is a secret from the environment."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from firmware_config import ConfigError, dump_config, load_config


def test_defaults_mean_no_llm() -> None:
    cfg = load_config(None, env={})
    assert cfg.llm.base_url is None and cfg.llm.api_key is None
    assert cfg.llm.prices["narrative"] == 5 and cfg.llm.structured_output == "json_schema"


def test_a_file_with_an_unknown_key_names_it(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text("llm:\n  base_url: http://127.0.0.1:11434/v1\n  modle: llama3.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "llm.modle" in str(err.value) and "unknown key" in str(err.value)


@pytest.mark.parametrize("settings, key, words", [
    ({"base_url": "ftp://x"}, "llm.base_url", "http(s) URL"),
    ({"structured_output": "xml"}, "llm.structured_output", "json_schema"),
    ({"prices": {"narative": 3}}, "llm.prices", "unknown AI feature 'narative'"),
    ({"prices": {"ask": -1}}, "llm.prices", "must be >= 0"),
    ({"timeout_s": 0}, "llm.timeout_s", "greater than 0"),
    ({"daily_cap": -5}, "llm.daily_cap", "greater than or equal to 0"),
])
def test_bad_values_name_the_key(settings: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, env={}, overrides={"llm": settings})
    assert key in str(err.value) and words in str(err.value)


def test_prices_given_in_part_keep_the_other_defaults() -> None:
    cfg = load_config(None, env={}, overrides={"llm": {"prices": {"ask": 9}}})
    assert cfg.llm.prices["ask"] == 9 and cfg.llm.prices["narrative"] == 5


def test_api_key_comes_from_the_environment_and_is_masked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = load_config(None, env={"TILLSIGHT__LLM__API_KEY": "sk-live-secret",
                                 "TILLSIGHT__LLM__BASE_URL": "https://api.x.ai/v1/"})
    assert cfg.llm.api_key is not None and cfg.llm.api_key.get_secret_value() == "sk-live-secret"
    assert cfg.llm.base_url == "https://api.x.ai/v1"
    assert "sk-live-secret" not in repr(cfg) and dump_config(cfg)["llm"]["api_key"] == "**********"
    path = tmp_path / "hub.yaml"
    path.write_text("llm:\n  api_key: sk-in-file\n")
    with caplog.at_level(logging.WARNING):
        load_config(path, env={})
    assert "TILLSIGHT__LLM__API_KEY" in caplog.text and "sk-in-file" not in caplog.text
