"""``tillsight staff add``: the first owner of a new device."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from edge.auth.service import Authenticator
from edge.store import Store
from tillsight_cli.main import main


def _run(monkeypatch, args: list[str], secret: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    return main(["staff", "add", *args, "--secret-stdin"])


def test_owner_and_cashier_can_log_in_after_being_added(tmp_path: Path, monkeypatch):
    assert _run(monkeypatch, ["--data-dir", str(tmp_path), "--id", "rosa", "--name", "Rosa", "--role", "owner"],
                "long-password") == 0
    assert _run(monkeypatch, ["--data-dir", str(tmp_path), "--id", "ana", "--name", "Ana", "--role", "cashier"],
                "4826") == 0
    store = Store(tmp_path / "store.db")
    auth = Authenticator(store.users)
    assert auth.login_password("rosa", "long-password").role == "owner"
    assert auth.login_pin("ana", "4826").role == "cashier"


def test_weak_secrets_are_refused(tmp_path: Path, monkeypatch, capsys):
    assert _run(monkeypatch, ["--data-dir", str(tmp_path), "--id", "ana", "--name", "Ana", "--role", "cashier"],
                "1111") == 2
    assert "too easy" in capsys.readouterr().err
    assert _run(monkeypatch, ["--data-dir", str(tmp_path), "--id", "rosa", "--name", "Rosa", "--role", "owner"],
                "short") == 2
