"""Answers to the common questions without an LLM: a small rule-based parser that picks one of the
same tools the model may call, with its arguments, and words the answer from the tool's figures.

"How many Presidente sold last Friday?" -> ``product_sales(product="presidente", period="last
friday")``; "Which products should I reorder?" -> ``reorder_advice``; "Who are my best customers
this month?" -> ``top_customers``; "What were sales yesterday?" -> ``sales_by_period``; "Top
products this week" -> ``top_products``; "Busiest hour" -> ``sales_by_hour``; "Who owes me the most
money?" -> ``credit_owed``.  A question it does not recognise gets a list of what it can answer.
The example questions a store's page offers come from its own data (:func:`examples`).

Questions in Spanish and French are rewritten into those forms first (:mod:`analytics.assistant.language`:
"¿Cuánto vendí ayer?", "Combien j'ai vendu hier ?"), and the answer, its table and its follow-up
questions are written in the question's language (else the page's, else the store's) from the
catalogues; the follow-ups and examples are questions the parser understands in that language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analytics.assistant.answer import Answer
from analytics.assistant.dates import DateError, find_period
from analytics.assistant.language import english_question, question_language
from analytics.assistant.tools import ToolContext, ToolResult, run_tool
from i18n import N_, current_language, use_language
from i18n import gettext as _

# questions every store can ask (marked here, translated when shown); a store's own examples
# (examples()) add one about its best seller
_EXAMPLES = (
    N_("What were sales yesterday?"),
    N_("Top products this week"),
    N_("Who are my best customers this month?"),
    N_("Which products should I reorder?"),
    N_("Busiest hour last week"),
    N_("Sales by category this month"),
    N_("Sales forecast for the next 7 days"),
)
EXAMPLES = _EXAMPLES
CREDIT_EXAMPLE = N_("Who owes me the most money?")


def _examples() -> list[str]:
    return [_(e) for e in _EXAMPLES]


def answer_language(question: str, ctx: ToolContext) -> str:
    """The language an answer is written in: the question's when its words say, else the asker's
    (the page's), else the store's."""
    return question_language(question) or ctx.language or ctx.store.language


def examples(ctx: ToolContext) -> list[str]:
    """Example questions about this store, from its own data: the product one names the store's best
    seller (never a product it does not sell; none before it has sold anything), the credit one is
    offered to who may see credit figures when the store has credit customers."""
    shown = _examples()
    out = [shown[0]]
    ranked = sorted(ctx.catalogue.products, key=lambda p: (-p.units, p.name))
    if ranked:
        out.append(_("How many %(product)s sold last week?", product=ranked[0].name))
    out += shown[1:3]
    if ctx.credit and ctx.credit_customers:
        out.append(_(CREDIT_EXAMPLE))
    return out + shown[3:]

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


_LOSS = re.compile(r"\b(?:los(?:e|es|ing|t) (?:me |us )?money|at a loss|unprofitable|loss[- ]?making|"
                   r"(?:sold |selling |priced )?below cost|negative margins?|money[- ]losers?)\b")
_MOST_PROFIT = re.compile(r"\b(?:(?:make|makes|made|making|earn|earns|earned|bring|brings|brought) (?:me |us )?"
                          r"(?:the )?most (?:money|profit)|most profitable|(?:top|best|highest)(?: \d{1,2})? "
                          r"(?:products? )?(?:by )?(?:gross )?(?:profits?|margins?)|profits? by product)\b")
_MARGIN_ON = (re.compile(r"\b(?:gross )?(?:margins?|profits?|markup) (?:on|of|for|from) (.+)$"),
              re.compile(r"\bhow much (?:profit|money) (?:do|did|have) (?:i|we) (?:make|made) (?:on|from|with) (.+)$"))


def _margin_intent(text: str, args: dict[str, Any]) -> Intent | None:
    """"What's my margin on X" -> product_margin; "which products make me the most money" ->
    profit_by_product(by=profit); "which lose money" -> profit_by_product(by=loss)."""
    top = re.search(r"\btop (\d{1,2})\b", text)
    limit = {"limit": int(top.group(1))} if top else {}
    if _LOSS.search(text):
        return Intent("profit_by_product", {**args, "by": "loss", **limit})
    if _MOST_PROFIT.search(text):
        return Intent("profit_by_product", {**args, "by": "profit", **limit})
    for pattern in _MARGIN_ON:
        m = pattern.search(text)
        if m:
            product = _product_phrase(_NOT_PRODUCT.sub(" ", m.group(1)))
            if product and product not in _SALES_WORDS:
                return Intent("product_margin", {"product": product, **args})
    if re.search(r"\b(?:margins?|gross profits?|profits?)\b", text):
        return Intent("profit_by_product", {**args, "by": "profit", **limit})
    return None


def parse(question: str, ctx: ToolContext) -> Intent | None:
    """The tool and arguments for a question, or None when the parser does not know it.  Raises
    DateError for a date it recognises but cannot resolve (e.g. 30 February)."""
    args: dict[str, Any] = {}
    question = english_question(question, question_language(question) or ctx.store.language)
    text = re.sub(r"\s+", " ", question.lower().replace("’", "'")).strip()
    found = find_period(text, ctx.store.timezone, ctx.now)
    if found is not None:
        args["period"] = found[1]
        text = re.sub(r"\s+", " ", re.sub(r"[?!¿¡;]", " ", text).replace(found[1], " ")).strip()
    text = re.sub(r"[?!¿¡]", " ", text).strip()

    margin = _margin_intent(text, args)
    if margin is not None:
        return margin
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


_PHRASES = {"today": N_("today"), "yesterday": N_("yesterday"), "this week": N_("this week"),
            "last week": N_("last week"), "this month": N_("this month"), "last month": N_("last month"),
            "this year": N_("this year"), "last year": N_("last year"), "last 7 days": N_("last 7 days"),
            "last 30 days": N_("last 30 days")}


def _phrase(result: ToolResult) -> str:
    """The period of a result as a follow-up question says it: the asker's words in English; in
    Spanish or French the same common phrase translated, or the dates (which the parser reads)."""
    p = result.period
    if current_language() == "en":
        return p.phrase if p is not None and p.phrase else "this week"
    if p is None or not p.phrase:
        return _("this week")
    if p.phrase in _PHRASES:
        return _(_PHRASES[p.phrase])
    if p.days == 1:
        return p.start.isoformat()
    return _("from %(start)s to %(end)s", start=p.start.isoformat(), end=p.last_day.isoformat())


def follow_ups(result: ToolResult | None) -> list[str]:
    """Two or three next questions the rule parser can answer (so they work without the AI too)."""
    if result is None:
        return _examples()[:3]
    when = _phrase(result)
    name = result.figures.get("product") if isinstance(result.figures.get("product"), str) else None
    top_when = _("Top products %(when)s", when=when)
    sales_when = _("What were sales %(when)s?", when=when)
    busy_when = _("Busiest hour %(when)s", when=when)
    best_month = _("Who are my best customers this month?")
    reorder = _("Which products should I reorder?")
    top_week = _("Top products this week")
    forecast = _("Sales forecast for the next 7 days")
    by_tool = {
        "product_sales": [_("How many %(product)s sold last week?", product=name) if name else top_week,
                          _("Stock of %(product)s", product=name) if name else reorder, top_when],
        "sales_by_period": [top_when, busy_when, best_month],
        "top_products": [_("Sales by category %(when)s", when=when),
                         _("Who are my best customers %(when)s?", when=when), reorder],
        "top_customers": [top_when, _("Customer segments"), sales_when],
        "sales_by_hour": [sales_when, top_when, forecast],
        "sales_by_category": [top_when, sales_when, busy_when],
        "stock": [reorder, top_week, forecast],
        "reorder_advice": [_("What is my stock on hand?"), forecast, top_week],
        "forecast": [reorder, _("What were sales last week?"), _("Busiest hour last week")],
        "segments": [best_month, _("Top products this month"), _("What were sales last month?")],
        "credit_owed": [best_month, _("What were sales yesterday?"), top_week],
        "product_margin": [_("Which products make me the most money %(when)s?", when=when),
                           _("Which products lose money %(when)s?", when=when),
                           _("How many %(product)s sold %(when)s?", product=name, when=when) if name else top_when],
        "profit_by_product": [_("Which products lose money %(when)s?", when=when)
                              if result.arguments.get("by") != "loss"
                              else _("Which products make me the most money %(when)s?", when=when),
                              top_when, sales_when],
    }
    if result.did_you_mean:
        asked = result.arguments.get("period")
        if current_language() == "en":
            return [f"How many {n} sold {asked or 'today'}?" for n in result.did_you_mean[:3]]
        return [_("How many %(product)s sold %(when)s?", product=n, when=when if asked else _("today"))
                for n in result.did_you_mean[:3]]
    return by_tool.get(result.tool, _examples()[:3])[:3]


def help_answer(question: str, note: str | None = None, ctx: ToolContext | None = None) -> Answer:
    shown = examples(ctx) if ctx is not None else _examples()
    text = _("I can answer questions about this store's sales, products, customers, stock and forecasts, for "
             "example: %(examples)s. Dates like “last Friday”, “this month” or “between January and March” are "
             "read in the store's time zone.", examples="; ".join(f"\u201c{e}\u201d" for e in shown))
    return Answer(question, text, follow_ups=shown[:3], source="computed", note=note, language=current_language())


def answer_from(question: str, result: ToolResult, note: str | None = None) -> Answer:
    """A computed answer from one tool result."""
    return Answer(question, result.summary, table=result.table if result.ok else None, follow_ups=follow_ups(result),
                  source="computed", note=note, tools_used=[result.tool],
                  tables=[result.table] if result.ok and result.table is not None else [],
                  period=result.period.as_dict() if result.period else None, language=current_language())


def answer(question: str, ctx: ToolContext, note: str | None = None) -> Answer:
    """The rule-based answer to a question (``note`` says why no AI was used, when it was wanted), in
    the question's language (:func:`answer_language`)."""
    with use_language(answer_language(question, ctx), ctx.store.timezone):
        try:
            intent = parse(question, ctx)
        except DateError as exc:
            return Answer(question, str(exc), follow_ups=_examples()[:3], source="computed", note=note,
                          language=current_language())
        if intent is None:
            return help_answer(question, note, ctx)
        return answer_from(question, run_tool(ctx, intent.tool, intent.args), note)
