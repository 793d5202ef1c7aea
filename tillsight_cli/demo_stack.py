"""``tillsight demo`` (``make demo``): the appliance and, beside it on localhost, the hub.

Started as child processes of this one, in this order, each logging to ``{data_dir}/logs/``
(``var/demo/logs/`` by default):

1. a Mosquitto broker on a free loopback port, run as production runs it (``analytics.broker.demo``:
   no anonymous clients, per-device credentials and the ACL from the hub's device registry;
   persistence, password file and ACL in ``{data_dir}/hub/broker``);
2. the hub ingest (``tillsight hub ingest``) into ``{data_dir}/hub/hub.db``;
3. the hub web app (``tillsight hub web``) with a demo operator and a demo store owner;
4. the appliance (``tillsight demo --no-hub``: synthetic camera, demo catalogue, seeded store);
   its stdout (the URLs) comes through this process, its log goes to the terminal as before;
5. the appliance's sync agent (``tillsight sync run``), once the appliance's store is ready;
6. the hub's analytics (``tillsight hub jobs --publish``), once the till's history has reached the
   hub (no new sale stored for a while), then again every 15 minutes, as a nightly timer would:
   the Trend, Customers, Products, Insights and Credit pages fill and the till gets its insights.

Then the hub's URL and logins are printed after the appliance's.  A child that dies (a crash, a
``kill -9``) is restarted as its systemd unit would restart it (``Restart=on-failure``, after
``RESTART_SEC``, at most ``START_LIMIT_BURST`` starts in ``START_LIMIT_INTERVAL_S``, never after exit
status 2, a configuration error): the rest of the stack keeps running, and the till's screen reconnects.
Only when the appliance gives up for good does the demo stop.  Ctrl-C or SIGTERM stops every
child (newest first).  When Mosquitto or the hub's Python packages are missing, the appliance runs
alone and the output says why.

The CLI may import both sides; the appliance and the hub still never import each other.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

log = logging.getLogger("tillsight.demo")

MOSQUITTO_BIN = os.environ.get("TILLSIGHT_MOSQUITTO", "/usr/sbin/mosquitto")
DEMO_OPERATOR = ("admin", "Demo operator", "tillsight-hub")
DEMO_OWNER_PASSWORD = "tillsight-store"  # the demo store owner "owner-{store_id}" sees only that store
DEMO_FLEET_GROUP = "default"  # the demo till's fleet group (registered on the hub, trusted key in device.yaml)
DEMO_STORE_NAME = "Colmado La Esquina"  # what the appliance names a demo store left at the default name
DEMO_TELEMETRY_S = 10.0
DEMO_LANGUAGE = "es"  # the demo store's, on the till and on the hub, when the config names none
APPLIANCE_READY_S = 600.0  # a first start seeds weeks of history and fits the anomaly model
JOBS_SETTLE_S = 20.0  # no new sale reached the hub for this long: the till's history has synced
JOBS_EVERY_S = 900.0  # then the analytics run again this often (a shop's nightly timer, sped up)
JOBS_POLL_S = 5.0


def mosquitto_binary() -> str | None:
    if Path(MOSQUITTO_BIN).is_file():
        return MOSQUITTO_BIN
    return shutil.which("mosquitto")


def hub_unavailable_reason() -> str | None:
    """Why the hub cannot run beside the appliance here, or None when it can."""
    if mosquitto_binary() is None:
        return ("the Mosquitto broker is not installed (apt-get install mosquitto, or `make deps-debian`), "
                "so there is nothing to sync to")
    try:
        import openpyxl  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as exc:
        return f"the hub's Python packages are missing ({exc.name}): pip install -e '.[hub]'"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def listening(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else host
    try:
        with socket.create_connection((target, port), timeout=0.3):
            return True
    except OSError:
        return False


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process dies (Linux), or None.

    libc's ``prctl`` is looked up here, in the parent: between fork and exec the child only makes
    that one call (no import, no lock), which is what makes a ``preexec_fn`` safe beside threads."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def die_with_parent() -> None:  # runs in the child between fork and exec
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return die_with_parent


# Restart policy of the demo's children, as the systemd units have it (Restart=on-failure, RestartSec,
# StartLimitIntervalSec/StartLimitBurst, RestartPreventExitStatus=2).
RESTART_SEC = 2.0
START_LIMIT_INTERVAL_S = 600.0
START_LIMIT_BURST = 5
NO_RESTART_STATUS = 2  # a configuration error: starting again cannot help


@dataclass
class RestartPolicy:
    """When a child that exited is started again: ``decide`` answers ``restart``, ``done`` (it exited
    cleanly: not a failure) or ``give_up`` (a configuration error, or too many starts lately)."""

    interval_s: float = START_LIMIT_INTERVAL_S
    burst: int = START_LIMIT_BURST
    starts: list[float] = field(default_factory=list)

    def started(self, now: float) -> None:
        self.starts.append(now)

    def decide(self, returncode: int, now: float) -> str:
        if returncode == 0:
            return "done"
        if returncode == NO_RESTART_STATUS:
            return "give_up"
        self.starts = [t for t in self.starts if now - t < self.interval_s]
        return "give_up" if len(self.starts) >= self.burst else "restart"


def exit_text(returncode: int | None) -> str:
    """``status 1`` or ``killed by SIGKILL``."""
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"status {returncode}"


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path | None
    log_file: IO[bytes] | None = None
    reported_exit: bool = False
    argv: list[str] = field(default_factory=list)
    log_name: str | None = None
    stdout_pipe: bool = False
    restart: bool = True  # restarted when it dies (the analytics job runs to its end instead)
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    restart_at: float | None = None  # when a dead child is started again

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class DemoStack:
    args: argparse.Namespace
    children: list[Child] = field(default_factory=list)
    stop_signal: int | None = None
    jobs: DemoJobs | None = None

    # -- paths and configs -----------------------------------------------------------------------
    def __post_init__(self) -> None:
        self.data_dir = Path(self.args.data_dir or "var/demo")
        self.hub_dir = self.data_dir / "hub"
        self.logs = self.data_dir / "logs"

    def _cli(self, *argv: str) -> list[str]:
        return [sys.executable, "-m", "tillsight_cli.main", *argv]

    def _start(self, name: str, argv: list[str], log_name: str | None, stdout_pipe: bool = False,
               restart: bool = True, policy: RestartPolicy | None = None) -> Child:
        log_file = None
        log_path = None
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for name_ in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):  # systemd talks to the demo itself
            env.pop(name_, None)
        if log_name is not None:
            log_path = self.logs / log_name
            log_file = open(log_path, "ab")
            log_file.write(f"---- {name} started {datetime.now(UTC).isoformat()} ----\n".encode())
            log_file.flush()
        stdout: Any = subprocess.PIPE if stdout_pipe else log_file
        stderr: Any = None if log_file is None else subprocess.STDOUT
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env,
                                preexec_fn=_die_with_parent_hook())  # noqa: PLW1509 - one prctl call, see the hook
        child = Child(name, proc, log_path, log_file, argv=list(argv), log_name=log_name, stdout_pipe=stdout_pipe,
                      restart=restart, policy=policy or RestartPolicy())
        child.policy.started(time.monotonic())
        self.children.append(child)
        log.info("started %s (pid %d)%s", name, proc.pid, f", log {log_path}" if log_path else "")
        return child

    def _restart(self, child: Child) -> Child:
        """Start ``child`` again in its place (same command, log and restart history)."""
        if child.proc.stdout is not None:
            child.proc.stdout.close()
        if child.log_file is not None:
            child.log_file.close()
        new = self._start(child.name, child.argv, child.log_name, child.stdout_pipe, child.restart, child.policy)
        self.children.remove(new)
        self.children[self.children.index(child)] = new  # in its place: stopping stays newest first
        return new

    def _tend(self, child: Child, now: float) -> Child | None:
        """Look after one child: restart it when it died and its policy says so.  Returns the child now
        running in its place (``child`` itself when nothing changed), or None when it is gone for good."""
        if child.alive() or not child.restart:
            return child
        code = int(child.proc.returncode or 0)
        if child.restart_at is None:
            decision = child.policy.decide(code, now)
            if decision != "restart":
                if not child.reported_exit:
                    child.reported_exit = True
                    why = "" if decision == "done" else (
                        " (a configuration error)" if code == NO_RESTART_STATUS else
                        f" ({child.policy.burst} starts in {child.policy.interval_s / 60:.0f} min)")
                    log.warning("%s stopped (%s)%s; not restarted%s", child.name, exit_text(code),
                                why, f" (see {child.log_path})" if child.log_path else "")
                return None
            child.restart_at = now + RESTART_SEC
            log.warning("%s stopped (%s); restarting it in %g s, as its service would be%s", child.name,
                        exit_text(code), RESTART_SEC, f" (see {child.log_path})" if child.log_path else "")
            return child
        if now < child.restart_at:
            return child
        return self._restart(child)

    def _prepare_broker(self, db_url: str, cfg: Any, port: int) -> Any:
        """The broker as production runs it (``analytics.broker.demo``): no anonymous clients, the
        till's own username and password, the ACL from the hub's device registry; new passwords at
        every start, written only into the demo's config files (mode 0600)."""
        from analytics.broker.demo import DemoDevice, prepare_demo_broker
        from analytics.db import make_engine

        engine = make_engine(db_url)
        try:
            return prepare_demo_broker(engine, self.hub_dir / "broker", cfg.mqtt.topic_prefix, port,
                                       [DemoDevice(cfg.store.store_id, cfg.store.device_id, DEMO_FLEET_GROUP)],
                                       self.logs / "mosquitto.log")
        finally:
            engine.dispose()

    def _fleet_keys(self) -> Any:
        """The demo's fleet signing key (made once, kept in the hub folder: a real operator keeps
        theirs off the hub host, see docs/fleet.md)."""
        from analytics.fleet.signing import KeyFiles, generate_keypair, key_id_of, load_private_key

        folder = self.hub_dir / "fleet-key"
        private, public = folder / "fleet-signing.key", folder / "fleet-signing.pub"
        if private.exists() and public.exists():
            return KeyFiles(private, public, key_id_of(load_private_key(private)))
        return generate_keypair(folder)

    def _write_yaml(self, path: Path, data: dict[str, Any]) -> Path:
        import yaml

        path.write_text("# generated by `tillsight demo` on every start\n" + yaml.safe_dump(data, sort_keys=False))
        path.chmod(0o600)  # it holds the broker password of the process that reads it
        return path

    # -- the hub database: users and the demo store ---------------------------------------------
    def _prepare_hub(self, db_url: str, store: Any) -> str:
        from sqlalchemy import select

        from analytics.broker.registry import add_device, get_device
        from analytics.db import make_engine, migrate
        from analytics.db.tables import stores
        from analytics.web.accounts import HubUsers

        engine = make_engine(db_url)
        try:
            migrate(engine)
            users = HubUsers(engine)
            users.save(DEMO_OPERATOR[0], DEMO_OPERATOR[1], "operator", password=DEMO_OPERATOR[2], stores=[])
            owner_id = f"owner-{store.store_id}"
            users.save(owner_id, "Demo store owner", "owner", password=DEMO_OWNER_PASSWORD, stores=[store.store_id])
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            name = store.name if store.name != "Tillsight store" else DEMO_STORE_NAME
            with engine.begin() as conn:
                if conn.execute(select(stores.c.store_id).where(stores.c.store_id == store.store_id)).first() is None:
                    conn.execute(stores.insert().values(store_id=store.store_id, name=name, timezone=store.timezone,
                                                        currency=store.currency, settings={}, created_at=stamp,
                                                        updated_at=stamp))
                if get_device(conn, store.store_id, store.device_id) is None:  # so --group rollouts reach it
                    add_device(conn, store.store_id, store.device_id, DEMO_FLEET_GROUP, note="demo till", now=stamp)
        finally:
            engine.dispose()
        return owner_id

    # -- running ---------------------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            log.info("signal %s: stopping the demo", signal.Signals(signum).name)
        self.stop_signal = signum

    def _wait_for(self, what: str, cond: Any, timeout_s: float, child: Child | None = None) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.stop_signal is None:
            if cond():
                return True
            if child is not None and not child.alive():
                raise RuntimeError(f"{what}: {child.name} exited with status {child.proc.returncode}"
                                   f" (see {child.log_path})")
            time.sleep(0.1)
        if self.stop_signal is not None:
            return False
        raise RuntimeError(f"{what}: not ready after {timeout_s:.0f} s"
                           + (f" (see {child.log_path})" if child and child.log_path else ""))

    def run(self) -> int:
        from firmware_config import ConfigError, load_config

        overrides: dict[str, Any] = {"data_dir": str(self.data_dir)}
        if self.args.host:
            overrides.setdefault("web", {})["host"] = self.args.host
        try:
            cfg = load_config(self.args.config, overrides=overrides)
        except ConfigError as exc:
            log.error("%s", exc)
            return 2
        host = cfg.web.host
        app_port = self.args.port or cfg.web.port
        if app_port == 0:
            app_port = free_port()
        hub_port = self.args.hub_port
        if hub_port == 0 or not port_free(host, hub_port):
            if hub_port:
                log.warning("port %d is busy: the demo hub takes a free port instead", hub_port)
            hub_port = free_port(host if host != "0.0.0.0" else "127.0.0.1")
        for folder in (self.hub_dir, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            return self._run(cfg, host, app_port, hub_port)
        finally:
            self._stop_all()

    def _run(self, cfg: Any, host: str, app_port: int, hub_port: int) -> int:
        broker_port = free_port()
        db_url = f"sqlite:///{(self.hub_dir / 'hub.db').resolve()}"
        keys = self._fleet_keys()
        if "language" not in cfg.store.model_fields_set:
            # the demo shop is a colmado in Santo Domingo: Spanish on both sides unless the file names a language
            # (the appliance applies the same rule; the hub learns it from the till's telemetry)
            cfg.store.language = DEMO_LANGUAGE
        owner_id = self._prepare_hub(db_url, cfg.store)  # first: the broker's device registry lives there
        broker = self._prepare_broker(db_url, cfg, broker_port)
        till = broker.device(cfg.store.store_id, cfg.store.device_id)
        hub_cfg = self._write_yaml(self.hub_dir / "hub.yaml", {
            "store": cfg.store.model_dump(mode="json"),
            "mqtt": {"host": "127.0.0.1", "port": broker_port, "topic_prefix": cfg.mqtt.topic_prefix,
                     "username": broker.hub.username, "password": broker.hub.password},
            "hub": {"database_url": db_url, "ingest_client_id": "hub-demo-ingest",
                    "broker": {"dir": str(broker.settings.dir)},
                    "fleet_signing_key": str(keys.private_key.resolve()),
                    "fleet_artifact_dir": str((self.hub_dir / "artifacts").resolve())},
            "hub_web": {"host": host, "port": hub_port}})
        device_cfg = self._write_yaml(self.hub_dir / "device.yaml", {
            "store": cfg.store.model_dump(mode="json"),
            "mqtt": {"host": "127.0.0.1", "port": broker_port, "topic_prefix": cfg.mqtt.topic_prefix,
                     "username": till.username, "password": till.password,
                     "telemetry_interval_s": DEMO_TELEMETRY_S, "reconnect_max_s": 5.0},
            "detector": {"bundle": str(Path(cfg.detector.bundle).resolve())},
            "fleet": {"enabled": True, "group": DEMO_FLEET_GROUP, "public_keys": [str(keys.public_key.resolve())]},
            "data_dir": str(self.data_dir.resolve())})
        try:
            binary = mosquitto_binary()
            assert binary is not None
            mosquitto = self._start("mosquitto", [binary, "-c", str(broker.conf)], "mosquitto.out")
            self._wait_for("the broker", lambda: listening("127.0.0.1", broker_port), 15, mosquitto)
            self._start("hub ingest", self._cli("hub", "ingest", "--config", str(hub_cfg)), "hub-ingest.log")
            web = self._start("hub web app", self._cli("hub", "web", "--config", str(hub_cfg)), "hub-web.log")
            self._start("fleet controller", self._cli("hub", "fleet", "watch", "--forever", "--interval", "2",
                                                      "--config-file", str(hub_cfg)), "fleet-controller.log")
            self._wait_for("the hub web app", lambda: listening(host, hub_port), 60, web)
        except RuntimeError as exc:
            log.error("the hub did not start: %s; running the appliance alone", exc)
            self._stop_all()
            return _appliance_alone(self.args)
        if self.stop_signal is not None:
            return 0

        argv = ["demo", "--no-hub", "--data-dir", str(self.data_dir), "--port", str(app_port),
                "--history-days", str(self.args.history_days)]
        for flag, value in (("--config", self.args.config), ("--host", self.args.host),
                            ("--camera", self.args.camera)):
            if value:
                argv += [flag, value]
        if getattr(self.args, "verbose", False):
            argv.insert(0, "-v")
        appliance = self._start("appliance", self._cli(*argv), None, stdout_pipe=True)
        hub_base = f"http://{host}:{hub_port}"
        hub_lines = [
            f"  Hub dashboard:    {hub_base}/",
            f"  Hub fleet page:   {hub_base}/fleet",
            (f"  Hub logins: operator {DEMO_OPERATOR[0]} password {DEMO_OPERATOR[2]} (every store, the fleet)"
             f" · store owner {owner_id} password {DEMO_OWNER_PASSWORD} (only {cfg.store.store_id})"),
            (f"  Hub logs:         {self.logs}/ (mosquitto.log, hub-ingest.log, hub-web.log, sync-agent.log,"
             " fleet-controller.log)"),
            (f"  Hub analytics:    computed once the till's history has synced (log {self.logs}/hub-jobs.log);"
             f" now: tillsight hub jobs --publish --config {hub_cfg}"),
            (f"  Try a fleet update: tillsight hub fleet publish --model models/demo --group {DEMO_FLEET_GROUP}"
             f" --config-file {hub_cfg}"),
        ]
        self.jobs = DemoJobs(self, self.hub_dir / "hub.db", hub_cfg)
        return self._supervise(appliance, device_cfg, hub_lines)

    def _supervise(self, appliance: Child, device_cfg: Path, hub_lines: list[str]) -> int:
        """Relay the appliance's stdout; once it has printed its URLs, start the sync agent and
        print the hub's lines; then watch the children until a signal or the appliance exits."""
        assert appliance.proc.stdout is not None
        fd = appliance.proc.stdout.fileno()  # read unbuffered: select() cannot see a reader's buffer
        pending = b""
        eof = False
        started_sync = False
        seen_urls_at: float | None = None
        deadline = time.monotonic() + APPLIANCE_READY_S
        while self.stop_signal is None:
            if eof:
                time.sleep(0.2)
            ready = select.select([fd], [], [], 0.5)[0] if not eof else []
            if ready:
                chunk = os.read(fd, 65536)
                eof = not chunk
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    text = line.decode(errors="replace") + "\n"
                    sys.stdout.write(text)
                    sys.stdout.flush()
                    if "Cashier screen:" in text:
                        seen_urls_at = time.monotonic()
                    if not started_sync and seen_urls_at is not None and "Demo logins" in text:
                        started_sync = self._after_appliance(device_cfg, hub_lines)
                if lines:
                    continue
            if not started_sync and seen_urls_at is not None and time.monotonic() - seen_urls_at > 2:
                started_sync = self._after_appliance(device_cfg, hub_lines)
            if not appliance.alive():
                if pending:
                    sys.stdout.write(pending.decode(errors="replace") + "\n")
                    sys.stdout.flush()
                    pending = b""
                running = self._tend(appliance, time.monotonic()) if self.stop_signal is None else None
                if running is None:
                    log.info("the appliance stopped (%s)", exit_text(appliance.proc.returncode))
                    return int(appliance.proc.returncode or 0)
                if running is not appliance:  # started again: relay the new process's output
                    appliance = running
                    assert appliance.proc.stdout is not None
                    fd = appliance.proc.stdout.fileno()
                    eof = False
                    deadline = time.monotonic() + APPLIANCE_READY_S
                continue
            if started_sync and self.jobs is not None:
                self.jobs.tick(time.monotonic())
            if not started_sync and time.monotonic() > deadline:
                log.error("the appliance did not print its URLs in %.0f s; stopping", APPLIANCE_READY_S)
                return 2
            for child in list(self.children):
                if self.stop_signal is None and child is not appliance:
                    self._tend(child, time.monotonic())
        return 0

    def _after_appliance(self, device_cfg: Path, hub_lines: list[str]) -> bool:
        self._start("sync agent", self._cli("sync", "run", "--config", str(device_cfg)), "sync-agent.log")
        sys.stdout.write("\n".join(hub_lines) + "\n")
        sys.stdout.flush()
        return True

    def _stop_all(self) -> None:
        """Newest first: SIGTERM, wait, SIGKILL what is still there."""
        if self.stop_signal == signal.SIGINT:  # Ctrl-C reached the children too; let them finish
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(c.alive() for c in self.children):
                time.sleep(0.1)
        for child in reversed(self.children):
            if child.alive():
                child.proc.send_signal(signal.SIGTERM)
            try:
                child.proc.wait(20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 20 s: killing it", child.name)
                child.proc.kill()
                child.proc.wait(5)
            if child.proc.stdout is not None:
                child.proc.stdout.close()
            if child.log_file is not None:
                child.log_file.close()
        self.children.clear()


@dataclass
class DemoJobs:
    """Runs ``tillsight hub jobs --publish`` as a child once the hub's sales count has stopped
    growing for ``JOBS_SETTLE_S`` (the till's seeded history has synced), then every ``JOBS_EVERY_S``
    (the jobs skip a store whose data did not change).  ``tick`` never blocks the supervisor."""

    stack: DemoStack
    hub_db: Path
    hub_cfg: Path
    child: Child | None = None
    next_poll: float = 0.0
    last_count: int = -1
    changed_at: float = 0.0
    last_run: float | None = None

    def _sales_count(self) -> int:
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{self.hub_db.resolve()}?mode=ro", uri=True, timeout=1.0)
            try:
                return int(conn.execute("SELECT count(*) FROM transactions").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return -1

    def tick(self, now: float) -> None:
        if self.child is not None:
            if self.child.alive():
                return
            code = self.child.proc.returncode
            self.child.reported_exit = True
            self.stack.children.remove(self.child)
            if self.child.log_file is not None:
                self.child.log_file.close()
            (log.info if code == 0 else log.warning)("hub analytics finished with status %s (see %s)", code,
                                                     self.child.log_path)
            self.child = None
        if now < self.next_poll:
            return
        self.next_poll = now + JOBS_POLL_S
        count = self._sales_count()
        if count != self.last_count:
            self.last_count, self.changed_at = count, now
            return
        if count <= 0 or now - self.changed_at < JOBS_SETTLE_S:
            return
        if self.last_run is not None and now - self.last_run < JOBS_EVERY_S:
            return
        self.last_run = now
        self.child = self.stack._start("hub analytics", self.stack._cli(
            "hub", "jobs", "--publish", "--config", str(self.hub_cfg)), "hub-jobs.log", restart=False)


def _appliance_alone(args: argparse.Namespace) -> int:
    from edge.appliance import run_demo

    return run_demo(config_path=args.config, host=args.host, port=args.port, camera=args.camera,
                    data_dir=args.data_dir, history_days=args.history_days)


def run_demo_stack(args: argparse.Namespace) -> int:
    """``tillsight demo``: the appliance with the hub beside it, or alone (``--no-hub``, or when
    the hub cannot run here: then the output says why)."""
    if getattr(args, "no_hub", False):
        return _appliance_alone(args)
    reason = hub_unavailable_reason()
    if reason is not None:
        log.warning("running the appliance alone: %s", reason)
        sys.stdout.write(f"\n  Hub: not started: {reason}\n")
        sys.stdout.flush()
        return _appliance_alone(args)
    return DemoStack(args).run()
