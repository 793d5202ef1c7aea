"""The real appliance (``tillsight demo --no-hub ...``), killed with SIGKILL right after it has committed
a sale and before it answers the screen, once, when the flag file named by ``TILLSIGHT_TEST_KILL_FLAG``
exists: the moment a till dies "during payment" with the sale already saved.  Used by
``test_payment_crash.py``; without the flag file it is the plain appliance."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from edge.store.records import SaleRecord
from edge.store.sales import Sales

_record = Sales.record


def _record_then_die(self: Sales, rec: SaleRecord, raise_alert_for: bool = False) -> SaleRecord:
    stored = _record(self, rec, raise_alert_for)
    flag = Path(os.environ.get("TILLSIGHT_TEST_KILL_FLAG", "/nonexistent"))
    if stored.status == "completed" and flag.exists():
        flag.unlink()
        os.kill(os.getpid(), signal.SIGKILL)  # committed, never answered
    return stored


Sales.record = _record_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    from tillsight_cli.main import main

    sys.exit(main(sys.argv[1:]))
