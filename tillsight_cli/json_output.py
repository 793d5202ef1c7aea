"""The one way the CLI prints a JSON answer: one compact line on stdout, flushed at once (other tools read it
line by line).  Dates and other non-JSON values are written as text; names keep their own letters."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(obj: Any) -> None:
    """Write ``obj`` as one compact JSON line on stdout and flush it."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()
