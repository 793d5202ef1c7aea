"""The JSON Schemas of every message that crosses the MQTT boundary, and the one validator both sides use.

Each contract is a file in ``contracts/schemas/`` named after the contract: ``tillsight.tx/1`` lives in
``tillsight.tx.1.json``.  The device validates what it writes (before the outbox row, before a publish)
and what it reads from the hub; the hub validates what it ingests and what it publishes.  Errors name the
offending field (``lines[0].qty: 0 should not be valid under ...``) so a dead letter says what was wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

TX = "tillsight.tx/2"  # the sale contract a device writes now
TX_V1 = "tillsight.tx/1"  # what devices wrote before costs; still sent as stored, and read by the hub
TX_VERSIONS = (TX_V1, TX)  # every sale contract a reader accepts, oldest first
ALERT = "tillsight.alert/2"  # an alert, raised or closed (contracts/alerts.py)
ALERT_V1 = "tillsight.alert/1"  # what devices wrote before alerts could be closed; still read by the hub
ALERT_VERSIONS = (ALERT_V1, ALERT)
CREDIT = "tillsight.credit/1"
MANIFEST = "tillsight.manifest/1"
DESIRED = "tillsight.desired/1"
REPORTED = "tillsight.reported/1"
RESEND = "tillsight.resend/1"
INSIGHTS = "tillsight.insights/1"
TELEMETRY = "tillsight.telemetry/1"
STATUS = "tillsight.status/1"


class ContractError(ValueError):
    """A document that does not follow its contract; the message names the offending field."""


def _filename(name: str) -> str:
    return name.replace("/", ".") + ".json"


def contract_names() -> tuple[str, ...]:
    """Every contract that has a schema file, e.g. ``("tillsight.alert/1", ...)``, sorted."""
    names = []
    for path in SCHEMA_DIR.glob("*.json"):
        stem, _, version = path.stem.rpartition(".")
        names.append(f"{stem}/{version}")
    return tuple(sorted(names))


@cache
def _validator(name: str) -> Draft202012Validator:
    if name not in contract_names():
        raise ContractError(f"unknown contract {name!r}; known: {', '.join(contract_names())}")
    schema = json.loads((SCHEMA_DIR / _filename(name)).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def load_schema(name: str) -> dict[str, Any]:
    """The schema of contract ``name`` (a shallow copy: do not change the nested parts)."""
    schema = _validator(name).schema
    if not isinstance(schema, Mapping):
        raise ContractError(f"contract {name!r} is not a JSON object schema")
    return dict(schema)


def _path_key(error: Any) -> list[tuple[bool, Any]]:
    return [(isinstance(part, str), part) for part in error.absolute_path]


def contract_of(document: Any, accepted: tuple[str, ...]) -> str:
    """Which of the ``accepted`` versions of one contract ``document`` says it follows (its ``schema``
    field), so a reader checks a ``tillsight.tx/1`` sale against tx/1 and a ``tillsight.tx/2`` one against
    tx/2.  A document naming none of them is checked against the newest, whose error names ``schema``."""
    named = document.get("schema") if isinstance(document, Mapping) else None
    return named if isinstance(named, str) and named in accepted else accepted[-1]


def validate(name: str, document: Any) -> None:
    """Raise :class:`ContractError` naming the first offending field (``lines[0].qty: ...``)."""
    errors = sorted(_validator(name).iter_errors(document), key=_path_key)
    if errors:
        err = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
        raise ContractError(f"{name}: {where or '(document)'}: {err.message}")
