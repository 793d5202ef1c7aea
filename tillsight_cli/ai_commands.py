"""``tillsight hub ai credits|ledger|check``: the hub's AI credits and its LLM endpoint
(docs/llm.md).  The hub side is imported only when a handler runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.llm import AIService


def cap_value(text: str) -> int | None:
    """argparse type of ``--daily-cap`` / ``--monthly-cap``: a whole number >= 0, or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (or 'none' for no cap)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a cap must be >= 0 (or 'none' for no cap)")
    return value


def ai(args: argparse.Namespace) -> int:
    handler = {"credits": ai_credits, "ledger": ai_ledger, "check": ai_check}[args.ai_action]
    return handler(args)


def _service(config_path: str | None, with_db: bool = True) -> AIService:
    from analytics.db import make_engine, migrate
    from analytics.llm import AIService
    from firmware_config import load_config

    cfg = load_config(config_path)
    engine = None
    if with_db:
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
    return AIService.from_config(engine, cfg)


def _fail(exc: Exception) -> int:
    sys.stderr.write(f"tillsight: {exc}\n")
    return 2


def ai_credits(args: argparse.Namespace) -> int:
    """Show a store's account; with --add / --daily-cap / --monthly-cap change it first."""
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.llm.credits import UNSET
    from firmware_config import ConfigError

    try:
        svc = _service(args.config)
        credits = svc.credits
        assert credits is not None
        account = credits.account(args.store)
        note = args.note or "by the command line"
        if args.add is not None:
            account = credits.top_up(args.store, args.add, note=note)
        daily, monthly = getattr(args, "daily_cap", UNSET), getattr(args, "monthly_cap", UNSET)
        if daily is not UNSET or monthly is not UNSET:
            account = credits.set_caps(args.store, daily_cap=daily, monthly_cap=monthly, note=note)
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        return _fail(exc)
    sys.stdout.write(json.dumps({"store_id": account.store_id, "balance": account.balance,
                                 "daily_cap": account.daily_cap, "monthly_cap": account.monthly_cap,
                                 "spent_today": account.spent_today, "spent_month": account.spent_month}) + "\n")
    return 0


def ai_ledger(args: argparse.Namespace) -> int:
    """The store's ledger, newest first: a table, or JSON lines with --json."""
    from dataclasses import asdict

    from sqlalchemy.exc import SQLAlchemyError

    from firmware_config import ConfigError

    try:
        svc = _service(args.config)
        rows = svc.ledger(args.store, limit=args.limit)
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        return _fail(exc)
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps(asdict(row), separators=(",", ":")) + "\n")
        return 0
    cols = ("at", "kind", "feature", "success", "cached", "cost", "credit_change", "balance_after",
            "prompt_tokens", "completion_tokens", "latency_ms", "model", "error")
    table: list[list[str]] = [list(cols)]
    for row in rows:
        data: dict[str, Any] = asdict(row)
        cells = []
        for c in cols:
            v = data[c]
            text = "" if v is None else ("yes" if v is True else "no" if v is False else str(v))
            if c == "error" and not text and data.get("note"):
                text = data["note"]
            cells.append(text[:60])
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
    for r in table:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() + "\n")
    if not rows:
        sys.stdout.write(f"(no AI ledger entries for {args.store})\n")
    return 0


def ai_check(args: argparse.Namespace) -> int:
    """One tiny call to the configured endpoint: prints the model and the latency; exit 1 with
    the reason when it cannot answer (2 for a bad config)."""
    from analytics.llm import AIUnavailable
    from firmware_config import ConfigError

    try:
        svc = _service(args.config, with_db=False)
    except (ConfigError, ValueError) as exc:
        return _fail(exc)
    try:
        result = svc.check()
    except AIUnavailable as exc:
        sys.stderr.write(f"AI endpoint unavailable ({exc.kind}): {exc.message}\n")
        return 1
    sys.stdout.write(f"AI endpoint OK: {result.base_url} model {result.model}, {result.latency_ms} ms\n")
    return 0
