"""``tillsight hub ask --store S "question" [--json]``: ask a question about a store's business from
the command line (the same tools, AI loop and rule-based fallback as the hub's Ask page)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("tillsight")


def _cell(kind: str, value: Any, currency: str | None) -> str:
    from contracts.money import format_money

    if value is None or value == "":
        return "—"
    if kind == "money" and currency:
        return format_money(int(value), currency)
    if kind == "pct":
        return f"{float(value) * 100:.0f}%"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def render_text(answer: Any) -> str:
    """The answer as a person reads it on a terminal: text, tables, source, follow-ups."""
    out = [answer.text, ""]
    for table in answer.tables:
        heads = [c.label for c in table.columns]
        rows = [[_cell(c.kind, r.get(c.key), table.currency) for c in table.columns] for r in table.rows]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
        out.append(table.title)
        out.append("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
        out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
        out.append("")
    out.append(f"[{answer.mark}]" + (f" {answer.note}" if answer.note else ""))
    if answer.follow_ups:
        out.append("Ask next: " + " | ".join(answer.follow_ups))
    return "\n".join(out) + "\n"


def hub_ask(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.assistant.service import QuestionError, answer_question
    from analytics.db import make_engine, migrate
    from analytics.jobs.data import store_ids
    from firmware_config import ConfigError, load_config

    overrides: dict[str, Any] = {}
    if args.database_url:
        overrides["hub"] = {"database_url": args.database_url}
    try:
        cfg = load_config(args.config, overrides=overrides)
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
        if args.store not in store_ids(engine):
            log.error("no store %r in the hub database", args.store)
            return 2
        ai = None
        if not args.no_ai:
            from analytics.llm import AIService

            ai = AIService.from_config(engine, cfg)
        # the hub's shell is the operator's: credit figures included
        answer, _ = answer_question(engine, args.store, args.question, ai, datetime.now(UTC), credit=True)
    except (ConfigError, QuestionError) as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(render_text(answer))
    return 0
