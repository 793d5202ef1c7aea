"""Tillsight configuration: one typed, validated model with device profiles.

Imports nothing else from this repository, so every side (device, hub, training) may use it.
"""

from .loader import ConfigError, apply_overlay, check_config_file, dump_config, load_config
from .profiles import PROFILES, profile_defaults
from .schema import TillsightConfig

__all__ = [
    "PROFILES",
    "ConfigError",
    "TillsightConfig",
    "apply_overlay",
    "check_config_file",
    "dump_config",
    "load_config",
    "profile_defaults",
]
