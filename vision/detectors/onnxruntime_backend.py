"""ONNX Runtime back end (``detector.backend: onnxruntime``, the default): its config and its class.

CPU by default; other execution providers by name, in order of preference.  onnxruntime itself
is imported only when a model is loaded, so validating a configuration never loads it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from firmware_config.schema import DetectorConfig
from vision.bundle import BundleError
from vision.detectors.registry import DetectorPlugin, register_backend

log = logging.getLogger(__name__)

_PROVIDER_RE = re.compile(r"^[A-Z][A-Za-z0-9]*ExecutionProvider$")


class OnnxRuntimeConfig(DetectorConfig):
    """YOLO model bundle run by ONNX Runtime (CPU by default; other execution providers by ``providers``)."""

    backend: Literal["onnxruntime"] = "onnxruntime"
    threads: int | None = Field(default=None, ge=1, le=64,
                                 description="intra-op threads; None = one per available core")
    # ONNX Runtime execution providers in order of preference.  One this onnxruntime build lacks is
    # skipped with a warning naming it; CPUExecutionProvider is always the last resort.
    providers: list[str] = Field(default_factory=lambda: ["CPUExecutionProvider"], min_length=1)

    @field_validator("providers", mode="before")
    @classmethod
    def _providers_from_text(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("providers")
    @classmethod
    def _provider_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _PROVIDER_RE.fullmatch(name):
                raise ValueError(f"{name!r} is not an ONNX Runtime execution provider name "
                                 "(e.g. 'CPUExecutionProvider', 'CUDAExecutionProvider')")
        if len(set(value)) != len(value):
            raise ValueError("an execution provider is listed twice")
        return value


def choose_providers(wanted: tuple[str, ...] | list[str], available: list[str]) -> list[str]:
    """The wanted providers this onnxruntime build has, in the wanted order, CPU always last.

    A device must keep ringing up sales when its accelerator is missing (a CPU-only wheel on a
    Jetson, a broken CUDA install), so an unavailable provider is a logged fall-back, not an error.
    """
    chosen = [p for p in wanted if p in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    missing = [p for p in wanted if p not in available]
    if missing:
        log.warning("onnxruntime: execution provider(s) %s not available in this build (it has %s); "
                    "running on %s", missing, available, chosen)
    return chosen


def _available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@register_backend
class OnnxRuntimeBackend(DetectorPlugin):
    config_model = OnnxRuntimeConfig

    def __init__(self, model_path: Path, config: OnnxRuntimeConfig | None = None) -> None:
        import onnxruntime as ort

        cfg = config or OnnxRuntimeConfig()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        threads = cfg.threads or _available_cores()
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        providers = choose_providers(cfg.providers, ort.get_available_providers())
        try:
            self.session = ort.InferenceSession(str(model_path), sess_options=opts, providers=providers)
        except Exception as exc:  # onnxruntime raises several types for bad files
            raise BundleError(f"{model_path}: cannot load the ONNX model ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]})") from exc
        inp = self.session.get_inputs()
        if len(inp) != 1 or len(inp[0].shape) != 4:
            raise BundleError(f"{model_path}: expected one 4-D image input, found {[i.shape for i in inp]}")
        self.input_name = inp[0].name
        self._shape = tuple(inp[0].shape)
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.providers: tuple[str, ...] = tuple(self.session.get_providers())
        log.info("onnxruntime session for %s on %s (threads=%s)", model_path.name, list(self.providers), threads)

    def input_shape(self) -> tuple[Any, ...]:
        return self._shape

    def run(self, tensor: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.session.run(self.output_names[:1], {self.input_name: tensor})[0]
        return out
