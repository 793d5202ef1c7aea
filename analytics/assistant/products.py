"""Fuzzy product matching against the products a store has sold ("presidente" -> "Presidente Beer
650ml").

The catalogue is the store's distinct SKUs in ``tx_lines`` (the newest name of each, and the units
sold, which break ties).  A SKU or a name typed exactly wins outright; otherwise names are scored
with rapidfuzz (``WRatio`` on lower-cased, accent-free text).  A single clear winner is a match;
several close candidates are ambiguous and give a "did you mean" list; nothing good enough is no
match.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, func, select

from analytics.db import tables as t

MIN_SCORE = 75.0  # below this a name is not a candidate
CLOSE = 6.0  # candidates within this many points of the best are ambiguous
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    units: int  # units sold ever (ties go to the busier product)


@dataclass(frozen=True)
class ProductMatch:
    query: str
    status: str  # "exact" | "match" | "ambiguous" | "none"
    products: tuple[Product, ...] = ()  # the match (one), or the candidates (ambiguous)
    scores: tuple[float, ...] = ()

    @property
    def product(self) -> Product | None:
        return self.products[0] if self.status in ("exact", "match") else None

    def did_you_mean(self) -> list[str]:
        return [p.name for p in self.products] if self.status == "ambiguous" else []


def normal(text: str) -> str:
    """Lower case without accents or punctuation runs."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


@dataclass
class Catalogue:
    products: list[Product]
    _by_sku: dict[str, Product] = field(default_factory=dict, init=False, repr=False)
    _names: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_sku = {normal(p.sku): p for p in self.products}
        self._names = [normal(p.name) for p in self.products]

    @classmethod
    def load(cls, engine: Engine, store_id: str) -> Catalogue:
        ln = t.tx_lines.c
        with engine.connect() as conn:
            rows = conn.execute(select(ln.sku, ln.name, func.sum(ln.qty), func.max(ln.tx_id))
                                .where(ln.store_id == store_id).group_by(ln.sku, ln.name)).all()
        best: dict[str, tuple[str, int]] = {}
        units: dict[str, int] = {}
        for sku, name, qty, _ in rows:
            units[sku] = units.get(sku, 0) + int(qty or 0)
            # the name sold most under the SKU is its name (a renamed product keeps one entry)
            if sku not in best or int(qty or 0) > best[sku][1]:
                best[sku] = (name, int(qty or 0))
        return cls([Product(sku, best[sku][0], units[sku]) for sku in sorted(best)])

    def get(self, sku: str) -> Product | None:
        return self._by_sku.get(normal(sku))

    def name_of(self, sku: str) -> str:
        p = self.get(sku)
        return p.name if p else sku

    def match(self, query: str) -> ProductMatch:
        q = normal(query)
        if not q or not self.products:
            return ProductMatch(query, "none")
        exact = self._by_sku.get(q)
        if exact is not None:
            return ProductMatch(query, "exact", (exact,), (100.0,))
        same = [p for p, n in zip(self.products, self._names, strict=True) if n == q]
        if len(same) == 1:
            return ProductMatch(query, "exact", (same[0],), (100.0,))
        found = process.extract(q, self._names, scorer=fuzz.WRatio, limit=None, score_cutoff=MIN_SCORE)
        if not found:
            return ProductMatch(query, "none")
        # every word of the query in the name counts for more than a near spelling
        words = q.split()
        scored = []
        for _name, score, index in found:
            name_words = self._names[index].split()
            bonus = 5.0 if all(any(nw.startswith(w) for nw in name_words) for w in words) else 0.0
            scored.append((min(100.0, score + bonus), self.products[index]))
        scored.sort(key=lambda s: (-s[0], -s[1].units, s[1].name))
        top = scored[0][0]
        close = [(s, p) for s, p in scored if top - s <= CLOSE][:MAX_CANDIDATES]
        if len(close) == 1:
            return ProductMatch(query, "match", (close[0][1],), (close[0][0],))
        return ProductMatch(query, "ambiguous", tuple(p for _, p in close), tuple(s for s, _ in close))
