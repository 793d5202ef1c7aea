"""Behaviour of the Tillsight configuration a user (or the `config check` command) would notice."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from firmware_config import (
    PROFILES,
    ConfigError,
    TillsightConfig,
    check_config_file,
    dump_config,
    load_config,
)
from firmware_config.schema import PROFILE_NAMES

EXAMPLES = Path(__file__).resolve().parents[2] / "firmware_config" / "examples"
SECRET = "hunter2-do-not-leak"


def write(tmp_path: Path, text: str, name: str = "tillsight.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(excinfo.value)


# --- defaults, examples, profiles ------------------------------------------------------------


def test_defaults_load_without_file_or_environment() -> None:
    cfg = load_config(env={})
    assert isinstance(cfg, TillsightConfig)
    assert cfg.profile == "dev"
    assert cfg.camera.uri == "synthetic:"
    assert (cfg.camera.width, cfg.camera.height, cfg.camera.fps) == (640, 480, 15)
    assert cfg.detector.backend == "onnxruntime"
    assert str(cfg.detector.bundle) == "models/demo"
    assert cfg.detector.threads is None
    assert cfg.detector.confidence is None and cfg.detector.iou is None  # the bundle's calibrated ones
    assert cfg.gate.max_interval_s == 0.0
    assert cfg.store.currency == "DOP"
    assert cfg.web.port == 8080 and cfg.web.secret_key is None
    assert cfg.mqtt.port == 1883 and cfg.mqtt.tls.enabled is False


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_each_example_file_loads(name: str) -> None:
    path = EXAMPLES / f"{name}.yaml"
    cfg = load_config(path, env={})
    assert cfg.profile == name
    ok, message = check_config_file(path, env={})
    assert ok, message
    assert "OK" in message and str(path) in message


def test_profiles_cover_every_profile_name() -> None:
    assert tuple(PROFILES) == PROFILE_NAMES


@pytest.mark.parametrize(
    ("profile", "threads", "input_size", "fps"),
    [("dev", None, None, 15), ("pi4", 4, 320, 10), ("pi5", 4, 320, 15), ("jetson", 6, 416, 30)],
)
def test_profile_defaults_apply(
    profile: str, threads: int | None, input_size: int | None, fps: float
) -> None:
    cfg = load_config(env={"TILLSIGHT__PROFILE": profile})
    assert cfg.profile == profile
    assert cfg.detector.threads == threads
    assert cfg.detector.input_size == input_size
    assert cfg.camera.fps == fps
    assert cfg.gate.downscale == (48 if profile == "pi4" else 64)


def test_profiles_are_read_only() -> None:
    with pytest.raises(TypeError):
        PROFILES["pi4"]["camera"]["fps"] = 99  # type: ignore[index]


def test_file_beats_profile_and_env_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, "profile: pi4\ncamera:\n  fps: 12\ndetector:\n  threads: 2\n")
    cfg = load_config(path, env={})
    assert cfg.camera.fps == 12  # file over profile (10)
    assert cfg.detector.threads == 2
    assert cfg.detector.input_size == 320  # profile value the file did not touch
    assert cfg.gate.downscale == 48

    env = {"TILLSIGHT__CAMERA__FPS": "7.5", "tillsight__detector__THREADS": "3"}
    cfg = load_config(path, env=env)
    assert cfg.camera.fps == 7.5  # env over file
    assert cfg.detector.threads == 3  # key names are case-insensitive

    cfg = load_config(path, env={"TILLSIGHT__CAMERA__FPS": "7.5"}, overrides={"camera": {"fps": 5}})
    assert cfg.camera.fps == 5  # explicit overrides beat everything


def test_env_selects_profile_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, "profile: pi4\n")
    cfg = load_config(path, env={"TILLSIGHT__PROFILE": "jetson"})
    assert cfg.profile == "jetson" and cfg.camera.fps == 30


def test_env_values_are_coerced_and_empty_means_unset(tmp_path: Path) -> None:
    path = write(tmp_path, "profile: pi5\n")
    cfg = load_config(
        path,
        env={
            "TILLSIGHT__GATE__ENABLED": "false",
            "TILLSIGHT__MQTT__TLS__ENABLED": "true",
            "TILLSIGHT__MQTT__PORT": "8883",
            "TILLSIGHT__DETECTOR__THREADS": "",
            "UNRELATED": "x",
        },
    )
    assert cfg.gate.enabled is False
    assert cfg.mqtt.tls.enabled is True and cfg.mqtt.port == 8883
    assert cfg.detector.threads is None  # profile said 4; empty env value means "auto"


def test_empty_section_in_file_means_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\nmqtt:\n  tls:\n")
    cfg = load_config(path, env={})
    assert cfg.camera.fps == 15 and cfg.mqtt.tls.enabled is False


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLSIGHT__WEB__PORT", "9090")
    assert load_config().web.port == 9090


# --- invalid values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "key", "fragment"),
    [
        ("camera:\n  fps: 500\n", "camera.fps", "less than or equal to 120"),
        ("store:\n  timezone: Mars/Olympus\n", "store.timezone", "unknown time zone"),
        ("store:\n  store_id: S 001\n", "store.store_id", "lower-case"),
        ("store:\n  currency: usd\n", "store.currency", "pattern"),
        ("camera:\n  uri: ftp://x\n", "camera.uri", "unsupported scheme 'ftp'"),
        ("camera:\n  uri: 'synthetic:?zoom=2'\n", "camera.uri", "zoom"),
        ("camera:\n  uri: 'rtsp://'\n", "camera.uri", "needs a host"),
        ("detector:\n  input_size: 300\n", "detector.input_size", "multiple of 32"),
        ("detector:\n  backend: tpu\n", "detector.backend", "unknown detector backend 'tpu'"),
        ("gate:\n  min_interval_s: 3\n  max_interval_s: 1\n", "gate.max_interval_s", "min_"),
        ("mqtt:\n  tls:\n    cert_file: c.pem\n", "mqtt.tls.key_file", "together"),
        ("profile: pi9\n", "profile", "'pi4'"),
    ],
)
def test_invalid_value_names_dotted_key(
    tmp_path: Path, yaml_text: str, key: str, fragment: str
) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    lines = [p for p in excinfo.value.problems if p.startswith(f"{key}: ")]
    assert lines and fragment in lines[0], excinfo.value.problems
    assert str(path) in problems_of(excinfo)
    assert excinfo.value.source == path


@pytest.mark.parametrize(
    "uri",
    ["synthetic:", "synthetic:?seed=3&fps=2.5&period=4", "0", "/dev/video0",
     "clips/counter.mp4", "captures/", "rtsp://user@192.168.1.20:554/stream1"],
)
def test_camera_uri_accepts_supported_forms(uri: str) -> None:
    assert load_config(env={}, overrides={"camera": {"uri": uri}}).camera.uri == uri


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\n  fps: 500\n  width: 10\nweb:\n  port: 0\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={"TILLSIGHT__MQTT__PORT": "70000"})
    keys = {p.split(":", 1)[0] for p in excinfo.value.problems}
    assert keys == {"camera.fps", "camera.width", "web.port", "mqtt.port"}
    assert "TILLSIGHT__MQTT__PORT" in problems_of(excinfo)  # says where the bad value came from


def test_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "detector:\n  bogus: 1\ncamera:\n  fsp: 10\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert "detector.bogus: unknown key" in excinfo.value.problems
    assert "camera.fsp: unknown key" in excinfo.value.problems


def test_unknown_key_in_env_is_rejected_naming_it() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(env={"TILLSIGHT__MQTT__PASWORD": SECRET})
    message = problems_of(excinfo)
    assert "mqtt.pasword: unknown key" in message
    assert "TILLSIGHT__MQTT__PASWORD" in message
    assert SECRET not in message


def test_unknown_section_in_env_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"cammera: unknown key"):
        load_config(env={"TILLSIGHT__CAMMERA__FPS": "10"})


def test_malformed_and_conflicting_env_names_are_errors() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(env={"TILLSIGHT__CAMERA____FPS": "1",
                         "TILLSIGHT__GATE": "x", "TILLSIGHT__GATE__ENABLED": "true"})
    message = problems_of(excinfo)
    assert "TILLSIGHT__CAMERA____FPS: malformed" in message
    assert "conflicts with TILLSIGHT__GATE" in message


# --- files -----------------------------------------------------------------------------------


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    assert str(path) in problems_of(excinfo) and "file not found" in problems_of(excinfo)
    ok, message = check_config_file(path, env={})
    assert not ok and str(path) in message


def test_yaml_syntax_error_names_file_and_line_without_quoting_it(tmp_path: Path) -> None:
    path = write(tmp_path, f"camera:\n  fps: 10\nmqtt:\n  password: \"{SECRET}\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    message = problems_of(excinfo)
    assert str(path) in message and "line 4" in message
    assert SECRET not in message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\n  fps: 10\n  fps: 12\n")
    with pytest.raises(ConfigError, match=r"line 3.*duplicate key 'fps'"):
        load_config(path, env={})


@pytest.mark.parametrize("text", ["- camera\n- detector\n", "just a string\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, text), env={})


def test_bare_yaml_boolean_key_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gate\.True: key must be a string"):
        load_config(write(tmp_path, "gate:\n  on: true\n"), env={})


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n"), env={}).profile == "dev"


def test_check_config_file_reports_problems(tmp_path: Path) -> None:
    ok, message = check_config_file(write(tmp_path, "camera:\n  fps: 500\n"), env={})
    assert not ok and "camera.fps" in message


# --- secrets ---------------------------------------------------------------------------------


def test_secrets_from_env_are_masked_in_dump() -> None:
    cfg = load_config(env={
        "TILLSIGHT__MQTT__USERNAME": "till-1",
        "TILLSIGHT__MQTT__PASSWORD": SECRET,
        "TILLSIGHT__WEB__SECRET_KEY": SECRET,
        "TILLSIGHT__CAMERA__URI": f"rtsp://cam:{SECRET}@192.168.1.20/stream1",
    })
    assert cfg.mqtt.password is not None and cfg.mqtt.password.get_secret_value() == SECRET
    dumped = dump_config(cfg)
    assert dumped["mqtt"]["password"] == "**********"
    assert dumped["web"]["secret_key"] == "**********"
    assert dumped["camera"]["uri"] == "rtsp://cam:**********@192.168.1.20/stream1"
    assert SECRET not in repr(dumped) and SECRET not in repr(cfg)
    assert dumped["mqtt"]["username"] == "till-1"


def test_unset_secrets_dump_as_none() -> None:
    dumped = dump_config(load_config(env={}))
    assert dumped["mqtt"]["password"] is None and dumped["web"]["secret_key"] is None


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    text = f"mqtt:\n  password: {SECRET}\n  port: 0\nweb:\n  secret_key: [{SECRET}]\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    message = problems_of(excinfo)
    assert "mqtt.password" in message and "web.secret_key" in message
    assert SECRET not in message


def test_secret_in_file_logs_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, f"mqtt:\n  username: u\n  password: {SECRET}\n")
    with caplog.at_level(logging.WARNING, logger="firmware_config"):
        load_config(path, env={})
    assert "TILLSIGHT__MQTT__PASSWORD" in caplog.text
    assert SECRET not in caplog.text
