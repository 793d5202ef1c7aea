"""Gallery candidates on the owner's side: a cashier rings up an unknown item by barcode at the till, its
crop waits on /manage/candidates, the owner approves it into the gallery (saved, the SKU matched from it)
or rejects it; cashiers cannot reach the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.auth.service import Authenticator
from edge.checkout.corrections import CorrectionKeeper
from edge.checkout.service import CheckoutService
from edge.store import Store
from edge.web.context import WebContext
from edge.web.teach_session import GalleryAccess
from tests.edge.checkout.helpers import tray, unknown_item
from tests.edge.web.test_cashier_api import RICE, RICE_BARCODE, open_shift, start_sale
from tests.vision.test_gallery import ThumbEmbedder, product_photo
from vision.gallery import Gallery
from vision.gallery.candidates import CandidateStore

BOX = (200.0, 120.0, 360.0, 280.0)


@pytest.fixture
def web_context(store: Store, tmp_path: Path) -> WebContext:
    candidates = CandidateStore(tmp_path / "gallery-candidates")
    keeper = CorrectionKeeper(candidates)
    auth = Authenticator(store.users)
    checkout = CheckoutService(store, auth, "s-001", "till-1", corrections=keeper)
    context = WebContext(store=store, auth=auth, checkout=checkout, store_id="s-001", device_id="till-1",
                         gallery=GalleryAccess(tmp_path / "gallery", ThumbEmbedder()), candidates=candidates)
    yield context
    keeper.stop()


def _frame_with_product(seed: int) -> np.ndarray:
    frame = np.full((480, 640, 3), 90, np.uint8)
    x1, y1, x2, y2 = (int(v) for v in BOX)
    frame[y1:y2, x1:x2] = product_photo(seed, size=y2 - y1)[:, : x2 - x1]
    return frame


def _correct_at_the_till(login_as, web_context: WebContext, seed: int, track_id: int) -> None:
    """A cashier rings up an unknown item by its barcode; its crop becomes a candidate."""
    ana = login_as("cashier")
    if ana.get("/api/checkout").get_json()["shift"] is None:
        open_shift(ana)
    start_sale(ana)
    web_context.checkout.on_basket(tray(unknown_item(track_id, box=BOX)), _frame_with_product(seed))
    line_id = ana.get("/api/checkout").get_json()["lines"][0]["line_id"]
    resp = ana.post(f"/api/checkout/lines/{line_id}/resolve", json={"code": RICE_BARCODE, "how": "barcode"})
    assert resp.status_code == 200, resp.get_json()
    assert web_context.checkout.corrections is not None and web_context.checkout.corrections.wait_idle(10)


def test_the_owner_approves_a_corrections_crop_into_the_gallery(login_as, web_context: WebContext, tmp_path: Path):
    _correct_at_the_till(login_as, web_context, seed=5, track_id=1)
    owner = login_as("owner")
    page = owner.get("/manage/candidates").get_data(as_text=True)
    [cand] = owner.get("/api/manage/candidates").get_json()["candidates"]
    assert cand["sku"] == RICE and cand["how"] == "barcode" and cand["camera_said"] is None
    assert f'data-id="{cand["id"]}"' in page and "rung up by its barcode" in page and "an unknown item" in page
    photo = owner.get(cand["photo_url"])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"

    resp = owner.post(f"/manage/candidates/{cand['id']}/approve")
    assert resp.status_code == 303
    gallery = Gallery.load(tmp_path / "gallery", ThumbEmbedder())
    assert gallery.version == 1 and gallery.skus == [RICE]
    assert gallery.manifest.skus[RICE][0].source == "correction"
    embedder = ThumbEmbedder()
    crop = _frame_with_product(5)[120:280, 200:360]
    assert gallery.matcher().identify(embedder.embed([crop]))[0].sku == RICE
    assert owner.get("/api/manage/candidates").get_json()["candidates"] == []
    again = owner.post(f"/manage/candidates/{cand['id']}/approve")
    assert again.status_code == 409 and "no candidate" in again.get_data(as_text=True)


def test_the_owner_rejects_one_and_a_cashier_cannot_see_them(login_as, web_context: WebContext, tmp_path: Path):
    _correct_at_the_till(login_as, web_context, seed=6, track_id=2)
    ana = login_as("cashier")
    assert ana.get("/manage/candidates").status_code in (302, 403)
    assert ana.get("/api/manage/candidates").status_code == 403
    owner = login_as("owner")
    [cand] = owner.get("/api/manage/candidates").get_json()["candidates"]
    assert ana.post(f"/manage/candidates/{cand['id']}/reject").status_code in (302, 403)
    assert owner.post(f"/manage/candidates/{cand['id']}/reject").status_code == 303
    assert owner.get("/api/manage/candidates").get_json()["candidates"] == []
    assert not (tmp_path / "gallery" / "manifest.json").exists()  # nothing reached the gallery
    assert "No candidates waiting" in owner.get("/manage/candidates").get_data(as_text=True)
