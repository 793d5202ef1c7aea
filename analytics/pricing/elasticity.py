"""Own-price elasticity per product, from the store's own price changes and quantity-dependent prices.

Observations (``source``) are either

* ``shelf`` (the default): per product and store-local week, the week's shelf price (the most
  common price of its single-unit lines) and all the units sold that week, so only the store's own
  price changes over time inform the estimate; or
* ``cells``: per product, week and unit price paid, the units sold at that price: the price changes
  *and* the quantity-dependent prices within a week (cheaper by the case, as in the shared retailer
  data).  On the shared data the pricing backtest (``backtest.py``) finds these cells confound the
  price with who buys (bulk buyers buy more *and* pay less), so predictions from them are far worse
  than predicting no change; the shelf observations do better.  ``cells`` stays for comparison.

Per product, ordinary least squares fits

    log(units) = a + elasticity * log(price) + b * weeks

(the trend term keeps a product that grew while its price rose from looking price-loving), with the
classical standard error of the slope.

Few products change price often, so every estimate is pooled (empirical Bayes, DerSimonian-Laird):
the products of a category with their own estimate give the category's mean elasticity and the spread
between products; each product's estimate is shrunk towards that mean by how uncertain it is, and a
product with too few prices of its own takes the category's mean with the spread as its uncertainty.
A category with fewer than :data:`MIN_POOL` estimated products borrows the same category across the
fleet (other stores' own estimates, when given), else the store's pool, else the fleet's.

An elasticity is *told* when its 80 % interval lies below zero and its standard error is at most
:data:`MAX_SE`; otherwise the product gets no elasticity-based suggestion and the reason says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analytics.pricing import reasons as rs
from i18n import N_

MIN_CELLS = 6  # observations a product needs for an estimate of its own
MIN_PRICES = 2  # distinct prices
MIN_SPREAD = 0.03  # the highest price at least 3 % above the lowest
MIN_POOL = 3  # products with their own estimate a pool needs
MAX_SE = 0.6
Z80 = 1.2816
MIN_TAU = 0.05  # the between-product spread is never taken as nil
SOURCES = ("shelf", "cells")


@dataclass(frozen=True)
class OwnEstimate:
    sku: str
    estimate: float
    se: float
    cells: int
    prices: int


@dataclass(frozen=True)
class Elasticity:
    sku: str
    estimate: float | None
    se: float | None
    source: str  # own | own+category | own+store | category | store | fleet-category | fleet | own+fleet... | none
    pool_size: int
    cells: int
    prices: int
    told: bool
    reason: str  # why it cannot be told ("" when told), in English
    dispersion: float = 1.0  # variance / mean of its units per observation (at least 1: Poisson)
    why: dict[str, Any] | None = None  # the same reason as a phrase (reasons.py), worded where it is shown

    @property
    def low(self) -> float | None:
        """The 80 % interval's more elastic end."""
        return None if self.estimate is None or self.se is None else self.estimate - Z80 * self.se

    @property
    def high(self) -> float | None:
        return None if self.estimate is None or self.se is None else self.estimate + Z80 * self.se


def _completed(lines: pd.DataFrame) -> pd.DataFrame:
    ok = lines[(lines["status"] == "completed") & (lines["qty"] > 0) & (lines["line_total"] > 0)]
    return ok.assign(price=(ok["line_total"] / ok["qty"]).round().astype("int64"),
                     week=ok["local"].dt.to_period("W-SUN").dt.start_time)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"sku": pd.Series(dtype=object), "week": pd.Series(dtype="datetime64[ns]"),
                         "price": pd.Series(dtype="int64"), "units": pd.Series(dtype="int64")})


def price_cells(lines: pd.DataFrame) -> pd.DataFrame:
    """(sku, week, price paid) -> units: the price changes over time *and* the quantity-dependent
    prices within a week (``source="cells"``)."""
    ok = _completed(lines)
    if ok.empty:
        return _empty()
    return ok.groupby(["sku", "week", "price"])["qty"].sum().rename("units").reset_index()


def shelf_weeks(lines: pd.DataFrame) -> pd.DataFrame:
    """(sku, week) -> the week's shelf price and its units: the shelf price is the most common unit
    price of the week's single-unit lines (of all its lines when none sold singly), so a case price
    paid by a bulk buyer does not pass for a price change (``source="shelf"``, the default)."""
    ok = _completed(lines)
    if ok.empty:
        return _empty()
    single = ok["qty"] == 1
    has_single = single.groupby([ok["sku"], ok["week"]]).transform("any")
    pick = ok[single | ~has_single]
    counts = pick.groupby(["sku", "week", "price"]).size().rename("n").reset_index()
    counts = counts.sort_values(["sku", "week", "n", "price"], ascending=[True, True, False, True])
    shelf = counts.drop_duplicates(["sku", "week"])[["sku", "week", "price"]]
    units = ok.groupby(["sku", "week"])["qty"].sum().rename("units").reset_index()
    return shelf.merge(units, on=["sku", "week"])


def observations(lines: pd.DataFrame, source: str = "shelf") -> pd.DataFrame:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    return shelf_weeks(lines) if source == "shelf" else price_cells(lines)


def fit_all(cells: pd.DataFrame) -> tuple[dict[str, OwnEstimate], dict[str, rs.Phrase], dict[str, tuple[int, int]]]:
    """Every product's own log-log fit at once (from per-product sums: fast on thousands of products):
    the estimates, why the others have none, and each product's (observations, distinct prices)."""
    own: dict[str, OwnEstimate] = {}
    why: dict[str, rs.Phrase] = {}
    counts: dict[str, tuple[int, int]] = {}
    if cells.empty:
        return own, why, counts
    f = pd.DataFrame({"sku": cells["sku"].astype(str), "x": np.log(cells["price"].to_numpy(dtype=float)),
                      "y": np.log(cells["units"].to_numpy(dtype=float))})
    first = cells.groupby("sku")["week"].transform("min")
    f["t"] = (cells["week"] - first).dt.days.to_numpy(dtype=float) / 7.0
    for a, b in (("x", "x"), ("x", "t"), ("t", "t"), ("x", "y"), ("t", "y"), ("y", "y")):
        f[a + b] = f[a] * f[b]
    g = f.groupby("sku", sort=True)
    sums = g[["x", "t", "y", "xx", "xt", "tt", "xy", "ty", "yy"]].sum()
    sums["n"] = g.size()
    prices = cells.assign(sku=cells["sku"].astype(str)).groupby("sku")["price"].agg(["nunique", "min", "max"])
    for key, r in sums.join(prices).iterrows():
        sku = str(key)
        n, distinct = int(r["n"]), int(r["nunique"])
        counts[sku] = (n, distinct)
        if n < MIN_CELLS or distinct < MIN_PRICES:
            why[sku] = rs.plural_phrase("too few price changes to tell: %(num)d price in %(cells)s week-price "
                                        "observations (it needs %(min_prices)s prices and %(min_cells)s observations)",
                                        "too few price changes to tell: %(num)d prices in %(cells)s week-price "
                                        "observations (it needs %(min_prices)s prices and %(min_cells)s observations)",
                                        distinct, cells=rs.count(n), min_prices=rs.count(MIN_PRICES),
                                 min_cells=rs.count(MIN_CELLS))
            continue
        if r["max"] < r["min"] * (1 + MIN_SPREAD):
            why[sku] = rs.phrase(N_("its prices never differed by %(spread)s or more"), spread=rs.percent(MIN_SPREAD))
            continue
        t_var = r["tt"] - r["t"] ** 2 / n
        if t_var > 1e-9:
            xtx = np.array([[n, r["x"], r["t"]], [r["x"], r["xx"], r["xt"]], [r["t"], r["xt"], r["tt"]]])
            xty = np.array([r["y"], r["xy"], r["ty"]])
        else:
            xtx = np.array([[n, r["x"]], [r["x"], r["xx"]]])
            xty = np.array([r["y"], r["xy"]])
        dof = n - len(xty)
        if dof < 2:
            why[sku] = rs.phrase(N_("too few observations (%(cells)s) for a fit"), cells=rs.count(n))
            continue
        if np.linalg.cond(xtx) > 1e10:
            why[sku] = rs.phrase(N_("its price changes coincide with its trend, so their effect cannot be told apart"))
            continue
        inv = np.linalg.inv(xtx)
        coef = inv @ xty
        rss = max(float(r["yy"] - coef @ xty), 0.0)
        se = math.sqrt(max(rss / dof * float(inv[1, 1]), 1e-12))
        own[sku] = OwnEstimate(sku, float(coef[1]), se, n, distinct)
    return own, why, counts


@dataclass(frozen=True)
class Pool:
    mean: float
    mean_se: float
    tau: float
    size: int


def pool(estimates: Iterable[OwnEstimate]) -> Pool | None:
    """DerSimonian-Laird random-effects mean and between-product spread (None for fewer than MIN_POOL)."""
    est = list(estimates)
    if len(est) < MIN_POOL:
        return None
    b = np.array([e.estimate for e in est])
    v = np.array([e.se ** 2 for e in est])
    w = 1.0 / v
    fixed = float((w * b).sum() / w.sum())
    q = float((w * (b - fixed) ** 2).sum())
    denom = float(w.sum() - (w ** 2).sum() / w.sum())
    tau2 = max(MIN_TAU ** 2, (q - (len(est) - 1)) / denom if denom > 0 else 0.0)
    wr = 1.0 / (v + tau2)
    mean = float((wr * b).sum() / wr.sum())
    return Pool(mean, math.sqrt(1.0 / float(wr.sum())), math.sqrt(tau2), len(est))


def _told(sku: str, estimate: float, se: float, source: str, size: int, cells: int, prices: int,
          why_own: rs.Phrase | None = None) -> Elasticity:
    high = estimate + Z80 * se
    figures = {"estimate": rs.number(estimate), "width": rs.number(Z80 * se)}
    why: rs.Phrase | None = None
    if se > MAX_SE:
        why = rs.phrase(N_("too uncertain: %(estimate)s ± %(width)s"), **figures)
    elif high >= 0:
        why = rs.phrase(N_("its sales do not clearly fall when its price rises (%(estimate)s ± %(width)s)"), **figures)
    if why is not None and why_own:
        why = rs.phrase(N_("%(own)s; pooled: %(pooled)s"), own=rs.sub(why_own), pooled=rs.sub(why))
    return Elasticity(sku, estimate, se, source, size, cells, prices, why is None, rs.english(why), why=why)


FLEET_ALL = "*"  # the key of the fleet-wide pool in ``fleet`` pools


def fleet_pools(estimates: Iterable[tuple[str, OwnEstimate]]) -> dict[str, Pool]:
    """Pools from other stores' own estimates: per category, and over all (key :data:`FLEET_ALL`)."""
    by_cat: dict[str, list[OwnEstimate]] = {}
    every: list[OwnEstimate] = []
    for cat, est in estimates:
        by_cat.setdefault(cat, []).append(est)
        every.append(est)
    out = {c: p for c, v in by_cat.items() if (p := pool(v)) is not None}
    whole = pool(every)
    if whole is not None:
        out[FLEET_ALL] = whole
    return out


def own_estimates(cells: pd.DataFrame, categories: dict[str, str]) -> list[tuple[str, OwnEstimate]]:
    """(category, estimate) of every product with an estimate of its own (what a store gives the fleet)."""
    own, _, _ = fit_all(cells)
    return [(categories.get(sku, "uncategorised"), est) for sku, est in own.items()]


def estimate_elasticities(cells: pd.DataFrame, categories: dict[str, str],
                          fleet: dict[str, Pool] | None = None) -> dict[str, Elasticity]:
    """Every product of ``cells`` (and of ``categories``): its pooled elasticity, or why there is none.

    The prior a product is pooled with: its category in this store; else, with ``fleet`` pools (other
    stores' estimates), its category across the fleet; else this store's products; else the fleet's."""
    own, why, counts = fit_all(cells)
    by_cat: dict[str, list[OwnEstimate]] = {}
    for sku, est in own.items():
        by_cat.setdefault(categories.get(sku, "uncategorised"), []).append(est)
    store_pool = pool(own.values())
    cat_pools = {c: pool(v) for c, v in by_cat.items()}
    fleet = fleet or {}
    stats = cells.groupby("sku")["units"].agg(["mean", "var"]) if len(cells) else pd.DataFrame()
    disp = {str(k): max(1.0, float(r["var"]) / float(r["mean"])) for k, r in stats.iterrows()
            if r["mean"] > 0 and r["var"] == r["var"]}
    out: dict[str, Elasticity] = {}
    for sku in sorted(set(counts) | set(categories)):
        cat = categories.get(sku, "uncategorised")
        options: list[tuple[Pool | None, str]] = [(cat_pools.get(cat), "category"), (fleet.get(cat), "fleet-category"),
                                                  (store_pool, "store"), (fleet.get(FLEET_ALL), "fleet")]
        prior, where = next(((p, w) for p, w in options if p is not None), (None, "store"))
        n_cells, n_prices = counts.get(sku, (0, 0))
        mine = own.get(sku)
        if mine is not None:
            if prior is None:
                out[sku] = _told(sku, mine.estimate, mine.se, "own", 0, n_cells, n_prices)
                continue
            precision = 1 / mine.se ** 2 + 1 / prior.tau ** 2
            estimate = (mine.estimate / mine.se ** 2 + prior.mean / prior.tau ** 2) / precision
            out[sku] = _told(sku, estimate, math.sqrt(1 / precision), f"own+{where}", prior.size, n_cells, n_prices)
            continue
        reason = why.get(sku) or rs.phrase(N_("no sales with a price"))
        if prior is None:
            none = rs.phrase(N_("%(why)s, and too few products of its category, its store or the fleet have their "
                                "own estimate to pool from"), why=rs.sub(reason))
            out[sku] = Elasticity(sku, None, None, "none", 0, n_cells, n_prices, False, rs.english(none), why=none)
            continue
        se = math.sqrt(prior.tau ** 2 + prior.mean_se ** 2)
        out[sku] = _told(sku, prior.mean, se, where, prior.size, n_cells, n_prices, why_own=reason)
    return {sku: replace(e, dispersion=disp.get(sku, 1.0)) for sku, e in out.items()}
