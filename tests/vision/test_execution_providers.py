"""ONNX Runtime execution providers (``detector.providers``): the wanted ones this build has, in
order, CPU always last; one the build lacks is a logged fall-back, never a till that will not start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vision.detector import Detector
from vision.detectors import backend_config
from vision.detectors.onnxruntime_backend import OnnxRuntimeBackend, choose_providers


def test_choose_keeps_the_order_and_ends_with_cpu() -> None:
    available = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], available) == \
        ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["CUDAExecutionProvider"], available) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["CPUExecutionProvider"], available) == ["CPUExecutionProvider"]


def test_a_missing_provider_falls_back_with_a_warning_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"])
    assert chosen == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in caplog.text and "not available" in caplog.text


def test_the_detector_runs_on_cpu_when_cuda_is_asked_for_but_absent(demo_bundle: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime build has CUDA: nothing to fall back from")
    with caplog.at_level(logging.WARNING):
        detector = Detector(demo_bundle, config=backend_config(providers=["CUDAExecutionProvider",
                                                                          "CPUExecutionProvider"]))
    assert isinstance(detector.backend, OnnxRuntimeBackend)
    assert detector.backend.providers == ("CPUExecutionProvider",)  # what the session really runs on
    assert "CUDAExecutionProvider" in caplog.text
    assert detector.detect(__import__("numpy").zeros((480, 640, 3), "uint8")) == []
