"""``tillsight bench edge``: the appliance's own latencies, each beside a reference run in the same
process so the ratios hold on a shared, noisy machine.

* sale completion: ``CheckoutService.complete`` (checks, anomaly score, one atomic write with
  lines, payments, events, stock movements and the outbox row) against a bare SQLite transaction
  inserting the same rows with the same durability settings;
* the JSON API under 20 concurrent logged-in clients while the vision loop runs on the synthetic
  camera, against the cheapest authenticated endpoint (``/api/me``) under the same load;
* basket settled -> basket shown: from the moment a settled basket reaches the checkout to the
  moment a cashier screen's long-poll (``GET /api/checkout?since=``) returns it.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import sqlite3
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CLIENTS = 20


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(_pct(values, 50), 2), "p99": round(_pct(values, 99), 2), "n": len(values)}


class _Client:
    """A logged-in browser stand-in (cookie jar + CSRF token) on plain urllib."""

    def __init__(self, base: str, user_id: str, pin: str | None = None, password: str | None = None) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        html = self.opener.open(base + "/login", timeout=30).read().decode()
        self.token = html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        body = {"user_id": user_id, **({"password": password} if password else {"pin": pin})}
        self.post("/api/login", body)

    def get(self, path: str, timeout: float = 30) -> Any:
        with self.opener.open(self.base + path, timeout=timeout) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict | None = None) -> Any:
        req = urllib.request.Request(self.base + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "X-CSRFToken": self.token})
        with self.opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())


def _bare_sale_write(db: Path, n: int) -> list[float]:
    """The reference: the same rows a sale writes, in one transaction, with no checks or scoring."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript("CREATE TABLE IF NOT EXISTS s (id TEXT PRIMARY KEY, payload TEXT);"
                       "CREATE TABLE IF NOT EXISTS l (tx TEXT, sku TEXT, qty INT, total INT);"
                       "CREATE TABLE IF NOT EXISTS p (tx TEXT, method TEXT, amount INT);"
                       "CREATE TABLE IF NOT EXISTS e (tx TEXT, type TEXT, detail TEXT);"
                       "CREATE TABLE IF NOT EXISTS m (sku TEXT, delta INT);"
                       "CREATE TABLE IF NOT EXISTS o (key TEXT, payload TEXT);")
    out = []
    payload = json.dumps({"lines": [{"sku": f"SKU-{i}", "qty": 1} for i in range(4)]})
    for _ in range(n):
        tx = str(uuid.uuid4())
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO s VALUES (?, ?)", (tx, payload))
        conn.executemany("INSERT INTO l VALUES (?, ?, 1, 100)", [(tx, f"SKU-{i}") for i in range(4)])
        conn.execute("INSERT INTO p VALUES (?, 'cash', 400)", (tx,))
        conn.execute("INSERT INTO e VALUES (?, 'drawer_open', '{}')", (tx,))
        conn.executemany("INSERT INTO m VALUES (?, -1)", [(f"SKU-{i}",) for i in range(4)])
        conn.execute("INSERT INTO o VALUES (?, ?)", (tx, payload))
        conn.execute("COMMIT")
        out.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return out


def _basket(skus: list[str]):
    from vision.basket import BasketItem, BasketSnapshot

    items = tuple(BasketItem(i + 1, sku, 0.9, (10.0 * i, 0.0, 10.0 * i + 8, 8.0), (), "vision")
                  for i, sku in enumerate(skus))
    return BasketSnapshot(items=items, settled=True, events=(), frame_index=0)


def run_edge_bench(sales: int = 150, requests_per_client: int = 25, settle_rounds: int = 30,
                   bundle: str = "models/demo") -> dict[str, Any]:
    from waitress.server import BaseWSGIServer, create_server

    from edge.appliance import build_appliance
    from edge.checkout.session import PaymentPart
    from firmware_config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="tillsight-bench-"))
    cfg = load_config(None, env={}, overrides={
        "data_dir": str(tmp / "data"), "detector": {"bundle": bundle},
        "camera": {"uri": "synthetic:?seed=9&period=2"}, "web": {"port": 1}})
    appliance = build_appliance(cfg, seed_demo=True, history_days=14)
    store, checkout, vision = appliance.store, appliance.checkout, appliance.vision
    if vision is None:
        raise RuntimeError("the edge bench needs the vision loop, and the appliance was built without one")
    skus = [p.sku for p in store.products.list()][:12]
    cashier = store.users.get("ana")
    store.shifts.open("ana", 100000)

    # 1. sale completion (atomic write) vs the bare reference, interleaved in blocks
    complete_ms: list[float] = []
    bare_ms: list[float] = []
    for _block in range(5):
        for i in range(sales // 5):
            checkout.session.start(cashier, store.shifts.open_for("ana").id)
            checkout.session.apply_basket(_basket(skus[(i % 6): (i % 6) + 4]))
            total = checkout.session.to_payment().total
            t0 = time.perf_counter()
            checkout.complete([PaymentPart("cash", total, total + 1000)])
            complete_ms.append((time.perf_counter() - t0) * 1000)
        bare_ms.extend(_bare_sale_write(tmp / "bare.db", sales // 5))

    # 2. API under concurrent clients while the vision loop runs; 3. settled -> shown
    vision.loop.on_result = None  # the bench drives the checkout's basket itself
    server = create_server(appliance.app, host="127.0.0.1", port=0, threads=cfg.web.threads)
    if not isinstance(server, BaseWSGIServer):  # one host and port give one TCP server, never several
        raise RuntimeError(f"waitress made a {type(server).__name__} for one address")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    vision.loop.start()
    # types-waitress leaves out effective_port, which BaseWSGIServer.__init__ sets from the bound socket
    base = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[attr-defined]
    try:
        owner = _Client(base, "owner", password="tillsight-owner")
        clients = [_Client(base, "luis", pin="2468") for _ in range(CLIENTS // 2)] + \
                  [_Client(base, "owner", password="tillsight-owner") for _ in range(CLIENTS - CLIENTS // 2)]
        del owner
        paths_cashier = ["/api/checkout", "/api/products/search?q=rice", "/api/basket", "/api/customers"]
        paths_owner = ["/api/dashboard/summary", "/api/dashboard/hourly", "/api/stock", "/api/sales?limit=20"]
        api_ms: list[float] = []
        ref_ms: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def work(idx: int, client: _Client) -> None:
            paths = paths_cashier if idx < CLIENTS // 2 else paths_owner
            local_api: list[float] = []
            local_ref: list[float] = []
            for r in range(requests_per_client):
                for path, bucket in ((paths[r % len(paths)], local_api), ("/api/me", local_ref)):
                    t0 = time.perf_counter()
                    try:
                        client.get(path)
                    except Exception as exc:  # noqa: BLE001 - reported in the figures
                        errors.append(f"{path}: {exc}")
                        continue
                    bucket.append((time.perf_counter() - t0) * 1000)
            with lock:
                api_ms.extend(local_api)
                ref_ms.extend(local_ref)

        workers = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

        # settled -> shown: a cashier screen long-polls while settled baskets arrive
        screen = _Client(base, "ana", pin="1357")
        screen.post("/api/checkout/start")
        shown_ms: list[float] = []

        def poll(since: int, box: dict[str, float]) -> None:
            view = screen.get(f"/api/checkout?since={since}", timeout=30)
            box["at"] = time.perf_counter()
            box["lines"] = len(view["lines"])

        for i in range(settle_rounds):
            version = screen.get("/api/checkout")["version"]
            box: dict[str, float] = {}
            t = threading.Thread(target=poll, args=(version, box))
            t.start()
            time.sleep(0.05)  # the screen is waiting
            t0 = time.perf_counter()
            checkout.on_basket(_basket(skus[i % 8: i % 8 + 1 + i % 3]))
            t.join(30)
            if "at" in box:
                shown_ms.append((box["at"] - t0) * 1000)
        stats = vision.pipeline.stats
        figures = {
            "sale_completion_ms": _ms(complete_ms), "sale_reference_ms": _ms(bare_ms),
            "sale_over_bare_write": round(statistics.median(complete_ms) / statistics.median(bare_ms), 2),
            "api_ms": _ms(api_ms), "api_reference_ms": _ms(ref_ms),
            "api_over_reference_p50": round(_pct(api_ms, 50) / _pct(ref_ms, 50), 2),
            "api_clients": CLIENTS, "api_errors": len(errors),
            "settled_to_shown_ms": _ms(shown_ms),
            "vision_inferences_during_api": stats.inferences, "vision_inference_ms": round(stats.inference_ms, 1),
        }
        if errors:
            log.warning("API errors during the bench: %s", errors[:5])
        return figures
    finally:
        vision.loop.stop()
        vision.source.close()
        server.close()
        appliance.store.close()
