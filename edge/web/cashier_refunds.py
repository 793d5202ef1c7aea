"""Refunds by receipt number: look the sale up, choose quantities, a supervisor approves with a PIN,
and a ``refunded`` record (negative amounts) is written with its own receipt.

The page is open to cashiers; the API always needs a supervisor's PIN (``approver_id`` and
``approver_pin``) and answers 403 ``approval_required`` without one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, render_template, request
from werkzeug.exceptions import NotFound

from edge.store.products import SKU_RE
from edge.store.records import SaleRecord
from edge.web.cashier_api import RECEIPT_RE
from edge.web.cashier_common import (
    MAX_QTY,
    reason_text,
    required_approver,
    sale_view,
    supervisors,
    whole_number,
)
from edge.web.cashier_common import cashier_blueprint as bp
from edge.web.context import ctx
from edge.web.forms import BadInput, get_text
from edge.web.security import json_body, me, require
from i18n import gettext as _
from i18n import ngettext

log = logging.getLogger(__name__)

MAX_REFUND_ITEMS = 200


def refundable_lines(sale: SaleRecord) -> list[dict[str, Any]]:
    """One row per SKU of the sale: sold, already refunded, still refundable."""
    already = ctx().store.sales.refunded_qty(sale.tx_id)
    rows: dict[str, dict[str, Any]] = {}
    for line in sale.lines:
        row = rows.setdefault(line.sku, {"sku": line.sku, "name": line.name, "sold": 0, "amount": 0})
        row["sold"] += line.qty
        row["amount"] += line.line_total
    for row in rows.values():
        row["unit_price"] = row["amount"] // row["sold"] if row["sold"] else 0
        row["refunded"] = already.get(row["sku"], 0)
        row["refundable"] = max(0, row["sold"] - row["refunded"]) if sale.status == "completed" else 0
    return list(rows.values())


def _lookup(receipt_no: str) -> SaleRecord:
    if not RECEIPT_RE.match(receipt_no or ""):
        raise NotFound(_("no sale with receipt number %(receipt)s", receipt=repr(receipt_no)))
    return ctx().store.sales.by_receipt(receipt_no)  # NotFoundError -> 404


@bp.get("/refunds")
@require("cashier")
def refund_page() -> str:
    return render_template("cashier/refunds.html", supervisors=supervisors(),
                           receipt=request.args.get("receipt", "")[:40])


@bp.get("/api/refunds/lookup")
@require("cashier")
def refund_lookup() -> Response:
    receipt_no = get_text(request.args, "receipt", 40)
    sale = _lookup(receipt_no)
    refunds = ctx().store.sales.refunds_of(sale.tx_id)
    body = sale_view(sale)
    body.update(refundable=sale.status == "completed", refund_lines=refundable_lines(sale), refunds=refunds)
    return jsonify(body)


def refund_quantities(data: dict[str, Any]) -> dict[str, int]:
    items = data.get("items")
    if not isinstance(items, dict) or not items:
        raise BadInput("items", _("send the quantities to refund as {sku: qty}"))
    if len(items) > MAX_REFUND_ITEMS:
        raise BadInput("items", ngettext("at most %(num)d product", "at most %(num)d products", MAX_REFUND_ITEMS))
    out: dict[str, int] = {}
    for sku, qty in items.items():
        if not isinstance(sku, str) or not SKU_RE.match(sku):
            raise BadInput("items", _("each key must be a product code"))
        out[sku] = whole_number({sku: qty}, sku, lo=0, hi=MAX_QTY)
    if not any(out.values()):
        raise BadInput("items", _("choose at least one item to refund"))
    return out


@bp.post("/api/refunds")
@require("cashier")
def refund_submit() -> Response:
    user = me()
    data = json_body()
    receipt_no = get_text(data, "receipt_no", 40)
    quantities = refund_quantities(data)
    reason = reason_text(data)
    _lookup(receipt_no)
    approver = required_approver(data, _("a refund needs a supervisor PIN"))
    record = ctx().checkout.refund(receipt_no, quantities, user, approver, reason)
    log.info("refund %s of %s by %s approved by %s", record.receipt_no, receipt_no, user.id, approver.id)
    return jsonify(receipt_no=record.receipt_no, receipt=sale_view(record))
