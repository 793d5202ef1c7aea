"""Child process for the crash tests: records one sale and stops (sleeps) at a chosen point.

usage: python -m tests.edge.store.crash_writer DB_PATH STAGE   (STAGE: written | committed)
Prints ``READY <tx_id>`` when it reached the stage, then sleeps until killed.
"""

from __future__ import annotations

import sys
import time

from edge.store import Store
from tests.edge.checkout.helpers import quick_sale


def main() -> None:
    path, stage = sys.argv[1], sys.argv[2]
    store = Store(path)
    sale = quick_sale(store, "RICE-LG-5LB", "OIL-SOL-1L", "OIL-SOL-1L")

    def hook(reached: str) -> None:
        if reached == stage:
            sys.stdout.write(f"READY {sale.tx_id}\n")
            sys.stdout.flush()
            time.sleep(600)

    store.sales.fault_hook = hook
    store.sales.record(sale)


if __name__ == "__main__":
    main()
