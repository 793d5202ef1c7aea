"""The hub's facts count the sale events the checkout really writes: sales are rung up through the
device's checkout session, sent as their ``tillsight.tx/1`` payloads and stored by the hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from analytics.importer.writer import write_sales
from analytics.narratives import narrative as nv
from analytics.narratives.facts import build_facts
from contracts.events import DrawerOpen, payload_events
from edge.checkout.session import PaymentPart
from edge.demo.seed import seed_store
from edge.store import Store
from tests.analytics.narratives.support import NOW, STORE
from tests.edge.checkout.helpers import basket, cashier, session_for

RUNG_AT = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)  # 16:00 on the facts' day, store time


def _till_sales(tmp_path: Path, methods: tuple[str, ...]) -> list[dict]:
    """Sales of one bag of sugar each, paid by ``methods``, as the till's sync agent would send them."""
    till = Store(tmp_path / "till.db")
    seed_store(till)
    payloads = []
    for i, method in enumerate(methods):
        session = session_for(till, store_id=STORE, clock=lambda i=i: RUNG_AT + timedelta(minutes=i))
        session.start(cashier(till))
        session.apply_basket(basket("SUGAR-2LB"))
        total = session.to_payment().total
        payloads.append(till.sales.record(session.pay([PaymentPart(method, total)])).to_payload())
    till.close()
    return payloads


def test_a_cash_sales_drawer_opening_is_not_counted_as_one_without_a_sale(engine: Engine, tmp_path: Path) -> None:
    payloads = _till_sales(tmp_path, ("cash", "cash", "cash", "card"))
    drawer = [e for p in payloads for e in payload_events(p) if isinstance(e, DrawerOpen)]
    assert len(drawer) == 3 and not any(e.no_sale for e in drawer)  # what checkout writes for a cash sale
    write_sales(engine, payloads, "2026-11-01T00:00:00Z")

    facts = build_facts(engine, STORE, "daily", now=NOW)
    assert facts.value("sales") >= 4
    assert facts.get("events_drawer_open_no_sale") is None
    assert not any("without a sale" in f.label for f in facts.items)
    narrative = nv.generate(engine, STORE, "daily", ai=None, now=NOW)
    assert "without a sale" not in narrative.text


def test_a_drawer_opening_without_a_sale_reaches_the_facts_and_the_narrative(engine: Engine, tmp_path: Path) -> None:
    [payload] = _till_sales(tmp_path, ("cash",))
    opened = DrawerOpen(at="2026-10-31T19:55:00Z", by="ana", no_sale=True, reason="change for a neighbour")
    payload["events"].insert(0, opened.to_payload())  # a till that attaches its no-sale openings to the next sale
    write_sales(engine, [payload], "2026-11-01T00:00:00Z")

    facts = build_facts(engine, STORE, "daily", now=NOW)
    assert facts.value("events_drawer_open_no_sale") == 1
    assert facts.get("events_drawer_open_no_sale").label == "Cash drawer opened without a sale"
    assert "1 time the cash drawer opened without a sale." in nv.generate(engine, STORE, "daily", ai=None, now=NOW).text


def test_an_unknown_item_rung_up_is_not_a_camera_mismatch_but_one_taken_off_unsold_is(engine: Engine,
                                                                                        tmp_path: Path) -> None:
    from tests.edge.checkout.helpers import tray, unknown_item

    till = Store(tmp_path / "till.db")
    seed_store(till)
    payloads = []
    for i, resolve in enumerate((True, True, False)):
        session = session_for(till, store_id=STORE, clock=lambda i=i: RUNG_AT + timedelta(minutes=i))
        session.start(cashier(till))
        session.apply_basket(tray(*basket("SUGAR-2LB").items, unknown_item(9)))
        [line] = session.unresolved()
        if resolve:
            session.resolve_line(line.line_id, till.products.get("OIL-SOL-1L"), "barcode")
        else:
            session.remove_line(line.line_id)
        total = session.to_payment().total
        payloads.append(till.sales.record(session.pay([PaymentPart("card", total)])).to_payload())
    till.close()
    write_sales(engine, payloads, "2026-11-01T00:00:00Z")

    facts = build_facts(engine, STORE, "daily", now=NOW)
    assert facts.value("events_vision_mismatch") == 1  # only the one that left the sale unsold
