"""``python -m analytics.ingest --config FILE [--client-id ID]`` (the same as ``tillsight hub ingest``)."""

from __future__ import annotations

import argparse
import sys

from analytics.ingest.runner import run_ingest
from runtime.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analytics.ingest", description="Tillsight hub MQTT ingest")
    p.add_argument("--config", help="config file (hub: and mqtt: sections)")
    p.add_argument("--client-id", help="MQTT client id (default: hub.ingest_client_id or hub-GROUP-HOST)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run_ingest(args.config, args.client_id)


if __name__ == "__main__":
    sys.exit(main())
