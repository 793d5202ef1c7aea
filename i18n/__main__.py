"""``python -m i18n missing --into PART`` writes every marked message a shipped language does not
translate yet into ``i18n/locales/<lang>/LC_MESSAGES/PART.po`` (default ``tillsight``), to translate;
``python -m i18n check`` lists what a shipped language lacks (exit 1 when anything does)."""

from __future__ import annotations

import argparse
import logging
import sys

from i18n.extraction import add_missing, check

log = logging.getLogger("i18n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i18n", description=__doc__)
    parser.add_argument("command", choices=("missing", "check"))
    parser.add_argument("--into", default="tillsight", help="the catalogue file (part) new messages go into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "missing":
        for language, added in add_missing(args.into).items():
            log.info("%s: %d messages added to %s.po to translate", language, added, args.into)
        return 0
    problems = check()
    for problem in problems:
        log.info("%s", problem)
    log.info("%d problems", len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
