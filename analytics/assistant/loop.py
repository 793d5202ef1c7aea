"""Ask a question: the tool-calling loop over ``AIService.chat`` with the rule-based parser as the
fallback.

1. The model gets the question, the store (quoted data) and the tool specs, and picks tools.
2. The hub runs each tool for the session's store (:mod:`analytics.assistant.tools`), unknown tools
   and bad arguments are answered as tool errors, and each result goes back as quoted data
   (``data_block``) with customers as aliases (``Pseudonymiser``).
3. A bounded number of rounds later the model answers; the answer shown is its text (names
   restored), the tables of the tools the hub ran (the hub's figures, never the model's), and 2-3
   follow-up questions (from the model's "Follow-up questions:" list, else computed).

Whenever the AI cannot answer (not configured, credits used up, time-out, 5xx, malformed answers,
privacy refusal, two rounds in a row of refused tool calls, too many rounds), the rule-based
parser answers instead, marked "computed (no AI)" with the reason in ``note``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from analytics.assistant import rules
from analytics.assistant.answer import Answer
from analytics.assistant.history import Exchange
from analytics.assistant.tools import TOOLS, ToolContext, ToolResult, run_tool, tool_specs
from i18n import gettext as _

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # model calls per question
MAX_CALLS_PER_ROUND = 4
MAX_BAD_ROUNDS = 2  # rounds in a row whose every tool call was refused (unknown tool, bad arguments)
MAX_QUESTION = 500
HISTORY_TURNS = 3

SYSTEM = """You answer a shop owner's questions about their own store on the Tillsight hub.
- Get every figure by calling the tools; never work out or guess figures the tools did not return.
- Money in tool results is in integer minor units of the store's currency (12345 = 123.45); write amounts
  the usual way with the currency, e.g. RD$123.45.
- Pass the user's date words in the tool's `period` argument as they said them ("last Friday", "this month",
  "between January and March"); the hub resolves them in the store's time zone. Product names go in `product`
  as the user wrote them; the hub matches them.
- If a tool says a product is ambiguous, ask which one the user means and list the choices.
- Answer in one to three short sentences, in the language of the question (when it is unclear, in the store's
  language, given with the store), writing money and numbers the way that language and country do. Then write a line
  "Follow-up questions:" and 2 or 3 short questions the owner may ask next, in the same language, one per line, each
  starting with "- ".
"""


def _store_facts(ctx: ToolContext) -> dict[str, Any]:
    from analytics.llm.language import NAMES

    today = ctx.today
    return {"store_name": ctx.store.name, "timezone": ctx.store.timezone, "currency": ctx.store.currency,
            "language": NAMES[ctx.store.language], "today_local": today.isoformat(), "weekday": today.strftime("%A")}


def _tool_message(call_id: str, result: ToolResult, pseudonymiser: Any, data_block: Any) -> dict[str, Any]:
    body = data_block("tool_result", result.for_model(pseudonymiser.customer))
    return {"role": "tool", "tool_call_id": call_id, "content": pseudonymiser.scrub(body)}


_FOLLOW_RE = re.compile(r"^\W*follow[- ]?ups?(?: questions?)?\W*:?\W*$", re.IGNORECASE)
_ITEM_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")


def split_answer(content: str | None) -> tuple[str, list[str]]:
    """The answer text and the follow-up questions in a model's final message: a JSON object
    ``{"answer", "follow_ups"}`` or text with a "Follow-up questions:" list."""
    text = (content or "").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("answer") or data.get("text"), str):
            ups = data.get("follow_ups") or data.get("follow_up_questions") or []
            return str(data.get("answer") or data.get("text")).strip(), [str(u).strip()[:200] for u in ups
                                                                          if isinstance(u, str) and u.strip()][:3]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        inline = re.match(r"^\W*follow[- ]?ups?(?: questions?)?\W*:\s*(.+)$", line, re.IGNORECASE)
        if _FOLLOW_RE.match(line) or inline:
            items = [m.group(1).strip("*_ ") for m in (_ITEM_RE.match(x) for x in lines[i + 1:]) if m]
            if inline and not items:
                items = [q.strip() + "?" for q in inline.group(1).split("?") if q.strip()]
            return "\n".join(lines[:i]).strip(), [q[:200] for q in items if q][:3]
    return text, []


# -- the made-up-number check ------------------------------------------------------------------------

_NUM_RE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def _norm(number: str) -> str:
    n = number.replace(",", "")
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n.lstrip("0") or "0"


def _known_numbers(results: Sequence[ToolResult], question: str, exponent: int) -> set[str]:
    known = {_norm(n) for n in _NUM_RE.findall(question)} | {str(i) for i in range(11)}

    def add(value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int):
            known.add(str(value))
            known.add(_norm(f"{value / 10 ** exponent:.{exponent}f}") if exponent else str(value))
            known.add(str(round(value / 10 ** exponent)) if exponent else str(value))
        elif isinstance(value, float):
            for digits in (0, 1, 2):
                known.add(_norm(f"{value:.{digits}f}"))
            if abs(value) <= 1:
                known.add(str(round(value * 100)))
        elif isinstance(value, str):
            known.update(_norm(n) for n in _NUM_RE.findall(value.replace("-", " ").replace(":", " ")))
        elif isinstance(value, dict):
            for v in value.values():
                add(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(v)

    for r in results:
        add(r.figures)
        add(r.summary)
        if r.period is not None:
            add(r.period.as_dict())
        if r.table is not None:
            add(r.table.rows)
    return known


def unsupported_numbers(text: str, results: Sequence[ToolResult], question: str, currency: str,
                        language: str = "en") -> list[str]:
    """The numbers of an AI answer that no tool result (nor the question) holds.  A Spanish or French
    answer's numbers are read the way those languages write them ("1.800,00", "1 800,00 RD$")."""
    from contracts.money import exponent

    known = _known_numbers(results, question, exponent(currency))
    out: list[str] = []
    if language in ("es", "fr"):
        from analytics.narratives.factcheck import extract_numbers

        for n in extract_numbers(text.replace("–", " "), currency, language):
            if n.kind in ("money", "plain", "percent"):
                fine = any(_norm(str(abs(v))) in known for v, _ in ((n.value, n.precision), *n.readings))
                if not fine and n.raw not in out:
                    out.append(n.raw)
            else:
                out += [raw for raw in _NUM_RE.findall(n.raw) if _norm(raw) not in known and raw not in out]
        return out
    for raw in _NUM_RE.findall(text.replace("–", " ").replace("-", " ")):
        if _norm(raw) not in known and raw not in out:
            out.append(raw)
    return out


# -- the loop -------------------------------------------------------------------------------------

def _fallback(question: str, ctx: ToolContext, reason: str) -> Answer:
    return rules.answer(question, ctx, note=reason)


def ask(question: str, ctx: ToolContext, ai: Any | None, history: Sequence[Exchange] = ()) -> Answer:
    """Answer ``question`` for the context's store: with the AI when there is one that answers,
    otherwise (or when it fails) with the rule-based parser, marked as such."""
    question = " ".join(question.split())[:MAX_QUESTION]
    if ai is None or not getattr(ai, "configured", False):
        return rules.answer(question, ctx, note=_("No AI endpoint is configured; answered from the hub's figures."))
    from analytics.llm import DATA_RULES, AIUnavailable, Pseudonymiser, data_block

    pseudonymiser = Pseudonymiser()
    for cid, who in ctx.credit_customers.items():
        pseudonymiser.customer(cid, who.get("name"), who.get("phone"))
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM + DATA_RULES},
        {"role": "system",
         "content": "The store this conversation is about:\n" + data_block("store", _store_facts(ctx))},
    ]
    for past in list(history)[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": pseudonymiser.scrub(past.answer.question)})
        messages.append({"role": "assistant", "content": pseudonymiser.scrub(past.answer.text)})
    messages.append({"role": "user", "content": pseudonymiser.scrub(question)})

    specs = tool_specs()
    ran: list[ToolResult] = []
    bad_rounds = 0
    for _round in range(MAX_ROUNDS):
        try:
            reply = ai.chat(ctx.store_id, "ask", messages, tools=specs, pseudonymiser=pseudonymiser)
        except AIUnavailable as exc:
            log.info("ask %s: AI unavailable (%s): %s", ctx.store_id, exc.kind, exc.message)
            return _fallback(question, ctx, exc.message)
        if not reply.tool_calls:
            return _final(question, ctx, reply.content, ran)
        messages.append({"role": "assistant", "content": pseudonymiser.scrub(reply.content) if reply.content else None,
                         "tool_calls": [{"id": c.id, "type": "function",
                                         "function": {"name": c.name,
                                                      "arguments": pseudonymiser.scrub(c.raw_arguments)}}
                                        for c in reply.tool_calls]})
        refused = 0
        for index, call in enumerate(reply.tool_calls):
            if index >= MAX_CALLS_PER_ROUND:
                result = ToolResult(call.name, {}, False, "Too many tool calls in one round.",
                                    error=f"at most {MAX_CALLS_PER_ROUND} tool calls per round; ask again")
            else:
                # the store is the session's: run_tool never reads a store from the arguments
                result = run_tool(ctx, call.name, call.arguments)
            if result.invalid:
                refused += 1
                log.info("ask %s: tool call %s refused: %s", ctx.store_id, call.name, result.error)
            else:
                ran.append(result)
            messages.append(_tool_message(call.id, result, pseudonymiser, data_block))
        bad_rounds = bad_rounds + 1 if refused == len(reply.tool_calls) else 0
        if bad_rounds >= MAX_BAD_ROUNDS:
            return _fallback(question, ctx, _("The AI asked for the hub's figures with malformed or invalid tool "
                                              "arguments; answered from the hub's figures instead."))
    return _fallback(question, ctx, _("The AI did not finish within %(rounds)d rounds; answered from the hub's "
                                      "figures instead.", rounds=MAX_ROUNDS))


def _final(question: str, ctx: ToolContext, content: str | None, ran: list[ToolResult]) -> Answer:
    text, ups = split_answer(content)
    if not text:
        return _fallback(question, ctx, _("The AI gave no answer; answered from the hub's figures instead."))
    ok = [r for r in ran if r.ok]
    tables = [r.table for r in ok if r.table is not None and r.table.rows]
    last = ok[-1] if ok else (ran[-1] if ran else None)
    if len(ups) < 2:
        ups = (ups + [u for u in rules.follow_ups(last) if u not in ups])[:3]
    note = None
    made_up = unsupported_numbers(text, ran, question, ctx.store.currency, rules.answer_language(question, ctx))
    if made_up:
        note = _("The AI's text has figures the hub did not compute (%(figures)s); the table holds the hub's "
                 "figures.", figures=", ".join(made_up[:5]))
        log.warning("ask %s: figures not from the tools in the AI answer: %s", ctx.store_id, made_up)
    return Answer(question, text, table=tables[-1] if tables else None, follow_ups=ups, source="llm", note=note,
                  tools_used=[r.tool for r in ran], tables=tables,
                  period=next((r.period.as_dict() for r in reversed(ok) if r.period is not None), None),
                  language=rules.answer_language(question, ctx))


__all__ = ["TOOLS", "ask", "split_answer", "unsupported_numbers"]
