"""Shared pieces of the cashier side: the blueprint, strict request values, approvals, who may act
on the sale in progress, and the JSON/HTML views of receipts and shifts.

The routes live in :mod:`edge.web.cashier` (pages), :mod:`edge.web.cashier_api` (the till's JSON
API), :mod:`edge.web.cashier_shifts` and :mod:`edge.web.cashier_refunds`; they all register on
:data:`cashier_blueprint`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import Forbidden

import i18n
from edge.checkout.errors import ApprovalRequired
from edge.checkout.receipt import ReceiptHeader, local_time, method_name, receipt_text, refund_approver
from edge.store.errors import NotFoundError
from edge.store.records import SaleRecord, User
from edge.store.shifts import Shift
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_money, get_text
from edge.web.security import current_user

cashier_blueprint = Blueprint("cashier", __name__)

ACTIVE_STATES = ("scanning", "review", "payment")
MAX_QTY = 999
MAX_MONEY = 10**11
_PIN_RE = re.compile(r"^[0-9]{1,12}$")


# -- the person at the till --------------------------------------------------------------------
def supervisors() -> list[User]:
    """Staff who can approve with a PIN (supervisors and owners), for the approval dialogs."""
    return [u for u in ctx().store.users.list(include_inactive=False)
            if u.at_least("supervisor") and u.has_pin]


# -- strict request values -----------------------------------------------------------------------
def whole_number(data: dict[str, Any], key: str, lo: int = 1, hi: int = MAX_QTY,
                 default: int | None = None) -> int:
    """A JSON whole number in ``lo..hi``: floats, strings, booleans and null are rejected.

    A form post (not JSON) may send digits as text, which :func:`get_int` reads strictly."""
    value = data.get(key, default)
    if value is None:
        raise BadInput(key, i18n.gettext("is required"))
    if request.is_json and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadInput(key, i18n.gettext("must be a whole number"))
    return get_int({key: value}, key, lo, hi)


def money(data: dict[str, Any], key: str, currency: str, lo: int = 0, hi: int = MAX_MONEY) -> int:
    """Money (required): a JSON integer is minor units, text such as ``"12.50"`` is major units.

    Floats are rejected (0.1 + 0.2 is not money)."""
    value = data.get(key)
    if value is None or value == "":
        raise BadInput(key, i18n.gettext("is required"))
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, (int, str)):
        raise BadInput(key, i18n.gettext("must be minor units as a whole number, or an amount as text like "
                                         "\"12.50\""))
    return get_money({key: value}, key, currency, lo, hi)


def optional_money(data: dict[str, Any], key: str, currency: str, lo: int = 0, hi: int = MAX_MONEY) -> int | None:
    """:func:`money` where the field may be left out: None when it is missing or empty."""
    if data.get(key) is None or data.get(key) == "":
        return None
    return money(data, key, currency, lo, hi)


def nested(prefix: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a reader on a nested object and name the field with its path (``payments[1].amount``)."""
    try:
        return fn(*args, **kwargs)
    except BadInput as exc:
        raise BadInput(f"{prefix}.{exc.field}", str(exc).split(": ", 1)[-1]) from None


def reason_text(data: dict[str, Any], required: bool = False) -> str:
    return get_text(data, "reason", 200, required=required)


def approver_from(data: dict[str, Any]) -> User | None:
    """The supervisor who approves this request (``approver_id`` + ``approver_pin``), or None
    when neither was sent.  A wrong PIN is an AuthError (403) and is throttled per approver, till and session."""
    approver_id = get_text(data, "approver_id", 32, required=False)
    pin = data.get("approver_pin")
    if pin is None:
        pin = ""
    if not isinstance(pin, str):
        raise BadInput("approver_pin", i18n.gettext("must be text"))
    pin = pin.strip()
    if pin and not _PIN_RE.match(pin):
        raise BadInput("approver_pin", i18n.gettext("must be digits"))
    if not approver_id and not pin:
        return None
    if not approver_id or not pin:
        raise BadInput("approver_pin", i18n.gettext("choose the supervisor and type their PIN"))
    user = current_user()  # failures slow only approvals typed into this session, never the approver's login
    return ctx().auth.approve(approver_id, pin, client=request.remote_addr or "unknown",
                              session_user=user.id if user else "")


def required_approver(data: dict[str, Any], refusal: str) -> User:
    """The approving supervisor named in ``data``; without one, ``ApprovalRequired(refusal)`` (a sentence in
    the request's language, e.g. "a discount needs a supervisor PIN")."""
    approver = approver_from(data)
    if approver is None:
        raise ApprovalRequired(refusal)
    return approver


# -- who may act on the sale in progress --------------------------------------------------------------
def may_act(user: User) -> bool:
    session = ctx().checkout.session
    owner = session.cashier
    if session.state not in ACTIVE_STATES or owner is None:
        return True
    return owner.id == user.id or user.at_least("supervisor")


def guard_sale(user: User) -> None:
    """Only the cashier who started the sale in progress, or a supervisor+, may change it."""
    if not may_act(user):
        owner = ctx().checkout.session.cashier
        name = owner.name if owner else i18n.gettext("another cashier")
        raise Forbidden(i18n.gettext("this sale belongs to %(name)s: only they or a supervisor can change it",
                                     name=name))


def may_see_sale(user: User, sale: SaleRecord) -> bool:
    return user.at_least("supervisor") or sale.cashier_id == user.id


def may_see_shift(user: User, shift: Shift) -> bool:
    return user.at_least("owner") or shift.cashier_id == user.id


# -- views ---------------------------------------------------------------------------------------
def user_name(user_id: str | None) -> str:
    if not user_id:
        return ""
    found = ctx().store.users.find(user_id)
    return found.name if found else user_id


def customer_name(customer_id: str | None) -> str:
    if not customer_id:
        return ""
    try:
        return ctx().store.customers.get(customer_id).name
    except NotFoundError:
        return customer_id


def refunded_note(state: dict[str, Any] | None) -> str:
    """"Partly refunded: TILL-1-000007" for a sale refunded since ("" when it was not)."""
    if not state:
        return ""
    receipts = ", ".join(state["receipts"])
    if state["state"] == "fully":
        return i18n.gettext("Refunded in full: %(receipts)s", receipts=receipts)
    return i18n.gettext("Partly refunded: %(receipts)s", receipts=receipts)


def receipt_header(sale: SaleRecord) -> ReceiptHeader:
    """The printed receipt's header: in the store's language, whoever is at the till."""
    s = ctx().store.settings.get()
    with i18n.use_language(s.language, s.timezone):
        note = refunded_note(ctx().store.sales.refund_state(sale))
    return ReceiptHeader(store_name=s.store_name, address=s.address, timezone=s.timezone, footer=s.receipt_footer,
                         tax_rate_bp=s.tax_rate_bp, cashier_name=user_name(sale.cashier_id),
                         customer_name=customer_name(sale.customer_id),
                         approver_name=user_name(refund_approver(sale)), refunded_note=note, language=s.language)


def sale_text(sale: SaleRecord, width: int | None = None) -> str:
    """The receipt as fixed-width text (``till.receipt_width`` columns unless ``width`` says otherwise)."""
    return receipt_text(sale, receipt_header(sale), width or ctx().till.receipt_width)


def sale_view(sale: SaleRecord) -> dict[str, Any]:
    """A recorded sale (receipt) as JSON for the screen."""
    settings = ctx().store.settings.get()
    original = ctx().store.sales.find(sale.refund_of) if sale.refund_of else None
    return {
        "receipt_no": sale.receipt_no, "tx_id": sale.tx_id, "status": sale.status, "currency": sale.currency,
        "started_at": sale.started_at, "completed_at": sale.completed_at,
        "completed_local": local_time(sale.completed_at, settings.timezone),
        "cashier": {"id": sale.cashier_id, "name": user_name(sale.cashier_id)},
        "customer": {"id": sale.customer_id, "name": customer_name(sale.customer_id)} if sale.customer_id else None,
        "shift_id": sale.shift_id,
        "lines": [ln.to_payload() for ln in sale.lines],
        "subtotal": sale.subtotal, "discount": sale.discount, "tax": sale.tax, "total": sale.total,
        "tax_rate_bp": settings.tax_rate_bp,
        "payments": [{"method": p.method, "method_name": method_name(p.method), "amount": p.amount,
                      "tendered": p.tendered, "change": p.change, "customer_id": p.customer_id}
                     for p in sale.payments],
        "change": sum(p.change for p in sale.payments),
        "refund_of": original.receipt_no if original else None,
        "approved_by": user_name(refund_approver(sale)) or None,  # a refund's approving supervisor
        "refund_state": ctx().store.sales.refund_state(sale),  # a sale refunded since: partly / fully
        "text": sale_text(sale),
    }


def shift_view(shift: Shift, with_report: bool = True) -> dict[str, Any]:
    """A shift as JSON; an open shift carries its running X report, a closed one its stored report."""
    body: dict[str, Any] = {
        "id": shift.id, "cashier": {"id": shift.cashier_id, "name": user_name(shift.cashier_id)},
        "open": shift.is_open, "opened_at": shift.opened_at, "closed_at": shift.closed_at,
        "opening_float": shift.opening_float, "counted_cash": shift.counted_cash,
        "expected_cash": shift.expected_cash,
    }
    if with_report:
        body["report"] = shift_report(shift)
    return body


def shift_report(shift: Shift) -> dict[str, Any]:
    """The shift's report; its gross profit only for a supervisor or owner (cashiers do not see margins)."""
    report = shift.report if not shift.is_open and shift.report is not None else ctx().store.shifts.report(shift)
    user = current_user()
    if user is None or not user.at_least("supervisor"):
        report = {k: v for k, v in report.items() if k != "profit"}
    return report


def money_text(minor: int | None, currency: str | None = None) -> str:
    if minor is None:
        return "—"
    return i18n.format_money(int(minor), currency or ctx().store.settings.get().currency)  # the request's locale


def local_text(iso_utc: str | None) -> str:
    if not iso_utc:
        return "—"
    return local_time(iso_utc, ctx().store.settings.get().timezone)
