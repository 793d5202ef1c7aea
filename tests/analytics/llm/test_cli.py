"""``tillsight hub ai check|credits|ledger`` against the stand-in endpoint and a real hub database."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.llm_server import ChatServer, Reply
from tillsight_cli.main import main


def config(tmp_path: Path, base_url: str | None) -> str:
    path = tmp_path / "hub.yaml"
    llm = f"  base_url: {base_url}\n" if base_url else ""
    path.write_text(f"hub:\n  database_url: sqlite:///{tmp_path / 'hub.db'}\n"
                    f"llm:\n{llm}  model: tiny-1\n  timeout_s: 1\n  max_retries: 0\n  starting_credits: 30\n")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_check_prints_model_and_latency(tmp_path: Path, llm_server: ChatServer,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    llm_server.script(Reply.text("OK"))
    assert main(["hub", "ai", "check", "--config", config(tmp_path, llm_server.base_url)]) == 0
    out = capsys.readouterr().out
    assert "AI endpoint OK" in out and "model stand-in-1" in out and " ms" in out
    assert llm_server.requests[0]["model"] == "tiny-1" and llm_server.requests[0]["max_tokens"] == 5


def test_check_exits_1_with_the_reason(tmp_path: Path, llm_server: ChatServer,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["hub", "ai", "check", "--config", config(tmp_path, unreachable)]) == 1
    assert "cannot be reached" in capsys.readouterr().err
    llm_server.script(Reply.error(401))
    assert main(["hub", "ai", "check", "--config", config(tmp_path, llm_server.base_url)]) == 1
    assert "llm.api_key" in capsys.readouterr().err
    assert main(["hub", "ai", "check", "--config", config(tmp_path, None)]) == 1
    assert "not_configured" in capsys.readouterr().err


def test_credits_and_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, None)
    assert main(["hub", "ai", "credits", "s-001", "--config", cfg]) == 0
    assert json.loads(capsys.readouterr().out)["balance"] == 30
    assert main(["hub", "ai", "credits", "s-001", "--config", cfg, "--add", "20", "--daily-cap", "none",
                 "--monthly-cap", "90", "--note", "promo"]) == 0
    acct = json.loads(capsys.readouterr().out)
    assert (acct["balance"], acct["daily_cap"], acct["monthly_cap"]) == (50, None, 90)
    assert main(["hub", "ai", "credits", "s-001", "--config", cfg, "--add", "-60"]) == 2
    assert "balance is 50" in capsys.readouterr().err
    assert main(["hub", "ai", "ledger", "s-001", "--config", cfg, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["kind"], r["credit_change"]) for r in rows] == [("caps", 0), ("topup", 20)]
    assert main(["hub", "ai", "ledger", "s-001", "--config", cfg]) == 0
    table = capsys.readouterr().out
    assert table.startswith("at") and "topup" in table and "promo" in table
    with pytest.raises(SystemExit):
        main(["hub", "ai", "credits", "s-001", "--config", cfg, "--daily-cap", "-1"])
