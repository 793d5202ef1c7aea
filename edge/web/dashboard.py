"""The owner's dashboard: today's trade, the live store pulse, alerts, stock, credit, device health,
the hub's insights, gross profit and margins (today, by hour, top products by profit as well as by revenue, each
sale's cost and profit), the sales list with each sale's detail, as pages and as a JSON API, and CSV / Excel
downloads (``edge.web.dashboard_exports``).

Every route is owner-only.  Days and hours are store-local (``settings.timezone``); money is integer
minor units in JSON and formatted on the page.  Pages render server-side and ``static/dashboard.js``
draws the charts (vendored Chart.js) from the JSON API and refreshes the figures every 30 seconds;
nothing is inline, so the Content-Security-Policy holds.  The SQL lives in the store: ``edge.store.reports``
and ``edge.store.dashboard`` (last sale, open alerts).
See ``docs/api/dashboard.md`` for the API.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from edge.anomaly.reasons import localized_reason
from edge.store.records import SALE_STATUSES
from edge.store.reports import DEFAULT_WEEKS, Reports, to_json
from edge.web.context import ctx
from edge.web.forms import BadInput, get_bool, get_int, get_text
from edge.web.security import current_user, require
from i18n import N_, format_date, format_decimal, format_money, format_number, ngettext
from i18n import gettext as _

log = logging.getLogger(__name__)

dashboard_blueprint = Blueprint("dashboard", __name__)


@dashboard_blueprint.app_template_filter("reason")
def reason_filter(text: Any) -> str:
    """An anomaly reason as stored in the sale (English) re-worded in the reader's language (``{{ r|reason }}``)."""
    return localized_reason(str(text), ctx().store.settings.get().currency)


def with_localized_reasons(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """An alert or a sale's anomaly for a JSON answer: ``reasons`` in the request's language, as the pages show
    them, and ``reasons_stored`` as stored and sent to the hub (English)."""
    if not item or not isinstance(item.get("reasons"), list):
        return item
    stored = [str(r) for r in item["reasons"]]
    currency = ctx().store.settings.get().currency  # a device sells in its store's currency: a bare $ is that
    return {**item, "reasons": [localized_reason(r, currency) for r in stored], "reasons_stored": stored}


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PAYMENT_LABELS = {"cash": N_("Cash"), "card": N_("Card"), "mobile_money": N_("Mobile money"), "credit": N_("Credit")}
STATUS_PILL = {"completed": "ok", "refunded": "warn", "voided": "bad"}
# device health: the keys the appliance reports, in the order and words the owner sees them
HEALTH_LABELS: dict[str, str] = {
    "camera_state": N_("Camera"), "camera_fps": N_("Camera frame rate"),
    "inference_ms": N_("Recognition time per frame"), "vision_alive": N_("Recognition loop"),
    "vision_errors": N_("Recognition errors"), "model_version": N_("Recognition model"),
    "anomaly_model": N_("Anomaly model"), "sync_backlog": N_("Waiting to sync to the hub"),
    "oldest_unsynced_at": N_("Oldest unsynced since"), "disk_free_mb": N_("Disk free"),
    "disk_total_mb": N_("Disk size"),
    "last_sale_at": N_("Last sale"), "temperature_c": N_("Temperature (°C)"),
}
CAMERA_STATES = {"connecting": N_("connecting"), "live": N_("live"), "reconnecting": N_("reconnecting"),
                 "ended": N_("ended"), "failed": N_("failed")}
HEALTH_EXPECTED = ("camera_state", "camera_fps", "inference_ms", "vision_alive", "model_version",
                   "anomaly_model", "sync_backlog", "disk_free_mb", "disk_total_mb", "last_sale_at")


def now_utc() -> datetime:
    """The dashboard's clock (tests replace it)."""
    return datetime.now(UTC)


def _reports() -> Reports:
    return Reports(ctx().store.db)


# -- request values --------------------------------------------------------------------------

def _date_arg(key: str = "date") -> date | None:
    text = (request.args.get(key) or "").strip()
    if not text:
        return None
    if not _DATE_RE.match(text):
        raise BadInput(key, _("must be a date like 2026-11-21"))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(key, _("is not a real date")) from None
    if not 2000 <= day.year <= 2999:
        raise BadInput(key, _("must be between the years 2000 and 2999"))
    return day


def _day_or_today() -> date:
    return _date_arg() or _reports().today(now_utc())


def _sales_filters() -> dict[str, Any]:
    args = request.args.to_dict()
    status = get_text(args, "status", 16, required=False)
    if status and status not in SALE_STATUSES:
        raise BadInput("status", _("must be one of %(choices)s", choices=", ".join(SALE_STATUSES)))
    return {"day": _date_arg(), "cashier_id": get_text(args, "cashier", 32, required=False) or None,
            "status": status or None, "limit": get_int(args, "limit", 1, 500, default=100),
            "offset": get_int(args, "offset", 0, 10_000_000, default=0)}


# -- health and insights ---------------------------------------------------------------------

def _health_text(key: str, value: Any, raw: dict[str, Any], zone_local: Any) -> tuple[str, str]:
    """(text, status) of one health value; status is ok | warn | bad | info."""
    if key == "camera_state":
        state = str(value)
        return (_(CAMERA_STATES[state]) if state in CAMERA_STATES else state), "ok" if state == "live" else "bad"
    if key == "camera_fps":
        fps = float(value)
        return _("%(fps)s frames/s", fps=format_decimal(fps, digits=1)), "ok" if fps >= 2 else "warn"
    if key == "inference_ms":
        ms = float(value)
        return f"{ms:.0f} ms", "ok" if ms < 500 else "warn"
    if key == "vision_alive":
        return (_("running"), "ok") if value else (_("stopped"), "bad")
    if key == "vision_errors":
        return str(value), "ok" if not value else "warn"
    if key == "sync_backlog":
        n = int(value)
        # sales are safe on the device whatever the backlog; a long one means the hub is not reached
        return ngettext("%(num)d message", "%(num)d messages", n), "ok" if n < 50 else "warn"
    if key in ("disk_free_mb", "disk_total_mb"):
        mb = int(value)
        text = f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb} MB"
        if key == "disk_total_mb":
            return text, "info"
        total = raw.get("disk_total_mb")
        if isinstance(total, (int, float)) and total > 0:
            text += f" ({100 * mb / total:.0f} %)"
        return text, "ok" if mb >= 1024 else "warn" if mb >= 200 else "bad"
    if key in ("last_sale_at", "oldest_unsynced_at"):
        return zone_local(str(value)), "info"
    if isinstance(value, bool):
        return (_("yes"), "ok") if value else (_("no"), "warn")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)[:200], "info"
    return str(value)[:200], "info"


def health_items() -> list[dict[str, Any]]:
    """The device's health as labelled rows: the expected keys first ("unknown" when missing), then
    whatever else the appliance reports.  Backlog, disk and last sale fall back to the store."""
    c = ctx()
    try:
        reported = c.health()
        raw = {str(k): v for k, v in reported.items()} if isinstance(reported, dict) else {}
    except Exception:  # a broken probe must not take the dashboard down
        log.exception("device health probe failed")
        raw = {}
    if raw.get("sync_backlog") is None:
        raw["sync_backlog"] = c.store.outbox.backlog()
    if raw.get("disk_free_mb") is None:
        try:
            usage = shutil.disk_usage(c.store.path.parent)
            raw["disk_free_mb"], raw["disk_total_mb"] = usage.free // 2**20, usage.total // 2**20
        except OSError:
            pass
    if raw.get("last_sale_at") is None:
        raw["last_sale_at"] = c.store.dashboard.activity().last_sale_at
    reports = _reports()
    zone = reports.zone()

    def local(stamp: str) -> str:
        try:
            return reports.local_text(stamp, zone)
        except ValueError:
            return stamp

    keys = list(HEALTH_EXPECTED) + [k for k in raw if k not in HEALTH_EXPECTED]
    items: list[dict[str, Any]] = []
    for key in keys:
        value = raw.get(key)
        label = _(HEALTH_LABELS[key]) if key in HEALTH_LABELS else key.replace("_", " ").capitalize()
        if value is None and key == "oldest_unsynced_at":
            items.append({"key": key, "label": label, "value": None, "text": _("nothing waiting"), "status": "ok"})
            continue
        if value is None or value == "":
            items.append({"key": key, "label": label, "value": None, "text": _("unknown"), "status": "unknown"})
            continue
        try:
            text, status = _health_text(key, value, raw, local)
        except (TypeError, ValueError):
            text, status = str(value)[:200], "info"
        items.append({"key": key, "label": label, "value": value if isinstance(value, (int, float, str, bool))
                      else text, "text": text, "status": status})
    return items


HUB_TODAY_TITLE = "Today's forecast"  # analytics/jobs/insights.py's title for the forecast of the store's today


def _document_day(raw: Any) -> date | None:
    """The store-local day the hub's document describes (``day``), or None (older hubs, malformed)."""
    if not isinstance(raw, str) or not _DATE_RE.match(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def insights() -> dict[str, Any] | None:
    """The hub's latest insights, shaped for the page, or None when there are none yet."""
    try:
        raw = ctx().insights()
    except Exception:
        log.exception("reading the hub's insights failed")
        return None
    if not isinstance(raw, dict):
        return None
    items: list[dict[str, Any]] = []
    for it in raw.get("items") or []:
        if isinstance(it, dict) and (it.get("title") or it.get("text")):
            items.append({"title": str(it.get("title") or ""), "text": str(it.get("text") or "")})
        elif isinstance(it, str):
            items.append({"title": "", "text": it})
    day = _document_day(raw.get("day"))
    if day is not None and day != _reports().today(now_utc()):
        # the hub says "Today's forecast" of the day it wrote for; on any other day the device names that day
        label = _("Forecast for %(day)s", day=format_date(day, format="EEEE d MMMM"))
        items = [{**it, "title": label} if it["title"] == HUB_TODAY_TITLE else it for it in items]
    generated = raw.get("generated_at")
    generated_local = ""
    if isinstance(generated, str) and generated:
        try:
            generated_local = _reports().local_text(generated)
        except ValueError:
            generated_local = generated
    return {"generated_at": generated, "generated_local": generated_local, "day": day.isoformat() if day else None,
            "source": str(raw.get("source") or "computed"), "headline": str(raw.get("headline") or ""),
            "items": items, "narrative": _narrative(raw.get("narrative")),
            "collections": _collections(raw.get("collections"))}


SOURCE_MARKS = {"llm": N_("Written by the hub's language model"), "cache": N_("Written by the hub's language model"),
                "computed": N_("Computed from your figures (no AI)")}


def _narrative(raw: Any) -> dict[str, Any] | None:
    """The hub's daily narrative (``{period, title, text, source, generated_at}``), or None when the
    document has none (older hubs) or it is malformed."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        return None
    source = str(raw.get("source") or "computed")
    lines = [ln.strip() for ln in raw["text"][:8000].splitlines() if ln.strip()]
    title = str(raw.get("title") or "")[:200]
    if lines and lines[0] == title:
        lines = lines[1:]
    return {"period": str(raw.get("period") or "daily"), "title": title, "lines": lines, "source": source,
            "source_mark": _(SOURCE_MARKS.get(source, SOURCE_MARKS["computed"])),
            "generated_at": str(raw.get("generated_at") or "")}


def _collections(raw: Any) -> list[dict[str, Any]]:
    """Collection reminders (customer, amount owed, suggested message); bad entries are skipped."""
    out: list[dict[str, Any]] = []
    for r in raw if isinstance(raw, list) else []:
        if not isinstance(r, dict) or not r.get("name"):
            continue
        balance = r.get("balance")
        currency = str(r.get("currency") or "")
        owed = ""
        if isinstance(balance, int) and not isinstance(balance, bool):
            try:
                owed = format_money(balance, currency or ctx().store.settings.get().currency)
            except Exception:  # noqa: BLE001 - one odd reminder must not take the dashboard down: show the number
                owed = str(balance)
        out.append({"customer_id": str(r.get("customer_id") or ""), "name": str(r["name"])[:120], "owed": owed,
                    "balance": balance if isinstance(balance, int) else None,
                    "priority": r.get("priority") if isinstance(r.get("priority"), (int, float)) else None,
                    "predicted_payment_date": str(r.get("predicted_payment_date") or ""),
                    "message": str(r.get("message") or "")[:1000]})
        if len(out) >= 20:
            break
    return out


NO_INSIGHTS = N_("Insights arrive when the device syncs with the hub.")


# -- pages -----------------------------------------------------------------------------------

@dashboard_blueprint.context_processor
def _helpers() -> dict[str, Any]:
    currency = ctx().store.settings.get().currency

    def money(minor: int | None) -> str:
        return "—" if minor is None else format_money(int(minor), currency)  # the request's locale

    def pct(value: int | None, usual: float | None = None) -> str:
        if value is None:
            return _("no usual yet") if usual is None else ""
        return _("%(change)s%% vs usual", change=("+" if value > 0 else "") + format_number(value))

    return {"money": money, "pct": pct, "payment_label": payment_label,
            "status_pill": lambda s: STATUS_PILL.get(s, "")}


def payment_label(method: str | None) -> str:
    """A payment method as the reader's language names it ("—" for none)."""
    return _(PAYMENT_LABELS[method]) if method in PAYMENT_LABELS else (method or "—")


def _staff_names() -> dict[str, str]:
    return {u.id: u.name for u in ctx().store.users.list()}


@dashboard_blueprint.get("/dashboard")
@require("owner")
def index() -> str:
    reports = _reports()
    now = now_utc()
    today = reports.today(now)
    day = _date_arg() or today
    stock = reports.stock(now)
    credit = reports.credit()
    return render_template(
        "dashboard/index.html", day=day.isoformat(), is_today=day == today, today=today.isoformat(),
        weekday=format_date(day, format="EEEE"),
        summary=reports.summary(day), top=reports.top_products(day, limit=10), mix=reports.payment_mix(day),
        top_profit=reports.top_products(day, limit=10, by="profit"), profit_hours=reports.profit_by_hour(day),
        pulse=reports.pulse(now), alerts=reports.alerts(limit=20), stock=stock,
        low_count=sum(1 for s in stock if s.low), soon_count=sum(1 for s in stock if s.runs_out_soon and not s.low),
        credit=credit, total_owed=sum(max(0, c.balance) for c in credit), health=health_items(),
        insights=insights(), no_insights=_(NO_INSIGHTS), staff=_staff_names())


@dashboard_blueprint.get("/sales")
@require("owner")
def sales_page() -> str:
    filters = _sales_filters()
    reports = _reports()
    result = reports.sales(**filters)
    args = {k: v for k, v in request.args.items() if k in ("date", "cashier", "status", "limit") and v}
    next_offset = filters["offset"] + filters["limit"]
    return render_template(
        "dashboard/sales.html", result=result, cashiers=reports.cashiers(), statuses=SALE_STATUSES,
        day=filters["day"].isoformat() if filters["day"] else "", cashier=filters["cashier_id"] or "",
        status=filters["status"] or "", limit=filters["limit"], args=args,
        next_offset=next_offset if next_offset < result["count"] else None,
        prev_offset=max(0, filters["offset"] - filters["limit"]) if filters["offset"] else None)


@dashboard_blueprint.get("/sales/<tx_id>")
@require("owner")
def sale_page(tx_id: str) -> str:
    sale = _reports().sale_detail(tx_id)
    return render_template("dashboard/sale.html", sale=sale, staff=_staff_names())


# -- JSON API --------------------------------------------------------------------------------

@dashboard_blueprint.get("/api/dashboard/summary")
@require("owner")
def api_summary() -> Response:
    return jsonify(to_json(_reports().summary(_day_or_today())))


@dashboard_blueprint.get("/api/dashboard/hourly")
@require("owner")
def api_hourly() -> Response:
    weeks = get_int(request.args.to_dict(), "weeks", 1, 12, default=DEFAULT_WEEKS)
    return jsonify(to_json(_reports().hourly(_day_or_today(), weeks=weeks)))


@dashboard_blueprint.get("/api/dashboard/top-products")
@require("owner")
def api_top_products() -> Response:
    day = _day_or_today()
    args = request.args.to_dict()
    limit = get_int(args, "limit", 1, 100, default=10)
    by = args.get("by") or "revenue"
    if by not in ("revenue", "profit"):
        raise BadInput("by", _("must be revenue or profit"))
    return jsonify(date=day.isoformat(), by=by, products=to_json(_reports().top_products(day, limit=limit, by=by)))


@dashboard_blueprint.get("/api/dashboard/payment-mix")
@require("owner")
def api_payment_mix() -> Response:
    day = _day_or_today()
    mix = _reports().payment_mix(day)
    return jsonify(date=day.isoformat(), total=sum(m.amount for m in mix),
                   methods=[{**to_json(m), "label": payment_label(m.method)} for m in mix])


@dashboard_blueprint.get("/api/dashboard/pulse")
@require("owner")
def api_pulse() -> Response:
    weeks = get_int(request.args.to_dict(), "weeks", 1, 12, default=DEFAULT_WEEKS)
    return jsonify(to_json(_reports().pulse(now_utc(), weeks=weeks)))


@dashboard_blueprint.get("/api/dashboard/health")
@require("owner")
def api_health() -> Response:
    items = health_items()
    return jsonify(ok=not any(i["status"] == "bad" for i in items), items=items)


@dashboard_blueprint.get("/api/insights")
@require("owner")
def api_insights() -> Response:
    found = insights()
    return jsonify(insights=found, message=None if found else NO_INSIGHTS)


@dashboard_blueprint.get("/api/alerts")
@require("owner")
def api_alerts() -> Response:
    args = request.args.to_dict()
    limit = get_int(args, "limit", 1, 500, default=50)
    reports = _reports()
    alerts = reports.alerts(limit=limit, open_only=get_bool(args, "open"))
    return jsonify(open=ctx().store.dashboard.activity().open_alerts,
                   alerts=[with_localized_reasons(a) for a in to_json(alerts)])


@dashboard_blueprint.post("/api/alerts/<int:alert_id>/ack")
@require("owner")
def api_ack_alert(alert_id: int) -> Response:
    user = current_user()
    assert user is not None  # @require guarantees it
    ctx().store.alerts.acknowledge(alert_id, user.id)
    log.info("alert %s acknowledged by %s", alert_id, user.id)
    return jsonify(alert=with_localized_reasons(to_json(_reports().alert(alert_id))))


@dashboard_blueprint.get("/api/stock")
@require("owner")
def api_stock() -> Response:
    rows = _reports().stock(now_utc(), low_only=get_bool(request.args.to_dict(), "low"))
    return jsonify(low=sum(1 for s in rows if s.low), running_out=sum(1 for s in rows if s.runs_out_soon),
                   products=to_json(rows))


@dashboard_blueprint.get("/api/credit")
@require("owner")
def api_credit() -> Response:
    rows = _reports().credit()
    return jsonify(total_owed=sum(max(0, c.balance) for c in rows), owing=sum(1 for c in rows if c.balance > 0),
                   customers=to_json(rows))


@dashboard_blueprint.get("/api/sales")
@require("owner")
def api_sales() -> Response:
    return jsonify(_reports().sales(**_sales_filters()))


@dashboard_blueprint.get("/api/sales/<tx_id>")
@require("owner")
def api_sale(tx_id: str) -> Response:
    sale = _reports().sale_detail(tx_id)
    sale["anomaly"] = with_localized_reasons(sale.get("anomaly"))
    sale["alerts"] = [with_localized_reasons(a) for a in sale.get("alerts") or []]
    return jsonify(sale)


# the owner's downloads (sale lines and products with margins) register on this blueprint
from edge.web import dashboard_exports  # noqa: E402,F401

__all__ = ["dashboard_blueprint", "health_items", "insights", "now_utc"]
