"""Device profiles (pi4, pi5, jetson, dev) as the deployment uses them: camera, input size,
threads, execution providers and frame rate; and ``detector.providers`` validation."""

from __future__ import annotations

import pytest

from firmware_config import ConfigError, load_config


@pytest.mark.parametrize(
    ("profile", "uri", "size", "fps", "threads", "input_size", "providers"),
    [
        ("dev", "synthetic:", (640, 480), 15, None, None, ["CPUExecutionProvider"]),
        ("pi4", "/dev/video0", (640, 480), 10, 4, 320, ["CPUExecutionProvider"]),
        ("pi5", "/dev/video0", (640, 480), 15, 4, 320, ["CPUExecutionProvider"]),
        ("jetson", "/dev/video0", (1280, 720), 30, 6, 416, ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    ],
)
def test_profile_sets_camera_runtime_and_rate(profile: str, uri: str, size: tuple[int, int], fps: float,
                                              threads: int | None, input_size: int | None,
                                              providers: list[str]) -> None:
    cfg = load_config(env={"TILLSIGHT__PROFILE": profile, "TILLSIGHT__STORE__STORE_ID": "s-042"})
    assert cfg.camera.uri == uri and (cfg.camera.width, cfg.camera.height) == size and cfg.camera.fps == fps
    assert cfg.detector.threads == threads and cfg.detector.input_size == input_size
    assert cfg.detector.providers == providers


def test_a_file_overrides_the_profile_camera() -> None:
    cfg = load_config(env={"TILLSIGHT__PROFILE": "jetson"},
                      overrides={"camera": {"uri": "rtsp://192.168.1.20:554/stream1"},
                                 "detector": {"providers": ["CPUExecutionProvider"]}})
    assert cfg.camera.uri.startswith("rtsp://") and cfg.detector.providers == ["CPUExecutionProvider"]
    assert cfg.camera.fps == 30  # the rest of the profile stays


def test_providers_from_the_environment_as_a_list() -> None:
    cfg = load_config(env={"TILLSIGHT__DETECTOR__PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider"})
    assert cfg.detector.providers == ["CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.mark.parametrize(("value", "message"), [
    ("cuda", "'cuda' is not an ONNX Runtime execution provider name"),
    ("CPUExecutionProvider,CPUExecutionProvider", "listed twice"),
    (" , ", "at least 1 item"),
])
def test_bad_providers_name_the_key(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"TILLSIGHT__DETECTOR__PROVIDERS": value})
    assert "detector.providers" in str(err.value) and message in str(err.value)
