"""Detector back ends as plug-ins: each turns a prepared input tensor into the raw YOLO head output.

One file per back end (Frigate's shape): ``vision/detectors/<name>.py`` holds the back end's config
model, with its ``backend`` name as a ``Literal`` and its own keys, and its class, registered with
``@register_backend``.  Importing this package imports every module in it, so the set of back ends
is discovered: a new one (TensorRT, a Hailo or Coral runtime) touches no other file; the
configuration schema, the detector and the fleet installer all look it up by name.

One output contract for all of them (``(1, 4 + classes, anchors)`` float32: box centre x, centre y,
width, height in input pixels, then per-class scores in 0..1); decoding, NMS and the class to SKU
map stay in :mod:`vision.detector`, shared by every back end.
"""

from __future__ import annotations

import importlib
import pkgutil

from vision.detectors.registry import (
    DetectorBackend,
    DetectorPlugin,
    available_backends,
    backend_config,
    create_backend,
    register_backend,
    unregister_backend,
)

_NOT_BACK_ENDS = frozenset({"registry"})


def discover() -> tuple[str, ...]:
    """Import every back end module in this package (each registers itself); returns the names."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _NOT_BACK_ENDS and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return available_backends()


discover()

__all__ = ["DetectorBackend", "DetectorPlugin", "available_backends", "backend_config", "create_backend",
           "discover", "register_backend", "unregister_backend"]
