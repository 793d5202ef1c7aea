"""The reminder channels this hub can use: every module of ``channels/`` that defines ``CHANNEL`` and
``build(config)``, built from the ``outbound`` configuration (a disabled channel is left out)."""

from __future__ import annotations

import importlib
import logging
import pkgutil

from analytics.credit.sending import channels
from analytics.credit.sending.base import Sender
from firmware_config.outbound import CHANNELS, OutboundConfig

log = logging.getLogger(__name__)


def channel_modules() -> dict[str, object]:
    """``{channel: module}`` of every plug-in in ``channels/``."""
    found: dict[str, object] = {}
    for info in pkgutil.iter_modules(channels.__path__):
        module = importlib.import_module(f"{channels.__name__}.{info.name}")
        name = getattr(module, "CHANNEL", None)
        if isinstance(name, str) and callable(getattr(module, "build", None)):
            found[name] = module
    return found


def build_senders(config: OutboundConfig) -> dict[str, Sender]:
    """``{channel: sender}`` of the enabled channels, in the order they are tried (``CHANNELS``)."""
    modules = channel_modules()
    senders: dict[str, Sender] = {}
    for name in sorted(modules, key=lambda n: CHANNELS.index(n) if n in CHANNELS else len(CHANNELS)):
        sender = modules[name].build(config)  # type: ignore[attr-defined]
        if sender is not None:
            senders[name] = sender
    log.info("collection reminders: %s", ", ".join(senders) or "no channel enabled (outbound.*.enabled)")
    return senders
