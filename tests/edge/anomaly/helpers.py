"""Small builders of `tillsight.tx/1` payloads for the anomaly tests; their events are the typed records the
checkout writes (`contracts.events`), placed in time by `sale`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from contracts.events import DrawerOpen, LineVoid, ManualEntry, PriceOverride, SaleEvent, VisionMismatch

RICE = {"sku": "RICE-LG-5LB", "name": "Arroz La Garza 5 lb", "unit_price": 17500}
OIL = {"sku": "OIL-SOL-1L", "name": "Aceite Sol Dorado 1 L", "unit_price": 21000}
SODA = {"sku": "SODA-KOLA-600", "name": "Kola Real 600 ml", "unit_price": 5000}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(product: dict, qty: int = 1, source: str = "vision", unit_price: int | None = None) -> dict:
    price = product["unit_price"] if unit_price is None else unit_price
    return {"sku": product["sku"], "name": product["name"], "qty": qty, "unit_price": price,
            "line_total": qty * price, "source": source, "confidence": 0.9 if source == "vision" else None}


def void(sku: str = "SODA-KOLA-600", qty: int = 1) -> LineVoid:
    return LineVoid(at="", by="maria", sku=sku, qty=qty, reason="voided")


def override(product: dict, new_price: int) -> PriceOverride:
    return PriceOverride(at="", by="maria", sku=product["sku"], name=product["name"],
                         old_price=product["unit_price"], new_price=new_price)


def manual(product: dict, qty: int = 1) -> ManualEntry:
    return ManualEntry(at="", by="c-01", sku=product["sku"], qty=qty)


def mismatch(sku: str = "BEER-PRZ-650", seen: int = 1, sold: int = 0) -> VisionMismatch:
    return VisionMismatch(at="", sku=sku, seen=seen, sold=sold)


def drawer(no_sale: bool) -> DrawerOpen:
    return DrawerOpen(at="", by="c-01", no_sale=no_sale, reason="change for a note" if no_sale else "sale")


def sale(completed: str = "2026-11-21T18:30:00Z", seconds: float = 60, lines: list[dict] | None = None,
         events: Sequence[tuple[float, SaleEvent]] = (), discount: int = 0, cashier: str = "c-01",
         tx_id: str = "tx-1", seq: int = 1, status: str = "completed", method: str = "card") -> dict:
    """A payload; `events` are (seconds after start (negative: before), the event record)."""
    lines = [line(RICE), line(SODA, 2)] if lines is None else lines
    end = datetime.fromisoformat(completed.replace("Z", "+00:00"))
    start = end - timedelta(seconds=seconds)
    subtotal = sum(item["line_total"] for item in lines)
    total = subtotal - discount
    return {
        "schema": "tillsight.tx/1", "tx_id": tx_id, "seq": seq, "store_id": "s-001", "device_id": "till-1",
        "cashier_id": cashier, "started_at": iso(start), "completed_at": iso(end), "status": status,
        "currency": "DOP", "lines": lines, "subtotal": subtotal, "discount": discount,
        "tax": round(total * 18 / 118), "total": total,
        "payment": {"method": method, "tendered": total, "change": 0}, "customer_id": None,
        "events": [replace(event, at=iso(start + timedelta(seconds=offset))).to_payload()
                   for offset, event in events],
        "anomaly": None,
    }
