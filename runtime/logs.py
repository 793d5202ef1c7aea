"""Logging set-up for every Tillsight command and service: one format, to stderr (the journal under
systemd), INFO by default and DEBUG with ``--verbose``."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(verbose: bool = False, *, fmt: str = FORMAT, level: int | None = None) -> None:
    """Configure the root logger once (a second call changes nothing, as ``logging.basicConfig``)."""
    chosen = level if level is not None else (logging.DEBUG if verbose else logging.INFO)
    logging.basicConfig(level=chosen, format=fmt, stream=sys.stderr)
