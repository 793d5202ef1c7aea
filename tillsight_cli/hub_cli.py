"""What the hub's commands share: their configuration (``--config``, ``--database-url``)."""

from __future__ import annotations

import argparse
from typing import Any


def hub_config(args: argparse.Namespace) -> Any:
    """The validated configuration from ``--config``, with ``--database-url`` over the hub's database URL."""
    from firmware_config import load_config

    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None):
        overrides["hub"] = {"database_url": args.database_url}
    return load_config(getattr(args, "config", None), overrides=overrides)
