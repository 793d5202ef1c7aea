"""Handlers of ``tillsight hub gallery``: the stores' galleries as the hub has them (``list``), and a
complete version written out as a folder of photos (``export``) for ``tillsight train --gallery`` or
for publishing to the fleet after enrolling (``tillsight vision enrol`` + ``hub fleet publish
--gallery``).  The hub side is imported only when the command runs."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any


def _engine(args: argparse.Namespace) -> Any:
    from analytics.db import make_engine, migrate
    from firmware_config import load_config

    overrides: dict[str, Any] = {"hub": {"database_url": args.database_url}} if args.database_url else {}
    engine = make_engine(load_config(args.config, overrides=overrides).hub.database_url)
    migrate(engine)
    return engine


def hub_gallery(args: argparse.Namespace) -> int:
    from analytics.gallery.query import GalleryNotFound, export_gallery, latest_version, list_versions

    engine = _engine(args)
    try:
        with engine.connect() as conn:
            if args.what == "list":
                for g in list_versions(conn, args.store):
                    if args.json:
                        sys.stdout.write(json.dumps({**asdict(g), "complete": g.complete}) + "\n")
                    else:
                        state = "complete" if g.complete else f"{g.missing} photo(s) missing"
                        sys.stdout.write(f"{g.store_id}/{g.device_id} v{g.version} at {g.at}: {g.skus} SKUs, "
                                         f"{g.examples} photos, embedder {g.embedder}, {state}\n")
                return 0
            if not args.store or not args.out:
                sys.stderr.write("tillsight hub gallery export: --store and --out are required\n")
                return 2
            if args.version is not None and args.device:
                store, device, version = args.store, args.device, args.version
            else:
                latest = latest_version(conn, args.store, args.device)
                store, device, version = latest.store_id, latest.device_id, latest.version
            ann = export_gallery(conn, store, device, version, Path(args.out))
            sys.stdout.write(f"exported {store}/{device} gallery v{version}: {len(ann.skus)} SKUs, "
                             f"{len(ann.examples)} photos to {args.out}\n")
            return 0
    except (GalleryNotFound, FileExistsError, ValueError) as exc:
        sys.stderr.write(f"tillsight hub gallery {args.what}: {exc}\n")
        return 2
    finally:
        engine.dispose()
