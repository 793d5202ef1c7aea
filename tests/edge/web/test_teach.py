"""The "Teach a product" screen and API: supervisors and owners only, CSRF on every change, refused
while a sale is open (and paused when one opens), views kept from a tray drawn by the scene
compositor, dropped, approved into the store's gallery (version raised, photos with their
background removal), and refusals with the reason."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.web.teach import TEACHER_KEY
from edge.web.teach_session import GalleryAccess, Teacher, TrayLook
from tests.edge.web.test_cashier_api import open_shift, start_sale
from tests.support.tray import empty_tray, noisy, tray_with
from tests.vision.test_gallery import ThumbEmbedder
from vision.gallery import Gallery
from vision.gallery.tray_enrol import TrayEnrolConfig

SKU = "SODA-KOLA-2L"  # in the seeded store and the demo catalogue the tray is drawn from


class ScriptedTray:
    """A camera a test controls: ``show(image, items)`` changes what lies on the tray; every read is a
    new noisy frame of it (a new array, as the live loop hands out)."""

    def __init__(self, image: np.ndarray, items_on_tray: int | None = 0) -> None:
        self._lock = threading.Lock()
        self._image, self._items = image, items_on_tray
        self.reads = 0

    def show(self, image: np.ndarray, items_on_tray: int | None = None) -> None:
        with self._lock:
            self._image, self._items = image, items_on_tray

    def __call__(self) -> TrayLook:
        with self._lock:
            self.reads += 1
            return TrayLook(noisy(self._image, self.reads), self._items)


@pytest.fixture
def tray() -> ScriptedTray:
    return ScriptedTray(empty_tray())


@pytest.fixture
def teacher(app, web_context, tray: ScriptedTray, tmp_path: Path) -> Teacher:
    web_context.gallery = GalleryAccess(tmp_path / "gallery", ThumbEmbedder())
    t = Teacher(tray, web_context.gallery, web_context.checkout.sale_open, TrayEnrolConfig(still_frames=3),
                poll_s=0.01)
    app.extensions[TEACHER_KEY] = t
    yield t
    t.close()


def wait_status(teacher: Teacher, cond, what: str, timeout: float = 20.0) -> dict:
    """Wait on the teacher's change notifications until ``cond(status)`` holds."""
    with teacher.changed:
        ok = teacher.changed.wait_for(lambda: cond(teacher.status()), timeout)
        status = teacher.status()
    assert ok, f"timed out waiting for {what}: {status}"
    return status


def put_down(teacher: Teacher, tray: ScriptedTray, pose: int, views: int) -> dict:
    tray.show(tray_with([(SKU, pose)]), 1)
    return wait_status(teacher, lambda s: len(s["views"]) == views, f"view {views}")


def test_cashiers_cannot_teach_and_every_change_needs_the_csrf_token(login_as, teacher) -> None:
    cashier = login_as("cashier")
    assert cashier.get("/teach").status_code in (302, 403)
    resp = cashier.post("/api/teach/start", json={"sku": SKU})
    assert resp.status_code == 403
    assert "Teach a product" not in cashier.get("/till").get_data(as_text=True)
    supervisor = login_as("supervisor")
    page = supervisor.get("/teach")
    assert page.status_code == 200 and 'id="teach-search"' in page.get_data(as_text=True)
    assert 'id="nav-teach"' in page.get_data(as_text=True)
    assert 'id="teach-new"' not in page.get_data(as_text=True)  # only owners create products
    assert 'id="teach-new"' in login_as("owner").get("/teach").get_data(as_text=True)
    no_token = supervisor.client.post("/api/teach/start", json={"sku": SKU})
    assert no_token.status_code == 400 and "security token" in no_token.get_json()["error"]
    assert teacher.status()["state"] == "idle"


def test_a_supervisor_teaches_a_product_on_the_tray_and_it_lands_in_the_gallery(login_as, teacher, tray,
                                                                             web_context) -> None:
    maria = login_as("supervisor")
    started = maria.post("/api/teach/start", json={"sku": SKU})
    assert started.status_code == 200, started.get_data(as_text=True)
    assert started.get_json()["state"] == "empty" and started.get_json()["started_by"] == "María"
    # a second start while teaching is refused, naming who is teaching what
    again = login_as("owner").post("/api/teach/start", json={"sku": SKU})
    assert again.status_code == 409 and "María is teaching" in again.get_json()["error"]
    wait_status(teacher, lambda s: s["state"] == "capturing", "the empty tray")
    for k in range(4):
        put_down(teacher, tray, k, k + 1)
    # too few views: approval refused with the reason
    early = maria.post("/api/teach/approve")
    assert early.status_code == 409 and "at least 5 views (4 now)" in early.get_json()["error"]
    # a bad view dropped; two more turns
    first = teacher.status()["views"][0]["id"]
    thumb = maria.get(f"/teach/views/{first}.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert maria.post(f"/api/teach/views/{first}/drop").get_json()["views"][0]["id"] != first
    assert maria.get(f"/teach/views/{first}.jpg").status_code == 404
    put_down(teacher, tray, 4, 4)
    status = put_down(teacher, tray, 5, 5)
    assert status["can_approve"]
    approved = maria.post("/api/teach/approve")
    assert approved.status_code == 200, approved.get_data(as_text=True)
    body = approved.get_json()
    assert body["state"] == "saved" and body["result"]["version"] == 1 and body["result"]["kept"] >= 4
    assert "recognised from the next sale" in body["message"]
    # the gallery holds the views as the product's till examples, each photo with its background removal
    gallery = Gallery.load(web_context.gallery.folder, ThumbEmbedder())
    assert gallery.version == 1 and gallery.skus == [SKU] and gallery.manifest.names[SKU] == "Kola Real 2 L"
    examples = gallery.manifest.skus[SKU]
    assert len(examples) == body["result"]["examples"] == body["result"]["kept"]
    assert {e.source for e in examples} == {"till"}
    photo = cv2.imread(str(gallery.folder / examples[0].photo), cv2.IMREAD_UNCHANGED)
    assert photo.shape[2] == 4 and 0 < (photo[..., 3] > 0).mean() < 1


def test_teaching_never_touches_a_sale(login_as, teacher, tray) -> None:
    ana = login_as("cashier")
    open_shift(ana)
    start_sale(ana)
    maria = login_as("supervisor")
    refused = maria.post("/api/teach/start", json={"sku": SKU})
    assert refused.status_code == 409 and "a sale is in progress" in refused.get_json()["error"]
    assert "A sale is in progress" in maria.get("/teach").get_data(as_text=True)
    assert ana.post("/api/checkout/void", json={}).status_code == 200
    assert maria.post("/api/teach/start", json={"sku": SKU}).status_code == 200
    wait_status(teacher, lambda s: s["state"] == "capturing", "the empty tray")
    put_down(teacher, tray, 0, 1)
    # a sale opens meanwhile: teaching pauses; the sale's goods on the tray are never kept
    start_sale(ana)
    wait_status(teacher, lambda s: s["paused"], "the pause")
    tray.show(tray_with([("BEER-PRZ-355", 2)]), 1)
    reads = tray.reads
    wait_status(teacher, lambda s: tray.reads > reads + 10, "frames read during the sale", timeout=10)
    assert len(teacher.status()["views"]) == 1
    assert ana.post("/api/checkout/void", json={}).status_code == 200
    # after the sale the tray must be seen empty again before another view is kept
    status = wait_status(teacher, lambda s: not s["paused"], "the end of the pause")
    assert status["state"] == "empty"
    tray.show(empty_tray(), 0)
    wait_status(teacher, lambda s: s["state"] == "capturing", "the empty tray again")
    put_down(teacher, tray, 1, 2)
    assert maria.post("/api/teach/cancel").get_json()["state"] == "idle"


def test_what_cannot_be_taught_is_refused_with_the_reason(login_as, teacher, tray, web_context) -> None:
    owner = login_as("owner")
    missing = owner.post("/api/teach/start", json={"sku": "NOPE-1"})
    assert missing.status_code == 404 and "no product 'NOPE-1'" in missing.get_json()["error"]
    web_context.store.products.set_active(SKU, False)
    inactive = owner.post("/api/teach/start", json={"sku": SKU})
    assert inactive.status_code == 409 and "inactive" in inactive.get_json()["error"]
    web_context.store.products.set_active(SKU, True)
    # two products on the tray: the reason is on the screen, nothing is kept
    assert owner.post("/api/teach/start", json={"sku": SKU}).status_code == 200
    wait_status(teacher, lambda s: s["state"] == "capturing", "the empty tray")
    tray.show(tray_with([(SKU, 0), ("TUNA-170", 1)]), 2)
    status = wait_status(teacher, lambda s: s["warning"] is not None, "the refusal")
    assert status["warning"].startswith("2 things on the tray") and status["views"] == []
    # a corrupt gallery is reported by file name at approval, and the views are kept for another try
    for k in range(5):
        put_down(teacher, tray, k, k + 1)
    folder = web_context.gallery.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text("{ not json")
    broken = owner.post("/api/teach/approve")
    assert broken.status_code == 409 and "manifest.json" in broken.get_json()["error"]
    assert len(teacher.status()["views"]) == 5 and teacher.status()["state"] == "capturing"


def test_the_screen_preselects_a_product_by_sku_or_barcode(login_as, teacher, web_context) -> None:
    owner = login_as("owner")
    product = web_context.store.products.get(SKU)
    html = owner.get(f"/teach?sku={SKU}").get_data(as_text=True)
    assert '"sku": "SODA-KOLA-2L"' in html and "Kola Real 2 L" in html
    assert product.barcode
    assert '"sku": "SODA-KOLA-2L"' in owner.get(f"/teach?barcode={product.barcode}").get_data(as_text=True)
    unknown = owner.get("/teach?barcode=7460000000017").get_data(as_text=True)
    assert 'value="7460000000017"' in unknown  # a new product's barcode, filled in
    # no live camera in this app: reading a barcode off the tray says so instead of failing
    no_camera = owner.get("/api/teach/barcode")
    assert no_camera.status_code == 409 and "no camera running" in no_camera.get_json()["error"]
