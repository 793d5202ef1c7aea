"""Answers to the common questions without an LLM: a small rule-based parser that picks one of the
same tools the model may call, with its arguments, and words the answer from the tool's figures.

"How many Presidente sold last Friday?" -> ``product_sales(product="presidente", period="last
friday")``; "Which products should I reorder?" -> ``reorder_advice``; "Who are my best customers
this month?" -> ``top_customers``; "What were sales yesterday?" -> ``sales_by_period``; "Top
products this week" -> ``top_products``; "Busiest hour" -> ``sales_by_hour``; "Who owes me the most
money?" -> ``credit_owed``.  A question it does not recognise gets a list of what it can answer.
The example questions a store's page offers come from its own data (:func:`examples`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analytics.assistant.answer import Answer
from analytics.assistant.dates import DateError, find_period
from analytics.assistant.tools import ToolContext, ToolResult, run_tool

# questions every store can ask; a store's own examples (examples()) add one about its best seller
EXAMPLES = (
    "What were sales yesterday?",
    "Top products this week",
    "Who are my best customers this month?",
    "Which products should I reorder?",
    "Busiest hour last week",
    "Sales by category this month",
    "Sales forecast for the next 7 days",
)
CREDIT_EXAMPLE = "Who owes me the most money?"


def examples(ctx: ToolContext) -> list[str]:
    """Example questions about this store, from its own data: the product one names the store's best
    seller (never a product it does not sell; none before it has sold anything), the credit one is
    offered to who may see credit figures when the store has credit customers."""
    out = [EXAMPLES[0]]
    ranked = sorted(ctx.catalogue.products, key=lambda p: (-p.units, p.name))
    if ranked:
        out.append(f"How many {ranked[0].name} sold last week?")
    out += EXAMPLES[1:3]
    if ctx.credit and ctx.credit_customers:
        out.append(CREDIT_EXAMPLE)
    return out + list(EXAMPLES[3:])

_FILLER = re.compile(r"\b(?:did|do|does|have|has|had|were|was|are|is|we|i|you|the|a|an|of|units?|bottles?|cases?|"
                     r"packs?|items?|in total|total|many|much|get|got|and)\b")

_NOT_PRODUCT = re.compile(r"(?:\b(?:what'?s?|is|my|show|me|how|levels?|current|all|our|much|many|stock|"
                          r"on hand|products?|everything|left)\b|')")


@dataclass(frozen=True)
class Intent:
    tool: str
    args: dict[str, Any]


def _product_phrase(text: str) -> str:
    words = _FILLER.sub(" ", text)
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s.'&/-]", " ", words)).strip(" .'-")


_SALES_WORDS = {"", "money", "revenue", "sales", "sale", "in sales", "takings", "income", "store", "shop", "it",
                "everything", "all", "overall"}


def parse(question: str, ctx: ToolContext) -> Intent | None:
    """The tool and arguments for a question, or None when the parser does not know it.  Raises
    DateError for a date it recognises but cannot resolve (e.g. 30 February)."""
    args: dict[str, Any] = {}
    text = re.sub(r"\s+", " ", question.lower().replace("’", "'")).strip()
    found = find_period(text, ctx.store.timezone, ctx.now)
    if found is not None:
        args["period"] = found[1]
        text = re.sub(r"\s+", " ", re.sub(r"[?!¿¡;]", " ", text).replace(found[1], " ")).strip()
    text = re.sub(r"[?!¿¡]", " ", text).strip()

    if re.search(r"\bsegments?\b", text):
        kind = "cluster" if "cluster" in text else "basket" if "basket" in text else "rfm"
        return Intent("segments", {"kind": kind})
    if re.search(r"\b(?:re-?order|restock|order more|run(?:ning)? out|should i (?:order|buy)|what to order)\b", text):
        return Intent("reorder_advice", {})
    if re.search(r"\b(?:forecast|predict\w*|expect\w*|tomorrow|next (?:week|month|\d+ days?))\b", text):
        m = re.search(r"next (\d+) days?", text)
        days = min(28, int(m.group(1))) if m else 1 if "tomorrow" in text else 7
        m = re.search(r"(?:forecast|expect\w*) (?:for |of )(?!the next|next)(.+?)(?: for| over| in|$)", text)
        product = _product_phrase(m.group(1)) if m else ""
        return Intent("forecast", {"days": days, **({"product": product} if product else {})})
    if re.search(r"\b(?:stock|on hand|inventory|left)\b", text):
        m = re.search(r"(?:stock|inventory) (?:of|for) (.+)$", text) or \
            re.search(r"how (?:many|much) (.+?) (?:do|have|are|is)\b.*\b(?:left|stock|on hand)", text) or \
            re.search(r"(?:^|\b)(.+?) (?:stock|on hand)$", text)
        product = _product_phrase(_NOT_PRODUCT.sub(" ", m.group(1))) if m else ""
        return Intent("stock", {"product": product} if product else {})
    if re.search(r"\b(?:owes?|owed|owing|debts?|debtors?|fiado|unpaid|(?:credit|outstanding) balances?|"
                 r"in debt|pay me back)\b", text):
        m = re.search(r"\btop (\d{1,2})\b", text)
        return Intent("credit_owed", {"limit": int(m.group(1))} if m else {})
    if re.search(r"\b(?:customers?|clients?|who (?:buys|bought|spends|spent|shops))\b", text):
        m = re.search(r"\btop (\d{1,2})\b", text)
        return Intent("top_customers", {**args, **({"limit": int(m.group(1))} if m else {})})
    if re.search(r"\b(?:busiest|busy|peak|which hour|what time|by hour|hourly|rush)\b", text):
        return Intent("sales_by_hour", args)
    if re.search(r"\bcategor(?:y|ies)\b", text):
        return Intent("sales_by_category", args)
    if re.search(r"\b(?:top|best[- ]?sell\w*|most popular|sells? (?:the )?most|sold (?:the )?most|best products|"
                 r"popular)\b", text):
        m = re.search(r"\btop (\d{1,2})\b", text)
        by = "revenue" if re.search(r"\b(?:revenue|money|value)\b", text) else "units"
        return Intent("top_products", {**args, "by": by, **({"limit": int(m.group(1))} if m else {})})
    m = (re.search(r"how (?:many|much) (.+?) (?:(?:did|do|have|has|were|was|are|is) )?(?:(?:we|i|you) )?"
                   r"(?:sell|sold)\b", text)
         or re.search(r"\b(?:sales|units) (?:of|for) (.+?)$", text)
         or re.search(r"\b(?:sell|sold) (?:of )?(.+?)$", text))
    if m:
        product = _product_phrase(m.group(1))
        if product and product not in _SALES_WORDS:
            return Intent("product_sales", {"product": product, **args})
    if re.search(r"\b(?:sales|sold|sell|revenue|takings|turnover|income|made|make|earn\w*|how much|how did|"
                 r"average basket|basket)\b", text):
        return Intent("sales_by_period", args)
    return None


def _phrase(result: ToolResult) -> str:
    p = result.period
    return p.phrase if p is not None and p.phrase else "this week"


def follow_ups(result: ToolResult | None) -> list[str]:
    """Two or three next questions the rule parser can answer (so they work without the AI too)."""
    if result is None:
        return list(EXAMPLES[:3])
    when = _phrase(result)
    name = result.figures.get("product") if isinstance(result.figures.get("product"), str) else None
    by_tool = {
        "product_sales": [f"How many {name} sold last week?" if name else "Top products this week",
                          f"Stock of {name}" if name else "Which products should I reorder?",
                          f"Top products {when}"],
        "sales_by_period": [f"Top products {when}", f"Busiest hour {when}", "Who are my best customers this month?"],
        "top_products": [f"Sales by category {when}", f"Who are my best customers {when}?",
                         "Which products should I reorder?"],
        "top_customers": [f"Top products {when}", "Customer segments", f"What were sales {when}?"],
        "sales_by_hour": [f"What were sales {when}?", f"Top products {when}", "Sales forecast for the next 7 days"],
        "sales_by_category": [f"Top products {when}", f"What were sales {when}?", f"Busiest hour {when}"],
        "stock": ["Which products should I reorder?", "Top products this week", "Sales forecast for the next 7 days"],
        "reorder_advice": ["What is my stock on hand?", "Sales forecast for the next 7 days", "Top products this week"],
        "forecast": ["Which products should I reorder?", "What were sales last week?", "Busiest hour last week"],
        "segments": ["Who are my best customers this month?", "Top products this month", "What were sales last month?"],
        "credit_owed": ["Who are my best customers this month?", "What were sales yesterday?",
                        "Top products this week"],
    }
    if result.did_you_mean:
        asked = result.arguments.get("period")
        return [f"How many {n} sold {asked or 'today'}?" for n in result.did_you_mean[:3]]
    return by_tool.get(result.tool, list(EXAMPLES[:3]))[:3]


def help_answer(question: str, note: str | None = None, ctx: ToolContext | None = None) -> Answer:
    shown = examples(ctx) if ctx is not None else list(EXAMPLES)
    text = ("I can answer questions about this store's sales, products, customers, stock and forecasts, for "
            "example: " + "; ".join(f"\u201c{e}\u201d" for e in shown) + ". Dates like \u201clast Friday\u201d, "
            "\u201cthis month\u201d or \u201cbetween January and March\u201d are read in the store's time zone.")
    return Answer(question, text, follow_ups=shown[:3], source="computed", note=note)


def answer_from(question: str, result: ToolResult, note: str | None = None) -> Answer:
    """A computed answer from one tool result."""
    return Answer(question, result.summary, table=result.table if result.ok else None, follow_ups=follow_ups(result),
                  source="computed", note=note, tools_used=[result.tool],
                  tables=[result.table] if result.ok and result.table is not None else [],
                  period=result.period.as_dict() if result.period else None)


def answer(question: str, ctx: ToolContext, note: str | None = None) -> Answer:
    """The rule-based answer to a question (``note`` says why no AI was used, when it was wanted)."""
    try:
        intent = parse(question, ctx)
    except DateError as exc:
        return Answer(question, str(exc), follow_ups=list(EXAMPLES[:3]), source="computed", note=note)
    if intent is None:
        return help_answer(question, note, ctx)
    return answer_from(question, run_tool(ctx, intent.tool, intent.args), note)
