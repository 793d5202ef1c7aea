"""Handlers of ``tillsight hub narrate`` and ``tillsight hub personas`` (docs/insights.md): a store's
daily or weekly narrative and its segment personas, written by the configured language model
(``llm.*``) or computed from the figures when none is configured or reachable.  Each imports the
analytics only when it runs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

log = logging.getLogger("tillsight")


def _setup(args: argparse.Namespace) -> tuple[Any, Any]:
    from analytics.db import make_engine, migrate
    from analytics.llm import AIService
    from firmware_config import load_config

    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None):
        overrides["hub"] = {"database_url": args.database_url}
    cfg = load_config(getattr(args, "config", None), overrides=overrides)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    return engine, AIService.from_config(engine, cfg)


def hub_narrate(args: argparse.Namespace) -> int:
    from datetime import date

    from sqlalchemy.exc import SQLAlchemyError

    from analytics.narratives.facts import FactsError
    from analytics.narratives.narrative import SECTIONS, generate
    from firmware_config import ConfigError

    try:
        end = date.fromisoformat(args.day) if args.day else None
    except ValueError:
        log.error("--day must be a date like 2026-11-20, not %r", args.day)
        return 2
    try:
        engine, ai = _setup(args)
        n = generate(engine, args.store, args.period, ai=ai, end=end)
    except (ConfigError, FactsError) as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(n.to_json(), ensure_ascii=False, default=str) + "\n")
        return 0
    mark = "computed from your figures (no AI)" if n.source == "computed" else f"written by {n.model or 'AI'}"
    out = [n.title, f"({mark}; {n.period_start}{' to ' + n.period_end if n.period_end != n.period_start else ''})"]
    if n.note:
        out.append(n.note)
    for key, label in SECTIONS:
        if n.sections.get(key):
            out.append(f"\n{label}")
            out += [f"  - {s}" for s in n.sections[key]]
    if n.unsupported:
        out.append(f"\nDropped figures not in the data: {', '.join(n.unsupported)}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def hub_personas(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.narratives.personas import build_personas
    from firmware_config import ConfigError

    try:
        engine, ai = _setup(args)
        found = build_personas(engine, args.store, ai)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    if not found:
        log.error("store %s has no segments yet: run `tillsight hub jobs` first", args.store)
        return 1
    if args.json:
        sys.stdout.write(json.dumps([p.to_json() for p in found], ensure_ascii=False, default=str) + "\n")
        return 0
    for p in found:
        mark = "computed" if p.source == "computed" else "AI"
        sys.stdout.write(f"[{p.kind}] {p.segment}: {p.name} ({mark})\n  {p.description}\n")
        for m in p.marketing:
            sys.stdout.write(f"  marketing: {m}\n")
        for m in p.operations:
            sys.stdout.write(f"  in the shop: {m}\n")
    return 0
