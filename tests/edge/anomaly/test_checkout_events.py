"""The scorer reads the events the checkout really writes: sales are rung up through the checkout session."""

from __future__ import annotations

from pathlib import Path

from edge.anomaly import sale_features
from edge.anomaly.rules import Baseline, evaluate_rules
from edge.checkout.session import PaymentPart
from edge.demo.seed import seed_store
from edge.store import Store
from tests.edge.checkout.helpers import basket, cashier, session_for

SD = "America/Santo_Domingo"


def _rung_up(tmp_path: Path, discount: int = 0, override: int | None = None, method: str = "cash") -> dict:
    store = Store(tmp_path / "till.db")
    seed_store(store)
    session = session_for(store)
    session.start(cashier(store))
    session.apply_basket(basket("RICE-LG-2LB", "OIL-SOL-1L"))
    session.review()
    supervisor = store.users.get("maria")
    if override is not None:
        session.override_price(session.lines[0].line_id, override, supervisor, "dented")
    if discount:
        session.set_discount(discount, supervisor, "loyal customer")
    total = session.to_payment().total
    payload = store.sales.record(session.pay([PaymentPart(method, total)])).to_payload()
    store.close()
    return payload


def test_a_discount_is_not_a_price_override_and_a_cash_sales_drawer_is_not_a_no_sale_opening(tmp_path: Path) -> None:
    payload = _rung_up(tmp_path, discount=500)
    f = sale_features(payload, SD)
    assert (f.overrides, f.drawer_opens_no_sale, f.voids, f.discount) == (0, 0, 0, 500)
    texts = [r.text for r in evaluate_rules(f, Baseline(), "DOP", payload)]
    assert not any("overridden" in t or "drawer" in t for t in texts), texts


def test_a_price_override_at_the_till_is_one_override_with_its_prices_in_the_reason(tmp_path: Path) -> None:
    payload = _rung_up(tmp_path, override=1000, method="card")
    f = sale_features(payload, SD)
    assert f.overrides == 1
    [reason] = [r.text for r in evaluate_rules(f, Baseline(), "DOP", payload) if r.key == "overrides"]
    assert reason.startswith("price overridden by hand (") and "→ RD$10.00)" in reason


def _with_unknown(tmp_path: Path, resolve: bool) -> dict:
    from tests.edge.checkout.helpers import tray, unknown_item

    store = Store(tmp_path / "till.db")
    seed_store(store)
    session = session_for(store)
    session.start(cashier(store))
    session.apply_basket(tray(*basket("OIL-SOL-1L").items, unknown_item(5)))
    [line] = session.unresolved()
    if resolve:
        session.resolve_line(line.line_id, store.products.get("SUGAR-2LB"), "barcode")
    else:
        session.remove_line(line.line_id)
    total = session.to_payment().total
    payload = store.sales.record(session.pay([PaymentPart("card", total)])).to_payload()
    store.close()
    return payload


def test_an_unknown_item_rung_up_by_barcode_counts_but_raises_nothing(tmp_path: Path) -> None:
    f = sale_features(_with_unknown(tmp_path, resolve=True), SD)
    assert (f.unknown_items, f.unknown_removed, f.vision_mismatches) == (1, 0, 0)
    assert not [r for r in evaluate_rules(f, Baseline(), "DOP") if r.key.startswith("unknown")]


def test_an_unknown_item_taken_off_the_sale_unsold_is_a_vision_event_with_a_reason(tmp_path: Path) -> None:
    payload = _with_unknown(tmp_path, resolve=False)
    f = sale_features(payload, SD)
    assert (f.unknown_items, f.unknown_removed, f.vision_mismatches) == (1, 1, 1)
    [reason] = [r for r in evaluate_rules(f, Baseline(), "DOP", payload) if r.key == "unknown_removed"]
    assert reason.text == "1 unknown item the camera found taken off the sale unsold" and reason.weight < 0.7
