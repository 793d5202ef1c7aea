"""Handlers of the hub's analytics commands: ``hub import``, ``hub jobs``, ``hub backtest`` and
``bench hub``.  Each imports the analytics only when it runs."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from tillsight_cli.hub_cli import hub_config as _config
from tillsight_cli.json_output import emit_json as _emit_json

log = logging.getLogger("tillsight")


def hub_import(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.db import make_engine
    from analytics.importer.layouts import LayoutError
    from analytics.importer.run import import_file
    from analytics.importer.writer import StoreMismatch
    from analytics.jobs.settings import SettingsError
    from firmware_config import ConfigError

    try:
        cfg = _config(args)
        engine = make_engine(cfg.hub.database_url)
        report = import_file(engine, args.file, store_id=args.store_id, store_name=args.store_name,
                             timezone_name=args.timezone, currency=args.currency, layout=args.layout,
                             mapping_file=args.mapping, device_id=args.device_id,
                             cost_column=args.cost_column, default_margin_pct=args.default_margin)
    except (ConfigError, LayoutError, StoreMismatch, SettingsError) as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    r = report
    sys.stdout.write(f"{r.file}: {r.rows} rows, {r.lines_used} sale lines in {r.sales} sales ({r.refunds} refunds, "
                     f"{r.anonymous_sales} anonymous, {r.customers} customers) from {r.first_sale} to {r.last_sale}\n"
                     f"stored {r.stored} new sales, {r.already_there} were already there; "
                     f"{r.bad_rows} rows left out in {r.seconds} s\n")
    if r.costs == "column":
        sys.stdout.write(f"costs from the file: {r.lines_with_cost} lines with a cost, {r.costs_missing} without\n")
    elif r.costs == "default_margin":
        sys.stdout.write(f"costs assumed from a {r.default_margin_pct} % margin on every line\n")
    for reason, n in r.bad_reasons.items():
        sys.stdout.write(f"  {n:>7}  {reason}\n")
    if args.json:
        _emit_json(r.as_dict())
    return 0


def hub_jobs(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.db import make_engine
    from analytics.jobs.data import utc_now
    from analytics.jobs.insights import build_insights
    from analytics.jobs.publish import PublishError, publish_insights
    from analytics.jobs.runner import run_jobs
    from analytics.jobs.store import mark_published
    from firmware_config import ConfigError

    now = datetime.now(UTC)  # read once: the runs are as of the stores' dates now, the morning documents too
    try:
        cfg = _config(args)
        runs = run_jobs(cfg.hub.database_url, stores=args.store or None, workers=args.workers, force=args.force,
                        now=now)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    publish_failed = False
    if args.publish:
        from analytics.llm import AIService

        engine = make_engine(cfg.hub.database_url)
        ai = AIService.from_config(engine, cfg)  # writes the morning narrative when an LLM is configured
        for run in runs:
            if run.status == "failed":
                continue
            doc = build_insights(engine, run.store_id, now=now, ai=ai)
            if doc is None:
                continue
            try:
                run.published = publish_insights(engine, cfg.mqtt, run.store_id, doc)
            except PublishError as exc:
                log.error("insights for %s: %s", run.store_id, exc)
                publish_failed = True
                continue
            if run.published:
                mark_published(engine, doc["run_id"], utc_now())
        engine.dispose()
    for run in runs:
        extra = f" ({run.detail})" if run.detail else ""
        figures = ", ".join(f"{k} {v}" for k, v in run.metrics.items())
        sys.stdout.write(f"{run.store_id}: {run.status} in {run.seconds} s{extra}"
                         f"{'; ' + figures if figures else ''}"
                         f"{'; insights to ' + str(len(run.published)) + ' devices' if run.published else ''}\n")
    if not runs:
        sys.stdout.write("no stores in the hub database\n")
    if args.json:
        _emit_json({"runs": [r.as_dict() for r in runs]})
    return 1 if publish_failed or any(r.status == "failed" for r in runs) else 0


def hub_backtest(args: argparse.Namespace) -> int:
    from analytics.forecasting.backtest import MODEL_ORDER, parse_origins
    from analytics.forecasting.evaluate import backtest_store
    from analytics.importer.frames import DEFAULT_DATA, load_file_frames
    from analytics.importer.layouts import LayoutError

    try:
        origins = parse_origins(str(args.origins))
        if args.store:
            from analytics.db import make_engine
            from analytics.jobs.data import load_store_data

            cfg = _config(args)
            data = load_store_data(make_engine(cfg.hub.database_url), args.store)
        else:
            path = args.data or str(DEFAULT_DATA)
            data, _ = load_file_frames(path, store_id="backtest", layout=args.layout, mapping_file=args.mapping)
        result = backtest_store(data, skus=args.skus, horizon=args.horizon, origins=origins)
    except (LayoutError, LookupError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    sys.stdout.write(f"{result['series']} series, {result['origins']} origins ({', '.join(result['origin_dates'])}) "
                     f"x {result['horizon_days']} days\n")
    sys.stdout.write(f"{'model':<18}{'MASE':>8}{'WAPE':>8}{'bias':>8}{'cover80':>9}{'cover95':>9}\n")

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    for name in [m for m in MODEL_ORDER if m in result["models"]]:
        r = result["models"][name]
        sys.stdout.write(f"{name:<18}{r['mase']:>8.3f}{r['wape']:>8.3f}{100 * r['bias']:>+7.1f}%"
                         f"{pct(r['coverage_80']):>9}{pct(r['coverage_95']):>9}\n")
    sys.stdout.write(f"ratio_to_best_standard {result['ratio_to_best_standard']} (best: {result['best_standard']}); "
                     f"hub 80% interval coverage {pct(result['coverage_80'])}\n")
    for name, r in result.get("store_series", {}).items():
        sys.stdout.write(f"store {name}: MASE {r['mase']} (seasonal naive {r['baseline_mase']}), WAPE {r['wape']}, "
                         f"bias {r['bias']}; interval coverage {r['coverage80']} (80%), {r['coverage95']} (95%)\n")
    if args.json:
        _emit_json(result)
    return 0


def bench_hub(args: argparse.Namespace) -> int:
    from benchmarks.hub_bench import run_hub_bench

    try:
        figures = run_hub_bench(sales=args.sales, series=args.series, data=args.data)
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 2
    if not args.json:
        sys.stdout.write(f"segment {figures['segmentation']['sales']} sales: {figures['segment_1m_sales_s']} s; "
                         f"forecast {figures['forecast']['series']} series: {figures['forecast_1000_series_s']} s "
                         f"({figures['forecast_ratio_to_reference']}x the per-series models alone); backtest "
                         f"ratio_to_best_standard {figures['ratio_to_best_standard']}, "
                         f"coverage_80 {figures['coverage_80']} "
                         f"(targets: segment < {figures['target_s']} s, forecast < {figures['forecast_target_s']} s, "
                         "<= 0.98, 0.77-0.83)\n")
    _emit_json(figures)
    return 0
