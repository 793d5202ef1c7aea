"""kill -9 during sale completion leaves a consistent store: the whole sale, or none of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edge.store import Store
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _kill_at(db: Path, stage: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.edge.store.crash_writer", str(db), stage], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("READY "), proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return line.split()[1]


def _consistent(store: Store) -> None:
    store.db.integrity_check()
    # every sale has its lines, payments and outbox row; stock equals the sum of its movements
    orphans = store.db.scalar("SELECT count(*) FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE"
                              " l.tx_id = s.tx_id) OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = s.tx_id)")
    assert orphans == 0
    assert store.db.scalar("SELECT count(*) FROM sale_lines l LEFT JOIN sales s ON s.tx_id = l.tx_id"
                           " WHERE s.tx_id IS NULL") == 0
    assert store.db.scalar("SELECT count(*) FROM stock_movements m WHERE m.tx_id IS NOT NULL AND NOT EXISTS"
                           " (SELECT 1 FROM sales s WHERE s.tx_id = m.tx_id)") == 0
    assert store.db.scalar("SELECT count(*) FROM outbox o WHERE o.kind = 'tx' AND NOT EXISTS"
                           " (SELECT 1 FROM sales s WHERE s.tx_id = o.key)") == 0


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    from edge.demo.seed import seed_store

    s = Store(tmp_path / "store.db")
    seed_store(s)
    s.close()
    return tmp_path / "store.db"


def _stock(db: Path) -> dict[str, int]:
    s = Store(db)
    try:
        return {sku: s.products.get(sku).stock_qty for sku in ("RICE-LG-5LB", "OIL-SOL-1L")}
    finally:
        s.close()


def test_killed_before_commit_leaves_no_trace_of_the_sale(seeded: Path):
    before = _stock(seeded)
    tx_id = _kill_at(seeded, "written")
    store = Store(seeded)
    assert store.sales.find(tx_id) is None
    assert store.db.scalar("SELECT count(*) FROM sale_lines") == 0 and store.outbox.backlog() == 0
    assert _stock(seeded) == before
    _consistent(store)
    # the till carries on: the next sale takes seq 1 again
    from tests.edge.checkout.helpers import quick_sale
    assert store.sales.record(quick_sale(store, "SUGAR-2LB")).seq == 1
    store.close()


def test_killed_after_commit_keeps_the_whole_sale(seeded: Path):
    before = _stock(seeded)
    tx_id = _kill_at(seeded, "committed")
    store = Store(seeded)
    rec = store.sales.get(tx_id)
    assert [(ln.sku, ln.qty) for ln in rec.lines] == [("RICE-LG-5LB", 1), ("OIL-SOL-1L", 2)]
    assert store.outbox.pending()[0].key == tx_id
    after = _stock(seeded)
    assert after == {"RICE-LG-5LB": before["RICE-LG-5LB"] - 1, "OIL-SOL-1L": before["OIL-SOL-1L"] - 2}
    _consistent(store)
    store.close()
