"""Handlers of ``tillsight hub credit``: the store's credit customers (balance, risk score and its
factors, collections priority, predicted payment dates), ``hub credit message`` (a collection
message in a tone and language; AI-written when ``llm.base_url`` is set, else from templates) and
``hub credit send`` (the reminder sent to one customer over the ``outbound`` channels, recorded).
The analytics are imported only when the command runs."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from tillsight_cli.hub_cli import hub_config as _config
from tillsight_cli.json_output import emit_json

log = logging.getLogger("tillsight")



def _summary(engine: Any, args: argparse.Namespace) -> int:
    from analytics.credit.report import OVERDUE_DAYS, credit_report
    from contracts.money import format_money

    report = credit_report(engine, args.store, datetime.now(UTC))  # the command's clock: credit as of now
    if args.json:
        emit_json({"store_id": args.store, "as_of": report.as_of, "kpis": asdict(report.kpis),
                    "customers": [asdict(c) for c in report.customers],
                    "priority": [asdict(p) for p in report.priority]})
        return 0
    k, cur = report.kpis, report.kpis.currency
    out = sys.stdout
    out.write(f"{report.store.name} ({args.store}), credit as of {report.as_of} (store time)\n"
              f"owed {format_money(k.total_owed, cur)} by {k.customers_with_balance} of {k.customers} customers; "
              f"overdue (>{OVERDUE_DAYS} days) {format_money(k.overdue, cur)}; {k.high_risk} high risk, "
              f"{k.over_limit} over the limit\n\n")
    out.write("collections priority (amount x risk x age):\n")
    for p in report.priority:
        out.write(f"  {p.rank:>2}. {p.name:<24} {format_money(p.balance, cur):>14}  risk {p.risk_score:>3}  "
                  f"oldest {p.oldest_unpaid_days:>3} d  priority {p.priority:>10,.1f}  "
                  f"expected {p.predicted_payment_date} ({p.payment_confidence})"
                  f"{'  [' + p.tie_break + ']' if p.tie_break else ''}\n")
    if not report.priority:
        out.write("  nobody owes anything\n")
    out.write("\ncustomers (risk 0 = safest, 100 = riskiest):\n")
    for c in report.customers:
        out.write(f"  {c.name:<24} {c.customer_id:<14} owes {format_money(c.balance, cur):>14}  "
                  f"risk {c.risk_score:>3} {c.risk_band}\n")
        for text in c.risk_factors:
            out.write(f"      - {text}\n")
        for text in c.positive_factors:
            out.write(f"      + {text}\n")
        for text in c.notes:
            out.write(f"      . {text}\n")
    return 0


def _message(engine: Any, cfg: Any, args: argparse.Namespace) -> int:
    from analytics.credit.messages import customer_message

    if not args.customer:
        log.error("hub credit message needs --customer")
        return 2
    ai = None
    if cfg.llm.base_url:
        from analytics.llm import AIService

        ai = AIService.from_config(engine, cfg)
    m = customer_message(engine, ai, args.store, args.customer, args.tone, args.language, as_of=datetime.now(UTC))
    if args.json:
        emit_json(m.as_dict())
        return 0
    sys.stdout.write(f"[{m.source}] {m.note}\n\nSMS ({m.sms_chars} characters, {m.sms_parts} SMS, {m.sms_encoding}):\n"
                     f"{m.sms}\n\nWhatsApp:\n{m.whatsapp}\n\nE-mail\nSubject: {m.email_subject}\n\n{m.email_body}\n")
    return 0


def _send(engine: Any, cfg: Any, args: argparse.Namespace) -> int:
    """Send --customer the reminder (as the Credit tab does); 0 sent, 1 refused or failed (recorded), 2 misuse."""
    import getpass
    import uuid

    from analytics.credit.sending.registry import build_senders
    from analytics.credit.sending.service import ReminderService

    if not args.customer and not args.retry:
        log.error("hub credit send needs --customer (or --retry REMINDER_ID)")
        return 2
    ai = None
    if cfg.llm.base_url:
        from analytics.llm import AIService

        ai = AIService.from_config(engine, cfg)
    senders = build_senders(cfg.outbound)
    if not senders:
        log.error("no reminder channel is enabled: set outbound.email, outbound.sms or outbound.whatsapp")
        return 2
    service = ReminderService(engine, senders, cfg.outbound, ai=ai)
    by = f"cli:{getpass.getuser()}"
    if args.retry:
        outcome = service.retry(args.store, args.retry, by=by, now=datetime.now(UTC))
    else:
        key = args.key or f"cli-{uuid.uuid4().hex}"
        [outcome] = service.send(args.store, [args.customer], tone=args.tone, by=by, key=key, now=datetime.now(UTC),
                                 channel=args.channel)
    if args.json:
        emit_json(outcome.as_dict())
    else:
        r = outcome.reminder
        where = f" by {outcome.channel} to {r.recipient}" if r else ""
        detail = f" ({outcome.reason})" if outcome.reason else ""
        ident = f", provider id {r.provider_id}" if r and r.provider_id else ""
        sys.stdout.write(f"{outcome.name}: {outcome.status}{where}{detail}{ident}\n")
    return 0 if outcome.status in ("sent", "duplicate") else 1


def hub_credit(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.credit.data import CreditDataError
    from analytics.credit.messages import MessageError
    from analytics.credit.sending.service import ReminderError
    from analytics.db import make_engine, migrate
    from firmware_config import ConfigError

    try:
        cfg = _config(args)
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
        if args.what == "message":
            return _message(engine, cfg, args)
        if args.what == "send":
            return _send(engine, cfg, args)
        return _summary(engine, args)
    except (ConfigError, CreditDataError, MessageError, ReminderError) as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
