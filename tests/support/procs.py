"""Run the sync agent and the ingest worker as real processes (so tests can SIGKILL them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Proc:
    def __init__(self, args: list[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def terminate(self, timeout_s: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
        self._log.close()
        return rc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def ingest_process(config: Path, client_id: str, log_path: Path) -> Proc:
    return Proc(["-m", "analytics.ingest", "--config", str(config), "--client-id", client_id], log_path)


def agent_process(config: Path, log_path: Path) -> Proc:
    return Proc(["-m", "edge.sync", "--config", str(config)], log_path)
