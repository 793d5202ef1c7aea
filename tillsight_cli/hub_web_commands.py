"""``tillsight hub web`` and ``tillsight hub user add|list``: the hub web app and its users.
Each handler imports the hub side only when it runs."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from tillsight_cli.json_output import emit_json

if TYPE_CHECKING:
    from sqlalchemy import Engine



def hub_web(args: argparse.Namespace) -> int:
    from analytics.web.server import serve

    return serve(args.config, args.host, args.port)


def hub_user(args: argparse.Namespace) -> int:
    handler = {"add": hub_user_add, "list": hub_user_list}[args.user_action]
    return handler(args)


def _engine(config_path: str | None) -> Engine:
    """The hub database of the config, migrated."""
    from analytics.db import make_engine, migrate
    from firmware_config import load_config

    cfg = load_config(config_path)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    return engine


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def hub_user_add(args: argparse.Namespace) -> int:
    """Create or update a hub user; the password comes from the terminal (twice) or stdin."""
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.web.accounts import AccountError, HubUsers
    from firmware_config import ConfigError

    if args.role == "operator" and args.store:
        sys.stderr.write("tillsight: an operator sees every store; --store is for owners and viewers\n")
        return 2
    try:
        engine = _engine(args.config)
        users = HubUsers(engine)
        password = None
        if not args.keep_password or users.find(args.id.strip().lower()) is None:
            password = _read_password(args.password_stdin)
        user = users.save(args.id, args.name, args.role, password=password,
                          stores=args.store if args.store is not None else ([] if args.role == "operator" else None),
                          active=not args.inactive)
    except (ConfigError, AccountError, ValueError, SQLAlchemyError) as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    emit_json({"id": user.user_id, "name": user.name, "role": user.role, "active": user.active,
                "stores": "all" if user.all_stores else list(user.stores)})
    if not user.all_stores and not user.stores:
        sys.stderr.write("tillsight: warning: this user has no stores yet (add them with --store)\n")
    return 0


def hub_user_list(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.web.accounts import HubUsers
    from firmware_config import ConfigError

    try:
        users = HubUsers(_engine(args.config)).list()
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    for u in users:
        emit_json({"id": u.user_id, "name": u.name, "role": u.role, "active": u.active,
                    "stores": "all" if u.all_stores else list(u.stores), "locked_until": u.locked_until,
                    "last_login_at": u.last_login_at})
    return 0
