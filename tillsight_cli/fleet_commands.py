"""``tillsight hub fleet ...``: the fleet operator's commands (keygen, publish, status, watch,
rollback).  The hub side is imported inside each handler, like every other subcommand."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

# exit statuses
OK, ROLLOUT_FAILED, BAD_INPUT = 0, 1, 2


def fleet(args: argparse.Namespace) -> int:
    """Dispatch ``hub fleet ACTION`` to its handler."""
    handler = {"keygen": fleet_keygen, "publish": fleet_publish, "status": fleet_status, "watch": fleet_watch,
               "rollback": fleet_rollback}[args.fleet_action]
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.fleet.errors import FleetError
    from firmware_config import ConfigError

    try:
        return handler(args)
    except (FleetError, ConfigError) as exc:
        sys.stderr.write(f"tillsight hub fleet {args.fleet_action}: {exc}\n")
        return BAD_INPUT
    except SQLAlchemyError as exc:
        sys.stderr.write(f"tillsight hub fleet {args.fleet_action}: hub database: {str(exc).splitlines()[0]}\n")
        return BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


def _settings(args: argparse.Namespace) -> Any:
    from analytics.fleet.operations import FleetSettings
    from firmware_config import load_config

    return FleetSettings.from_config(load_config(getattr(args, "config_file", None)))


def _print(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def fleet_keygen(args: argparse.Namespace) -> int:
    from analytics.fleet.operations import keygen

    files = keygen(args.out)
    _print(f"private key: {files.private_key} (mode 0600: keep it on the operator's machine or the hub, "
           "never on a device, never in version control)")
    _print(f"public key:  {files.public_key} (copy it to every device and list it in fleet.public_keys)")
    _print(f"key id:      {files.key_id}")
    return OK


def fleet_publish(args: argparse.Namespace) -> int:
    from datetime import timedelta
    from pathlib import Path

    from analytics.fleet.manifests import Health
    from analytics.fleet.operations import PublishRequest, publish
    from analytics.fleet.rollout import RolloutPlan, parse_waves

    settings = _settings(args)
    plan = RolloutPlan(parse_waves(args.waves), args.success_threshold, args.failure_threshold)
    if (args.health_window < 0 or args.max_errors < 0
            or (args.max_inference_ms is not None and args.max_inference_ms <= 0)):
        raise _usage("--health-window and --max-errors must be >= 0, --max-inference-ms > 0")
    if args.expires_in_days is not None and args.expires_in_days <= 0:
        raise _usage("--expires-in-days must be > 0")
    request = PublishRequest(
        model_dir=Path(args.model) if args.model else None, config_file=Path(args.config) if args.config else None,
        gallery_dir=Path(args.gallery) if getattr(args, "gallery", None) else None,
        force=bool(getattr(args, "force", False)),
        device=args.device, group=args.group, plan=plan,
        health=Health(args.health_window, args.max_inference_ms, args.max_errors),
        expires_in=timedelta(days=args.expires_in_days) if args.expires_in_days else None, name=args.name,
        key=Path(args.key) if args.key else None)
    created = publish(settings, request)
    d = created.deployment
    if args.json:
        _print(json.dumps({"deployment_id": d.deployment_id, "version": d.version, "kind": d.kind, "name": d.name,
                           "artifact_sha256": d.artifact_sha256, "released": [f"{s}/{i}" for s, i in created.released],
                           "superseded": created.superseded}, separators=(",", ":")))
        return OK
    _print(f"deployment {d.deployment_id} version {d.version}")
    _print(f"  {d.kind} \"{d.name}\" artifact {d.artifact_sha256[:12]} to {d.target_kind} {d.target}")
    total = len(created.released)
    _print(f"  wave 1/{len(d.waves)} released to {total} device(s): "
           + ", ".join(f"{s}/{i}" for s, i in created.released[:10]) + (" ..." if total > 10 else ""))
    for old in created.superseded:
        _print(f"  supersedes deployment {old}")
    if len(d.waves) > 1:
        _print(f"  next waves follow while `tillsight hub fleet watch {d.short_id}` runs")
    return OK


def _usage(message: str) -> Exception:
    from analytics.fleet.errors import FleetError

    return FleetError(message)


def progress_line(summary: Any) -> str:
    d = summary.deployment
    parts = [f"{d.short_id} {d.kind} v{d.version} {d.state} wave {d.current_wave + 1}/{len(d.waves)}:",
             f"{summary.succeeded}/{summary.released} succeeded, {summary.failed} failed"]
    if summary.in_progress:
        steps = ", ".join(f"{n} {step}" for step, n in sorted(summary.steps.items()))
        parts.append(f", {summary.in_progress} updating ({steps})")
    if summary.pending:
        parts.append(f", {summary.pending} not started")
    if summary.waiting:
        parts.append(f", {summary.waiting} waiting")
    if summary.superseded:
        parts.append(f", {summary.superseded} superseded")
    return " ".join(parts[:2]) + "".join(parts[2:])


def fleet_status(args: argparse.Namespace) -> int:
    from analytics.fleet.operations import status

    views = status(_settings(args), args.deployment, limit=args.limit)
    if args.json:
        if args.deployment is None:
            _print(json.dumps([v.summary.as_dict() for v in views], separators=(",", ":")))
        else:
            view = views[0]
            doc = view.summary.as_dict()
            doc["targets"] = [{"device": t.device, "wave": t.wave + 1, "state": t.state, "progress": t.progress,
                               "detail": t.detail, "online": view.online.get((t.store_id, t.device_id)),
                               "published_at": t.published_at, "updated_at": t.updated_at} for t in view.targets]
            _print(json.dumps(doc, separators=(",", ":")))
        return OK
    if args.deployment is None:
        if not views:
            _print("no deployments yet (tillsight hub fleet publish ...)")
            return OK
        _print(f"{'DEPLOYMENT':<36}  {'KIND':<6} {'VER':>4}  {'STATE':<11} {'WAVE':<5} {'OK/REL/ALL':<11} "
               f"{'FAILED':>6}  TARGET / NAME")
        for v in views:
            s, d = v.summary, v.summary.deployment
            _print(f"{d.deployment_id:<36}  {d.kind:<6} {d.version:>4}  {d.state:<11} "
                   f"{d.current_wave + 1}/{len(d.waves):<3} {f'{s.succeeded}/{s.released}/{s.total}':<11} "
                   f"{s.failed:>6}  {d.target_kind} {d.target}: {d.name}")
        return OK
    view = views[0]
    d = view.summary.deployment
    _print(f"deployment {d.deployment_id} version {d.version}")
    _print(f"  {d.kind} \"{d.name}\" artifact {d.artifact_sha256[:12]} to {d.target_kind} {d.target}")
    _print(f"  waves {','.join(f'{w:g}' for w in d.waves)}; success threshold {d.success_threshold:g}, "
           f"failure threshold {d.failure_threshold:g}; created {d.created_at}, updated {d.updated_at}")
    if d.rollback_of:
        _print(f"  rolls back deployment {d.rollback_of}")
    _print(f"  {d.state}: {d.state_reason or ''}")
    _print(f"  {progress_line(view.summary)}")
    _print(f"  {'DEVICE':<32} {'WAVE':>4}  {'ONLINE':<7} {'STATE':<14} {'PROGRESS':>8}  DETAIL")
    for t in view.targets:
        online = view.online.get((t.store_id, t.device_id))
        _print(f"  {t.device:<32} {t.wave + 1:>4}  {('yes' if online else 'no' if online is not None else '?'):<7} "
               f"{t.state:<14} {100 * t.progress:>7.0f}%  {t.detail or ''}")
    return OK


def fleet_watch(args: argparse.Namespace) -> int:
    from analytics.fleet.manifests import iso
    from analytics.fleet.operations import utc_now, watch

    if args.interval <= 0:
        raise _usage("--interval must be > 0")
    last: dict[str, str] = {}

    def report(result: Any) -> None:
        at = iso(utc_now())
        if args.json:
            events: dict[str, list[dict[str, str]]] = {}
            for e in result.events:
                events.setdefault(e.deployment_id, []).append({"what": e.what, "message": e.message})
            for s in result.summaries:
                doc = {"at": at, **s.as_dict(), "events": events.get(s.deployment.deployment_id, [])}
                key = json.dumps({k: v for k, v in doc.items() if k not in ("at", "updated_at")}, sort_keys=True)
                if args.once or last.get(s.deployment.deployment_id) != key:
                    last[s.deployment.deployment_id] = key
                    _print(json.dumps(doc, separators=(",", ":")))
            return
        for e in result.events:
            _print(f"{at} {e.message}")
        for s in result.summaries:
            line = progress_line(s)
            if args.once or last.get(s.deployment.deployment_id) != line:
                last[s.deployment.deployment_id] = line
                _print(f"{at} {line}")

    if args.forever and not args.once:  # as tillsight-fleet.service runs it: Type=notify, pings while the loop turns
        import time

        from runtime.notify import LoopCounter, ProgressProbe, ServiceSupervisor

        turns = LoopCounter()
        service = ServiceSupervisor([ProgressProbe("fleet controller loop", turns, "MainThread")])

        def sleep(seconds: float) -> None:
            turns.tick()
            time.sleep(seconds)

        service.ready(f"fleet controller, every {args.interval:g} s")
        try:
            watch(_settings(args), args.deployment, interval_s=args.interval, once=False, forever=True,
                  report=report, sleep=sleep)
        finally:
            service.close()
        return OK
    state = watch(_settings(args), args.deployment, interval_s=args.interval, once=args.once,
                  forever=args.forever, report=report)
    if args.once or state is None:
        return OK
    return OK if state == "completed" else ROLLOUT_FAILED


def fleet_rollback(args: argparse.Namespace) -> int:
    from analytics.fleet.operations import rollback

    created = rollback(_settings(args), args.deployment, args.key)
    d = created.deployment
    _print(f"deployment {d.deployment_id} version {d.version}")
    _print(f"  rolls back {d.rollback_of}: {d.kind} \"{d.name}\" artifact {d.artifact_sha256[:12]} "
           f"to {len(created.released)} device(s) at once")
    return OK
