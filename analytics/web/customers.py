"""The store's Customers tab: known customers' RFM segments and k-means clusters with their profiles,
the anonymous basket segments, the time-of-day and basket-value bands, who moved between segments
since the previous run, and the churn-risk list.  Every table has its JSON API with CSV and Excel
exports; a store outside the user's scope is a 404, page and API alike.

Segment names, rules, actions, bands, weekdays and payment methods are stored in English; pages, APIs and
exports word them in the reader's language (``analytics.segmentation.words``), and the APIs also give each
stored name (``segment_key``, ``cluster_key`` ...: what ``?segment=`` / ``?cluster=`` filter on)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from analytics.jobs import results as rs
from analytics.segmentation import words
from analytics.web import formatting as fmt
from analytics.web.datatable import Col, TableSpec
from analytics.web.pages import NavItem, Page
from analytics.web.params import choice_arg, int_arg
from analytics.web.queries import analytics as aq
from analytics.web.security import require
from analytics.web.store_results import StoreResults, head_context, open_store
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("customers_page", __name__)

MAX_CUSTOMERS = 1_000_000

RFM = TableSpec("customers-rfm", N_("RFM segments"), (
    Col("segment", N_("Segment")),
    Col("members", N_("Customers"), "int"),
    Col("share", N_("Share of customers"), "pct"),
    Col("revenue", N_("Spend"), "money"),
    Col("revenue_share", N_("Share of spend"), "pct"),
    Col("median_recency_days", N_("Median days since last purchase"), "int"),
    Col("median_frequency", N_("Median purchases"), "int"),
    Col("median_monetary", N_("Median spend"), "money"),
    Col("avg_basket", N_("Average basket"), "money"),
    Col("avg_churn_risk", N_("Average churn risk"), "pct"),
    Col("top_categories", N_("Top categories")),
    Col("rule", N_("Rule (scores 1-5)")),
    Col("action", N_("What to do")),
    Col("currency", N_("Currency"), html=False),
    Col("segment_key", N_("Segment (stored name)"), html=False),
))
CLUSTERS = TableSpec("customers-clusters", N_("Customer clusters (k-means)"), (
    Col("segment", N_("Cluster")),
    Col("members", N_("Customers"), "int"),
    Col("share", N_("Share of customers"), "pct"),
    Col("revenue", N_("Spend"), "money"),
    Col("revenue_share", N_("Share of spend"), "pct"),
    Col("median_recency_days", N_("Median days since last purchase"), "int"),
    Col("median_frequency", N_("Median purchases"), "int"),
    Col("median_monetary", N_("Median spend"), "money"),
    Col("avg_basket", N_("Average basket"), "money"),
    Col("avg_tenure_days", N_("Average tenure (days)"), "num"),
    Col("avg_diversity", N_("Distinct items per basket"), "num"),
    Col("main_rfm_segments", N_("Main RFM segments")),
    Col("top_categories", N_("Top categories")),
    Col("avg_churn_risk", N_("Average churn risk"), "pct"),
    Col("currency", N_("Currency"), html=False),
    Col("segment_key", N_("Cluster (stored name)"), html=False),
))
BASKETS = TableSpec("customers-baskets", N_("Basket segments (every sale, known customer or not)"), (
    Col("segment", N_("Segment")),
    Col("members", N_("Sales"), "int"),
    Col("share", N_("Share of sales"), "pct"),
    Col("revenue", N_("Revenue"), "money"),
    Col("revenue_share", N_("Share of revenue"), "pct"),
    Col("avg_basket", N_("Average basket"), "money"),
    Col("median_basket", N_("Median basket"), "money"),
    Col("avg_items", N_("Items per basket"), "num"),
    Col("peak_hours", N_("Peak hours")),
    Col("peak_days", N_("Peak days")),
    Col("top_categories", N_("Top categories")),
    Col("payment_mix", N_("Payment mix")),
    Col("known_customer_share", N_("Known customers"), "pct"),
    Col("weekend_share", N_("Weekend share"), "pct", html=False),
    Col("currency", N_("Currency"), html=False),
    Col("segment_key", N_("Segment (stored name)"), html=False),
))
TIME_BANDS = TableSpec("customers-time-bands", N_("Time of day"), (
    Col("band", N_("Band")),
    Col("hours", N_("Hours (store time)")),
    Col("sales", N_("Sales"), "int"),
    Col("revenue", N_("Revenue"), "money"),
    Col("revenue_share", N_("Share of revenue"), "pct"),
    Col("avg_basket", N_("Average basket"), "money"),
    Col("currency", N_("Currency"), html=False),
    Col("band_key", N_("Band (stored name)"), html=False),
))
VALUE_BANDS = TableSpec("customers-value-bands", N_("Basket value"), (
    Col("band", N_("Basket value")),
    Col("from", N_("From (minor units)"), "money", html=False),
    Col("to", N_("Up to (minor units)"), "money", html=False),
    Col("sales", N_("Sales"), "int"),
    Col("share", N_("Share of sales"), "pct"),
    Col("revenue", N_("Revenue"), "money"),
    Col("revenue_share", N_("Share of revenue"), "pct"),
    Col("avg_items", N_("Items per basket"), "num"),
    Col("currency", N_("Currency"), html=False),
))
TRANSITIONS = TableSpec("customers-transitions", N_("Moves between segments since the previous run"), (
    Col("from", N_("From")),
    Col("to", N_("To")),
    Col("customers", N_("Customers"), "int"),
    Col("from_key", N_("From (stored name)"), html=False),
    Col("to_key", N_("To (stored name)"), html=False),
))
MOVERS = TableSpec("customers-movers", N_("Customers who changed segment"), (
    Col("customer_id", N_("Customer"), "code"),
    Col("prev_segment", N_("Was")),
    Col("segment", N_("Is now")),
    Col("monetary", N_("Spend"), "money"),
    Col("churn_risk", N_("Churn risk"), "pct"),
    Col("currency", N_("Currency"), html=False),
    Col("prev_segment_key", N_("Was (stored name)"), html=False),
    Col("segment_key", N_("Is now (stored name)"), html=False),
))
CHURN = TableSpec("customers-churn-risk", N_("Churn risk (no purchase in the next 90 days)"), (
    Col("customer_id", N_("Customer"), "code"),
    Col("churn_risk", N_("Churn risk"), "pct"),
    Col("segment", N_("Segment")),
    Col("cluster", N_("Cluster")),
    Col("last_purchase", N_("Last purchase (store time)")),
    Col("recency_days", N_("Days since"), "int"),
    Col("frequency", N_("Purchases"), "int"),
    Col("monetary", N_("Spend"), "money"),
    Col("currency", N_("Currency"), html=False),
    Col("segment_key", N_("Segment (stored name)"), html=False),
    Col("cluster_key", N_("Cluster (stored name)"), html=False),
))
CUSTOMERS = TableSpec("customers", N_("Customers"), (
    Col("customer_id", N_("Customer"), "code"),
    Col("segment", N_("Segment")),
    Col("cluster", N_("Cluster")),
    Col("recency_days", N_("Days since last purchase"), "int"),
    Col("last_purchase", N_("Last purchase (store time)")),
    Col("frequency", N_("Purchases"), "int"),
    Col("monetary", N_("Spend"), "money"),
    Col("tenure_days", N_("Tenure (days)"), "int"),
    Col("diversity", N_("Distinct items per basket"), "num"),
    Col("r_score", N_("R"), "int"),
    Col("f_score", N_("F"), "int"),
    Col("m_score", N_("M"), "int"),
    Col("churn_risk", N_("Churn risk"), "pct"),
    Col("prev_segment", N_("Previous segment")),
    Col("currency", N_("Currency"), html=False),
    Col("segment_key", N_("Segment (stored name)"), html=False),
    Col("cluster_key", N_("Cluster (stored name)"), html=False),
    Col("prev_segment_key", N_("Previous segment (stored name)"), html=False),
))
ORDERS = ("monetary", "churn_risk", "recency", "frequency")


def _medians(res: StoreResults, key: str) -> dict[str, dict[str, float]]:
    return aq.medians_by(res.get(rs.customers, limit=MAX_CUSTOMERS), key)


def _customer_segments(res: StoreResults, kind: str) -> list[dict[str, Any]]:
    """RFM segments (kind ``rfm``) or clusters (``cluster``) with their profiles flattened, worded in the
    reader's language (``segment_key`` holds the stored name)."""
    medians = _medians(res, "segment" if kind == "rfm" else "cluster")
    out = []
    for s in res.get(rs.segments, kind):
        p = s["profile"] or {}
        key = s["segment"]
        row = {"segment": words.segment_name(kind, key), "segment_key": key, "members": s["members"],
               "share": s["share"], "revenue": s["revenue"], "revenue_share": s["revenue_share"],
               **medians.get(key, {}),
               "avg_basket": p.get("avg_basket"), "avg_churn_risk": p.get("avg_churn_risk"),
               "avg_tenure_days": p.get("avg_tenure_days"), "avg_diversity": p.get("avg_diversity"),
               "top_categories": words.shares(p.get("top_categories")),
               "main_rfm_segments": words.rfm_mix(p.get("main_rfm_segments")),
               "rule": words.rfm_rule(key) if kind == "rfm" else "",
               "action": words.rfm_action(key, p.get("action")) if kind == "rfm" else "",
               "currency": res.currency}
        out.append(row)
    return out


def _baskets(res: StoreResults) -> list[dict[str, Any]]:
    out = []
    for s in res.get(rs.segments, "basket"):
        p = s["profile"] or {}
        out.append({"segment": words.basket_name(s["segment"], p), "segment_key": s["segment"],
                    "members": s["members"], "share": s["share"], "revenue": s["revenue"],
                    "revenue_share": s["revenue_share"], "avg_basket": p.get("avg_basket"),
                    "median_basket": p.get("median_basket"), "avg_items": p.get("avg_items"),
                    "peak_hours": ", ".join(f"{int(h):02d}:00" for h in p.get("peak_hours") or []),
                    "peak_days": words.weekdays(p.get("peak_days")),
                    "top_categories": words.shares(p.get("top_categories")),
                    "payment_mix": words.payment_mix(p.get("payment_mix")),
                    "known_customer_share": p.get("known_customer_share"), "weekend_share": p.get("weekend_share"),
                    "currency": res.currency})
    return out


def _time_bands(res: StoreResults) -> list[dict[str, Any]]:
    return [{**b, "band": words.time_band(b.get("band")), "band_key": b.get("band"), "currency": res.currency}
            for b in res.get(rs.view, "time_bands") or []]


def _value_bands(res: StoreResults) -> list[dict[str, Any]]:
    out = []
    for b in res.get(rs.view, "value_bands") or []:
        lo, hi = b.get("from"), b.get("to")
        label = (_("%(low)s and more", low=fmt.money(lo, res.currency)) if hi is None
                 else _("%(low)s to under %(high)s", low=fmt.money(lo or 0, res.currency),
                        high=fmt.money(hi, res.currency)))
        out.append({**b, "band": label, "currency": res.currency})
    return out


def _named(row: dict[str, Any]) -> dict[str, Any]:
    """A customer row with its segment, cluster and previous segment worded, the stored names kept as keys."""
    out = dict(row)
    for col, word in (("segment", words.rfm_name), ("prev_segment", words.rfm_name), ("cluster", words.cluster_name)):
        if col in row:
            out[f"{col}_key"] = row[col]
            out[col] = word(row[col]) if row[col] is not None else None
    return out


def _with_last_purchase(res: StoreResults, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    as_of = res.run["as_of"] if res.run else None
    return [{**_named(r), "last_purchase": aq.last_purchase(as_of, r.get("recency_days")), "currency": res.currency}
            for r in rows]


def _churn(res: StoreResults, limit: int, min_spend: int = 1) -> list[dict[str, Any]]:
    """Most likely to lapse first; by default only customers whose net spend is above zero (one who
    refunded everything is not worth a win-back offer)."""
    return _with_last_purchase(res, res.get(rs.churn_risk_list, limit, min_spend))


def _transition(row: dict[str, Any]) -> dict[str, Any]:
    start = row.get("from")
    return {**row, "from": _("(new)") if start == "(new)" else words.rfm_name(start), "from_key": start,
            "to": words.rfm_name(row.get("to")), "to_key": row.get("to")}


def _movers(res: StoreResults, limit: int = 200) -> dict[str, Any]:
    moved = res.get(rs.movers, limit)
    t = dict(moved["transitions"] or {})
    if t.get("matrix"):
        t["matrix"] = [_transition(r) for r in t["matrix"]]
    return {"customers": [_named(r) for r in res.with_currency(moved["customers"])], "transitions": t}


@blueprint.get("/stores/<store_id>/customers")
@require("viewer")
def store_customers(store_id: str) -> str:
    res = open_store(store_id)
    ctx = head_context(res, "customers_page.store_customers")
    if res.run is None:
        return render_template("customers.html", **ctx)
    movers = _movers(res)
    validation = res.get(rs.view, "churn_validation") or {}
    return render_template(
        "customers.html", **ctx, rfm=_customer_segments(res, "rfm"), rfm_spec=RFM,
        clusters=_customer_segments(res, "cluster"), clusters_spec=CLUSTERS, baskets=_baskets(res),
        baskets_spec=BASKETS, time_bands=_time_bands(res), time_spec=TIME_BANDS, value_bands=_value_bands(res),
        value_spec=VALUE_BANDS, movers=movers["customers"], movers_spec=MOVERS,
        transitions=movers["transitions"], transitions_spec=TRANSITIONS, churn=_churn(res, 50), churn_spec=CHURN,
        churn_validation=validation, churn_status=words.churn_status(validation),
        metrics=(res.run.get("metrics") or {}))


@blueprint.get("/api/stores/<store_id>/segments/rfm")
@require("viewer")
def api_rfm(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(RFM, _customer_segments(res, "rfm"), "rfm-segments")


@blueprint.get("/api/stores/<store_id>/segments/clusters")
@require("viewer")
def api_clusters(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(CLUSTERS, _customer_segments(res, "cluster"), "customer-clusters")


@blueprint.get("/api/stores/<store_id>/segments/baskets")
@require("viewer")
def api_baskets(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(BASKETS, _baskets(res), "basket-segments")


@blueprint.get("/api/stores/<store_id>/bands/time")
@require("viewer")
def api_time_bands(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(TIME_BANDS, _time_bands(res), "time-bands")


@blueprint.get("/api/stores/<store_id>/bands/value")
@require("viewer")
def api_value_bands(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(VALUE_BANDS, _value_bands(res), "value-bands")


@blueprint.get("/api/stores/<store_id>/movers")
@require("viewer")
def api_movers(store_id: str) -> Response:
    res = open_store(store_id)
    moved = _movers(res, int_arg("limit", 1, 100_000, 1000))
    t = moved["transitions"]
    return res.table(MOVERS, moved["customers"], "segment-movers", previous_run=bool(t.get("previous_run")),
                     moved=t.get("moved", 0), new=t.get("new", 0), gone=t.get("gone", 0))


@blueprint.get("/api/stores/<store_id>/transitions")
@require("viewer")
def api_transitions(store_id: str) -> Response:
    res = open_store(store_id)
    t = _movers(res, 1)["transitions"]
    return res.table(TRANSITIONS, t.get("matrix") or [], "segment-transitions",
                     previous_run=bool(t.get("previous_run")), moved=t.get("moved", 0))


@blueprint.get("/api/stores/<store_id>/churn-risk")
@require("viewer")
def api_churn(store_id: str) -> Response:
    res = open_store(store_id)
    limit = int_arg("limit", 1, 100_000, 500)
    min_spend = int_arg("min_spend", 0, 10**12, 1)
    return res.table(CHURN, _churn(res, limit, min_spend), "churn-risk", min_spend=min_spend)


@blueprint.get("/api/stores/<store_id>/customers")
@require("viewer")
def api_customers(store_id: str) -> Response:
    """Every known customer (``?segment=``, ``?cluster=``, ``?order=monetary|churn_risk|recency|frequency``)."""
    res = open_store(store_id)
    order = choice_arg("order", ORDERS, "monetary") or "monetary"
    limit = int_arg("limit", 1, 200_000, 200_000)
    rows = res.get(rs.customers, segment=request.args.get("segment") or None,
                   cluster=request.args.get("cluster") or None, order=order, limit=limit)
    return res.table(CUSTOMERS, _with_last_purchase(res, rows), "customers", order=order)


page = Page(blueprint, nav=(NavItem("Customers", "customers_page.store_customers", "viewer", per_store=True,
                                    order=51),))
