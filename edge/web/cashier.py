"""(being built)"""

from __future__ import annotations

from flask import Blueprint

cashier_blueprint = Blueprint("cashier", __name__)
