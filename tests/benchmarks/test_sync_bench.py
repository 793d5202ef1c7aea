"""``tillsight bench sync`` on a small run: real Mosquitto, real devices and agents, the real ingest;
every sale arrives once, and the figures a reader looks for are there (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from analytics.db import make_engine
from benchmarks.mosquitto import mosquitto_binary
from tests.conftest import REPO

KEYS = {"stored_tx_per_s", "latency_ms", "lost", "duplicated", "offered_tx_per_s", "recorded_tx_per_s",
        "device_to_hub_ms", "hub_receive_to_commit_ms", "catchup_tx_per_s", "hub_steady", "hub_catchup",
        "reference_raw_insert_tx_per_s", "writer_over_raw_insert"}


@pytest.fixture(autouse=True)
def _needs_mosquitto() -> None:
    try:
        mosquitto_binary()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def _leftovers() -> set[str]:
    return {p.name for base in (Path(tempfile.gettempdir()), Path("/dev/shm")) if base.is_dir()
            for p in base.glob("tillsight-bench-*-*")}


def _check(f: dict, devices: int, sales: int, catchup: int) -> None:
    assert KEYS <= set(f), KEYS - set(f)
    made = devices * (sales + catchup)
    assert f["sales_recorded"] == made and f["agents_published"] >= made
    assert f["lost"] == 0 and f["duplicated"] == 0 and f["unknown_at_hub"] == 0
    assert f["device_errors"] == [] and f["device_backlog_left"] == 0 and f["hub_dead_letters"] == 0
    assert f["hub_steady"]["stored"] + f["hub_catchup"]["stored"] == made
    assert f["catchup_sales"] == devices * catchup and f["catchup_tx_per_s"] > 0
    assert f["hub_open_gaps"] == 0  # every device's sequence arrived whole
    lat = f["latency_ms"]
    assert lat["n"] > 0 and 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    assert f["stored_tx_per_s"] > 0 and f["reference_raw_insert_tx_per_s"] > 0


@pytest.mark.slow
def test_cli_prints_the_figures_with_the_json_line_last() -> None:
    before = _leftovers()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run([sys.executable, "-m", "tillsight_cli.main", "bench", "sync", "--devices", "2",
                        "--sales", "40", "--rate", "80", "--catchup-sales", "30"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    assert "stored" in lines[0] and "lost 0, duplicated 0" in lines[0]
    _check(json.loads(lines[-1]), devices=2, sales=40, catchup=30)
    assert _leftovers() <= before  # its temporary folders are gone


def test_cli_rejects_bad_options_without_running() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "tillsight_cli.main", "bench", "sync", "--devices", "0", "--json"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "devices and sales must be at least 1" in r.stderr and r.stdout == ""


@pytest.mark.slow
def test_on_postgresql(postgres_cluster) -> None:
    from benchmarks.sync_bench import run_sync_bench

    url = postgres_cluster.new_database("bench")
    f = run_sync_bench(devices=2, sales=30, rate=60, catchup_sales=30, database_url=url)
    assert f["hub_database"] == "postgresql"
    _check(f, devices=2, sales=30, catchup=30)
    engine = make_engine(url)  # the reference rows were removed; only the run's sales stay
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transactions")).scalar_one() == 2 * 60
    engine.dispose()
