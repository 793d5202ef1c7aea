"""``tillsight bench sync``: device outbox -> broker -> hub ingest -> hub database, end to end on loopback.

Parts, all real: a throwaway Mosquitto broker (``benchmarks/mosquitto.py``); the hub's
:class:`~analytics.ingest.IngestWorker` in this process on a fresh SQLite hub database (or
``database_url``, e.g. PostgreSQL), whose ``on_commit`` hook notes when each sale was committed;
N simulated devices in processes of their own (``benchmarks/sync_devices.py``): seeded device
stores recording sales through their normal path and a ``SyncAgent`` each.  The devices stand in
for other machines: they run at a lower priority (``FleetPlan.nice``) and keep their databases on
tmpfs (:func:`default_device_dir`), so that they neither take the hub's CPU nor queue their fsyncs
on its disk.

Phases:

* steady: the devices complete sales at a steady offered rate.  ``stored_tx_per_s`` counts the
  hub's commits from the end of the warm-up to the last sale completed, so a hub that falls behind
  shows here and not only in the drain; latency runs from a sale's completion on its device to its
  commit at the hub (p50/p99), split at the moment the hub's MQTT client received it;
* catch-up: the devices, offline, record a backlog, then reconnect together: ``catchup_tx_per_s``
  is how fast the hub stores it, i.e. what the whole chain sustains when nothing else limits it.

Checked at the end against the device databases themselves: ``lost`` (recorded on a device, absent
at the hub) and ``duplicated`` (more than one row, or more than one "stored", per ``tx_id``).
The machine is shared and noisy, so the hub's own cost is also given as CPU time per stored sale,
and against a reference measured in the same run on the same database: the raw insert rate of the
same rows (``transactions`` + ``tx_lines``, same batch size, no MQTT, no contract check, no
device bookkeeping).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SETTLE_S = 1.0  # after the last sale arrived: long enough for a re-delivery to land
TMPFS = Path("/dev/shm")


def default_device_dir() -> Path | None:
    """Where the simulated devices keep their databases: tmpfs when there is one.  Real tills each
    write to their own storage; simulated on the hub's disk, their fsyncs (one per sale) would
    queue with the hub's own and measure the shared disk, not the sync path.  The hub database
    stays on disk with its full durability."""
    return TMPFS if TMPFS.is_dir() and os.access(TMPFS, os.W_OK) else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def _summary(ms: list[float]) -> dict[str, Any]:
    p50, p99 = _pct(ms, 50), _pct(ms, 99)
    return {"p50": round(p50, 1) if p50 is not None else None, "p99": round(p99, 1) if p99 is not None else None,
            "max": round(max(ms), 1) if ms else None, "n": len(ms)}


def run_sync_bench(devices: int = 4, sales: int = 2500, rate: float = 600.0, catchup_sales: int = 1500,
                   database_url: str | None = None, warmup_s: float = 2.0, batch_max: int | None = None,
                   device_processes: int | None = None, device_dir: str | Path | None = "auto",
                   keep: bool = False) -> dict[str, Any]:
    """Run the whole chain once; returns the figures.

    ``rate``: offered sales per second of all devices together in the steady phase (0 = as fast as
    they can); ``sales``: steady-phase sales per device; ``catchup_sales``: sales per device recorded
    offline and then sent at once (0: no catch-up phase); ``database_url``: the hub database (default
    a fresh SQLite file; the run's sales are told apart by a store id of their own, and the
    reference rows are removed again); ``device_processes``: processes running the devices (default
    one per device); ``device_dir``: where the device databases go ("auto": :func:`default_device_dir`;
    None: the run's folder); ``keep``: leave the run's folders (databases, logs) in place."""
    if devices < 1 or sales < 1 or rate < 0 or catchup_sales < 0:
        raise ValueError("devices and sales must be at least 1; rate and catch-up sales not negative")
    folder = Path(tempfile.mkdtemp(prefix="tillsight-bench-sync-"))
    base = default_device_dir() if device_dir == "auto" else (Path(device_dir) if device_dir else None)
    device_folder = Path(tempfile.mkdtemp(prefix="tillsight-bench-devices-", dir=base or folder))
    try:
        figures = _run(folder, device_folder, devices, sales, rate, catchup_sales,
                       database_url or f"sqlite:///{folder / 'hub.db'}", warmup_s, batch_max, device_processes)
    finally:
        if not keep:
            shutil.rmtree(device_folder, ignore_errors=True)
            shutil.rmtree(folder, ignore_errors=True)
    figures["device_storage"] = str(base or "disk (the run folder)")
    if keep:
        figures["folders"] = [str(folder), str(device_folder)]
    return figures


def _run(folder: Path, device_folder: Path, devices: int, sales: int, rate: float, catchup_sales: int, url: str,
         warmup_s: float, batch_max: int | None, device_processes: int | None) -> dict[str, Any]:
    from analytics.broker import registry
    from analytics.db import make_engine, migrate
    from analytics.ingest import IngestWorker
    from benchmarks import sync_fleet, sync_hub
    from benchmarks.mosquitto import BenchBroker
    from firmware_config.schema import HubConfig, MqttConfig

    store_id = f"bench-{uuid.uuid4().hex[:8]}"  # this run's sales, whatever else the database holds
    hub_cfg = HubConfig(database_url=url, ingest_group="bench",
                        **({"ingest_batch_max": batch_max} if batch_max else {}))
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as conn:  # the hub stores only what registered devices send
            for k in range(devices):
                registry.add_device(conn, store_id, f"till-{k + 1}", note="bench")
        reference = sync_hub.reference_insert_rate(engine, hub_cfg.ingest_batch_max)
        commits = sync_hub.CommitLog(store_id)
        broker = BenchBroker(folder / "broker").start()
        worker = IngestWorker(url, MqttConfig(host=broker.host, port=broker.port), group="bench",
                              client_id=f"hub-{store_id}", settings=hub_cfg, engine=engine, on_commit=commits)
        plans = sync_fleet.plans(folder, device_folder, broker.host, broker.port, store_id, devices, sales, rate,
                                 catchup_sales, device_processes)
        fleet = sync_fleet.Fleet(plans, folder)
        try:
            worker.start()
            if not worker.ready.wait(30):  # connected, and its shared subscriptions granted (SUBACK)
                raise RuntimeError("the hub ingest could not subscribe at the benchmark broker")
            fleet.start()
            fleet.release("steady")
            steady_start = sync_hub.HubMark.take(worker)
            if catchup_sales:
                fleet.wait_ready("catchup", plans[0].drain_timeout_s + 600)
                commits.wait_idle()
                steady_end = sync_hub.HubMark.take(worker)
                fleet.release("catchup")
            result = fleet.wait(plans[0].drain_timeout_s * 2 + 900)
            made = {tx for d in result["devices"] for tx in sync_fleet.device_sales(d["store_path"])}
            commits.wait_for(len(made), 60)
            end = sync_hub.HubMark.take(worker)
            if not catchup_sales:
                steady_end = end
            time.sleep(SETTLE_S)  # a re-delivery would land now
        finally:
            fleet.kill()
            worker.stop()
            broker.stop()
        rows, at_hub = sync_hub.hub_sales(engine, store_id)
        figures = _figures(result, commits, made, warmup_s)
        figures.update({
            "lost": len(made - at_hub),
            "duplicated": (rows - len(at_hub)) + commits.stored_twice,
            "unknown_at_hub": len(at_hub - made),
            "redelivered": commits.redelivered,
            "hub_database": engine.dialect.name,
            "hub_open_gaps": sync_hub.open_gaps(engine, store_id),
            "hub_dead_letters": commits.dead,
            "hub_steady": steady_end.since(steady_start),
            "reference_raw_insert_tx_per_s": round(reference, 1),
        })
        if catchup_sales:
            figures["hub_catchup"] = end.since(steady_end)
            writer = figures["hub_catchup"]["writer_tx_per_busy_s"]
            figures["catchup_over_raw_insert"] = (round(figures["catchup_tx_per_s"] / reference, 3)
                                                  if figures["catchup_tx_per_s"] else None)
            figures["writer_over_raw_insert"] = round(writer / reference, 3) if writer else None
        return figures
    finally:
        engine.dispose()


def _figures(result: dict[str, Any], commits: Any, made: set[str], warmup_s: float) -> dict[str, Any]:
    completed = sorted((at, tx) for d in result["devices"] for tx, at in d["completed"])
    first, last = (completed[0][0], completed[-1][0]) if completed else (0.0, 0.0)
    start = first + warmup_s
    if last - start < 1.0:  # a short run: measure over all of it
        start = first
    span = max(last - start, 1e-9)
    window = [(at, tx) for at, tx in completed if start <= at <= last and tx in commits.committed_at]
    committed = commits.committed_at
    stored_in_window = sum(1 for c in committed.values() if start <= c <= last)
    steady_commits = [committed[tx] for _, tx in completed if tx in committed]
    out: dict[str, Any] = {
        "bench": "sync",
        "devices": len(result["devices"]),
        "sales_recorded": len(made),
        "offered_tx_per_s": round(result["rate_per_device"] * len(result["devices"]), 1),
        "recorded_tx_per_s": round(sum(1 for at, _ in completed if start <= at <= last) / span, 1),
        "stored_tx_per_s": round(stored_in_window / span, 1),
        "window_s": round(span, 2),
        "latency_ms": _summary([(committed[tx] - at) * 1000 for at, tx in window]),
        # completion -> the hub's MQTT client has it (device store, agent, broker)
        "device_to_hub_ms": _summary([(commits.received_at[tx] - at) * 1000 for at, tx in window]),
        # the hub's queue, contract check, storing and commit
        "hub_receive_to_commit_ms": _summary([(committed[tx] - commits.received_at[tx]) * 1000 for _, tx in window]),
        "drain_s": round(max(steady_commits) - last, 2) if steady_commits else None,
        "device_errors": [d["error"] for d in result["devices"] if d["error"]],
        "device_backlog_left": sum(d["backlog_left"] for d in result["devices"]),
        "device_cpu_s": result["cpu_s"],  # the device processes, steady phase (recording and sending)
        "agents_published": sum(d["published"] for d in result["devices"]),
    }
    backlog = [tx for d in result["devices"] for tx, _ in d["backlog"]]
    if backlog:
        go = result["catchup"]["started_at"]
        times = [committed[tx] for tx in backlog if tx in committed]
        out["catchup_sales"] = len(backlog)
        out["catchup_tx_per_s"] = round(len(times) / (max(times) - go), 1) if times else None
    return out
