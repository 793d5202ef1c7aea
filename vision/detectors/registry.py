"""The detector back-end registry: the output contract, the plug-in base class and the lookup.

A back end module defines its config model (a ``firmware_config.schema.DetectorConfig`` subclass
whose ``backend`` is a one-value ``Literal``) and a ``DetectorPlugin`` subclass naming it in
``config_model``, decorated with ``@register_backend``.  Registering also gives the config model to
the configuration schema, so ``detector: {backend: <name>, ...}`` is validated by it.
``vision.detectors`` imports every module in its package, so adding a back end is adding a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np
from pydantic import ValidationError

from firmware_config import ConfigError
from firmware_config.schema import (
    DEFAULT_DETECTOR_BACKEND,
    DetectorConfig,
    register_detector_config,
    unregister_detector_config,
)


class DetectorBackend(Protocol):
    """What ``vision.detector.Detector`` needs from a back end: one output contract for all of them,
    ``(1, 4 + classes, anchors)`` float32 (box centre x, centre y, width, height in input pixels,
    then per-class scores in 0..1).  Decoding, NMS and the class to SKU map are the detector's."""

    input_name: str

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """Run the model on a ``(1, 3, H, W)`` float32 tensor and return the raw head output."""
        ...

    def input_shape(self) -> tuple[Any, ...]:
        """The model's input shape; a dynamic axis is a name (str) instead of a number."""
        ...


class DetectorPlugin(ABC):
    """Base of a registered back end: built from a model file and its own validated config."""

    config_model: ClassVar[type[DetectorConfig]]
    input_name: str

    @abstractmethod
    def __init__(self, model_path: Path, config: Any) -> None:
        """Load ``model_path``; raise ``vision.bundle.BundleError`` naming it when it cannot."""

    @abstractmethod
    def run(self, tensor: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def input_shape(self) -> tuple[Any, ...]: ...


P = TypeVar("P", bound=type[DetectorPlugin])

_BACKENDS: dict[str, type[DetectorPlugin]] = {}


def register_backend(cls: P) -> P:
    """Class decorator: register a back end under its config model's ``backend`` name."""
    name = register_detector_config(cls.config_model)
    known = _BACKENDS.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"detector backend {name!r} is registered twice ({known.__qualname__}, {cls.__qualname__})")
    _BACKENDS[name] = cls
    return cls


def unregister_backend(name: str) -> None:
    """Forget a back end (for tests that define one of their own)."""
    _BACKENDS.pop(name, None)
    unregister_detector_config(name)


def available_backends() -> tuple[str, ...]:
    """The registered back ends' names, sorted."""
    return tuple(sorted(_BACKENDS))


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        key = ".".join(("detector", *(str(part) for part in error["loc"])))
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
        problems.append(f"{key}: {message}")
    return problems


def backend_config(config: DetectorConfig | Mapping[str, Any] | None = None, **options: Any) -> DetectorConfig:
    """``config`` (default: the default back end's defaults) with ``options`` on top, validated by
    the model of the back end it names; ``ConfigError`` naming each bad ``detector.<key>``."""
    if isinstance(config, DetectorConfig):
        if not options and type(config) is _config_model(config.backend):
            return config
        data = {**config.model_dump(), **options}
    else:
        data = {**(config or {}), **options}
    name = data.setdefault("backend", DEFAULT_DETECTOR_BACKEND)
    try:
        return _config_model(name).model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None


def _config_model(name: Any) -> type[DetectorConfig]:
    cls = _BACKENDS.get(name) if isinstance(name, str) else None
    if cls is None:
        available = ", ".join(available_backends()) or "none"
        raise ConfigError([f"detector.backend: unknown detector backend {name!r} (available: {available})"])
    return cls.config_model


def create_backend(model_path: Path, config: DetectorConfig | Mapping[str, Any] | None = None) -> DetectorBackend:
    """The back end that ``config`` names, loaded from ``model_path``."""
    checked = backend_config(config)
    return _BACKENDS[checked.backend](model_path, checked)
