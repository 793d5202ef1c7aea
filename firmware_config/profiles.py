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


CPU_ONLY: tuple[str, ...] = ("CPUExecutionProvider",)

# What each profile sets and why is in docs/operations.md ("Choosing input size and threads").
PROFILES: Mapping[str, Mapping[str, Any]] = _freeze(
    {
        # A workstation: the synthetic camera, ONNX Runtime picks the thread count, the bundle's
        # own input size.
        "dev": {
            "camera": {"uri": "synthetic:", "fps": 15},
            "detector": {"threads": None, "providers": list(CPU_ONLY)},
        },
        # Raspberry Pi 4 (4x Cortex-A72, 4 GB): a USB (UVC) camera at 640x480, 320 px input,
        # 10 frames a second and a cheaper change gate keep one inference under ~250 ms.
        "pi4": {
            "camera": {"uri": "/dev/video0", "width": 640, "height": 480, "fps": 10},
            "detector": {"threads": 4, "input_size": 320, "providers": list(CPU_ONLY)},
            "gate": {"downscale": 48},
        },
        # Raspberry Pi 5 (4x Cortex-A76): about twice a Pi 4's speed, so 15 frames a second.
        "pi5": {
            "camera": {"uri": "/dev/video0", "width": 640, "height": 480, "fps": 15},
            "detector": {"threads": 4, "input_size": 320, "providers": list(CPU_ONLY)},
        },
        # NVIDIA Jetson (Orin Nano/NX, 6 CPU cores): CUDA when the onnxruntime-gpu build is
        # installed (a CPU-only build falls back with a warning), 416 px input, 720p at 30 fps.
        "jetson": {
            "camera": {"uri": "/dev/video0", "width": 1280, "height": 720, "fps": 30},
            "detector": {"threads": 6, "input_size": 416,
                         "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"]},
        },
    }
)


def profile_defaults(name: str) -> dict[str, Any]:
    """Return a mutable copy of the named profile's overrides (KeyError if unknown)."""
    return _thaw(PROFILES[name])
