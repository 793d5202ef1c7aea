"""The till's checkout service: one session, the store, staff approvals and the anomaly scorer.

The web layer calls these methods; each returns data for the screen or raises
:class:`CheckoutError` / :class:`~edge.store.errors.StoreError` with a message to show.
Corrections the cashier makes to what the camera found go, with the frame their box was seen in, to
a :class:`~edge.checkout.corrections.CorrectionKeeper` (gallery candidates), never delaying the sale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from contracts.events import DrawerOpen
from contracts.timestamps import utc_now_text
from edge.auth.service import Authenticator
from edge.checkout.errors import CheckoutError
from edge.checkout.refund import build_refund
from edge.checkout.session import CheckoutSession, Correction, PaymentPart, check_qty
from edge.store import Store
from edge.store.errors import NotFoundError, StoreError
from edge.store.records import Product, SaleRecord, User
from i18n import gettext as _
from vision.basket import BasketSnapshot

if TYPE_CHECKING:
    from edge.checkout.corrections import CorrectionKeeper

log = logging.getLogger(__name__)

# payload -> (anomaly block for the payload or None, raise an alert?)
SaleScorer = Callable[[dict[str, Any]], tuple[dict[str, Any] | None, bool]]


def no_scoring(payload: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    return None, False


class CheckoutService:
    def __init__(self, store: Store, auth: Authenticator, store_id: str, device_id: str,
                 scorer: SaleScorer = no_scoring, on_recorded: Callable[[SaleRecord], None] | None = None,
                 corrections: CorrectionKeeper | None = None) -> None:
        self.store = store
        self.auth = auth
        self.scorer = scorer
        self.on_recorded = on_recorded
        settings = store.settings.get()
        self.session = CheckoutSession(store_id, device_id, settings.currency, settings.tax_rate_bp,
                                       lookup=self._lookup, offers=store.promotions.in_force)
        self.corrections = corrections
        self.session.on_correction = self._on_correction
        self._settled_frame: np.ndarray | None = None  # the camera frame of the latest settled basket
        self._lock = threading.Lock()
        self.last_display_ms: float | None = None

    def sale_open(self) -> bool:
        """A sale is in progress (the till is not idle): no model switch happens now."""
        return self.session.state in ("scanning", "review", "payment")

    def _lookup(self, sku: str) -> Product | None:
        return self.store.products.find(sku)

    def settings_changed(self) -> None:
        s = self.store.settings.get()
        with self._lock:
            if self.session.state in ("idle", "completed", "voided"):
                self.session.currency, self.session.tax_rate_bp = s.currency, s.tax_rate_bp

    # -- vision --------------------------------------------------------------------------------
    def on_basket(self, basket: BasketSnapshot, image: np.ndarray | None = None) -> None:
        """A basket from the vision loop, with the frame it was seen in (kept for corrections' crops)."""
        if basket.settled and image is not None:
            self._settled_frame = image
        self.session.apply_basket(basket, settled_at=time.monotonic())

    def _on_correction(self, correction: Correction) -> None:
        if self.corrections is not None:
            self.corrections.keep(correction, self._settled_frame)

    # -- the sale ----------------------------------------------------------------------------
    def start(self, cashier: User) -> dict[str, Any]:
        shift = self.store.shifts.open_for(cashier.id)
        if shift is None:
            raise CheckoutError(_("open your shift (count the float) before the first sale"))
        if self.session.state in ("scanning", "review", "payment") and self.session.cashier \
                and self.session.cashier.id != cashier.id:
            raise CheckoutError(_("%(name)s has a sale in progress on this till", name=self.session.cashier.name))
        if self.session.state in ("scanning", "review", "payment"):
            return self.view()
        self.settings_changed()
        self.session.start(cashier, shift.id)
        return self.view()

    def resolve_product(self, code: str) -> Product:
        """A barcode (digits) or a SKU, typed or scanned."""
        code = (code or "").strip()
        if not code or len(code) > 64:
            raise CheckoutError(_("type a barcode or a product code"))
        product = self.store.products.by_barcode(code) if code.isdigit() else None
        product = product or self.store.products.find(code) or self.store.products.find(code.upper())
        if product is None or not product.active:
            raise CheckoutError(_("no product with code %(code)s", code=repr(code)))
        return product

    def add(self, user: User, code: str, qty: int = 1, source: str = "manual") -> dict[str, Any]:
        check_qty(qty)
        product = self.resolve_product(code)
        self.session.add_product(product, qty, source, user)
        return self.view()

    def resolve(self, line_id: int, code: str, how: str) -> dict[str, Any]:
        """Ring up a line the camera found (an unknown item, or a wrong one) by a barcode or a search."""
        product = self.resolve_product(code)
        self.session.resolve_line(line_id, product, how)
        return self.view()

    def approver(self, approver_id: str | None, pin: str | None) -> User | None:
        if not approver_id and not pin:
            return None
        return self.auth.approve(approver_id or "", pin or "")

    def complete(self, parts: list[PaymentPart]) -> SaleRecord:
        with self._lock:
            record = self.session.pay(parts)
            record = self._record(record)
            self.session.finish(record)
            return record

    def void(self, approver: User | None, reason: str = "", expect_version: int | None = None) -> SaleRecord | None:
        """Void the sale in progress; ``expect_version`` is the basket version the approval showed."""
        with self._lock:
            record = self.session.void(approver, reason, expect_version)
            if record is None:
                return None
            record = self._record(record)
            self.session.finish(record)
            return record

    def _record(self, record: SaleRecord) -> SaleRecord:
        anomaly, alert = None, False
        try:
            anomaly, alert = self.scorer(record.to_payload())
        except Exception:  # scoring must never block a sale
            log.exception("anomaly scoring failed for %s", record.tx_id)
        record.anomaly = anomaly
        stored = self.store.sales.record(record, raise_alert_for=alert)
        if self.on_recorded is not None:
            try:
                self.on_recorded(stored)
            except Exception:
                log.exception("after-sale hook failed")
        return stored

    def refund(self, receipt_no: str, quantities: Mapping[str, int], cashier: User, approver: User,
               reason: str = "") -> SaleRecord:
        try:
            original = self.store.sales.by_receipt(receipt_no)
        except NotFoundError as exc:
            raise CheckoutError(str(exc)) from exc
        shift = self.store.shifts.open_for(cashier.id)
        if shift is None:
            raise CheckoutError(_("open your shift before giving a refund"))
        record = build_refund(original, quantities, self.store.sales.refunded_qty(original.tx_id), cashier,
                              approver, self.store.settings.get().tax_rate_bp, shift.id, reason)
        return self._record(record)

    def open_drawer(self, user: User, reason: str) -> None:
        """A drawer opened with no sale (change for a customer, a float top-up): recorded."""
        if not reason.strip():
            raise CheckoutError(_("say why the drawer is opened"))
        self.store.sales.record_event(DrawerOpen(at=utc_now_text(), by=user.id, no_sale=True,
                                                 reason=reason.strip()[:200]))

    # -- view --------------------------------------------------------------------------------
    def view(self) -> dict[str, Any]:
        return self.session.to_dict()


__all__ = ["CheckoutError", "CheckoutService", "PaymentPart", "StoreError"]
