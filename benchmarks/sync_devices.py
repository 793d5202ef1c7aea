"""The simulated fleet of ``tillsight bench sync``, in processes of their own so that the devices'
CPU is neither counted as the hub's nor held back by one interpreter's lock:
``python -m benchmarks.sync_devices PLAN.json`` runs the devices one plan names.

Each device is what a till runs: a seeded device :class:`~edge.store.Store` (demo catalogue, staff)
and a real :class:`~edge.sync.SyncAgent` publishing its outbox over MQTT.  Sales go through the
store's normal path (``Sales.record``: checks, the ``tillsight.tx/1`` contract, one atomic write
with the outbox row), and the wall-clock moment each one was committed is noted.

Two phases, each started by the benchmark for every process at once (a handshake through files in
``FleetPlan.signal_dir``: the process creates ``{name}.{phase}.ready`` and waits for ``go.{phase}``,
which holds the wall-clock start):

* ``steady``: with the agents connected, a recorder thread per device completes ``sales`` sales at
  ``rate`` per second; then the outboxes drain and the agents stop;
* ``catchup`` (when ``catchup_sales`` > 0): with the agents stopped (the shop is offline), each device
  records ``catchup_sales`` more; at the start signal new agents connect and send the backlog.

The notes go to ``FleetPlan.result_path`` as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30.0
GO_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class FleetPlan:
    name: str  # this process, e.g. "fleet-0"
    folder: str  # device folders go here
    signal_dir: str
    result_path: str
    host: str
    port: int
    store_id: str
    first_device: int  # devices till-{first_device + 1} ... of this process
    devices: int  # how many in this process
    sales: int  # per device, steady phase
    rate: float  # sales per second per device; 0 = as fast as the device can
    catchup_sales: int  # per device, recorded offline then sent at once; 0 = no catch-up phase
    drain_timeout_s: float
    telemetry_interval_s: float = 5.0
    # The devices stand in for other machines: at a lower priority they take only the CPU the hub
    # and the broker leave, instead of an equal share of it.
    nice: int = 10


@dataclass
class _Device:
    device_id: str
    cfg: Any  # firmware_config.TillsightConfig
    store: Any  # edge.store.Store
    template: Any  # edge.store.records.SaleRecord
    agent: Any = None  # edge.sync.SyncAgent
    completed: list[tuple[str, float]] = field(default_factory=list)  # steady phase: (tx_id, wall clock)
    backlog: list[tuple[str, float]] = field(default_factory=list)  # catch-up phase
    published: int = 0
    error: str | None = None


def _template_sale(store: Any, store_id: str, device_id: str) -> Any:
    """A cash sale of three catalogue products, paid exactly (as a cashier would complete it)."""
    from edge.checkout.session import CheckoutSession, PaymentPart
    from vision.basket import BasketItem, BasketSnapshot

    settings = store.settings.get()
    session = CheckoutSession(store_id, device_id, settings.currency, settings.tax_rate_bp,
                              lookup=store.products.find)
    session.start(store.users.get("ana"))
    skus = [p.sku for p in store.products.list()][:3]
    items = tuple(BasketItem(track_id=i + 1, sku=sku, confidence=0.9, box=(10.0 * i, 0.0, 10.0 * i + 8, 8.0),
                             alternatives=(), source="vision") for i, sku in enumerate(skus))
    session.apply_basket(BasketSnapshot(items=items, settled=True, events=(), frame_index=1))
    total = session.to_payment().total
    return session.pay([PaymentPart("cash", total, total)])


def _device(plan: FleetPlan, index: int) -> _Device:
    from edge.demo.seed import seed_store
    from edge.store import Store
    from firmware_config import load_config

    device_id = f"till-{index + 1}"
    folder = Path(plan.folder) / device_id
    cfg = load_config(None, env={}, overrides={
        "store": {"store_id": plan.store_id, "device_id": device_id},
        "mqtt": {"host": plan.host, "port": plan.port, "client_id": f"{plan.store_id}-{device_id}",
                 "telemetry_interval_s": plan.telemetry_interval_s, "backlog_alert_count": 10_000_000,
                 "reconnect_min_s": 0.2, "reconnect_max_s": 2.0},
        "data_dir": str(folder)})
    store = Store(folder / "store.db")
    seed_store(store)
    return _Device(device_id, cfg, store, _template_sale(store, plan.store_id, device_id))


def _sell(dev: _Device, n: int, rate: float, start: float, into: list[tuple[str, float]]) -> None:
    """Complete ``n`` sales from ``start`` on, the k-th not before ``start + k / rate`` (0: unpaced)."""
    from edge.store.database import utc_now

    try:
        time.sleep(max(0.0, start - time.time()))
        for k in range(n):
            if rate > 0:
                delay = start + k / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            now = utc_now()
            rec = replace(dev.template, tx_id=str(uuid.uuid4()), started_at=now, completed_at=now)
            dev.store.sales.record(rec)
            into.append((rec.tx_id, time.time()))
    except Exception as exc:  # reported in the result, the run goes on
        log.exception("device %s stopped recording", dev.device_id)
        dev.error = f"{type(exc).__name__}: {exc}"


def _handshake(plan: FleetPlan, phase: str) -> float:
    """Say this process is ready for ``phase``; return the start moment once the benchmark gives it."""
    signals = Path(plan.signal_dir)
    (signals / f"{plan.name}.{phase}.ready").touch()
    go = signals / f"go.{phase}"
    deadline = time.monotonic() + GO_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            return float(go.read_text())
        except (OSError, ValueError):  # not there yet
            time.sleep(0.01)
    raise RuntimeError(f"no start signal ({go}) after {GO_TIMEOUT_S:.0f} s")


def _connect(plan: FleetPlan, devices: list[_Device]) -> None:
    from edge.sync import SyncAgent

    for d in devices:
        d.agent = SyncAgent(d.store, d.cfg)
        d.agent.start()
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    for d in devices:
        if not d.agent.connected.wait(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"device {d.device_id} could not connect to {plan.host}:{plan.port}")


def _drain_and_stop(plan: FleetPlan, devices: list[_Device]) -> float:
    deadline = time.monotonic() + plan.drain_timeout_s
    while time.monotonic() < deadline and any(d.store.outbox.backlog() for d in devices):
        time.sleep(0.05)
    drained_at = time.time()
    for d in devices:
        d.agent.stop()
        d.published += d.agent.published
    return drained_at


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_fleet(plan: FleetPlan) -> None:
    """Seed, connect, run the phases, write the result."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s fleet %(name)s: %(message)s")
    if plan.nice:
        os.nice(plan.nice)
    devices = [_device(plan, plan.first_device + i) for i in range(plan.devices)]
    _connect(plan, devices)
    start = _handshake(plan, "steady")
    cpu0 = _cpu_s()
    recorders = [threading.Thread(target=_sell, args=(d, plan.sales, plan.rate, start, d.completed),
                                  name=f"record-{d.device_id}") for d in devices]
    for r in recorders:
        r.start()
    for r in recorders:
        r.join()
    steady_cpu_s = _cpu_s() - cpu0
    drained_at = _drain_and_stop(plan, devices)
    catchup: dict[str, Any] = {}
    if plan.catchup_sales > 0:
        for d in devices:  # offline: nothing is sent while these are recorded
            _sell(d, plan.catchup_sales, 0.0, time.time(), d.backlog)
        catchup["started_at"] = _handshake(plan, "catchup")
        time.sleep(max(0.0, catchup["started_at"] - time.time()))
        _connect(plan, devices)
        catchup["drained_at"] = _drain_and_stop(plan, devices)
    result = {
        "plan": asdict(plan), "drained_at": drained_at, "steady_cpu_s": round(steady_cpu_s, 3), "catchup": catchup,
        "devices": [{"device_id": d.device_id, "store_path": str(d.store.db.path), "completed": d.completed,
                     "backlog": d.backlog, "error": d.error, "backlog_left": d.store.outbox.backlog(),
                     "published": d.published} for d in devices],
    }
    for d in devices:
        d.store.close()
    Path(plan.result_path).write_text(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m benchmarks.sync_devices PLAN.json\n")
        return 2
    run_fleet(FleetPlan(**json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
