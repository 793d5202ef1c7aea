"""The hub side of ``tillsight bench sync``: what the ingest committed and when (its ``on_commit``
hook), the hub process's CPU, the reference insert rate of the hub database, and counts read back
from the hub database."""

from __future__ import annotations

import resource
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

REFERENCE_SALES = 5000


def cpu_s() -> float:
    """CPU seconds of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class CommitLog:
    """The ingest's ``on_commit`` hook: the commit moment (and arrival moment) of each sale of this
    run's store stored, and what else the hub made of the run's messages."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        self.committed_at: dict[str, float] = {}  # tx_id -> wall clock right after its commit
        self.received_at: dict[str, float] = {}  # tx_id -> wall clock when the hub's MQTT client had it
        self.stored_twice = 0  # a tx_id reported "stored" again: the hub stored a duplicate
        self.redelivered = 0  # copies the hub received again and ignored (at-least-once at work)
        self.dead = 0
        self._lock = threading.Lock()

    def __call__(self, items: list[tuple[Any, Any, str]]) -> None:
        from analytics.ingest.parse import Parsed

        at = time.time()
        with self._lock:
            for msg, parsed, outcome in items:
                if not isinstance(parsed, Parsed):
                    self.dead += 1
                    continue
                if parsed.kind != "tx" or parsed.store_id != self.store_id or parsed.doc is None:
                    continue
                tx_id = parsed.doc["tx_id"]
                if outcome == "stored":
                    if tx_id in self.committed_at:
                        self.stored_twice += 1
                    else:
                        self.committed_at[tx_id] = at
                        self.received_at[tx_id] = msg.received_at
                elif outcome == "duplicate":
                    self.redelivered += 1

    def count(self) -> int:
        with self._lock:
            return len(self.committed_at)

    def wait_idle(self, quiet_s: float = 0.5, timeout_s: float = 60.0) -> None:
        """Return once nothing new was stored for ``quiet_s`` (or after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        last, since = self.count(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.count()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    def wait_for(self, n: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.count() < n:
            time.sleep(0.05)


@dataclass(frozen=True)
class HubMark:
    """The hub process's CPU time and the ingest's counters at one moment."""

    wall: float
    cpu_s: float
    stored: int
    busy_s: float
    batches: int

    @classmethod
    def take(cls, worker: Any) -> HubMark:
        s = worker.stats
        return cls(time.time(), cpu_s(), s.outcomes["stored"], s.busy_s, s.batches)

    def since(self, before: HubMark) -> dict[str, Any]:
        stored, busy = self.stored - before.stored, self.busy_s - before.busy_s
        cpu, wall = self.cpu_s - before.cpu_s, self.wall - before.wall
        return {"stored": stored, "batches": self.batches - before.batches,
                "cpu_ms_per_tx": round(cpu * 1000 / stored, 3) if stored else None,
                "cpu_share": round(cpu / wall, 3) if wall > 0 else None,
                "writer_tx_per_busy_s": round(stored / busy, 1) if busy > 0 else None}


def _reference_payload(store_id: str, seq: int) -> dict[str, Any]:
    """A ``tillsight.tx/1`` sale shaped like the simulated devices' (three lines)."""
    prices = [5000 + i for i in range(3)]
    lines = [{"sku": f"SKU-{i}", "name": f"Product {i}", "qty": 1, "unit_price": price, "line_total": price,
              "source": "vision", "confidence": 0.9} for i, price in enumerate(prices)]
    total = sum(prices)
    return {"schema": "tillsight.tx/1", "tx_id": str(uuid.uuid4()), "seq": seq, "store_id": store_id,
            "device_id": "ref-1", "cashier_id": "ana", "started_at": "2026-11-21T14:03:11Z",
            "completed_at": "2026-11-21T14:04:02Z", "status": "completed", "currency": "DOP", "lines": lines,
            "subtotal": total, "discount": 0, "tax": 0, "total": total,
            "payment": {"method": "cash", "tendered": total, "change": 0}, "customer_id": None, "events": [],
            "anomaly": None, "receipt_no": f"REF-1-{seq:06d}"}


def reference_insert_rate(engine: Any, batch: int, n: int = REFERENCE_SALES) -> float:
    """Sales per second for bare inserts of the same rows (``transactions`` + ``tx_lines``) into the
    same database, ``batch`` sales per transaction; the rows are removed again afterwards."""
    from sqlalchemy import delete, insert

    from analytics.db import tables as t

    store_id = f"ref-{uuid.uuid4().hex[:8]}"
    docs = [_reference_payload(store_id, i + 1) for i in range(n)]
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        chunk = docs[i:i + batch]
        with engine.begin() as conn:
            conn.execute(insert(t.transactions), [
                {"tx_id": d["tx_id"], "store_id": store_id, "device_id": d["device_id"], "seq": d["seq"],
                 "status": d["status"], "cashier_id": d["cashier_id"], "currency": d["currency"],
                 "completed_at": d["completed_at"], "total": d["total"], "customer_id": None,
                 "anomaly_score": None, "payload": d, "received_at": "2026-11-21T14:04:03Z"} for d in chunk])
            conn.execute(insert(t.tx_lines), [
                {"tx_id": d["tx_id"], "line_no": k + 1, "store_id": store_id, "sku": ln["sku"], "name": ln["name"],
                 "qty": ln["qty"], "unit_price": ln["unit_price"], "line_total": ln["line_total"],
                 "source": ln["source"]} for d in chunk for k, ln in enumerate(d["lines"])])
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(delete(t.tx_lines).where(t.tx_lines.c.store_id == store_id))
        conn.execute(delete(t.transactions).where(t.transactions.c.store_id == store_id))
    return n / elapsed


def hub_sales(engine: Any, store_id: str) -> tuple[int, set[str]]:
    """(rows, distinct tx_ids) the hub holds for the run's store."""
    from sqlalchemy import select

    from analytics.db import tables as t

    with engine.connect() as conn:
        ids = list(conn.execute(select(t.transactions.c.tx_id).where(t.transactions.c.store_id == store_id))
                   .scalars())
    return len(ids), set(ids)


def open_gaps(engine: Any, store_id: str) -> int:
    from sqlalchemy import func, select

    from analytics.db import tables as t

    g = t.seq_gaps.c
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.seq_gaps).where(
            g.store_id == store_id, g.filled.is_(False))).scalar_one())
