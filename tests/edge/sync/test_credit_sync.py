"""Credit customers and repayments from the device to the hub, end to end: the real sync agent and
ingest processes over a real Mosquitto (killed and restarted in between), on SQLite and PostgreSQL.
Each repayment is stored once, every customer's balance at the hub follows the device, and sending
everything again changes nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.db import make_engine, migrate
from analytics.db.credit_tables import credit_customers, credit_repayments
from edge.store import DeviceIdentity, Store
from edge.store.records import Payment
from tests.edge.checkout.helpers import quick_sale
from tests.support.fixtures import make_config, write_config
from tests.support.hubdb import hub_database_url, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.procs import agent_process, ingest_process
from tests.support.wait import wait_for

log = logging.getLogger(__name__)


def _credit_sale(store: Store, customer_id: str, *skus: str) -> int:
    sale = quick_sale(store, *skus)
    sale.payments = [Payment("credit", sale.total, sale.total, 0, customer_id)]
    sale.customer_id = customer_id
    store.sales.record(sale)
    return sale.total


def hub_repayments(engine: Engine) -> list[tuple]:
    r = credit_repayments.c
    with engine.connect() as conn:
        return [tuple(x) for x in conn.execute(select(r.event_id, r.customer_id, r.amount, r.balance_after)
                                               .order_by(r.paid_at, r.event_id))]


def hub_balances(engine: Engine) -> dict[str, tuple]:
    c = credit_customers.c
    with engine.connect() as conn:
        return {row.customer_id: (row.name, row.credit_limit, row.active, row.balance) for row in conn.execute(
            select(c.customer_id, c.name, c.credit_limit, c.active, c.balance).where(c.store_id == "s-001"))}


def device_balances(store: Store) -> dict[str, tuple]:
    return {c.id: (c.name, c.credit_limit, c.active, c.balance) for c in store.customers.list(include_inactive=True)}


def device_repayments(store: Store) -> list[tuple]:
    """Every repayment the device recorded, as its outbox holds it (sent or not)."""
    events = [json.loads(r["payload"]) for r in store.db.query("SELECT payload FROM outbox WHERE kind = 'credit'")]
    return sorted((e["event_id"], e["customer"]["customer_id"], e["amount"], e["customer"]["balance"])
                  for e in events if e["kind"] == "repayment")


@pytest.mark.slow
@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"])
def test_repayments_reach_the_hub_exactly_once_and_balances_follow_the_device(
        db_kind: str, tmp_path: Path, broker: MosquittoBroker, request: pytest.FixtureRequest) -> None:
    cfg = make_config(broker, tmp_path, backlog_alert_count=1_000_000)
    cfg.hub.database_url = hub_database_url(db_kind, tmp_path, request)
    config_file = write_config(cfg, tmp_path / "till.yaml")
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine, (cfg.store.store_id, cfg.store.device_id))  # the hub stores only registered tills
    from edge.demo.seed import seed_store

    store = Store(Path(cfg.data_dir) / "store.db", identity=DeviceIdentity(cfg.store.store_id, cfg.store.device_id))
    seed_store(store, store_id=cfg.store.store_id, device_id=cfg.store.device_id)
    ingest = ingest_process(config_file, "hub-credit", tmp_path / "ingest.log")
    agent = agent_process(config_file, tmp_path / "agent.log")

    def settled() -> bool:
        return store.outbox.backlog() == 0 and hub_balances(engine) == device_balances(store) \
            and sorted(hub_repayments(engine)) == device_repayments(store)

    try:
        # On credit, then a part repayment, while everything runs.
        _credit_sale(store, "cust-01", "OIL-SOL-1L", "RICE-LG-5LB")
        store.customers.record_repayment("cust-01", 5000)
        wait_for(settled, 30, "the first repayment and the balances at the hub")
        assert [(c, a) for _, c, a, _ in hub_repayments(engine)] == [("cust-01", 5000)]

        refused_before = agent.log().count("cannot reach broker")
        broker.kill()  # SIGKILL; the till goes on selling and taking repayments
        owed = _credit_sale(store, "cust-02", "OIL-SOL-1L")
        store.customers.record_repayment("cust-02", owed)  # paid in full
        store.customers.record_repayment("cust-01", store.customers.get("cust-01").balance)
        store.customers.save("Bodega Rosa", "809-555-0142", 250000)
        wait_for(lambda: agent.log().count("cannot reach broker") >= refused_before + 2, 30,
                 "the agent retrying against the dead broker")
        assert store.outbox.backlog() >= 5
        broker.start()
        wait_for(settled, 60, "the offline repayments and customers at the hub")
        reps = hub_repayments(engine)
        assert len(reps) == 3 and len({r[0] for r in reps}) == 3
        assert {c: b for c, (_, _, _, b) in hub_balances(engine).items()}["cust-01"] == 0
        assert "Bodega Rosa" in {n for n, *_ in hub_balances(engine).values()}

        # Everything again (as after a lost PUBACK): the hub already has it all, so nothing changes.
        before = (hub_repayments(engine), hub_balances(engine))
        with store.db.transaction() as c:
            resent = c.execute("UPDATE outbox SET sent_at = NULL WHERE kind = 'credit'").rowcount
        assert resent >= 10
        # A new repayment after them: once it is at the hub, so are the replays (one device's
        # messages keep their order through the outbox, the broker and the single worker).
        _credit_sale(store, "cust-03", "OIL-SOL-1L")
        store.customers.record_repayment("cust-03", 100)
        wait_for(lambda: len(hub_repayments(engine)) == 4 and settled(), 30, "the repayment sent after the replay")
        assert [r for r in hub_repayments(engine) if r[1] != "cust-03"] == before[0]
        assert {k: v for k, v in hub_balances(engine).items() if k != "cust-03"} == {
            k: v for k, v in before[1].items() if k != "cust-03"}
    finally:
        agent.terminate()
        ingest.terminate()
        store.close()
        engine.dispose()
        log.info("agent log:\n%s\ningest log:\n%s", (tmp_path / "agent.log").read_text()[-3000:],
                 (tmp_path / "ingest.log").read_text()[-3000:])
