"""A real Mosquitto broker for tests: a generated config on a free loopback port, persistence in a
temporary folder (so QoS 1 messages queued for persistent sessions survive a restart), and
start / stop (SIGTERM) / kill (SIGKILL) / restart."""

from __future__ import annotations

import getpass
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MOSQUITTO_BIN = os.environ.get("TILLSIGHT_MOSQUITTO", "/usr/sbin/mosquitto")


def mosquitto_available() -> bool:
    return Path(MOSQUITTO_BIN).is_file() or shutil.which("mosquitto") is not None


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A loopback port that is free now and lies outside the kernel's ephemeral range.

    Servers the tests stop and restart on the same port (the broker in the fault tests) must not sit
    in the ephemeral range: while the server is down, a client retrying ``connect`` to that port can be
    given the very same port as its own source port and connect to itself (TCP simultaneous open),
    holding the port so the restarted server fails with "Address already in use"."""
    low, high = _ephemeral_range()
    candidates = [port for port in range(20000, 60000) if not low <= port <= high]
    for _ in range(200):
        port = random.choice(candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port outside the ephemeral range")


@dataclass(frozen=True)
class BrokerTls:
    """Server certificate and key; with ``require_certificate`` clients must present one signed by the CA."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = False


class MosquittoBroker:
    """One broker process.  ``acl`` and ``passwords`` are paths to a Mosquitto ACL file and password
    file; with ``passwords`` set, anonymous clients are refused."""

    def __init__(self, tmp_dir: Path, port: int | None = None, acl: Path | None = None,
                 passwords: Path | None = None, tls: BrokerTls | None = None,
                 autosave_interval_s: int = 1) -> None:
        self.dir = Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.acl = acl
        self.passwords = passwords
        self.tls = tls
        self.autosave_interval_s = autosave_interval_s
        self.config_path = self.dir / "mosquitto.conf"
        self.log_path = self.dir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.passwords else 'true'}",
            # Started as root, Mosquitto drops to the "mosquitto" user, which cannot write the
            # test's temporary folder: stay the user we are, so persistence really works.
            *([f"user {getpass.getuser()}"] if os.geteuid() == 0 else []),
            "persistence true",
            f"persistence_location {self.dir}/",
            "persistence_file mosquitto.db",
            f"autosave_interval {self.autosave_interval_s}",
            "max_queued_messages 1000000",
            "max_inflight_messages 1000",
            "persistent_client_expiration 1d",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
        ]
        if self.passwords:
            lines.append(f"password_file {self.passwords}")
        if self.acl:
            lines.append(f"acl_file {self.acl}")
        if self.tls:
            lines += [f"cafile {self.tls.ca_file}", f"certfile {self.tls.cert_file}",
                      f"keyfile {self.tls.key_file}",
                      f"require_certificate {'true' if self.tls.require_certificate else 'false'}"]
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("broker already running")
        self.config_path.write_text(self.config_text())
        binary = MOSQUITTO_BIN if Path(MOSQUITTO_BIN).is_file() else (shutil.which("mosquitto") or MOSQUITTO_BIN)
        self.proc = subprocess.Popen([binary, "-c", str(self.config_path)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.wait_ready(timeout_s)
        log.info("mosquitto pid %s listening on %s:%s", self.proc.pid, self.host, self.port)
        return self

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc and self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err.strip()} (log: {self.log_tail()})")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"mosquitto not listening on {self.port} after {timeout_s}s")

    def _end(self, sig: signal.Signals, timeout_s: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout_s)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its persistence file and exits."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: no chance to save; only what the last autosave wrote survives."""
        self._end(signal.SIGKILL)

    def restart(self, hard: bool = False) -> None:
        self.kill() if hard else self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
