"""ONNX Runtime back end: CPU by default; other execution providers by name, in order of preference."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from vision.bundle import BundleError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxRuntimeConfig:
    threads: int | None = None  # intra-op threads; None = one per available core
    providers: tuple[str, ...] = field(default_factory=lambda: ("CPUExecutionProvider",))


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


class OnnxRuntimeBackend:
    def __init__(self, model_path: Path, config: OnnxRuntimeConfig | None = None):
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

    def input_shape(self) -> tuple:
        return self._shape

    def run(self, tensor: np.ndarray) -> np.ndarray:
        return self.session.run(self.output_names[:1], {self.input_name: tensor})[0]
