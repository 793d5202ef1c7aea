"""RFM of known customers: recency, frequency and monetary value, scored 1..5 against the store's
own customers, and the named segment each (R, FM) pair falls in.

Scores: the store's quintile boundaries (20th, 40th, 60th, 80th percentile) of each measure; a
customer's score is 1 + the number of boundaries it beats strictly (for recency: is strictly
more recent than).  Ties therefore share a score, and a measure where most customers have the
same value (a frequency of 1) does not spread them over several scores by accident.
FM = the average of F and M rounded half up.  ``SEGMENT_RULES`` maps (R, FM) to a name; every one of
the 25 cells has exactly one segment (docs/analytics.md shows the grid).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

SEGMENTS = ("Champions", "Loyal", "Potential loyalists", "New", "Promising", "Need attention", "At risk",
            "Can't lose", "Hibernating", "Lost")

# (segment, R scores, FM scores); the cells do not overlap and cover 1..5 x 1..5
SEGMENT_RULES: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("Champions", (5,), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("New", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need attention", (3,), (1, 2, 3)),
    ("At risk", (1, 2), (3, 4)),
    ("Can't lose", (1, 2), (5,)),
    ("Hibernating", (2,), (1, 2)),
    ("Hibernating", (1,), (2,)),
    ("Lost", (1,), (1,)),
)

SEGMENT_GRID: dict[tuple[int, int], str] = {(r, fm): name for name, rs, fms in SEGMENT_RULES for r in rs for fm in fms}

SEGMENT_ACTIONS = {
    "Champions": "bought recently, often and for the most: reward them, ask for reviews",
    "Loyal": "buy often and spend well: offer loyalty perks and new lines",
    "Potential loyalists": "recent, average frequency and spend: a membership or bundle offer",
    "New": "first purchase very recently: welcome them, make the second visit easy",
    "Promising": "recent but bought little so far: build the habit with small offers",
    "Need attention": "middling on all counts and drifting: a timely, limited offer",
    "At risk": "used to buy well but not lately: reach out before they go",
    "Can't lose": "were among the best and have not been back: win them back personally",
    "Hibernating": "long gone and low value: only low-cost reminders",
    "Lost": "lowest on every count: do not spend on them",
}


def score(values: pd.Series | np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """1..5 by the quintile boundaries of ``values`` themselves (see the module doc)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.zeros(0, dtype=int)
    cuts = np.percentile(v, [20, 40, 60, 80])
    if higher_is_better:
        beaten = (v[:, None] > cuts[None, :]).sum(axis=1)
    else:
        beaten = (v[:, None] < cuts[None, :]).sum(axis=1)
    return (1 + beaten).astype(int)


def segment_of(r: int, fm: int) -> str:
    return SEGMENT_GRID[(int(r), int(fm))]


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (np.asarray(f, dtype=int) + np.asarray(m, dtype=int) + 1) // 2


def customer_table(sales: pd.DataFrame, lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per known customer with at least one completed sale: recency_days (as_of minus the last
    purchase day), frequency (completed sales), monetary (net of refunds, minor units, floored at
    0), tenure_days (as_of minus the first purchase day), diversity (mean distinct SKUs per
    completed basket), first, last (dates), baskets' categories."""
    known = sales[sales["customer_id"].notna()]
    done = known[known["status"] == "completed"]
    if done.empty:  # no known customer yet (anonymous sales, or imported ones): the same columns, typed
        return pd.DataFrame({
            "recency_days": pd.Series(dtype="int64"), "frequency": pd.Series(dtype="int64"),
            "monetary": pd.Series(dtype="int64"), "tenure_days": pd.Series(dtype="int64"),
            "diversity": pd.Series(dtype=float), "first": pd.Series(dtype="datetime64[ns]"),
            "last": pd.Series(dtype="datetime64[ns]")}).rename_axis("customer_id")
    day = done["local"].dt.normalize()
    g = done.assign(day=day).groupby("customer_id")
    out = pd.DataFrame({"first": g["day"].min(), "last": g["day"].max(), "frequency": g["tx_id"].nunique()})
    net = known.groupby("customer_id")["total"].sum()
    out["monetary"] = net.reindex(out.index).fillna(0).clip(lower=0).astype("int64")
    ts = pd.Timestamp(as_of)
    out["recency_days"] = (ts - out["last"]).dt.days.astype(int)
    out["tenure_days"] = (ts - out["first"]).dt.days.astype(int)
    done_lines = lines[(lines["status"] == "completed") & lines["customer_id"].notna()]
    per_basket = done_lines.groupby("tx_id")["sku"].nunique()
    basket_customer = done.set_index("tx_id")["customer_id"]
    div = per_basket.groupby(basket_customer.reindex(per_basket.index)).mean()
    out["diversity"] = div.reindex(out.index).fillna(0.0).astype(float)
    out.index.name = "customer_id"
    return out


def score_customers(table: pd.DataFrame) -> pd.DataFrame:
    """Add r_score, f_score, m_score, fm_score and segment to ``customer_table``'s output."""
    out = table.copy()
    if out.empty:
        for c in ("r_score", "f_score", "m_score", "fm_score"):
            out[c] = pd.Series(dtype=int)
        out["segment"] = pd.Series(dtype=object)
        return out
    out["r_score"] = score(out["recency_days"], higher_is_better=False)
    out["f_score"] = score(out["frequency"])
    out["m_score"] = score(out["monetary"])
    out["fm_score"] = fm_score(out["f_score"].to_numpy(), out["m_score"].to_numpy())
    out["segment"] = [SEGMENT_GRID[(r, fm)] for r, fm in zip(out["r_score"], out["fm_score"], strict=True)]
    return out
