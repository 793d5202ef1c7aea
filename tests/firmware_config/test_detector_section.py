"""The ``detector`` section: validated by the model of the back end it names (registered by
``vision.detectors``), and, in a process that registered none (the hub), by its shared keys only,
with the device checking the rest when it builds its detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_config import ConfigError, apply_overlay, load_config, schema
from firmware_config.schema import DetectorConfig, UncheckedDetectorConfig
from tests.conftest import write_manifest
from vision.detector import Detector
from vision.detectors.onnxruntime_backend import OnnxRuntimeConfig


def test_the_default_detector_is_onnx_runtime_with_its_own_keys() -> None:
    cfg = load_config(env={})
    assert isinstance(cfg.detector, OnnxRuntimeConfig) and cfg.detector.providers == ["CPUExecutionProvider"]


def test_onnx_runtime_keys_are_checked_by_its_model(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("detector:\n  threads: 0\n  thredas: 2\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert sorted(err.value.problems) == ["detector.threads: Input should be greater than or equal to 1",
                                          "detector.thredas: unknown key"]


@pytest.fixture
def no_back_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that imported no detector back end, as the hub."""
    monkeypatch.setattr(schema, "_DETECTOR_CONFIGS", {})


@pytest.mark.usefixtures("no_back_ends")
def test_without_back_ends_the_shared_keys_are_still_checked(tmp_path: Path) -> None:
    cfg = load_config(env={}, overrides={"detector": {"confidence": 0.5}, "profile": "pi4"})
    assert type(cfg.detector) is UncheckedDetectorConfig and cfg.detector.confidence == 0.5
    assert cfg.detector.model_dump()["threads"] == 4  # the pi4 profile's, kept for the device
    with pytest.raises(ConfigError, match=r"detector\.confidence: Input should be less than or equal to 0\.99"):
        load_config(env={}, overrides={"detector": {"confidence": 2}})
    updated = apply_overlay(cfg, {"detector": {"iou": 0.6}})
    assert updated.detector.iou == 0.6 and updated.detector.model_dump()["threads"] == 4


def test_the_device_checks_what_the_hub_could_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as hub:
        hub.setattr(schema, "_DETECTOR_CONFIGS", {})
        unchecked = load_config(env={}, overrides={"detector": {"thredas": 2}}).detector
        unknown = load_config(env={}, overrides={"detector": {"backend": "hailo"}}).detector
    assert isinstance(unchecked, DetectorConfig)
    bundle = write_manifest(tmp_path / "bundle", ["RICE"])
    with pytest.raises(ConfigError, match=r"detector\.thredas: unknown key"):
        Detector(bundle, config=unchecked)
    with pytest.raises(ConfigError, match=r"detector\.backend: unknown detector backend 'hailo'"):
        Detector(bundle, config=unknown)
