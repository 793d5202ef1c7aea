"""The anomaly scorer at work on the till: fitted on the store's history, scoring each sale."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from edge.anomaly.service import AnomalyService
from edge.auth.service import Authenticator
from edge.checkout.service import CheckoutService
from edge.checkout.session import PaymentPart
from edge.demo.seed import seed_store
from edge.store import Store
from tests.edge.checkout.helpers import basket


def _store(tmp_path: Path, days: int) -> Store:
    store = Store(tmp_path / "store.db")
    seed_store(store, history_days=days, now=datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
    return store


def _sweetheart_sale(store: Store, service: AnomalyService):
    checkout = CheckoutService(store, Authenticator(store.users), "s-001", "till-1", scorer=service.score_payload,
                               on_recorded=service.sale_recorded)
    store.shifts.open("ana", 50000)
    checkout.start(store.users.get("ana"))
    checkout.session.apply_basket(basket("OIL-SOL-1L", "RICE-LG-5LB", "SUGAR-2LB", "BATT-AA-4", "OIL-SOL-1L",
                                         "RICE-LG-5LB"))
    checkout.session.to_payment()
    boss = store.users.get("maria")
    for line in list(checkout.session.lines)[:2]:
        checkout.session.remove_line(line.line_id, approver=boss)
    checkout.session.to_payment()
    line = checkout.session.lines[0]
    checkout.session.override_price(line.line_id, 100, approver=boss)
    total = checkout.session.to_payment().total
    return checkout.complete([PaymentPart("cash", total, total)])


def test_a_sweethearting_sale_is_scored_high_and_raises_an_alert(tmp_path: Path):
    store = _store(tmp_path, 21)
    service = AnomalyService(store, tmp_path / "model.pkl")
    service.ensure_fitted()
    assert service.model_name.startswith("iforest-")
    rec = _sweetheart_sale(store, service)
    assert rec.anomaly["score"] >= 0.7 and rec.anomaly["reasons"]
    alerts = store.alerts.for_tx(rec.tx_id)
    assert len(alerts) == 1 and alerts[0].reasons == tuple(rec.anomaly["reasons"])
    assert any(m.kind == "alert" for m in store.outbox.pending(limit=10_000))


def test_an_ordinary_sale_scores_low(tmp_path: Path):
    store = _store(tmp_path, 21)
    service = AnomalyService(store, tmp_path / "model.pkl")
    service.ensure_fitted()
    checkout = CheckoutService(store, Authenticator(store.users), "s-001", "till-1", scorer=service.score_payload)
    store.shifts.open("ana", 50000)
    checkout.start(store.users.get("ana"))
    checkout.session.apply_basket(basket("RICE-LG-5LB", "BEAN-RED-1LB"))
    total = checkout.session.to_payment().total
    rec = checkout.complete([PaymentPart("cash", total, 50000)])
    assert rec.anomaly["score"] < 0.7 and not store.alerts.for_tx(rec.tx_id)


def test_a_corrupt_model_file_is_replaced_by_a_fresh_fit(tmp_path: Path):
    store = _store(tmp_path, 10)
    (tmp_path / "model.pkl").write_bytes(b"garbage")
    service = AnomalyService(store, tmp_path / "model.pkl")
    service.ensure_fitted()
    assert service.model_name.startswith("iforest-")
    again = AnomalyService(store, tmp_path / "model.pkl")
    again.ensure_fitted()
    assert again.model_name == service.model_name  # loaded, not refitted


def test_a_new_store_scores_with_rules(tmp_path: Path):
    store = Store(tmp_path / "store.db")
    seed_store(store)
    service = AnomalyService(store, tmp_path / "model.pkl")
    service.ensure_fitted()
    assert service.model_name == "rules-v1"
    rec = _sweetheart_sale(store, service)
    assert rec.anomaly["model"] == "rules-v1" and rec.anomaly["score"] >= 0.7
