"""The demo's supervisor restarts a crashed child as its systemd unit would (issue 26), with real child
processes killed with SIGKILL: the rest of the stack keeps running, the appliance's output is relayed
again, a clean exit or a configuration error (status 2) is not restarted, and too many starts in the
start-limit interval give up."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tillsight_cli import demo_stack
from tillsight_cli.demo_stack import Child, DemoStack, RestartPolicy, exit_text

# prints what the real appliance prints once it serves, then serves (sleeps) until killed
FAKE_APPLIANCE = ("import os, time; print('  Cashier screen:   http://127.0.0.1:1/till pid', os.getpid(), flush=True);"
                  " print('  Demo logins: ...', flush=True); time.sleep(120)")
SLEEPER = "import time; time.sleep(120)"


def test_the_policy_is_systemds_on_failure_with_a_start_limit():
    policy = RestartPolicy(interval_s=60, burst=3)
    assert policy.decide(0, 0.0) == "done"  # a clean exit is not a failure
    assert policy.decide(2, 0.0) == "give_up"  # a configuration error: starting again cannot help
    for t in (0.0, 1.0, 2.0):
        assert policy.decide(-9, t) == "restart"
        policy.started(t)
    assert policy.decide(1, 3.0) == "give_up"  # three starts within a minute
    assert policy.decide(1, 61.5) == "restart"  # the oldest start is out of the interval
    assert exit_text(-signal.SIGKILL) == "killed by SIGKILL" and exit_text(1) == "status 1"


def _wait(cond: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {timeout} s: {what}")


def _named(stack: DemoStack, name: str) -> Child:
    """The child called ``name`` now (the supervisor swaps a restarted one in from its own thread)."""
    for _ in range(100):
        found = [c for c in list(stack.children) if c.name == name]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no child {name!r}")


def test_a_killed_child_is_restarted_and_the_stack_keeps_running(tmp_path: Path, monkeypatch, capfd):
    monkeypatch.setattr(demo_stack, "RESTART_SEC", 0.3)
    stack = DemoStack(argparse.Namespace(data_dir=str(tmp_path)))
    stack.logs.mkdir(parents=True)
    monkeypatch.setattr(stack, "_after_appliance", lambda device_cfg, hub_lines: True)
    appliance = stack._start("appliance", [sys.executable, "-c", FAKE_APPLIANCE], None, stdout_pipe=True,
                             policy=RestartPolicy(burst=3))
    stack._start("hub ingest", [sys.executable, "-c", SLEEPER], "hub-ingest.log")
    stack._start("broken", [sys.executable, "-c", "raise SystemExit(2)"], "broken.log")
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.update(code=stack._supervise(appliance, tmp_path / "d.yaml", [])))
    thread.start()
    try:
        # a hub process is killed: it is started again, the appliance is left alone
        ingest = _named(stack, "hub ingest").proc.pid
        os.kill(ingest, signal.SIGKILL)
        _wait(lambda: _named(stack, "hub ingest").proc.pid != ingest and _named(stack, "hub ingest").alive(),
              "the hub ingest restarted")
        assert appliance.alive() and appliance in stack.children
        assert _named(stack, "broken").proc.returncode == 2  # a configuration error is not restarted
        # the appliance is killed: started again, its output relayed again, the demo still running
        first = appliance.proc.pid
        os.kill(first, signal.SIGKILL)
        _wait(lambda: _named(stack, "appliance").proc.pid != first and _named(stack, "appliance").alive(),
              "the appliance restarted")
        second = _named(stack, "appliance").proc.pid
        _wait(lambda: f"pid {second}" in capfd.readouterr().out, "the new appliance's URLs relayed")
        assert thread.is_alive()
        # the third start within the interval was the last: killed again, the demo gives up and stops
        os.kill(second, signal.SIGKILL)
        _wait(lambda: _named(stack, "appliance").proc.pid != second and _named(stack, "appliance").alive(),
              "the appliance restarted a second time")
        os.kill(_named(stack, "appliance").proc.pid, signal.SIGKILL)
        thread.join(20)
        assert not thread.is_alive() and result["code"] == -signal.SIGKILL
    finally:
        stack.stop_signal = signal.SIGTERM
        thread.join(20)
        stack._stop_all()
