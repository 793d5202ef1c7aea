"""``tillsight hub device ...`` and ``tillsight hub broker ...``: the broker's device credentials,
ACL, configuration and certificates (docs/security.md).  The hub side is imported inside the
handlers only."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("tillsight")

EXIT_BAD_INPUT = 2
EXIT_IO = 1
EXIT_RELOAD = 3


def _err(message: str) -> None:
    sys.stderr.write(f"tillsight: {message}\n")


def _load(args: argparse.Namespace):
    from firmware_config import load_config

    return load_config(getattr(args, "config", None))


def _settings(args: argparse.Namespace, cfg: Any):
    from analytics.broker.service import BrokerSettings

    settings = BrokerSettings.from_config(cfg, Path(args.broker_dir) if getattr(args, "broker_dir", None) else None)
    return settings


def _engine(cfg: Any):
    from analytics.db import make_engine, migrate

    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    return engine


def _known_errors() -> tuple[type[BaseException], ...]:
    from analytics.broker.certs import CertError
    from analytics.broker.mosquitto_conf import BrokerConfError
    from analytics.broker.registry import RegistryError
    from firmware_config import ConfigError

    return (RegistryError, ConfigError, CertError, BrokerConfError)


def _run(func, args: argparse.Namespace) -> int:
    """Run one action; operator mistakes and file problems become one clear line and an exit code."""
    from sqlalchemy.exc import OperationalError

    from analytics.broker.files import BrokerFilesError

    try:
        return int(func(args) or 0)
    except _known_errors() as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except BrokerFilesError as exc:
        _err(str(exc))
        return EXIT_IO
    except OperationalError as exc:
        _err(f"cannot use the hub database (hub.database_url): {exc.orig or exc}")
        return EXIT_IO


def _report(report: Any) -> None:
    for warning in report.warnings():
        _err(f"warning: {warning}")


def _reload(settings: Any, changed: bool) -> int:
    from analytics.broker.service import ReloadError, reload_broker

    if not changed:
        return 0
    try:
        if reload_broker(settings):
            log.info("broker reloaded (%s)", " ".join(settings.reload_command))
            return 0
    except ReloadError as exc:
        _err(f"the broker files are written but the broker was not reloaded: {exc}")
        return EXIT_RELOAD
    _err(f"note: reload the broker to apply the change (`systemctl reload mosquitto`, or SIGHUP to mosquitto); "
         f"files in {settings.dir}")
    return 0


# -- hub device ----------------------------------------------------------------------------------

def device(args: argparse.Namespace) -> int:
    actions = {"add": _device_add, "rotate": _device_rotate, "remove": _device_remove, "list": _device_list,
               "group": _device_group}
    return _run(actions[args.device_action], args)


def _snippet(args: argparse.Namespace, cfg: Any, issued: Any) -> str:
    import yaml

    from contracts import topics

    b = cfg.hub.broker
    d = issued.device
    mqtt: dict[str, Any] = {"host": args.host or b.public_host or cfg.mqtt.host,
                            "port": args.port or b.public_port or cfg.mqtt.port,
                            "username": d.mqtt_username, "password": issued.password}
    ca_file = args.ca_file or (str(b.device_ca_file) if b.device_ca_file else None)
    if ca_file:
        mqtt["tls"] = {"enabled": True, "ca_file": ca_file}
    if cfg.mqtt.topic_prefix != topics.DEFAULT_PREFIX:
        mqtt["topic_prefix"] = cfg.mqtt.topic_prefix
    doc = {"store": {"store_id": d.store_id, "device_id": d.device_id}, "mqtt": mqtt,
           "fleet": {"group": d.group_id}}
    head = (f"# Tillsight device {d.store_id}/{d.device_id} (fleet group {d.group_id}): broker credentials.\n"
            "# The password is shown only this once; the hub keeps only its hash. Prefer giving it to\n"
            "# the device as the environment variable TILLSIGHT__MQTT__PASSWORD instead of in its file.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _device_add(args: argparse.Namespace) -> int:
    from analytics.broker import service
    from analytics.broker.registry import StoreDefaults

    cfg = _load(args)
    settings = _settings(args, cfg)
    defaults = StoreDefaults(name=args.store_name, timezone=args.timezone or cfg.store.timezone,
                             currency=args.currency or cfg.store.currency)
    issued, report = service.add_device(_engine(cfg), settings, args.store, args.device, args.group,
                                        note=args.note, store=defaults)
    sys.stdout.write(_snippet(args, cfg, issued))
    sys.stdout.flush()
    if issued.store_created:
        log.info("new store %s (time zone %s, currency %s)", args.store, defaults.timezone, defaults.currency)
    _report(report)
    return _reload(settings, bool(report.changed))


def _device_rotate(args: argparse.Namespace) -> int:
    from analytics.broker import service

    cfg = _load(args)
    settings = _settings(args, cfg)
    issued, report = service.rotate_device(_engine(cfg), settings, args.store, args.device)
    sys.stdout.write(_snippet(args, cfg, issued))
    sys.stdout.flush()
    _report(report)
    return _reload(settings, True)


def _device_remove(args: argparse.Namespace) -> int:
    from analytics.broker import service

    cfg = _load(args)
    settings = _settings(args, cfg)
    removed, report = service.remove_device(_engine(cfg), settings, args.store, args.device)
    sys.stdout.write(json.dumps({"removed": f"{removed.store_id}/{removed.device_id}",
                                 "username": removed.mqtt_username}) + "\n")
    _report(report)
    return _reload(settings, bool(report.changed))


def _device_group(args: argparse.Namespace) -> int:
    from analytics.broker import service

    cfg = _load(args)
    settings = _settings(args, cfg)
    moved, report = service.set_group(_engine(cfg), settings, args.store, args.device, args.group)
    sys.stdout.write(json.dumps({"device": f"{moved.store_id}/{moved.device_id}", "group": moved.group_id}) + "\n")
    _report(report)
    return _reload(settings, bool(report.changed))


def _device_list(args: argparse.Namespace) -> int:
    from analytics.broker import registry

    cfg = _load(args)
    settings = _settings(args, cfg)
    with _engine(cfg).connect() as conn:
        devices = registry.list_devices(conn, group_id=args.group, store_id=args.store)
    passwords = settings.folder.read_passwords()
    rows = [{"store_id": d.store_id, "device_id": d.device_id, "group": d.group_id, "username": d.mqtt_username,
             "created_at": d.created_at, "password_set": d.mqtt_username in passwords, "note": d.note}
            for d in devices]
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
        return 0
    header = ("STORE", "DEVICE", "GROUP", "USERNAME", "PASSWORD", "REGISTERED")
    table: list[tuple[object, ...]] = [header] + [
        (r["store_id"], r["device_id"], r["group"], r["username"], "set" if r["password_set"] else "MISSING",
         r["created_at"]) for r in rows]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        sys.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n")
    return 0


# -- hub broker ----------------------------------------------------------------------------------

def broker(args: argparse.Namespace) -> int:
    actions = {"render": _broker_render, "passwd": _broker_passwd, "ca": _broker_ca, "cert": _broker_cert}
    return _run(actions[args.broker_action], args)


def _broker_render(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from analytics.broker import certs, service
    from analytics.broker.files import BrokerDir
    from analytics.broker.mosquitto_conf import BrokerConf, BrokerConfError, TlsListener, render_conf

    cfg = _load(args)
    settings = _settings(args, cfg)
    if args.hub_user:
        from pydantic import ValidationError

        from firmware_config.schema import HubBrokerConfig

        try:
            users = HubBrokerConfig(hub_users=args.hub_user).hub_users
        except ValidationError as exc:
            raise BrokerConfError(f"--hub-user: {exc.errors()[0]['msg']}") from None
        settings = replace(settings, hub_users=tuple(users))
    out = Path(args.out) if args.out else settings.dir
    install = Path(args.install_dir) if args.install_dir else out.resolve()
    tls = None
    if args.tls_port is not None:
        if not (args.ca and args.cert and args.key):
            raise BrokerConfError("a TLS listener needs --ca, --cert and --key (make them with "
                                  "`tillsight hub broker ca` and `tillsight hub broker cert --server`)")
        certs.check_pair(Path(args.cert), Path(args.key), Path(args.ca))
        tls = TlsListener(args.tls_port, Path(args.ca).resolve(), Path(args.cert).resolve(), Path(args.key).resolve(),
                          bind=args.tls_bind, require_certificate=args.require_certificate,
                          min_version=args.tls_version)
    elif args.ca or args.cert or args.key or args.require_certificate:
        raise BrokerConfError("--ca/--cert/--key/--require-certificate need --tls-port")
    persistence = Path(args.persistence_dir).resolve() if args.persistence_dir else None
    conf = BrokerConf(password_file=install / "passwords", acl_file=install / "acl",
                      plain_port=args.plain_port or None, tls=tls, standalone=not args.snippet,
                      persistence_dir=persistence, log_dest=args.log_dest)
    conf_text = render_conf(conf)
    engine = _engine(cfg)
    folder = BrokerDir(out, settings.file_group)
    if out.resolve() == settings.dir.resolve():
        report = service.sync_files(engine, settings)
        with folder.locked():
            report.changed += folder.write({folder.conf: conf_text})
    else:
        texts, report = service.rendered_files(engine, settings)
        folder.ensure()
        with folder.locked():
            report.changed = folder.write({folder.passwords: texts["passwords"], folder.acl: texts["acl"],
                                           folder.conf: conf_text})
    _report(report)
    sys.stdout.write(json.dumps({"dir": str(out), "conf": str(folder.conf), "acl": str(folder.acl),
                                 "passwords": str(folder.passwords), "changed": [p.name for p in report.changed],
                                 "hub_users": list(settings.hub_users)}) + "\n")
    if out.resolve() == settings.dir.resolve():
        return _reload(settings, any(p.name != "mosquitto.conf" for p in report.changed))
    return 0


def _broker_passwd(args: argparse.Namespace) -> int:
    from analytics.broker import service

    cfg = _load(args)
    settings = _settings(args, cfg)
    given = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    secret, report = service.set_hub_password(_engine(cfg), settings, args.user, given)
    if given is None:
        sys.stdout.write(f"# password of hub user {args.user}, shown only this once; give it to the hub's\n"
                         "# processes as TILLSIGHT__MQTT__PASSWORD (with mqtt.username: "
                         f"{args.user})\n{secret}\n")
    _report(report)
    return _reload(settings, bool(report.changed))


def _broker_ca(args: argparse.Namespace) -> int:
    from analytics.broker.certs import create_ca

    ca = create_ca(Path(args.out), common_name=args.name, days=args.days, force=args.force)
    sys.stdout.write(json.dumps({"ca_cert": str(ca.files.cert), "ca_key": str(ca.files.key),
                                 "expires": ca.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")}) + "\n")
    _err(f"note: keep {ca.files.key} offline and private; give devices {ca.files.cert} only")
    return 0


def _broker_cert(args: argparse.Namespace) -> int:
    from analytics.broker.certs import issue_cert, load_ca

    ca = load_ca(Path(args.ca_dir))
    files = issue_cert(ca, args.name, Path(args.out), server=args.server, hosts=args.host or [], days=args.days,
                       group=args.group, force=args.force)
    sys.stdout.write(json.dumps({"cert": str(files.cert), "key": str(files.key), "ca": str(ca.files.cert),
                                 "kind": "server" if args.server else "client"}) + "\n")
    return 0
