"""``python -m edge.sync --config FILE [--data-dir DIR]`` (the same as ``tillsight sync run``)."""

from __future__ import annotations

import argparse
import sys

from edge.sync.runner import run_sync_agent
from runtime.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edge.sync", description="Tillsight MQTT sync agent")
    p.add_argument("--config", help="config file (default: the dev profile's defaults)")
    p.add_argument("--data-dir", help="where the store database lives")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run_sync_agent(args.config, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
