"""Contract checks for the ingest, fast: each ``contracts/schemas/`` contract is compiled once to Python code
(``fastjsonschema``, from the ``hub`` extra) and every payload is checked by it.

The shared validator (``contracts.validate``, jsonschema) stays the authority on what is invalid and
why: a document the compiled check rejects is checked again by it, so the dead-letter reason is the
one the device would give (it names the offending field, ``lines[0].qty: ...``), and a compiled check
that is stricter than the contract (fastjsonschema anchors a pattern's ``$`` at the very end of the
string) can never turn a valid sale away.  The compiled check is used only for schemas made of the
keywords listed in ``COMPILED_KEYWORDS`` (checked against both validators by
``tests/analytics/test_ingest_contracts.py``); any other schema, or a hub without fastjsonschema,
is checked by the shared validator alone: slower, never weaker.  Pure: no I/O after loading.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from contracts import load_schema, validate

log = logging.getLogger(__name__)

# Keywords whose compiled check accepts nothing that the shared validator rejects.  ``format`` is
# left out on purpose (the two libraries check formats differently), as are 2020-12 keywords that
# fastjsonschema does not implement (``prefixItems``, ``$dynamicRef``, ``unevaluated*``...).
COMPILED_KEYWORDS = frozenset({
    "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "examples",
    "type", "enum", "const", "properties", "required", "items", "additionalProperties",
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
    "oneOf", "anyOf", "allOf", "not", "if", "then", "else",
})
_SUBSCHEMA_MAPS = ("properties", "$defs")  # keyword -> {name: subschema}
_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")  # keyword -> [subschema, ...]
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties", "if", "then", "else")  # keyword -> subschema (or a boolean)

Check = Callable[[Any], Any]


def unsupported_keywords(schema: Any, where: str = "") -> list[str]:
    """Where ``schema`` uses something the compiled check is not trusted with (empty: all fine)."""
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{where or '(root)'}: not a schema object"]
    found = [f"{where}/{key}" for key in schema if key not in COMPILED_KEYWORDS]
    ref = schema.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
        found.append(f"{where}/$ref (only references inside the document)")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            found += unsupported_keywords(sub, f"{where}/{key}/{name}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            found += unsupported_keywords(sub, f"{where}/{key}/{i}")
    for key in _SUBSCHEMA_ONE:
        if key in schema:
            found += unsupported_keywords(schema[key], f"{where}/{key}")
    return found


@cache
def compiled(name: str) -> Check | None:
    """The compiled check of contract ``name``, or None where the shared validator must do it all."""
    # A deep copy: fastjsonschema rewrites ``$ref`` in place, and load_schema's nested dicts are the
    # shared validator's own.
    schema = copy.deepcopy(load_schema(name))  # raises ContractError for an unknown contract
    try:
        import fastjsonschema
    except ImportError:
        log.warning("fastjsonschema is not installed (pip install 'tillsight[hub]'): contract %s is checked"
                    " by jsonschema alone, which is several times slower", name)
        return None
    unsupported = unsupported_keywords(schema)
    if unsupported:
        log.info("contract %s uses %s: checked by jsonschema alone", name, ", ".join(unsupported[:5]))
        return None
    # use_default=False: the check must never write defaults into the document it is given.
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


def check(name: str, document: Any) -> None:
    """Raise :class:`contracts.ContractError` naming the first offending field, as ``contracts.validate``."""
    fast = compiled(name)
    if fast is None:
        validate(name, document)
        return
    try:
        fast(document)
    except Exception:  # noqa: BLE001 - any complaint of the compiled check is settled by the authority
        validate(name, document)  # raises with the reason naming the field; returns if the document is valid
        log.debug("contract %s: the compiled check was stricter than the contract; accepted", name)


def warm(*names: str) -> None:
    """Compile the named contracts now (a worker does it at start, not on its first message)."""
    for name in names:
        compiled(name)
