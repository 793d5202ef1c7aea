"""``tillsight bench sync``: the device -> broker -> hub benchmark (``benchmarks/sync_bench.py``).

Prints the figures, the JSON line last; exits 1 if a sale was lost or duplicated, 2 if the
benchmark could not run (no mosquitto, a database it cannot reach, devices that failed)."""

from __future__ import annotations

import argparse
import json
import sys


def bench_sync(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from benchmarks.sync_bench import run_sync_bench

    try:
        f = run_sync_bench(devices=args.devices, sales=args.sales, rate=args.rate, catchup_sales=args.catchup_sales,
                           database_url=args.database_url, warmup_s=args.warmup,
                           device_processes=args.device_processes, keep=args.keep)
    except (RuntimeError, ValueError, OSError, SQLAlchemyError) as exc:
        sys.stderr.write(f"tillsight bench sync: {getattr(exc, 'orig', None) or exc}\n")
        return 2
    if not args.json:
        lat = f["latency_ms"]
        sys.stdout.write(
            f"{f['devices']} devices, {f['hub_database']} hub: stored {f['stored_tx_per_s']} tx/s"
            f" (offered {f['offered_tx_per_s']}, recorded {f['recorded_tx_per_s']});"
            f" sale -> hub commit p50 {lat['p50']} ms, p99 {lat['p99']} ms;"
            f" lost {f['lost']}, duplicated {f['duplicated']}\n")
        if "catchup_tx_per_s" in f:
            sys.stdout.write(f"catch-up of {f['catchup_sales']} offline sales: {f['catchup_tx_per_s']} tx/s"
                             f" (raw insert reference {f['reference_raw_insert_tx_per_s']} tx/s)\n")
        sys.stdout.write(f"hub CPU per stored sale: {f['hub_steady']['cpu_ms_per_tx']} ms (steady)\n")
    sys.stdout.write(json.dumps(f, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 1 if f["lost"] or f["duplicated"] else 0
