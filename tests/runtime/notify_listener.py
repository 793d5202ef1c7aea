"""A stand-in for systemd's notify socket (a unix datagram socket bound here, as systemd binds
/run/systemd/notify), and the fixtures that make one, for every test of a ``Type=notify`` process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO


class NotifyListener:
    """A stand-in for systemd's notify socket: records every datagram with its arrival time."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def env_value(self) -> str:
        return "@" + self.address[1:] if self.address.startswith("\0") else self.address

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def snapshot(self) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return list(self.messages)

    def times(self, key: str, value: str = "1", after: float = 0.0) -> list[float]:
        return [t for t, f in self.snapshot() if f.get(key) == value and t >= after]

    def statuses(self) -> list[str]:
        return [f["STATUS"] for _, f in self.snapshot() if "STATUS" in f]

    def wait_for(self, what: Callable[[], bool], timeout_s: float, why: str,
                 proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if what():
                return
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
        pytest.fail(f"{why} (messages: {self.snapshot()[-10:]})\n{tail}")

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


@pytest.fixture(name="short_dir")
def short_dir_fixture() -> Iterator[Path]:
    # AF_UNIX paths are limited to 108 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="ts-notify-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(name="listener")
def listener_fixture(short_dir: Path) -> Iterator[NotifyListener]:
    lst = NotifyListener(str(short_dir / "notify.sock"))
    yield lst
    lst.close()


def notify_env(listener: NotifyListener, watchdog_usec: int) -> dict[str, str]:
    """The environment systemd gives a ``Type=notify`` unit with ``WatchdogSec``, for a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", NOTIFY_SOCKET=listener.env_value,
               WATCHDOG_USEC=str(watchdog_usec))
    return env
