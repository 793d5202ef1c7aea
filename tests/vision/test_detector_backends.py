"""Detector back ends are plug-ins: a back end defined in this one module (its config model and its
class, nothing else touched) is validated by the configuration, built by the detector and the fleet
installer, and dumped with its own keys; an unknown back end is refused naming ``detector.backend``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pytest
from pydantic import Field

from edge.fleet.install import check_config_overlay
from firmware_config import ConfigError, apply_overlay, dump_config, load_config
from firmware_config.schema import DetectorConfig
from tests.conftest import write_manifest
from vision.detector import Detector
from vision.detectors import DetectorPlugin, available_backends, backend_config, register_backend, unregister_backend

CLASSES = ["RICE", "BEANS", "SODA"]


class CentreSpotConfig(DetectorConfig):
    """A back end of this test's own: it always finds one item in the middle of the tray."""

    backend: Literal["centre-spot"] = "centre-spot"
    found_class: int = Field(1, ge=0)
    score: float = Field(0.9, gt=0, le=1)


@register_backend
class CentreSpotBackend(DetectorPlugin):
    config_model: ClassVar[type[DetectorConfig]] = CentreSpotConfig

    def __init__(self, model_path: Path, config: CentreSpotConfig) -> None:
        self.model_path = model_path
        self.config = config
        self.input_name = "images"

    def input_shape(self) -> tuple[Any, ...]:
        return (1, 3, 320, 320)

    def run(self, tensor: np.ndarray) -> np.ndarray:
        raw = np.zeros((1, 4 + len(CLASSES), 10), np.float32)
        size = tensor.shape[2]
        raw[0, :4, 0] = (size / 2, size / 2, size / 4, size / 4)
        raw[0, 4 + self.config.found_class, 0] = self.config.score
        return raw


@pytest.fixture(scope="module", autouse=True)
def _forget_the_test_back_end() -> Iterator[None]:
    yield
    unregister_backend("centre-spot")


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tillsight.yaml"
    path.write_text(text)
    return path


def test_the_new_back_end_is_registered_beside_the_shipped_one() -> None:
    assert {"centre-spot", "onnxruntime"} <= set(available_backends())


def test_config_validation_uses_the_back_ends_own_model(tmp_path: Path) -> None:
    path = config_file(tmp_path, "profile: pi4\ndetector:\n  backend: centre-spot\n  score: 0.8\n  bundle: b\n")
    cfg = load_config(path, env={"TILLSIGHT__DETECTOR__FOUND_CLASS": "2"})
    assert isinstance(cfg.detector, CentreSpotConfig)
    assert (cfg.detector.score, cfg.detector.found_class) == (0.8, 2)
    # the pi4 profile's input size is every back end's; its ONNX Runtime threads and providers are not
    assert cfg.detector.input_size == 320
    assert "threads" not in cfg.detector.model_dump() and "providers" not in cfg.detector.model_dump()
    assert dump_config(cfg)["detector"]["score"] == 0.8


@pytest.mark.parametrize(("yaml_text", "problem"), [
    ("detector:\n  backend: centre-spot\n  score: 2\n", "detector.score: Input should be less than or equal to 1"),
    # another back end's key is not this one's
    ("detector:\n  backend: centre-spot\n  threads: 2\n", "detector.threads: unknown key"),
    ("detector:\n  backend: centre-spot\n  confidence: 3\n", "detector.confidence: Input should be less than"),
    ("detector:\n  backend: hailo\n", "detector.backend: unknown detector backend 'hailo' (available: "),
])
def test_a_bad_detector_section_is_refused_naming_the_key(tmp_path: Path, yaml_text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config_file(tmp_path, yaml_text), env={})
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(problem), err.value.problems


def test_the_unknown_back_end_message_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config_file(tmp_path, "detector:\n  backend: hailo\n"), env={})
    assert "centre-spot" in err.value.problems[0] and "onnxruntime" in err.value.problems[0]


def test_the_detector_builds_the_configured_back_end(tmp_path: Path) -> None:
    bundle = write_manifest(tmp_path / "bundle", CLASSES)
    cfg = load_config(config_file(tmp_path, "detector:\n  backend: centre-spot\n  found_class: 2\n  iou: 0.6\n"),
                      env={})
    detector = Detector(bundle, config=cfg.detector)
    assert isinstance(detector.backend, CentreSpotBackend)
    assert detector.backend.model_path == bundle / "model.onnx"
    assert detector.iou == 0.6  # the shared keys apply whatever the back end
    found = detector.detect(np.zeros((480, 640, 3), np.uint8))
    assert [(d.sku, round(d.confidence, 2)) for d in found] == [("SODA", 0.9)]
    assert found[0].box == pytest.approx((240, 160, 400, 320))  # the middle of the 640x480 frame


def test_a_fleet_overlay_keeps_the_back_ends_own_keys(tmp_path: Path) -> None:
    cfg = load_config(config_file(tmp_path, "detector:\n  backend: centre-spot\n  score: 0.7\n"), env={})
    overlay = check_config_overlay(b"detector:\n  confidence: 0.5\n", cfg)
    updated = apply_overlay(cfg, overlay)
    assert isinstance(updated.detector, CentreSpotConfig)
    assert (updated.detector.confidence, updated.detector.score) == (0.5, 0.7)


def test_backend_config_refuses_a_bad_key_of_the_named_back_end() -> None:
    with pytest.raises(ConfigError, match=r"detector\.found_class: Input should be greater than or equal to 0"):
        backend_config({"backend": "centre-spot", "found_class": -1})
    assert backend_config(threads=2).model_dump()["threads"] == 2  # the default back end: ONNX Runtime


def test_registering_a_second_model_under_the_same_name_is_refused() -> None:
    class Impostor(DetectorConfig):
        backend: Literal["centre-spot"] = "centre-spot"

    class ImpostorBackend(CentreSpotBackend):
        config_model = Impostor

    with pytest.raises(ValueError, match="registered twice"):
        register_backend(ImpostorBackend)
    assert isinstance(load_config(env={}, overrides={"detector": {"backend": "centre-spot"}}).detector,
                      CentreSpotConfig)
