"""Customer clusters: k-means on scaled RFM plus tenure and basket diversity (all log1p), k chosen
by silhouette, each cluster named from how its medians sit against all customers'."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from analytics.segmentation.kmeans import choose_k

FEATURES = ("recency_days", "frequency", "monetary", "tenure_days", "diversity")
MIN_CUSTOMERS = 20


@dataclass
class CustomerClusters:
    names: pd.Series  # customer_id -> cluster name
    k: int
    silhouettes: dict[int, float]


def _name(part: pd.DataFrame, whole: pd.DataFrame) -> str:
    med = part[list(FEATURES)].median()
    low = {c: float(whole[c].quantile(0.25)) for c in FEATURES}
    high = {c: float(whole[c].quantile(0.75)) for c in FEATURES}
    words = []
    if med["recency_days"] <= low["recency_days"]:
        words.append("recent")
    elif med["recency_days"] >= high["recency_days"]:
        words.append("lapsed")
    if med["frequency"] >= max(2.0, high["frequency"]):
        words.append("frequent")
    elif med["frequency"] <= 1:
        words.append("one-time")
    if med["monetary"] >= high["monetary"]:
        words.append("high-spend")
    elif med["monetary"] <= low["monetary"]:
        words.append("low-spend")
    if med["tenure_days"] <= low["tenure_days"]:
        words.append("new")
    elif med["tenure_days"] >= high["tenure_days"]:
        words.append("long-standing")
    noun = "customers"
    if med["diversity"] >= high["diversity"]:
        noun = "customers with broad baskets"
    elif med["diversity"] <= low["diversity"]:
        noun = "customers with narrow baskets"
    text = " ".join(words + [noun]) if words or noun != "customers" else "typical customers"
    return text[:1].upper() + text[1:]


def scaled_features(table: pd.DataFrame) -> np.ndarray:
    x = np.log1p(table[list(FEATURES)].astype(float).clip(lower=0).to_numpy())
    return StandardScaler().fit_transform(x)


def cluster_customers(table: pd.DataFrame, seed: int = 0) -> CustomerClusters:
    """``table`` is ``rfm.customer_table``'s output."""
    if len(table) < MIN_CUSTOMERS:
        return CustomerClusters(pd.Series("All customers", index=table.index, dtype=object), 1 if len(table) else 0, {})
    choice = choose_k(scaled_features(table), seed=seed)
    labels = pd.Series(choice.labels, index=table.index)
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    # name the biggest clusters first so a duplicate name gets the number on the smaller one
    for lab in labels.value_counts().index:
        name = _name(table[labels == lab], table)
        used[name] = used.get(name, 0) + 1
        names[int(lab)] = name if used[name] == 1 else f"{name} ({used[name]})"
    return CustomerClusters(labels.map(names), choice.k, choice.silhouettes)
