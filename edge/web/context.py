"""What the web layer is given by the appliance: the store, staff auth, the till and the live view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from edge.auth.service import Authenticator
from edge.checkout.service import CheckoutService
from edge.store import Store
from firmware_config.schema import TillConfig

if TYPE_CHECKING:
    from edge.web.live import LiveView
    from edge.web.teach_session import GalleryAccess
    from vision.gallery.candidates import CandidateStore


@dataclass
class WebContext:
    store: Store
    auth: Authenticator
    checkout: CheckoutService
    store_id: str
    device_id: str
    live: LiveView | None = None
    # device health for the dashboard: camera fps, inference ms, model version, sync backlog, disk ...
    health: Callable[[], dict[str, Any]] = field(default=dict)
    # the hub's latest insights for this store (None until the hub sent some)
    insights: Callable[[], dict[str, Any] | None] = field(default=lambda: None)
    # called after the owner changes the catalogue or settings (e.g. to refresh caches)
    on_settings_changed: Callable[[], None] = field(default=lambda: None)
    # the store's gallery and its embedder, for teaching products and enrolment photos (None: no recognition)
    gallery: GalleryAccess | None = None
    # crops from cashiers' corrections waiting for the owner's approval into the gallery (None: none kept)
    candidates: CandidateStore | None = None
    # the till's counter: cash drawers (one open shift per till or per cashier) and receipt printer
    till: TillConfig = field(default_factory=TillConfig)


def ctx() -> WebContext:
    return current_app.extensions["tillsight.ctx"]
