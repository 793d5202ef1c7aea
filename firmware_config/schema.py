"""The Tillsight configuration schema: one typed, validated model.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
Field defaults here are the lowest layer; device profiles (``profiles.py``), the YAML file and
environment variables are merged on top by ``loader.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializeAsAny,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .outbound import SECRET_KEYS as OUTBOUND_SECRET_KEYS
from .outbound import OutboundConfig

ProfileName = Literal["dev", "pi4", "pi5", "jetson"]
PROFILE_NAMES: tuple[str, ...] = ("dev", "pi4", "pi5", "jetson")

IDENT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
_IDENT_RE = re.compile(IDENT_PATTERN)

# The detector back end when ``detector.backend`` is not given (registered by vision.detectors).
DEFAULT_DETECTOR_BACKEND = "onnxruntime"
UNKNOWN_BACKEND_ERROR = "unknown_backend"

# Dotted paths of secret values: masked when dumped, better supplied by environment variables.
SECRET_MASK = "**********"
SECRET_KEYS: tuple[tuple[str, ...], ...] = (("web", "secret_key"), ("mqtt", "password"),
                                            ("hub_web", "secret_key"), ("llm", "api_key"),
                                            *OUTBOUND_SECRET_KEYS)

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_SYNTHETIC_PARAMS: dict[str, type] = {"seed": int, "fps": float, "period": float, "width": int,
                                       "height": int, "skus": str, "max_items": int, "noise": float,
                                       "stall_after": int,  # fault injection (docs/camera.md)
                                       "manual": int}  # 1: the tray changes only when told (tests, demos)


class _Section(BaseModel):
    """Base for every section: unknown keys are rejected, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StoreConfig(_Section):
    store_id: str = "s-001"
    device_id: str = "till-1"
    name: str = Field("Tillsight store", min_length=1, max_length=120)
    timezone: str = "America/Santo_Domingo"
    currency: str = Field("DOP", pattern=r"^[A-Z]{3}$")
    # The language the store's screens, receipts and reports start in (the owner changes it on the settings
    # page; each person may prefer another): en, es or fr. ``tillsight demo`` starts its store in es.
    language: Literal["en", "es", "fr"] = "en"

    @field_validator("store_id", "device_id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _IDENT_RE.fullmatch(value):
            raise ValueError(
                "must be 1-32 characters: lower-case letters, digits and '-', "
                "starting with a letter or digit (e.g. 's-001', 'till-1')"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'America/Santo_Domingo')"
            ) from None
        return value


def validate_camera_uri(value: str) -> str:
    """Check a camera URI's form (not whether the device or file exists) and return it stripped."""
    uri = value.strip()
    if not uri:
        raise ValueError("must not be empty")
    if uri.isdigit():  # V4L2 index
        return uri
    match = _SCHEME_RE.match(uri)
    if match is None:  # a device, video file or folder path
        return uri
    scheme = match.group(1).lower()
    if scheme == "synthetic":
        rest = uri[len("synthetic:"):]
        if rest and not rest.startswith("?"):
            raise ValueError("synthetic camera takes only a query, e.g. 'synthetic:?seed=1&fps=15'")
        for key, raw in parse_qsl(rest[1:], keep_blank_values=True):
            kind = _SYNTHETIC_PARAMS.get(key)
            if kind is None:
                raise ValueError(
                    f"unknown synthetic camera parameter {key!r} (allowed: {', '.join(_SYNTHETIC_PARAMS)})"
                )
            if kind is str:
                continue
            try:
                number = kind(raw)
            except ValueError:
                raise ValueError(f"synthetic camera parameter {key!r} must be a number") from None
            if not number > 0 and key not in ("seed", "manual"):
                raise ValueError(f"synthetic camera parameter {key!r} must be > 0")
        return uri
    if scheme in ("rtsp", "rtsps"):
        if not urlsplit(uri).hostname:
            raise ValueError("RTSP URI needs a host, e.g. 'rtsp://192.168.1.20:554/stream1'")
        return uri
    raise ValueError(
        f"unsupported scheme {scheme!r}: use 'synthetic:', a device index like '0', "
        "a path such as /dev/video0, a video file or folder, or rtsp://"
    )


def mask_uri(uri: str) -> str:
    """Hide the password in ``rtsp://user:pass@host/...`` (other URIs are returned as they are)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("rtsp", "rtsps") or parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{SECRET_MASK}@{host}"))


class CameraConfig(_Section):
    uri: str = "synthetic:"
    width: int = Field(640, ge=160, le=4096)
    height: int = Field(480, ge=120, le=4096)
    fps: float = Field(15.0, ge=0.5, le=120)
    reopen_backoff_s: float = Field(1.0, ge=0.1)
    reopen_backoff_max_s: float = Field(30.0, ge=0.1, validate_default=True)

    @field_validator("uri")
    @classmethod
    def _check_uri(cls, value: str) -> str:
        return validate_camera_uri(value)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_uri(value) if name == "uri" else value

    @field_validator("reopen_backoff_max_s")
    @classmethod
    def _backoff_order(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("reopen_backoff_s", 0):
            raise ValueError("must be >= reopen_backoff_s")
        return value


class DetectorConfig(_Section):
    """The ``detector`` section: the keys every detector back end shares.

    A back end is a plug-in: one file in ``vision/detectors/`` holds its config model (a subclass of
    this one whose ``backend`` is a one-value ``Literal``, adding its own keys) and its class, and
    registers the model here (``register_detector_config``) when ``vision.detectors`` is imported.
    ``backend`` picks the model; a name no back end registered is refused, naming
    ``detector.backend``.  firmware_config imports nothing of ours, so a process that loaded no
    back end at all (the hub) checks only these shared keys and keeps the rest for the device, which
    checks them again with the back end's own model when it builds its detector.
    """

    backend: str = DEFAULT_DETECTOR_BACKEND
    bundle: Path = Path("models/demo")
    input_size: int | None = Field(
        default=None, ge=160, le=1280, multiple_of=32, description="None = the bundle's own input size"
    )
    confidence: float | None = Field(
        default=None, ge=0.05, le=0.99, description="None = the bundle's calibrated operating confidence"
    )
    iou: float | None = Field(default=None, ge=0.1, le=0.95, description="None = the bundle's NMS IoU")


class UncheckedDetectorConfig(DetectorConfig):
    """The detector section in a process with no back end registered: shared keys checked, the
    back end's own keys kept as given (see ``DetectorConfig``)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)


_DETECTOR_CONFIGS: dict[str, type[DetectorConfig]] = {}


def register_detector_config(model: type[DetectorConfig]) -> str:
    """Make ``model`` the schema of a ``detector`` section whose ``backend`` is its name; returns
    the name (the one value of the model's ``backend`` Literal)."""
    names = get_args(model.model_fields["backend"].annotation)
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{model.__name__}.backend must be a Literal of one name, e.g. Literal['onnxruntime']")
    name: str = names[0]
    known = _DETECTOR_CONFIGS.get(name)
    if known is not None and known is not model:
        raise ValueError(f"detector backend {name!r} is registered twice ({known.__qualname__}, "
                         f"{model.__qualname__})")
    _DETECTOR_CONFIGS[name] = model
    return name


def unregister_detector_config(name: str) -> None:
    """Forget a back end's config model (for tests that define a back end of their own)."""
    _DETECTOR_CONFIGS.pop(name, None)


def detector_backends() -> tuple[str, ...]:
    """The names of the registered detector back ends, sorted."""
    return tuple(sorted(_DETECTOR_CONFIGS))


def detector_config_model(name: str) -> type[DetectorConfig] | None:
    """The config model registered for back end ``name``, or None."""
    return _DETECTOR_CONFIGS.get(name)


def fit_detector_profile(profile_section: Mapping[str, Any], user_section: Any) -> dict[str, Any]:
    """A device profile's ``detector`` defaults, keeping only the keys the chosen back end has
    (a profile's ``threads`` and ``providers`` are ONNX Runtime's and mean nothing to another)."""
    name = user_section.get("backend", DEFAULT_DETECTOR_BACKEND) if isinstance(user_section, Mapping) \
        else DEFAULT_DETECTOR_BACKEND
    model = _DETECTOR_CONFIGS.get(name) if isinstance(name, str) else None
    if model is None:
        return dict(profile_section)
    return {key: value for key, value in profile_section.items() if key in model.model_fields}


def _default_detector() -> DetectorConfig:
    model = _DETECTOR_CONFIGS.get(DEFAULT_DETECTOR_BACKEND)
    return model() if model is not None else UncheckedDetectorConfig()


def _validate_detector(value: Any, handler: ValidatorFunctionWrapHandler) -> DetectorConfig:
    """Validate ``detector`` with the model its ``backend`` names (see ``DetectorConfig``)."""
    if isinstance(value, DetectorConfig):
        if type(value) is _DETECTOR_CONFIGS.get(value.backend):
            return value
        value = value.model_dump()
    if not isinstance(value, Mapping):
        return handler(value)  # the base model's own error ("should be a valid dictionary")
    name = value.get("backend", DEFAULT_DETECTOR_BACKEND)
    model = _DETECTOR_CONFIGS.get(name) if isinstance(name, str) else None
    if model is not None:
        return model.model_validate(value)
    if not _DETECTOR_CONFIGS and isinstance(name, str):
        return UncheckedDetectorConfig.model_validate(value)
    raise PydanticCustomError(
        UNKNOWN_BACKEND_ERROR,
        "unknown detector backend {given} (available: {available})",
        {"given": repr(name), "available": ", ".join(detector_backends()) or "none"},
    )


# ``detector`` is validated by the model of the back end it names, and dumped with that model's keys.
DetectorSection = Annotated[SerializeAsAny[DetectorConfig], WrapValidator(_validate_detector)]


class GateConfig(_Section):
    """Change gate: skip inference while the scene is unchanged."""

    enabled: bool = True
    threshold: float = Field(6.0, gt=0, description="mean absolute grey-level difference")
    min_interval_s: float = Field(0.0, ge=0)
    max_interval_s: float = Field(
        0.0, ge=0, validate_default=True, description="force inference this often; 0 = never"
    )
    downscale: int = Field(64, ge=8, le=256, description="width of the comparison image")

    @field_validator("max_interval_s")
    @classmethod
    def _interval_order(cls, value: float, info: ValidationInfo) -> float:
        if 0 < value < info.data.get("min_interval_s", 0):
            raise ValueError("must be 0 (never forced) or >= min_interval_s")
        return value


class StabiliserConfig(_Section):
    settle_frames: int = Field(3, ge=1, le=30)
    min_confidence: float = Field(0.35, ge=0, le=1)
    alternatives: int = Field(3, ge=0, le=10)
    iou_match: float = Field(0.3, ge=0.05, le=0.95)


class BarcodeConfig(_Section):
    enabled: bool = True
    interval_s: float = Field(1.0, ge=0)


class RecognitionConfig(_Section):
    """Two-stage recognition (vision/recogniser.py): find products class-blind, identify each newly
    arrived one once against the store's gallery; a weak best match is an unknown item."""

    enabled: bool = Field(True, description="off: the model bundle's trained classes alone, as before")
    finder: Path | None = Field(None, description="finder folder; None = models/finder if present (the "
                                                  "detector bundle read class-blind with the synthetic "
                                                  "camera or without models/finder)")
    finder_confidence: float = Field(0.2, ge=0.01, le=0.99, description="class-blind score of a bundle finder box")
    embedder: Path = Field(Path("models/embedder"), description="the appearance embedder's folder")
    variant: Literal["fp32", "int8"] = "fp32"
    views: Literal[1, 2, 4, 8] | None = Field(None, description="test-time views per crop; None = the gallery's")
    head_votes: bool = Field(True, description="the bundle's class head may pick among the gallery's closest SKUs")
    head_min: float = Field(0.5, ge=0, le=1)
    reuse_iou: float = Field(0.6, ge=0.1, le=0.99, description="a box this close to an identified one is not "
                                                               "identified again")
    demo_gallery: bool = Field(True, description="tillsight demo builds the demo catalogue's gallery into an "
                                                 "empty gallery folder")


class GalleryConfig(_Section):
    """The store's gallery of enrolled products (vision/gallery/)."""

    dir: Path | None = Field(None, description="None = DATA_DIR/gallery")
    reload_interval_s: float = Field(1.0, gt=0, le=60, description="how often the live pipeline checks its version")


class WebTlsConfig(_Section):
    """HTTPS for a web app (``web.tls``, ``hub_web.tls``; docs/security.md).

    ``auto``: HTTPS whenever ``host`` is not a loopback address, plain HTTP on loopback; ``on``:
    HTTPS always; ``off``: plain HTTP, refused at start unless ``host`` is loopback (PINs and
    cookies would cross the LAN in clear; behind a TLS proxy, bind to 127.0.0.1).  Without
    ``cert_file``/``key_file`` a self-signed certificate is made at first start in
    ``{data_dir}/tls/`` and kept; give a pair (e.g. issued by ``tillsight hub broker cert``
    from the hub's CA) to use that instead."""

    mode: Literal["auto", "on", "off"] = "auto"
    cert_file: Path | None = None
    key_file: Path | None = Field(None, validate_default=True)

    @field_validator("key_file")
    @classmethod
    def _pair(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if "cert_file" in info.data and (value is None) != (info.data["cert_file"] is None):
            raise ValueError("cert_file and key_file must be given together")
        return value


#: ESC/POS code pages a receipt can be printed in: name -> the ``ESC t n`` number (Epson's table).
#: cp858 is cp850 with the euro sign: Latin-1 letters (é, ñ, ü) and the common currency signs.
ESC_POS_CODE_PAGES: dict[str, int] = {"cp437": 0, "cp850": 2, "cp860": 3, "cp863": 4, "cp865": 5, "cp1252": 16,
                                      "cp866": 17, "cp852": 18, "cp858": 19}


class TillConfig(_Section):
    """How this till's counter is set up: its cash drawers and its receipt printer."""

    # "shared": one cash drawer, so one open shift at a time (the next cashier waits for the count);
    # "per_cashier": each cashier has their own drawer (insert), one open shift per cashier.
    drawers: Literal["shared", "per_cashier"] = "shared"
    # The code page the ESC/POS receipt printer is set to (its self-test page names it).
    receipt_code_page: str = "cp858"
    # Characters per line: 42 on 80 mm paper, 32 on 58 mm.
    receipt_width: int = Field(42, ge=24, le=64)

    @field_validator("receipt_code_page")
    @classmethod
    def _known_code_page(cls, value: str) -> str:
        name = value.strip().lower().replace("-", "").replace("pc", "cp", 1)
        if name not in ESC_POS_CODE_PAGES:
            raise ValueError(f"unknown receipt code page {value!r} (known: {', '.join(ESC_POS_CODE_PAGES)})")
        return name


class WebConfig(_Section):
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8080, ge=1, le=65535)
    secret_key: SecretStr | None = None
    # Mark session cookies Secure even on plain HTTP (they always are when the page came over HTTPS).
    secure_cookies: bool = False
    tls: WebTlsConfig = Field(default_factory=WebTlsConfig)
    session_hours: float = Field(12.0, gt=0, le=24 * 7)
    threads: int = Field(8, ge=2, le=64)


class MqttTlsConfig(_Section):
    enabled: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = Field(None, validate_default=True)

    @field_validator("key_file")
    @classmethod
    def _client_pair(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if "cert_file" in info.data and (value is None) != (info.data["cert_file"] is None):
            raise ValueError("cert_file and key_file must be given together")
        return value

    @model_validator(mode="after")
    def _files_when_enabled(self) -> MqttTlsConfig:
        files = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        if not self.enabled:
            named = [key for key, path in files.items() if path is not None]
            if named:
                raise ValueError(f"{', '.join(named)} set but tls.enabled is false: set enabled: true to use TLS")
        return self

    def missing_files(self) -> list[str]:
        """``key: path`` for each configured TLS file that is not there (checked when a client
        starts, not when a config is validated on another machine)."""
        if not self.enabled:
            return []
        files = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        return [f"mqtt.tls.{key}: {path} does not exist or is not a file"
                for key, path in files.items() if path is not None and not Path(path).is_file()]


class MqttConfig(_Section):
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = Field(None, validate_default=True)
    keepalive_s: int = Field(30, ge=5, le=65535)
    tls: MqttTlsConfig = Field(default_factory=MqttTlsConfig)
    # Sync agent (device side).  None = "{store_id}-{device_id}".
    client_id: str | None = Field(None, min_length=1, max_length=128)
    topic_prefix: str = Field("tillsight/v1", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0, le=4294967295)
    inflight_max: int = Field(100, ge=1, le=65535)
    telemetry_interval_s: float = Field(60.0, ge=1.0)
    backlog_alert_count: int = Field(1000, ge=1)
    backlog_alert_age_s: float = Field(3600.0, ge=1.0)
    reconnect_min_s: float = Field(1.0, gt=0)
    reconnect_max_s: float = Field(60.0, gt=0, validate_default=True)

    @field_validator("reconnect_max_s")
    @classmethod
    def _reconnect_order(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("reconnect_min_s", 0):
            raise ValueError("must be >= reconnect_min_s")
        return value

    @field_validator("password")
    @classmethod
    def _password_needs_user(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is not None and info.data.get("username") is None:
            raise ValueError("a password needs mqtt.username too")
        return value


class HubBrokerConfig(_Section):
    """The hub's Mosquitto files: password file, ACL and broker config (``tillsight hub device ...``,
    ``tillsight hub broker ...``; see docs/security.md)."""

    # Folder holding ``passwords`` (the only place device password hashes live), ``acl`` and
    # ``mosquitto.conf``.
    dir: Path = Path("var/hub/broker")
    # Broker users of the hub's own processes (ingest, fleet publisher, hub web): readwrite on the
    # whole topic prefix.  No '.' allowed, so a hub user can never be mistaken for a device.
    hub_users: list[str] = Field(default_factory=lambda: ["hub"], min_length=1)
    # What devices dial, for the snippet ``hub device add`` prints; None = mqtt.host / mqtt.port.
    public_host: str | None = Field(None, min_length=1)
    public_port: int | None = Field(None, ge=1, le=65535)
    # Where the broker's CA certificate lives ON THE DEVICES (printed in the snippet, with
    # mqtt.tls.enabled); None = the snippet leaves TLS out.
    device_ca_file: Path | None = None
    # Group given to the files written (mode 0640), e.g. "mosquitto", so the broker can read them.
    file_group: str | None = Field(None, min_length=1)
    # Command (argv, no shell) run after the password file or ACL changed, e.g.
    # ["systemctl", "reload", "mosquitto"]; empty = the command prints a reminder to reload.
    reload_command: list[str] = Field(default_factory=list)
    # PBKDF2-SHA512 iterations of new password hashes (Mosquitto's own tool uses 101).
    password_iterations: int = Field(1000, ge=101, le=10_000_000)

    @field_validator("hub_users", mode="before")
    @classmethod
    def _users_from_text(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("hub_users")
    @classmethod
    def _user_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
                raise ValueError(f"hub user {name!r}: use 1-64 letters, digits, '_' or '-' (no '.')")
        if len(set(value)) != len(value):
            raise ValueError("hub users must be unique")
        return value

    @field_validator("reload_command", mode="before")
    @classmethod
    def _command_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            import shlex

            return shlex.split(value)
        return value


class HubConfig(_Section):
    """The hub's ingest and database (``tillsight hub ...``)."""

    database_url: str = Field("sqlite:///var/hub/hub.db", min_length=1)
    ingest_group: str = Field("ingest", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # None = "hub-{ingest_group}-{host name}"; give each worker on one host its own, stable id so
    # the broker keeps its session (and the messages queued for it) across restarts.
    ingest_client_id: str | None = Field(None, min_length=1, max_length=128)
    ingest_batch_max: int = Field(200, ge=1, le=10000)
    ingest_batch_wait_ms: int = Field(20, ge=0, le=5000)
    receive_maximum: int = Field(1000, ge=1, le=65535)
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0, le=4294967295)
    resend_after_s: float = Field(30.0, ge=0.1)
    # Fleet updates (``tillsight hub fleet ...``, docs/fleet.md).  The Ed25519 private key that signs
    # manifests (from ``hub fleet keygen``; mode 0600, on the operator's machine, never on a device);
    # None = give ``--key`` to each command.
    fleet_signing_key: Path | None = None
    # Where published artifacts (model bundle tarballs, config YAML) are kept, by SHA-256.
    fleet_artifact_dir: Path = Path("var/hub/artifacts")
    # A manifest expires this long after it is issued; a device refuses it after that.
    fleet_manifest_expiry_days: float = Field(30.0, gt=0, le=3650)
    # Bytes per retained chunk message of an artifact.
    fleet_chunk_size: int = Field(256 * 1024, ge=1024, le=4 * 1024 * 1024)
    broker: HubBrokerConfig = Field(default_factory=HubBrokerConfig)


class HubWebConfig(_Section):
    """The hub web app (``tillsight hub web``): fleet and store pages, exports, JSON API."""

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8090, ge=1, le=65535)
    # None = a key generated once and kept in the hub database (shared by every web worker).
    secret_key: SecretStr | None = None
    # Mark session cookies Secure even on plain HTTP (they always are when the page came over HTTPS).
    secure_cookies: bool = False
    tls: WebTlsConfig = Field(default_factory=WebTlsConfig)
    session_hours: float = Field(12.0, gt=0, le=24 * 7)
    threads: int = Field(8, ge=2, le=64)
    lockout_failures: int = Field(5, ge=1, le=100)
    lockout_minutes: float = Field(15.0, gt=0, le=24 * 60)


class FleetConfig(_Section):
    """The device's fleet-update agent (runs in the sync process).  Manifests must be signed by one
    of ``public_keys`` (PEM Ed25519 public keys from ``tillsight hub fleet keygen``)."""

    enabled: bool = False
    group: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    public_keys: list[Path] = Field(default_factory=list, validate_default=True)
    # How long an installed model may wait for the till to be idle and the appliance to load it.
    switch_timeout_s: float = Field(900.0, ge=1.0)
    # Upper bound on a manifest's health window (a manifest cannot keep a device busy forever).
    max_health_window_s: float = Field(3600.0, ge=0.0)
    # Previous model versions kept on disk for rollback (the running one not counted).
    keep_previous: int = Field(1, ge=1, le=5)

    @field_validator("public_keys")
    @classmethod
    def _keys_when_enabled(cls, value: list[Path], info: ValidationInfo) -> list[Path]:
        if info.data.get("enabled") and not value:
            raise ValueError("at least one public key is needed when fleet.enabled is true")
        return value


# The hub's AI features (analytics/llm FEATURES); a price is charged per call of a feature.
LLM_FEATURES: tuple[str, ...] = ("narrative", "ask", "persona", "alert_explanation", "collection_message",
                                 "product_description")
LLM_DEFAULT_PRICES: dict[str, int] = {"narrative": 5, "ask": 2, "persona": 3, "alert_explanation": 1,
                                      "collection_message": 1, "product_description": 1}


class LlmConfig(_Section):
    """The hub's language layer (docs/llm.md): any OpenAI-compatible chat-completions endpoint,
    and the per-store AI credits.  ``base_url: null`` (the default) = no LLM: every feature answers
    from the computed figures."""

    base_url: str | None = Field(None, min_length=1, description="e.g. https://api.openai.com/v1")
    model: str = Field("gpt-4o-mini", min_length=1, max_length=200)
    api_key: SecretStr | None = None  # better from TILLSIGHT__LLM__API_KEY
    timeout_s: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(0.5, ge=0, le=60)
    breaker_failures: int = Field(5, ge=1, le=1000)
    breaker_reset_s: float = Field(60.0, gt=0, le=24 * 3600)
    structured_output: Literal["json_schema", "json_object", "tool"] = "json_schema"
    max_tokens: int = Field(1200, ge=16, le=100_000)
    temperature: float = Field(0.2, ge=0, le=2)
    prices: dict[str, int] = Field(default_factory=lambda: dict(LLM_DEFAULT_PRICES))
    starting_credits: int = Field(1000, ge=0)
    daily_cap: int | None = Field(200, ge=0,
                                  description="credits a store may spend per day (its local day); None = no cap")
    monthly_cap: int | None = Field(3000, ge=0,
                                    description="credits per month (the store's local month); None = no cap")
    cache_ttl_s: float = Field(24 * 3600.0, ge=0, description="0 = no response cache")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as 'https://api.openai.com/v1' or "
                             "'http://127.0.0.1:11434/v1'")
        return value.strip().rstrip("/")

    @field_validator("prices")
    @classmethod
    def _known_features(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(LLM_FEATURES))
        if unknown:
            raise ValueError(f"unknown AI feature {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(LLM_FEATURES)})")
        negative = sorted(k for k, v in value.items() if v < 0)
        if negative:
            raise ValueError(f"price of {', '.join(negative)} must be >= 0")
        return {**LLM_DEFAULT_PRICES, **value}


class TillsightConfig(_Section):
    """The whole configuration of a Tillsight device or hub process."""

    profile: ProfileName = "dev"
    store: StoreConfig = Field(default_factory=StoreConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    detector: DetectorSection = Field(default_factory=_default_detector)
    gate: GateConfig = Field(default_factory=GateConfig)
    stabiliser: StabiliserConfig = Field(default_factory=StabiliserConfig)
    barcode: BarcodeConfig = Field(default_factory=BarcodeConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    gallery: GalleryConfig = Field(default_factory=GalleryConfig)
    till: TillConfig = Field(default_factory=TillConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    hub: HubConfig = Field(default_factory=HubConfig)
    hub_web: HubWebConfig = Field(default_factory=HubWebConfig)
    fleet: FleetConfig = Field(default_factory=FleetConfig)
    llm: LlmConfig = Field(default_factory=LlmConfig)
    outbound: OutboundConfig = Field(default_factory=OutboundConfig)  # hub: collection reminders
    data_dir: Path = Path("var/tillsight")
