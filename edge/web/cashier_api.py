"""The till's JSON API: the sale in progress, corrections, approvals, payment and receipts.

Every mutating call answers with the till view (the same body as ``GET /api/checkout``) so the
screen redraws at once; ``GET /api/checkout?since=<version>`` is a long-poll that returns as soon as
the basket changes (a settled tray, another terminal's action) or after ``wait`` seconds.
Request and response examples: ``docs/api/cashier.md``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import Forbidden, NotFound

from edge.checkout.errors import CheckoutError
from edge.checkout.session import RESOLVE_HOW, PaymentPart
from edge.store.errors import NotFoundError
from edge.store.records import PAYMENT_METHODS, SaleRecord, User
from edge.web.cashier_common import (
    ACTIVE_STATES,
    approver_from,
    guard_sale,
    may_act,
    may_see_sale,
    money,
    money_text,
    nested,
    optional_money,
    reason_text,
    required_approver,
    sale_view,
    whole_number,
)
from edge.web.cashier_common import cashier_blueprint as bp
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.security import json_body, me, require
from i18n import gettext as _

log = logging.getLogger(__name__)

MAX_PAYMENT_PARTS = 6
MAX_WAIT_S = 25.0
DEFAULT_WAIT_S = 10.0
_WAIT_RE = re.compile(r"^\d{1,2}(\.\d{1,3})?$")
RECEIPT_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
TX_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def till_view(user: User) -> dict[str, Any]:
    """The sale in progress as the till shows it, plus what this user may do and their shift."""
    view = ctx().checkout.view()
    view["mine"] = may_act(user)
    shift = ctx().store.shifts.open_for(user.id)
    view["shift"] = None if shift is None else {"id": shift.id, "opened_at": shift.opened_at,
                                                "opening_float": shift.opening_float}
    view["user"] = {"id": user.id, "name": user.name, "role": user.role}
    view["teach_url"] = teach_url(user)
    return view


def teach_url(user: User) -> str | None:
    """Where "Teach this product" leads (supervisors and owners, when the teach screen exists)."""
    if not user.at_least("supervisor") or "teach.index" not in current_app.view_functions:
        return None
    return url_for("teach.index")


def _answer(user: User, **extra: Any) -> Response:
    body = till_view(user)
    body.update(extra)
    return jsonify(body)


def _wait_seconds() -> float:
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return DEFAULT_WAIT_S
    if not _WAIT_RE.match(raw):
        raise BadInput("wait", _("must be a number of seconds, 0 to %(most)s", most=format(MAX_WAIT_S, "g")))
    return min(float(raw), MAX_WAIT_S)


def _acting() -> User:
    """The user, checked to be allowed to change the sale in progress."""
    user = me()
    guard_sale(user)
    return user


# -- the sale ------------------------------------------------------------------------------------
@bp.get("/api/checkout")
@require("cashier")
def checkout_view() -> Response:
    if request.args.get("since") is not None:
        since = get_int(request.args, "since", -1, 2**62)
        ctx().checkout.session.wait_for_change(since, _wait_seconds())
    return jsonify(till_view(me()))


@bp.post("/api/checkout/start")
@require("cashier")
def checkout_start() -> Response:
    user = me()
    ctx().checkout.start(user)
    return _answer(user)


@bp.post("/api/checkout/review")
@require("cashier")
def checkout_review() -> Response:
    user = _acting()
    ctx().checkout.session.review()
    return _answer(user)


@bp.post("/api/checkout/rescan")
@require("cashier")
def checkout_rescan() -> Response:
    user = _acting()
    ctx().checkout.session.rescan()
    return _answer(user)


@bp.post("/api/checkout/items")
@require("cashier")
def checkout_add() -> Response:
    user = _acting()
    data = json_body()
    code = get_text(data, "code", 64)
    qty = whole_number(data, "qty", default=1)
    source = get_text(data, "source", 16, required=False, default="manual") or "manual"
    if source not in ("manual", "barcode"):
        raise BadInput("source", _("must be manual or barcode"))
    ctx().checkout.add(user, code, qty, source)
    return _answer(user)


@bp.route("/api/checkout/lines/<int:line_id>", methods=["PATCH", "POST"])
@require("cashier")
def checkout_set_qty(line_id: int) -> Response:
    user = _acting()
    data = json_body()
    qty = whole_number(data, "qty")
    ctx().checkout.session.set_qty(line_id, qty, approver_from(data))
    return _answer(user)


@bp.post("/api/checkout/lines/<int:line_id>/remove")
@require("cashier")
def checkout_remove(line_id: int) -> Response:
    user = _acting()
    data = json_body()
    reason = reason_text(data)
    ctx().checkout.session.remove_line(line_id, approver_from(data), reason)
    return _answer(user)


@bp.post("/api/checkout/lines/<int:line_id>/alternative")
@require("cashier")
def checkout_alternative(line_id: int) -> Response:
    user = _acting()
    data = json_body()
    sku = get_text(data, "sku", 64)
    ctx().checkout.session.pick_alternative(line_id, sku)
    return _answer(user)


@bp.post("/api/checkout/lines/<int:line_id>/resolve")
@require("cashier")
def checkout_resolve(line_id: int) -> Response:
    """Ring up a line the camera found (an unknown item, or a wrong one) by its barcode or a product
    search: ``{"code": "7460...", "how": "barcode" | "search"}``."""
    user = _acting()
    data = json_body()
    code = get_text(data, "code", 64)
    how = get_text(data, "how", 16, required=False, default="barcode") or "barcode"
    if how not in RESOLVE_HOW:
        raise BadInput("how", _("must be %(first)s or %(second)s", first=RESOLVE_HOW[0], second=RESOLVE_HOW[-1]))
    ctx().checkout.resolve(line_id, code, how)
    return _answer(user)


@bp.post("/api/checkout/lines/<int:line_id>/price")
@require("cashier")
def checkout_price(line_id: int) -> Response:
    user = _acting()
    data = json_body()
    session = ctx().checkout.session
    unit_price = money(data, "unit_price", session.currency)
    reason = reason_text(data)
    approver = required_approver(data, _("a price override needs a supervisor PIN"))
    session.override_price(line_id, unit_price, approver, reason)
    return _answer(user)


@bp.post("/api/checkout/discount")
@require("cashier")
def checkout_discount() -> Response:
    user = _acting()
    data = json_body()
    session = ctx().checkout.session
    amount = money(data, "amount", session.currency)
    reason = reason_text(data)
    session.set_discount(amount, required_approver(data, _("a discount needs a supervisor PIN")), reason)
    return _answer(user)


@bp.post("/api/checkout/pay")
@require("cashier")
def checkout_pay() -> Response:
    user = _acting()
    totals = ctx().checkout.session.to_payment()
    return _answer(user, due=totals.total)


def payment_parts(data: dict[str, Any], currency: str, nothing_due: bool = False) -> list[PaymentPart]:
    """The payment parts of a complete request; an empty list only when ``nothing_due`` (a zero total)."""
    raw = data.get("payments")
    if not isinstance(raw, list) or (not raw and not nothing_due):
        raise BadInput("payments", _("send a list of payment parts"))
    if len(raw) > MAX_PAYMENT_PARTS:
        raise BadInput("payments", _("at most %(most)s parts", most=MAX_PAYMENT_PARTS))
    parts: list[PaymentPart] = []
    for i, item in enumerate(raw):
        where = f"payments[{i}]"
        if not isinstance(item, dict):
            raise BadInput(where, _("must be an object"))
        method = item.get("method")
        if method not in PAYMENT_METHODS:
            raise BadInput(f"{where}.method", _("must be one of %(choices)s", choices=", ".join(PAYMENT_METHODS)))
        amount = nested(where, money, item, "amount", currency, lo=1)
        tendered = nested(where, optional_money, item, "tendered", currency) if method == "cash" else None
        customer = None
        if method == "credit":
            customer_id = nested(where, get_text, item, "customer_id", 40)
            try:
                customer = ctx().store.customers.get(customer_id)
            except NotFoundError:
                raise BadInput(f"{where}.customer_id", _("no such customer")) from None
            if amount > customer.available_credit:  # said here in money, not minor units
                raise CheckoutError(_("%(name)s has only %(amount)s of credit left", name=customer.name,
                                      amount=money_text(customer.available_credit, currency)))
        parts.append(PaymentPart(method, amount, tendered, customer))
    return parts


@bp.post("/api/checkout/complete")
@require("cashier")
def checkout_complete() -> Response:
    """Take the payment and record the sale.  A storage failure answers 507 and leaves the sale in
    the payment state: pressing Pay again records it (the same tx_id, never twice)."""
    user = _acting()
    data = json_body()
    session = ctx().checkout.session
    tx_id = get_text(data, "tx_id", 36, required=False)
    if tx_id:  # the screen names the sale it pays for: a repeated attempt is answered, never recorded twice
        if not TX_ID_RE.match(tx_id):
            raise BadInput("tx_id", _("must be the sale's id"))
        done = ctx().store.sales.find(tx_id)
        if done is not None and done.status == "completed":
            return _answer(user, receipt_no=done.receipt_no, receipt=sale_view(done), replayed=True)
        if done is not None:
            raise CheckoutError(_("sale %(sale)s was voided (receipt %(number)s): there is nothing to pay",
                                  sale=tx_id[:8], number=done.receipt_no))
        if session.tx_id != tx_id or session.state != "payment":
            raise CheckoutError(_("sale %(sale)s was not recorded and is no longer open (the till restarted before "
                                  "saving it): give back any money taken for it and ring the items up again",
                                  sale=tx_id[:8]))
    parts = payment_parts(data, session.currency, nothing_due=session.totals().total == 0)
    record = ctx().checkout.complete(parts)
    return _answer(user, receipt_no=record.receipt_no, receipt=sale_view(record))


@bp.get("/api/checkout/sales/<tx_id>")
@require("cashier")
def checkout_sale_status(tx_id: str) -> Response:
    """Was the sale ``tx_id`` recorded?  The screen asks after a payment the till did not answer (the
    till died or restarted mid-payment): ``recorded`` with the receipt, or not recorded and whether
    it is still ``open`` (waiting for its payment) on this till."""
    if not TX_ID_RE.match(tx_id):
        raise NotFound(_("no such sale"))
    done = ctx().store.sales.find(tx_id)
    if done is not None:
        if not may_see_sale(me(), done):
            raise Forbidden(_("a cashier sees only their own sales"))
        return jsonify(tx_id=tx_id, recorded=True, status=done.status, receipt_no=done.receipt_no, total=done.total,
                       receipt=sale_view(done))
    session = ctx().checkout.session
    return jsonify(tx_id=tx_id, recorded=False, open=session.tx_id == tx_id and session.state in ACTIVE_STATES,
                   state=session.state if session.tx_id == tx_id else None)


@bp.post("/api/checkout/void")
@require("cashier")
def checkout_void() -> Response:
    user = _acting()
    data = json_body()
    reason = reason_text(data)
    # the basket version the void box showed (items and total): a basket changed since is not voided
    expect = whole_number(data, "expect_version", lo=0, hi=2**62) if data.get("expect_version") is not None else None
    record = ctx().checkout.void(approver_from(data), reason, expect)
    return _answer(user, voided_receipt_no=record.receipt_no if record else None)


# -- look-ups ------------------------------------------------------------------------------------
@bp.get("/api/products/search")
@require("cashier")
def product_search() -> Response:
    q = get_text(request.args, "q", 64, required=False)
    limit = get_int(request.args, "limit", 1, 50, default=20)
    products = ctx().store.products.search(q, limit=limit) if q else []
    return jsonify(products=[{"sku": p.sku, "name": p.name, "price": p.price, "barcode": p.barcode,
                              "category": p.category, "stock_qty": p.stock_qty} for p in products])


@bp.get("/api/customers")
@require("cashier")
def customer_list() -> Response:
    return jsonify(customers=[{"id": c.id, "name": c.name, "phone": c.phone, "credit_limit": c.credit_limit,
                               "balance": c.balance, "available_credit": c.available_credit}
                              for c in ctx().store.customers.list(include_inactive=False)])


@bp.post("/api/drawer/open")
@require("cashier")
def drawer_open() -> Response:
    """Open the cash drawer with no sale (change for a customer, a float top-up): recorded and
    counted on the shift report."""
    user = me()
    reason = reason_text(json_body(), required=True)
    if ctx().store.shifts.open_for(user.id) is None:
        raise CheckoutError(_("open your shift before opening the drawer"))
    ctx().checkout.open_drawer(user, reason)
    log.info("drawer opened without a sale by %s: %s", user.id, reason)
    return jsonify(ok=True, reason=reason)


def find_receipt(receipt_no: str) -> SaleRecord:
    """The sale behind a receipt number, if this user may see it (cashiers: their own)."""
    if not RECEIPT_RE.match(receipt_no or ""):
        raise NotFound(_("no sale with receipt number %(number)r", number=receipt_no))
    sale = ctx().store.sales.by_receipt(receipt_no)
    if not may_see_sale(me(), sale):
        raise Forbidden(_("a cashier sees only the receipts of their own sales"))
    return sale


@bp.get("/api/receipts/<receipt_no>")
@require("cashier")
def receipt_json(receipt_no: str) -> Response:
    return jsonify(sale_view(find_receipt(receipt_no)))
