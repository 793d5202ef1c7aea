"""Strict reading of query-string values; a bad value is a 400 that names the parameter."""

from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest

from i18n import gettext as _

_INT_RE = re.compile(r"^\d{1,9}$")


def int_arg(name: str, lo: int, hi: int, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _INT_RE.match(raw.strip()):
        raise BadRequest(_("%(name)s must be a whole number from %(low)s to %(high)s", name=name, low=lo, high=hi))
    value = int(raw.strip())
    if not lo <= value <= hi:
        raise BadRequest(_("%(name)s must be a whole number from %(low)s to %(high)s", name=name, low=lo, high=hi))
    return value


def choice_arg(name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise BadRequest(_("%(name)s must be one of %(choices)s", name=name, choices=", ".join(choices)))
    return raw
