"""Catalogue descriptions of a store's products: a short description and a few bullet points,
from the product's name, category and attributes (pack size read from the name, usual price, how
well it sells).  Product names are shop data: they reach the language model only inside a quoted
data block, never in the instructions.  Without a model the description is computed from the
attributes.  The newest description per product is stored (``product_descriptions``)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from analytics.db import narrative_tables as nt
from analytics.db import tables as t
from analytics.jobs import results as rs
from analytics.jobs.categories import categorise_many
from analytics.jobs.data import store_info
from analytics.llm import AIService
from analytics.llm.language import store_language
from analytics.narratives import ai as asker
from analytics.narratives import words
from analytics.narratives.factcheck import check_sections
from analytics.narratives.facts import Facts, _Builder
from i18n import gettext as _
from i18n import ngettext, use_language

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"short": {"type": "string", "minLength": 1, "maxLength": 300},
                   "bullets": {"type": "array", "maxItems": 5,
                               "items": {"type": "string", "minLength": 1, "maxLength": 200}}},
    "required": ["short", "bullets"], "additionalProperties": False,
}
INSTRUCTIONS = (
    "You write catalogue descriptions for a small shop: one short, factual, appealing sentence and up to "
    "four bullet points (size, use, category, price). Use only the product data; do not invent sizes, "
    "prices, ingredients, origins or claims."
)
_SIZE = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s?"
                   r"(kg|g|gr|lb|lbs|oz|ml|cl|l|lt|ltr|litre|liter|pack|pk|pcs|pc|x)(?![a-z])", re.IGNORECASE)


class ProductNotFound(LookupError):
    pass


@dataclass
class Description:
    store_id: str
    sku: str
    name: str
    short: str
    bullets: list[str]
    source: str
    model: str | None
    note: str | None
    generated_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: int | None  # the most recent unit price, minor units
    units_28d: int | None
    attributes: dict[str, str]


def pack_size(name: str) -> str | None:
    m = _SIZE.search(name)
    return f"{m.group(1)} {m.group(2).lower()}" if m else None


def products(engine: Engine, store_id: str, search: str | None = None, limit: int = 200) -> list[Product]:
    """The store's products as its sales know them (newest name and price), busiest first."""
    ln = t.tx_lines.c
    q = (select(ln.sku, func.max(ln.name).label("name"), func.max(ln.unit_price).label("price"),
                func.sum(ln.qty).label("units"))
         .where(ln.store_id == store_id, ln.qty > 0).group_by(ln.sku))
    if search:
        like = f"%{search.lower()}%"
        q = q.where(func.lower(ln.name).like(like) | func.lower(ln.sku).like(like))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(func.sum(ln.qty).desc(), ln.sku).limit(limit)).all()
    cats = categorise_many([(r.sku, r.name) for r in rows], {}) if rows else {}
    reorder = {r["sku"]: r for r in rs.reorder_list(engine, store_id, [store_id], limit=2000)} if rows else {}
    out = []
    for r in rows:
        attrs = {}
        if size := pack_size(r.name):
            attrs["size"] = size
        adv = reorder.get(r.sku)
        out.append(Product(r.sku, r.name, (adv or {}).get("category") or cats.get(r.sku, "uncategorised"),
                           int(r.price) if r.price is not None else None,
                           int(adv["units_28d"]) if adv and adv.get("units_28d") is not None else None, attrs))
    return out


def product(engine: Engine, store_id: str, sku: str) -> Product:
    ln = t.tx_lines.c
    with engine.connect() as conn:
        row = conn.execute(select(ln.name, ln.unit_price).where(ln.store_id == store_id, ln.sku == sku, ln.qty > 0)
                           .order_by(ln.tx_id.desc()).limit(1)).first()
    if row is None:
        raise ProductNotFound(f"no product {sku!r} in store {store_id!r}")
    found = next((p for p in products(engine, store_id, search=sku, limit=50) if p.sku == sku), None)
    if found is not None:
        return found
    return Product(sku, row.name, categorise_many([(sku, row.name)], {}).get(sku, "uncategorised"), int(row.unit_price),
                   None, {"size": s} if (s := pack_size(row.name)) else {})


def product_facts(store_id: str, currency: str, p: Product, language: str = "en", timezone: str = "UTC") -> Facts:
    """The product's facts; figures written the store's way (its language and, from ``timezone``, country)."""
    b = _Builder(currency, language, timezone)
    b.text("name", "Product name", p.name)
    b.text("sku", "Product code", p.sku)
    b.text("category", "Category", p.category)
    for k, v in p.attributes.items():
        b.text(f"attr_{k}", k.capitalize(), v)
    if p.price is not None:
        b.money("price", "Price", p.price)
    if p.units_28d is not None:
        b.count("units_28d", "Sold in the last 28 days", p.units_28d)
    today = datetime.now(UTC).date().isoformat()  # only the label of the facts block; nothing is dated by it
    return Facts(store_id, "", currency, timezone, "daily", today, today, "product", f"{p.sku}|{p.name}|{p.price}",
                 b.items, language)


def computed_description(p: Product, facts: Facts) -> tuple[str, list[str]]:
    """The description from the product's attributes, in the facts' language (the store's)."""
    with use_language(facts.language, facts.timezone):
        name = p.name.strip()
        nice = name if any(c.islower() for c in name) else name.title()
        size = p.attributes.get("size")
        category = words.category(p.category) if p.category not in ("uncategorised", "service") else None
        short = f"{nice}" + (f", {size}" if size else "") + (
            _(", from our %(category)s range.", category=category) if category else ".")
        bullets = []
        if category:
            bullets.append(_("Category: %(category)s", category=category))
        if size:
            bullets.append(_("Pack size: %(size)s", size=size))
        if p.price is not None:
            bullets.append(_("Price: %(price)s", price=facts.text("price")))
        if p.units_28d:
            bullets.append(ngettext("A regular seller: %(count)s sold in the last 28 days",
                                    "A regular seller: %(count)s sold in the last 28 days", p.units_28d,
                                    count=facts.text("units_28d")))
        return short, bullets


def describe(engine: Engine, store_id: str, sku: str, ai: AIService | None = None, save: bool = True) -> Description:
    """Describe one product of ``store_id`` (raises :class:`ProductNotFound`; callers check the scope)."""
    info = store_info(engine, store_id)
    currency = info.currency if info else "XXX"
    p = product(engine, store_id, sku)
    facts = product_facts(store_id, currency, p, store_language(info.settings) if info else "en",
                          info.timezone if info else "UTC")
    data = {"name": p.name, "sku": p.sku, "category": p.category, "attributes": p.attributes,
            "price": facts.text("price") or None, "sold_last_28_days": p.units_28d}
    got = asker.ask(ai, store_id, "product_description", INSTRUCTIONS, [("product", data)],
                    "Write the catalogue description of this product as JSON (short, bullets).", SCHEMA,
                    "product_description", facts.data_version, language=facts.language)
    stamp = asker.utc_stamp()
    if got.data is not None:
        checked, _ = check_sections(dict(got.data), facts)
        if checked["short"]:
            d = Description(store_id, sku, p.name, checked["short"], checked["bullets"], got.source, got.model, None,
                            stamp)
            if save:
                _save(engine, d)
            return d
    short, bullets = computed_description(p, facts)
    note = got.note or "The AI's description had figures not in the product data; computed instead."
    d = Description(store_id, sku, p.name, short, bullets, asker.COMPUTED, None, note, stamp)
    if save:
        _save(engine, d)
    return d


def _save(engine: Engine, d: Description) -> None:
    c = nt.product_descriptions.c
    with engine.begin() as conn:
        conn.execute(delete(nt.product_descriptions).where(c.store_id == d.store_id, c.sku == d.sku))
        conn.execute(insert(nt.product_descriptions).values(
            store_id=d.store_id, sku=d.sku, name=d.name[:200], short=d.short, bullets=d.bullets, source=d.source,
            model=d.model, note=d.note, generated_at=d.generated_at))


def stored(engine: Engine, store_id: str) -> dict[str, Description]:
    c = nt.product_descriptions.c
    with engine.connect() as conn:
        rows = conn.execute(select(nt.product_descriptions).where(c.store_id == store_id)).mappings().all()
    return {r["sku"]: Description(r["store_id"], r["sku"], r["name"], r["short"], r["bullets"] or [], r["source"],
                                  r["model"], r["note"], r["generated_at"]) for r in rows}
