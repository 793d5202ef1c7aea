"""What the hub's commands share: their configuration (``--config``, ``--database-url``) and their JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def emit_json(obj: Any) -> None:
    """One compact JSON line on stdout (dates and other values as text)."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


def hub_config(args: argparse.Namespace) -> Any:
    """The validated configuration from ``--config``, with ``--database-url`` over the hub's database URL."""
    from firmware_config import load_config

    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None):
        overrides["hub"] = {"database_url": args.database_url}
    return load_config(getattr(args, "config", None), overrides=overrides)
