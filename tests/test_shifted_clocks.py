"""The date-sensitive part of the suite passes whatever the date: it runs again, in child pytest
sessions, with the wall clock moved (``TILLSIGHT_TEST_CLOCK``, honoured by tests/conftest.py) to
dates chosen to hit the edges.  A test that reads the real clock where a given time was meant (a
report "as of" today, a seeded history ending now, a forecast for the store's today) fails here on
one of them.

The store in these tests keeps ``America/Santo_Domingo`` time (UTC-4, no daylight saving), so the
clocks are also chosen where the store's day and the UTC day differ.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.conftest import CLOCK_ENV, REPO, shifted_clock

log = logging.getLogger(__name__)

CLOCKS = {
    # Thursday 31 December 23:30 in the store: the year's last evening, already 2027 in UTC
    "year end": "2027-01-01T03:30:00Z",
    # Monday 1 March 00:05 in the store, just after midnight; February (28 days) has just ended
    "after store-local midnight, month end": "2027-03-01T04:05:00Z",
    # Tuesday 29 February 2028, midday in the store
    "leap day": "2028-02-29T16:00:00Z",
    # Sunday 3 January 10:00 in the store: the shop's short day (and shut in the hub's seeded shop)
    "a Sunday": "2027-01-03T14:00:00Z",
}

# What reads dates: seeding and history, the store's reports and dashboard, shift reports, the hub's
# credit book and collection messages, forecasting, the morning insights (and the CLI that writes
# them), narratives, the assistant's date phrases.  PostgreSQL variants are left out: the same code
# answers on SQLite, and a cluster per clock would cost more than the rest together.
MODULES = (
    "tests/edge/demo/test_seed.py",
    "tests/edge/demo/test_history.py",
    "tests/edge/store/test_reports.py",
    "tests/edge/store/test_credit_events.py",
    "tests/edge/web/test_dashboard.py",
    "tests/edge/web/test_dashboard_narrative.py",
    "tests/edge/web/test_shifts.py",
    "tests/analytics/credit/test_history.py",
    "tests/analytics/credit/test_messages.py",
    "tests/analytics/forecasting/test_forecasting.py",
    "tests/analytics/jobs/test_jobs.py",
    "tests/analytics/narratives/test_narrative.py",
    "tests/analytics/assistant/test_dates_products.py",
    "tests/analytics/web/test_insights_page.py",
)
# slow for what they check here: the contract of every payload and a speed figure need no other clock
DESELECT = "not postgresql and not test_payloads_match_the_contract and not test_it_is_fast"


@dataclass(frozen=True)
class ClockRun:
    name: str
    clock: str
    returncode: int
    output: str


def run_at(name: str, clock: str) -> ClockRun:
    env = {**os.environ, CLOCK_ENV: clock}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "not slow", "-k", DESELECT,
           *MODULES]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    log.info("%s (%s): exit %d", name, clock, done.returncode)
    return ClockRun(name, clock, done.returncode, done.stdout + done.stderr)


def test_the_clocks_are_the_edges_they_claim() -> None:
    from zoneinfo import ZoneInfo

    local = {name: shifted_clock(at).astimezone(ZoneInfo("America/Santo_Domingo")) for name, at in CLOCKS.items()}
    assert (local["year end"].month, local["year end"].day, shifted_clock(CLOCKS["year end"]).year) == (12, 31, 2027)
    midnight = local["after store-local midnight, month end"]
    assert (midnight.month, midnight.day, midnight.hour) == (3, 1, 0)
    assert (local["leap day"].month, local["leap day"].day) == (2, 29)
    assert local["a Sunday"].strftime("%A") == "Sunday"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 3 minutes on an idle 2-core machine; far more on a busy one
def test_the_date_sensitive_tests_pass_under_shifted_clocks() -> None:
    workers = max(1, min(len(CLOCKS), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(lambda item: run_at(*item), CLOCKS.items()))
    for run in runs:
        # the child really ran with the clock moved, and ran tests (not a vacuous pass)
        assert f"wall clock moved to {shifted_clock(run.clock).isoformat()}" in run.output, run.output[-3000:]
        assert " passed" in run.output, run.output[-3000:]
    failed = [run for run in runs if run.returncode != 0]
    assert not failed, "\n\n".join(f"---- {run.name} ({run.clock}): exit {run.returncode}\n{run.output[-6000:]}"
                                   for run in failed)
