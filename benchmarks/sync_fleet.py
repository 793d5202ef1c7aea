"""The benchmark's side of the simulated fleet (``benchmarks/sync_devices.py``): one plan per device
process, starting them, the start signals of each phase, waiting for them, reading their results."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.sync_devices import FleetPlan

REPO = Path(__file__).resolve().parents[1]
START_DELAY_S = 0.2  # between the start signal and the start moment it names


def split(devices: int, procs: int) -> list[tuple[int, int]]:
    """(first device, count) for each process, as even as can be."""
    out, first = [], 0
    for k in range(procs):
        count = devices // procs + (1 if k < devices % procs else 0)
        out.append((first, count))
        first += count
    return out


def plans(folder: Path, device_folder: Path, host: str, port: int, store_id: str, devices: int, sales: int,
          rate: float, catchup_sales: int, processes: int | None = None) -> list[FleetPlan]:
    """``rate`` is the offered rate of all devices together (0: as fast as they can)."""
    per_device_rate = rate / devices
    expected_s = sales / per_device_rate if per_device_rate > 0 else sales / 100
    procs = max(1, min(devices, processes or devices))
    (folder / "signals").mkdir(parents=True, exist_ok=True)
    return [FleetPlan(name=f"fleet-{k}", folder=str(device_folder), signal_dir=str(folder / "signals"),
                      result_path=str(folder / f"fleet-{k}.json"), host=host, port=port, store_id=store_id,
                      first_device=first, devices=count, sales=sales, rate=per_device_rate,
                      catchup_sales=catchup_sales, drain_timeout_s=max(60.0, 2 * expected_s))
            for k, (first, count) in enumerate(split(devices, procs))]


class Fleet:
    """The device processes of one run (output in ``fleet.log`` beside the plans)."""

    def __init__(self, plans: list[FleetPlan], folder: Path) -> None:
        self.plans = plans
        self.folder = folder
        self.signals = Path(plans[0].signal_dir)
        self.log_path = folder / "fleet.log"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> Fleet:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        with open(self.log_path, "ab") as logf:
            for plan in self.plans:
                plan_path = self.folder / f"{plan.name}-plan.json"
                plan_path.write_text(json.dumps(asdict(plan)))
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.sync_devices", str(plan_path)], cwd=REPO, env=env,
                    stdout=logf, stderr=subprocess.STDOUT))
        return self

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def wait_ready(self, phase: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all((self.signals / f"{p.name}.{phase}.ready").exists() for p in self.plans):
            if any(proc.poll() is not None for proc in self.procs):
                raise RuntimeError(f"the simulated devices failed before the {phase} phase:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the simulated devices were not ready for the {phase} phase after"
                                   f" {timeout_s:.0f} s")
            time.sleep(0.02)

    def release(self, phase: str, timeout_s: float = 180.0) -> float:
        """Once every process is ready for ``phase``, start them all at one moment (returned)."""
        self.wait_ready(phase, timeout_s)
        at = time.time() + START_DELAY_S
        tmp = self.signals / f"go.{phase}.tmp"
        tmp.write_text(repr(at))
        tmp.replace(self.signals / f"go.{phase}")  # readers see all of it or nothing
        return at

    def wait(self, timeout_s: float) -> dict[str, Any]:
        """Wait for every process to finish; their results merged."""
        deadline = time.monotonic() + timeout_s
        for proc in self.procs:
            try:
                rc = proc.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"the simulated devices did not finish in {timeout_s:.0f} s") from None
            if rc != 0:
                raise RuntimeError(f"the simulated devices failed (exit code {rc}):\n{self.log_tail()}")
        results = [json.loads(Path(p.result_path).read_text()) for p in self.plans]
        return {"rate_per_device": self.plans[0].rate,
                "cpu_s": round(sum(r["steady_cpu_s"] for r in results), 3),
                "catchup": results[0]["catchup"],
                "devices": [d for r in results for d in r["devices"]]}

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def device_sales(store_path: str) -> set[str]:
    """What a device itself recorded (its database, read-only): the truth ``lost`` is counted against."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT tx_id FROM sales")}
    finally:
        conn.close()
