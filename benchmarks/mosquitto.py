"""A throwaway Mosquitto broker for benchmarks: a generated config on a free loopback port, anonymous,
persistence in a temporary folder, started as a child process and stopped with SIGTERM."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

MOSQUITTO_BIN = os.environ.get("TILLSIGHT_MOSQUITTO", "/usr/sbin/mosquitto")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str:
    """The broker executable; RuntimeError naming the fix when there is none."""
    if Path(MOSQUITTO_BIN).is_file():
        return MOSQUITTO_BIN
    found = shutil.which("mosquitto")
    if found:
        return found
    raise RuntimeError(f"mosquitto not found at {MOSQUITTO_BIN} or on PATH: apt-get install mosquitto"
                       " (or set TILLSIGHT_MOSQUITTO)")


class BenchBroker:
    """``with BenchBroker(folder) as broker:`` a running broker at ``broker.host:broker.port``."""

    host = "127.0.0.1"

    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.port = free_port()
        self.log_path = self.dir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def config_text(self) -> str:
        return "\n".join([
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "autosave_interval 5",
            "max_queued_messages 1000000",
            "max_inflight_messages 1000",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
        ]) + "\n"

    def start(self, timeout_s: float = 10.0) -> BenchBroker:
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "mosquitto.conf"
        config.write_text(self.config_text())
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    log.info("mosquitto pid %s on %s:%s", self.proc.pid, self.host, self.port)
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"mosquitto not listening on {self.port} after {timeout_s}s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> BenchBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
