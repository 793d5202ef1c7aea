"""Load, merge and validate a Tillsight configuration.

Layers, lowest to highest precedence: schema defaults < device profile < YAML file <
``TILLSIGHT__SECTION__KEY`` environment variables < explicit ``overrides``. Every problem is
collected into one ``ConfigError``; values (which may be secrets) are never echoed in messages.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .fleet import FleetConfigError, read_overlay
from .profiles import PROFILES, profile_defaults
from .schema import (
    SECRET_KEYS,
    SECRET_MASK,
    UNKNOWN_BACKEND_ERROR,
    TillsightConfig,
    fit_detector_profile,
    mask_uri,
)

logger = logging.getLogger(__name__)

ENV_PREFIX = "TILLSIGHT__"
ENV_SEPARATOR = "__"
DEFAULT_PROFILE = "dev"

PathLike = str | os.PathLike[str]
Key = tuple[Any, ...]


class ConfigError(Exception):
    """An invalid configuration; ``problems`` holds one ``<dotted.key>: <message>`` per issue."""

    def __init__(self, problems: Sequence[str], source: Path | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        where = f" in {source}" if source is not None else ""
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration{where}:\n{lines}")


# --- YAML -------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found"], path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read file: {exc.__class__.__name__}: {exc}"], path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        # Built from the parts, not str(exc): that would quote the offending line (maybe a secret).
        problems = [f"YAML error at {_where(exc.problem_mark)}: {exc.problem or 'invalid'}"]
        if exc.context:
            problems[0] += f" ({exc.context} at {_where(exc.context_mark)})"
        raise ConfigError(problems, path) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"YAML error: {exc.__class__.__name__}"], path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [(f"top level must be a mapping of sections (camera:, detector:, ...), "
              f"not a {type(data).__name__}")],
            path,
        )
    problems = _non_string_keys(data, ())
    if problems:
        raise ConfigError(problems, path)
    return data


def _where(mark: yaml.Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"


def _non_string_keys(data: Mapping[Any, Any], parent: Key) -> list[str]:
    """YAML 1.1 reads bare on/off/yes/no/numbers as non-strings; no config key is one."""
    problems: list[str] = []
    for key, value in data.items():
        if not isinstance(key, str):
            dotted = ".".join((*parent, str(key)))
            problems.append(f"{dotted}: key must be a string (YAML reads bare on/off/yes/no, "
                            "true/false and numbers as other types; quote the key)")
        elif isinstance(value, Mapping):
            problems += _non_string_keys(value, (*parent, key))
    return problems


# --- merging ----------------------------------------------------------------------------------


def _deep_merge(base: Mapping[Any, Any], override: Mapping[Any, Any]) -> dict[Any, Any]:
    """Return a new dict: ``override`` on top of ``base``, merging nested mappings."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _drop_null_sections(data: dict[Any, Any], model: type[BaseModel]) -> None:
    """Treat ``section:`` with nothing under it (YAML null) as an empty section, in place."""
    for name, field in model.model_fields.items():
        value = data.get(name)
        if value is None and name in data and field.default_factory is not None:
            del data[name]
        elif isinstance(value, dict) and isinstance(field.annotation, type) and issubclass(
            field.annotation, BaseModel
        ):
            _drop_null_sections(value, field.annotation)


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[Key, str], list[str]]:
    """Turn ``TILLSIGHT__A__B=v`` variables into ``{"a": {"b": "v"}}``.

    Returns the nested dict, the variable name behind each key path, and any problems.
    An empty value means null (e.g. ``TILLSIGHT__DETECTOR__THREADS=`` for "auto").
    """
    layer: dict[str, Any] = {}
    names: dict[Key, str] = {}
    problems: list[str] = []
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        key = tuple(part.lower() for part in name[len(ENV_PREFIX):].split(ENV_SEPARATOR))
        if not all(key):
            problems.append(f"{name}: malformed variable name (empty key between '__')")
            continue
        clash = next((other for path, other in names.items()
                      if path[: len(key)] == key or key[: len(path)] == path), None)
        if clash is not None:
            problems.append(f"{name}: conflicts with {clash}")
            continue
        node = layer
        for part in key[:-1]:
            node = node.setdefault(part, {})
        value = env[name]
        node[key[-1]] = value if value != "" else None
        names[key] = name
    return layer, names, problems


# --- error formatting -------------------------------------------------------------------------


def _contains(data: Mapping[Any, Any], loc: Key) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _format_errors(
    exc: ValidationError, env_names: Mapping[Key, str], overrides: Mapping[Any, Any]
) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc: Key = tuple(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == UNKNOWN_BACKEND_ERROR:
            loc += ("backend",)
            message = error["msg"]
        else:
            message = error["msg"].removeprefix("Value error, ")
        origin = ""
        if loc and _contains(overrides, loc):
            origin = " (from overrides)"
        else:
            for end in range(len(loc), 0, -1):
                if loc[:end] in env_names:
                    origin = f" (from environment variable {env_names[loc[:end]]})"
                    break
        key = ".".join(str(part) for part in loc) or "(top level)"
        problems.append(f"{key}: {message}{origin}")
    return problems


# --- public API -------------------------------------------------------------------------------


def load_config(
    path: PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fleet_overlay: bool = True,
) -> TillsightConfig:
    """Build the validated configuration, or raise ``ConfigError`` listing every problem.

    Layers, lowest first: schema defaults, the profile, the YAML file, the fleet overlay in
    ``{data_dir}/fleet/config.yaml`` (see ``fleet.py``; ``fleet_overlay=False`` skips it),
    environment variables, ``overrides``.

    ``path`` is an optional YAML file; ``env`` defaults to ``os.environ``; ``overrides`` is a
    nested dict (e.g. from command-line flags) that beats everything else.
    """
    source = Path(path) if path is not None else None
    file_layer = _read_yaml(source) if source is not None else {}
    env_layer, env_names, problems = _env_layer(os.environ if env is None else env)
    override_layer = dict(overrides or {})

    user = _deep_merge(_deep_merge(file_layer, env_layer), override_layer)
    if fleet_overlay:
        data_dir = user.get("data_dir", TillsightConfig.model_fields["data_dir"].default)
        try:
            overlay = read_overlay(Path(data_dir)) if isinstance(data_dir, (str, os.PathLike)) else {}
        except FleetConfigError as exc:
            problems.append(f"fleet overlay: {exc}")
            overlay = {}
        user = _deep_merge(_deep_merge(_deep_merge(file_layer, overlay), env_layer), override_layer)
    _drop_null_sections(user, TillsightConfig)
    profile = user.get("profile", DEFAULT_PROFILE)
    base = profile_defaults(profile) if isinstance(profile, str) and profile in PROFILES else {}
    if isinstance(base.get("detector"), dict):  # only the keys the chosen detector back end has
        base["detector"] = fit_detector_profile(base["detector"], user.get("detector"))

    try:
        config = TillsightConfig.model_validate(_deep_merge(base, user))
    except ValidationError as exc:
        problems += _format_errors(exc, env_names, override_layer)
    if problems:
        raise ConfigError(problems, source)

    for secret in SECRET_KEYS:
        if _contains(file_layer, secret) and not _contains(env_layer, secret):
            env_name = ENV_PREFIX + ENV_SEPARATOR.join(secret).upper()
            logger.warning("%s is set in %s; prefer the %s environment variable",
                           ".".join(secret), source, env_name)
    if config.profile != DEFAULT_PROFILE and "store_id" not in config.store.model_fields_set:
        logger.warning("profile %s uses the default store_id %r; set store.store_id",
                       config.profile, config.store.store_id)
    logger.debug("configuration loaded (profile %s, file %s)", config.profile, source)
    return config


def apply_overlay(config: TillsightConfig, overlay: Mapping[str, Any]) -> TillsightConfig:
    """``config`` with a (fleet) overlay merged on top, validated as a whole; ``ConfigError``
    naming each offending key otherwise."""
    try:
        return TillsightConfig.model_validate(_deep_merge(config.model_dump(), overlay))
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, {}, {})) from None


def dump_config(config: TillsightConfig) -> dict[str, Any]:
    """Return the configuration as plain JSON-ready data with every secret masked."""
    data = config.model_dump(mode="json")
    for secret in SECRET_KEYS:
        section = data
        for part in secret[:-1]:
            section = section[part]
        if section.get(secret[-1]) is not None:
            section[secret[-1]] = SECRET_MASK
    data["camera"]["uri"] = mask_uri(data["camera"]["uri"])
    return data


def check_config_file(path: PathLike, env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """Validate a file as ``load_config`` would, for ``tillsight config check FILE``.

    Returns ``(ok, message)``; the message is one summary line, or the full problem list.
    """
    try:
        config = load_config(path, env=env)
    except ConfigError as exc:
        return False, str(exc)
    detector = config.detector
    return True, (
        f"{path}: OK (profile {config.profile}, store {config.store.store_id}/"
        f"{config.store.device_id}, camera {mask_uri(config.camera.uri)}, "
        f"detector {detector.backend} {detector.bundle})"
    )
