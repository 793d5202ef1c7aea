"""Device profiles: per-hardware default overrides, applied above the schema defaults.

Precedence, lowest to highest: schema defaults < profile < YAML file < environment < overrides.
``PROFILES`` is read-only; ``profile_defaults`` returns a fresh, mutable copy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    return copy.deepcopy(value)


PROFILES: Mapping[str, Mapping[str, Any]] = _freeze(
    {
        # A workstation: let ONNX Runtime pick the thread count, use the bundle's input size.
        "dev": {
            "detector": {"threads": None},
            "camera": {"fps": 15},
        },
        # Raspberry Pi 4 (4x Cortex-A72): smaller input, fewer frames, cheaper change gate.
        "pi4": {
            "detector": {"threads": 4, "input_size": 320},
            "camera": {"fps": 10},
            "gate": {"downscale": 48},
        },
        # Raspberry Pi 5 (4x Cortex-A76).
        "pi5": {
            "detector": {"threads": 4, "input_size": 320},
            "camera": {"fps": 15},
        },
        # NVIDIA Jetson (6 CPU cores).
        "jetson": {
            "detector": {"threads": 6, "input_size": 416},
            "camera": {"fps": 30},
        },
    }
)

def profile_defaults(name: str) -> dict[str, Any]:
    """Return a mutable copy of the named profile's overrides (KeyError if unknown)."""
    return _thaw(PROFILES[name])
