"""The cashier side of the appliance: the till screen, receipts, shifts and refunds.

| route | what |
|---|---|
| ``GET /till`` | the till screen (camera, basket, corrections, payment, receipt) |
| ``GET /till/receipt/<no>`` | a printable receipt page |
| ``GET /till/receipt/<no>.txt`` | the receipt as fixed-width text (UTF-8) |
| ``GET /till/receipt/<no>.escpos`` | the receipt as an ESC/POS print job in the printer's code page |
| ``GET /shift``, ``GET /shift/<id>/report`` | open/close a shift; the printable close report |
| ``GET /refunds`` | refunds by receipt number |
| ``/api/checkout/...``, ``/api/shift...``, ``/api/refunds...`` | the JSON API (``docs/api/cashier.md``) |

Every route needs at least the cashier role; the JSON routes live in the modules imported at the
bottom, all on :data:`cashier_blueprint`.
"""

from __future__ import annotations

from flask import Response, render_template, request

from contracts.money import exponent
from edge.checkout.escpos import receipt_bytes
from edge.web.cashier_api import find_receipt
from edge.web.cashier_common import cashier_blueprint, local_text, money_text, sale_text, sale_view, supervisors
from edge.web.context import ctx
from edge.web.forms import get_int
from edge.web.security import me, require

# quick cash buttons on the payment panel: the notes in circulation, in major units
CASH_NOTES = {"DOP": [50, 100, 200, 500, 1000, 2000], "MXN": [20, 50, 100, 200, 500, 1000],
              "USD": [1, 5, 10, 20, 50, 100], "EUR": [5, 10, 20, 50, 100, 200], "GBP": [5, 10, 20, 50]}
DEFAULT_NOTES = [1, 5, 10, 20, 50, 100, 500, 1000]


@cashier_blueprint.get("/till")
@require("cashier")
def index() -> str:
    user = me()
    settings = ctx().store.settings.get()
    notes = CASH_NOTES.get(settings.currency, DEFAULT_NOTES)
    return render_template("cashier/till.html", shift=ctx().store.shifts.open_for(user.id),
                           has_camera=ctx().live is not None, supervisors=supervisors(),
                           cash_notes=" ".join(str(n * 10 ** exponent(settings.currency)) for n in notes))


@cashier_blueprint.get("/till/receipt/<receipt_no>.txt")
@require("cashier")
def receipt_txt(receipt_no: str) -> Response:
    """The receipt as plain text (42 columns for 80 mm paper; ``?width=32`` for 58 mm)."""
    sale = find_receipt(receipt_no)
    width = get_int(request.args, "width", 24, 64, default=ctx().till.receipt_width)
    return Response(sale_text(sale, width), mimetype="text/plain", content_type="text/plain; charset=utf-8")


@cashier_blueprint.get("/till/receipt/<receipt_no>.escpos")
@require("cashier")
def receipt_escpos(receipt_no: str) -> Response:
    """The receipt as an ESC/POS print job in the printer's code page (``till.receipt_code_page``):
    send the bytes to the printer as they are (e.g. ``curl ... > /dev/usb/lp0``)."""
    sale = find_receipt(receipt_no)
    width = get_int(request.args, "width", 24, 64, default=ctx().till.receipt_width)
    job = receipt_bytes(sale_text(sale, width), ctx().till.receipt_code_page)
    return Response(job, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{sale.receipt_no}.escpos"'})


@cashier_blueprint.get("/till/receipt/<receipt_no>")
@require("cashier")
def receipt_page(receipt_no: str) -> str:
    sale = find_receipt(receipt_no)
    return render_template("cashier/receipt.html", receipt=sale_view(sale), money=money_text, local=local_text,
                           settings=ctx().store.settings.get(), auto_print=request.args.get("print") == "1")


# the API modules register their routes on the same blueprint
from edge.web import cashier_api, cashier_refunds, cashier_shifts  # noqa: E402,F401

__all__ = ["cashier_blueprint"]
