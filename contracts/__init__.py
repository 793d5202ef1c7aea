"""Everything that crosses a boundary between the device and the hub, typed, in one place.

- :mod:`contracts.validation`: the JSON Schemas of every MQTT message (``contracts/schemas/``) and the
  one validator both sides use (:func:`validate`, raising :class:`ContractError` naming the field);
- :mod:`contracts.topics`: every MQTT topic name;
- :mod:`contracts.timestamps`: the one payload timestamp format (UTC, ``...Z``);
- :mod:`contracts.money`: the money table (minor-unit exponents, symbols) and its format/parse helpers;
- :mod:`contracts.events`: one typed record per sale-event type, with its payload detail both ways;
- :mod:`contracts.signing`: the bytes a fleet manifest's signature covers, and a key's id.

The device and the hub never import each other: they meet here.  This package imports nothing of ours.
"""

from __future__ import annotations

from contracts.signing import canonical_bytes, key_id
from contracts.validation import SCHEMA_DIR, ContractError, contract_names, load_schema, validate

__all__ = ["SCHEMA_DIR", "ContractError", "canonical_bytes", "contract_names", "key_id", "load_schema", "validate"]
