"""Builders for checkout tests: baskets as the vision stabiliser delivers them, and a quick sale."""

from __future__ import annotations

from edge.checkout.session import CheckoutSession, Clock, PaymentPart
from edge.store import Store
from edge.store.records import SaleRecord, User
from vision.basket import BasketItem, BasketSnapshot


def basket(*skus: str, confidence: float = 0.9, alternatives: dict[str, list[tuple[str, float]]] | None = None,
           settled: bool = True) -> BasketSnapshot:
    items = []
    for i, sku in enumerate(skus):
        alts = tuple((alternatives or {}).get(sku, ()))
        items.append(BasketItem(track_id=i + 1, sku=sku, confidence=confidence,
                                box=(10.0 * i, 0.0, 10.0 * i + 8, 8.0), alternatives=alts, source="vision"))
    return BasketSnapshot(items=tuple(items), settled=settled, events=(), frame_index=1)


def unknown_item(track_id: int, confidence: float = 0.3, alternatives: tuple[tuple[str, float], ...] = (),
                 box: tuple[float, float, float, float] = (100.0, 100.0, 180.0, 200.0)) -> BasketItem:
    """A product the recogniser found but could not identify, as the stabiliser delivers it."""
    return BasketItem(track_id=track_id, sku=None, confidence=confidence, box=box, alternatives=alternatives,
                      source="vision", known=False)


def tray(*items: BasketItem, settled: bool = True) -> BasketSnapshot:
    """A basket of the given items (known ones from :func:`basket`'s items, unknown from :func:`unknown_item`)."""
    return BasketSnapshot(items=tuple(items), settled=settled, events=(), frame_index=1)


def session_for(store: Store, store_id: str = "s-001", clock: Clock | None = None) -> CheckoutSession:
    """The till's checkout session over ``store``; ``clock`` fixes the time the sale is rung up at."""
    s = store.settings.get()
    return CheckoutSession(store_id, "till-1", s.currency, s.tax_rate_bp, lookup=store.products.find, clock=clock)


def cashier(store: Store, user_id: str = "ana") -> User:
    return store.users.get(user_id)


def quick_sale(store: Store, *skus: str, shift_id: int | None = None) -> SaleRecord:
    """A cash sale of the given SKUs (one each), paid exactly, ready to record."""
    session = session_for(store)
    session.start(cashier(store), shift_id)
    session.apply_basket(basket(*skus))
    totals = session.to_payment()
    return session.pay([PaymentPart("cash", totals.total, totals.total)])
