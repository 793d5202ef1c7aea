"""Every command's JSON answer is one line another tool can read: dates as text, names as written."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tillsight_cli.json_output import emit_json


def test_one_compact_line_with_dates_as_text_and_names_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json({"customer": "José Núñez", "due": date(2026, 3, 1), "owed": 1250})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n")
    assert "José Núñez" in out
    assert json.loads(out) == {"customer": "José Núñez", "due": "2026-03-01", "owed": 1250}
