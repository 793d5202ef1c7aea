"""``tillsight hub user add|list`` and ``tillsight hub web`` (a real process)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from analytics.db import make_engine
from analytics.web.accounts import HubUsers
from tests.support.mosquitto import free_port
from tillsight_cli.main import main

REPO = Path(__file__).resolve().parents[3]


def _config(tmp_path: Path, port: int = 8090) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(f"hub:\n  database_url: sqlite:///{tmp_path / 'hub.db'}\nhub_web:\n  port: {port}\n")
    return path


def test_user_add_and_list(tmp_path: Path, monkeypatch, capsys) -> None:
    cfg = _config(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-good-password\n"))
    assert main(["hub", "user", "add", "--config", str(cfg), "--id", "Rosa", "--name", "Rosa Pérez", "--role",
                 "owner", "--store", "s-001", "--store", "s-007", "--password-stdin"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"id": "rosa", "name": "Rosa Pérez", "role": "owner", "active": True, "stores": ["s-001", "s-007"]}
    users = HubUsers(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    assert users.authenticate("rosa", "a-good-password").stores == ("s-001", "s-007")
    # a weak password is refused and changes nothing
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["hub", "user", "add", "--config", str(cfg), "--id", "rosa", "--name", "Rosa", "--role", "owner",
                 "--password-stdin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert users.authenticate("rosa", "a-good-password").name == "Rosa Pérez"
    # an operator sees every store: --store makes no sense for one
    assert main(["hub", "user", "add", "--config", str(cfg), "--id", "op", "--name", "Op", "--role", "operator",
                 "--store", "s-001", "--password-stdin"]) == 2
    assert "--store is for owners and viewers" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("operator-password\n"))
    assert main(["hub", "user", "add", "--config", str(cfg), "--id", "op", "--name", "Op", "--role", "operator",
                 "--password-stdin"]) == 0
    capsys.readouterr()
    # keep the password, change the stores
    assert main(["hub", "user", "add", "--config", str(cfg), "--id", "rosa", "--name", "Rosa", "--role", "viewer",
                 "--store", "s-002", "--keep-password"]) == 0
    capsys.readouterr()
    assert main(["hub", "user", "list", "--config", str(cfg)]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(u["id"], u["role"], u["stores"]) for u in listed] == [("op", "operator", "all"),
                                                                  ("rosa", "viewer", ["s-002"])]
    assert users.authenticate("rosa", "a-good-password").role == "viewer"


def test_bad_config_names_the_key(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("hub_web:\n  port: 99999\n  colour: red\n")
    assert main(["hub", "user", "list", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "hub_web.port" in err and "hub_web.colour: unknown key" in err


@pytest.mark.slow
def test_hub_web_serves_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    cfg = _config(tmp_path, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env.update(PYTHONPATH=str(REPO))
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "hub", "web", "--config", str(cfg)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and f"serving on http://127.0.0.1:{port}" not in log_path.read_text():
                assert proc.poll() is None, log_path.read_text()
                time.sleep(0.1)
            text = log_path.read_text()
            assert f"serving on http://127.0.0.1:{port}" in text and "no hub users yet" in text
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as resp:
                assert resp.status == 200 and "Log in to the Tillsight hub" in resp.read().decode()
                assert re.search(r"script-src 'self'", resp.headers["Content-Security-Policy"])
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
