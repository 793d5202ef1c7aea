"""``tillsight demo`` (what ``make demo`` runs) starts the hub beside the appliance: a real
Mosquitto, the hub ingest, the hub web app and the device's sync agent.  The appliance's URLs and
the hub's URL and login are printed; the demo store's sales, and a sale made now, reach the hub;
the hub's fleet page shows the device online; SIGTERM stops every process."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.support.mosquitto import free_port, mosquitto_available
from tests.support.wait import wait_for
from tillsight_cli import demo_stack
from tillsight_cli.demo_stack import DEMO_OPERATOR


def _hub_count(db: Path, sql: str, *params: object) -> int:
    if not db.exists():
        return -1
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(sql, params).fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return -1
    finally:
        conn.close()


class HubClient:
    """Logs in to the hub web app like a browser would (session cookie + CSRF token)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get_json(self, path: str) -> dict:
        req = urllib.request.Request(self.base + path, headers={"Accept": "application/json"})
        with self.opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def login(self, user: str, password: str) -> None:
        with self.opener.open(self.base + "/login", timeout=10) as resp:
            token = re.search(r'name="csrf-token" content="([^"]+)"', resp.read().decode()).group(1)
        req = urllib.request.Request(self.base + "/api/login", method="POST",
                                     data=json.dumps({"user_id": user, "password": password}).encode(),
                                     headers={"Content-Type": "application/json", "X-CSRFToken": token})
        with self.opener.open(req, timeout=10) as resp:
            assert json.loads(resp.read())["user"]["role"] == "operator"


def _store_language(db: Path) -> str | None:
    from analytics.db import make_engine
    from analytics.jobs.data import store_info

    engine = make_engine(f"sqlite:///{db}")
    try:
        info = store_info(engine, "s-001")
        return info.settings.language if info else None
    finally:
        engine.dispose()


def _listening(url: str) -> bool:
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _anonymous_refused(hub_yaml: Path) -> bool:
    """Whether the demo's broker (its port from the hub's generated config) refuses a client without
    credentials, and the hub's processes log in with their own user."""
    import yaml

    from tests.analytics.broker.helpers import Probe
    from tests.support.mosquitto import MosquittoBroker

    mqtt_cfg = yaml.safe_load(hub_yaml.read_text())["mqtt"]
    assert mqtt_cfg["username"] == "hub" and mqtt_cfg["password"]
    probe = Probe(MosquittoBroker(hub_yaml.parent / "probe", port=int(mqtt_cfg["port"])))
    try:
        return probe.refused()
    finally:
        probe.client.loop_stop()


@pytest.mark.slow
def test_demo_runs_the_hub_beside_the_appliance(tmp_path: Path) -> None:
    if not mosquitto_available():
        pytest.skip("mosquitto binary not installed (apt-get install mosquitto)")
    from edge.store import Store
    from tests.edge.checkout.helpers import quick_sale

    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    data = tmp_path / "demo"
    # two store-local days: with one, a run just after local midnight (before opening) has no history
    proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "demo", "--port", str(free_port()),
                             "--hub-port", "0", "--camera", "synthetic:?seed=5&period=4", "--data-dir", str(data),
                             "--history-days", "2"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            if "Hub logins" in line:
                break
        out = "".join(lines)
        hub = re.search(r"Hub dashboard:\s+(http://\S+)/", out)
        assert hub and re.search(r"Cashier screen:\s+http://\S+/till", out), out
        assert f"operator {DEMO_OPERATOR[0]} password {DEMO_OPERATOR[2]}" in out
        assert out.index("Cashier screen:") < out.index("Hub dashboard:")
        base = hub.group(1)

        # the seeded history goes through the outbox, the broker and the ingest into the hub
        hub_db, store_db = data / "hub" / "hub.db", data / "store.db"
        store = Store(store_db)
        try:
            history = store.db.scalar("SELECT count(*) FROM sales")
            assert history > 0
            wait_for(lambda: _hub_count(hub_db, "SELECT count(*) FROM transactions") == history, 60,
                     "the demo store's history in the hub")
            # a sale made now on the device reaches the hub too
            skus = [p.sku for p in store.products.list()][:2]
            sale = store.sales.record(quick_sale(store, *skus))
        finally:
            store.close()
        wait_for(lambda: _hub_count(hub_db, "SELECT count(*) FROM transactions WHERE tx_id = ?", sale.tx_id) == 1,
                 30, "the new sale in the hub")
        # ... through a broker run as production runs it: anonymous clients are refused (issue 26)
        assert _anonymous_refused(data / "hub" / "hub.yaml")

        client = HubClient(base)
        client.login(DEMO_OPERATOR[0], DEMO_OPERATOR[2])
        fleet = client.get_json("/api/fleet")
        device = next(d for d in fleet["devices"] if (d["store_id"], d["device_id"]) == ("s-001", "till-1"))
        assert device["state"] == "online" and device["online"] is True
        assert device["last_seq"] == sale.seq
        sales = client.get_json("/api/stores/s-001/sales?days=1")
        assert sale.tx_id in {r["tx_id"] for r in sales["rows"]}
        store_row = client.get_json("/api/stores")["rows"][0]
        assert store_row["name"] == "Colmado La Esquina" and store_row["transactions_today"] >= 1
        # the colmado speaks Spanish on both sides: the configs say so and the hub learnt it from the till
        for name in ("hub.yaml", "device.yaml"):
            assert yaml.safe_load((data / "hub" / name).read_text())["store"]["language"] == "es", name
        wait_for(lambda: _store_language(hub_db) == "es", 30, "the till's language in the hub")
        assert client.get_json("/api/stores/s-001/alerts")["title"] == "Alertas"  # the operator follows the store
        for name in ("mosquitto.log", "hub-ingest.log", "hub-web.log", "sync-agent.log"):
            assert (data / "logs" / name).stat().st_size > 0, name
        # once no new sale has arrived for a while, the demo runs the hub's analytics by itself
        wait_for(lambda: _hub_count(hub_db, "SELECT count(*) FROM analytics_runs WHERE store_id = ?", "s-001") >= 1,
                 120, "the demo's analytics run")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert rc == 0
    assert not _listening(base), "the hub web app is still running"
    assert "stopping" in (data / "logs" / "hub-web.log").read_text()
    assert "stopping the sync agent" in (data / "logs" / "sync-agent.log").read_text()


def test_without_mosquitto_the_appliance_runs_alone_and_says_why(monkeypatch, capsys) -> None:
    from tillsight_cli.main import build_parser

    monkeypatch.setattr(demo_stack, "MOSQUITTO_BIN", "/nonexistent/mosquitto")
    monkeypatch.setattr(demo_stack.shutil, "which", lambda name: None)
    ran: list = []
    monkeypatch.setattr(demo_stack, "_appliance_alone", lambda args: ran.append(args) or 0)
    args = build_parser().parse_args(["demo", "--port", "8181"])
    assert demo_stack.run_demo_stack(args) == 0
    assert ran and ran[0].port == 8181
    assert "Hub: not started: the Mosquitto broker is not installed" in capsys.readouterr().out
    # --no-hub: alone, on purpose, without a word about the hub
    monkeypatch.setattr(demo_stack, "hub_unavailable_reason", lambda: None)
    args = build_parser().parse_args(["demo", "--no-hub"])
    assert demo_stack.run_demo_stack(args) == 0 and len(ran) == 2
    assert "Hub" not in capsys.readouterr().out
