"""(being built)"""

from __future__ import annotations

from flask import Blueprint

dashboard_blueprint = Blueprint("dashboard", __name__)
