"""(being built)"""

from __future__ import annotations

from flask import Blueprint

manage_blueprint = Blueprint("manage", __name__)
