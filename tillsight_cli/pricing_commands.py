"""``tillsight hub pricing``: a store's price suggestions, the signed push of approved prices, and the
pricing backtest (docs/pricing.md).  Imports the hub's code only when it runs.

* ``tillsight hub pricing --store ID [--json] [--all]``: the suggestions (``--all``: every product,
  with why it has none); ``--json`` prints the whole report as one JSON document.
* ``tillsight hub pricing push --store ID [--key FILE]``: sign and send the approved price changes to
  the store's tills (the fleet path; needs the signing key).
* ``tillsight hub pricing backtest [--data FILE | --store ID] [--json]``: predict past price changes
  from the data before them and report the error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from tillsight_cli.hub_cli import hub_config as _config
from tillsight_cli.json_output import emit_json as _emit

log = logging.getLogger("tillsight")


def add_parser(hub_sub: Any) -> None:
    c = hub_sub.add_parser("pricing", help="price suggestions, the signed price push, the pricing backtest")
    c.add_argument("step", nargs="?", choices=("suggest", "push", "backtest"), default="suggest",
                   help="suggest (default): print the suggestions; push: send approved prices to the tills; "
                        "backtest: the error of the predicted effects of past price changes")
    c.add_argument("--store", help="the store (suggest and push; backtest: a store of the hub database)")
    c.add_argument("--config", help="hub config file")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.add_argument("--all", action="store_true", help="suggest: every product, with why it has no suggestion")
    c.add_argument("--key", help="push: the fleet signing key (default hub.fleet_signing_key)")
    c.add_argument("--data", help="backtest: sales-line CSV (default: the shared retail data)")
    c.add_argument("--layout", help="backtest: column layout of --data")
    c.add_argument("--source", choices=("shelf", "cells"), default="shelf",
                   help="backtest: estimate from weekly shelf prices (default) or from every price paid, "
                        "quantity-dependent prices included (cells)")


def hub_pricing(args: argparse.Namespace) -> int:
    if args.step == "backtest":
        return _backtest(args)
    if not args.store:
        log.error("give --store ID")
        return 2
    return _push(args) if args.step == "push" else _suggest(args)


def _suggest(args: argparse.Namespace) -> int:
    from analytics.db import make_engine, migrate
    from analytics.pricing.suggest import pricing_report
    from contracts.money import format_money

    try:
        engine = make_engine(_config(args).hub.database_url)
        migrate(engine)
        report = pricing_report(engine, args.store, now=datetime.now(UTC))
    except (LookupError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    if args.json:
        doc = report.as_dict()
        if not args.all:
            doc.pop("products")
        _emit(doc)
        return 0
    cur = report.currency
    rows = report.suggestions() if not args.all else report.products
    sys.stdout.write(f"{report.store_id}: {len(report.suggestions())} suggestion(s) as of {report.as_of} "
                     f"(rails: margin >= {report.rails.min_margin:.0%}, step <= {report.rails.max_step:.0%}, "
                     f"endings {' '.join(report.rails.endings) or 'any'})\n")
    for a in rows:
        p = a.position
        to = f" -> {format_money(a.suggested_price, cur)}" if a.suggested_price else ""
        sys.stdout.write(f"{a.kind:9} {p.sku:16} {format_money(p.price, cur)}{to}  {a.reason}\n")
    for o in report.offers:
        sys.stdout.write(f"{o.offer.kind:9} {'+'.join(o.offer.skus):16} {format_money(o.offer.offer_price, cur)}  "
                         f"{o.reason}\n")
    return 0


def _push(args: argparse.Namespace) -> int:
    from analytics.db import make_engine, migrate
    from analytics.fleet.errors import FleetError
    from analytics.fleet.operations import FleetSettings
    from analytics.pricing.push import push_prices

    try:
        cfg = _config(args)
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
        now = datetime.now(UTC).replace(microsecond=0)
        result = push_prices(FleetSettings.from_config(cfg), engine, args.store, now, key_path=args.key)
    except (FleetError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    if args.json:
        _emit(result.as_dict())
    elif result.deployment_id is None:
        sys.stdout.write(f"{args.store}: no approved price change to send\n")
    else:
        sys.stdout.write(f"deployment {result.deployment_id} version {result.version}: {result.changes} price "
                         f"change(s) to {', '.join(result.devices)} ({len(result.sent)} newly approved)\n")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from analytics.importer.frames import DEFAULT_DATA, load_file_frames
    from analytics.importer.layouts import LayoutError
    from analytics.pricing.backtest import run_backtest

    try:
        if args.store:
            from analytics.db import make_engine
            from analytics.jobs.data import load_store_data

            data = load_store_data(make_engine(_config(args).hub.database_url), args.store)
        else:
            data, _ = load_file_frames(args.data or str(DEFAULT_DATA), store_id="backtest", layout=args.layout)
    except (LayoutError, LookupError, ValueError, OSError) as exc:
        log.error("%s", exc)
        return 2
    result = run_backtest(data.lines, report=lambda line: sys.stdout.write(line + "\n"), source=args.source)
    s = result.summary()
    sys.stdout.write(f"{s['events']} price changes, {s['predicted']} predicted ({s['untold']} without an elasticity): "
                     f"WAPE {s['wape']} (no change: {s['wape_no_change']}), skill {s['skill']}, 80% range held "
                     f"{s['coverage_80']}, direction right {s['direction']}\n")
    if args.json:
        _emit(s)
    return 0
