"""Enrolment photos uploaded on a product's catalogue page: owners only, CSRF, the rules of
``tillsight vision enrol`` (unreadable, tiny and blurred photos refused with the reason), photos of a
few megabytes accepted, and the gallery saved with the new examples."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.web.teach_session import GalleryAccess
from tests.vision.test_gallery import ThumbEmbedder, product_photo
from vision.gallery import Gallery

SKU = "SODA-KOLA-2L"


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def upload(*files: tuple[str, bytes]) -> dict:
    return {"photos": [(io.BytesIO(data), name) for name, data in files]}


@pytest.fixture
def gallery(web_context, tmp_path: Path) -> GalleryAccess:
    web_context.gallery = GalleryAccess(tmp_path / "gallery", ThumbEmbedder())
    return web_context.gallery


def test_the_owner_uploads_photos_and_unusable_ones_are_refused_with_the_reason(login_as, gallery) -> None:
    owner = login_as("owner")
    page = owner.get(f"/manage/products/{SKU}").get_data(as_text=True)
    assert 'id="photos-form"' in page and "from <strong>0</strong> example photos" in page
    big = cv2.resize(product_photo(5, 4), (1400, 1400), interpolation=cv2.INTER_NEAREST)
    big = np.clip(big.astype(np.int16) + np.random.default_rng(0).integers(-20, 21, big.shape), 0, 255).astype(np.uint8)
    assert len(png(big)) > 1024 * 1024  # more than every other request may send
    resp = owner.post(f"/manage/products/{SKU}/photos", content_type="multipart/form-data", data=upload(
        ("front.png", png(product_photo(5, 1))), ("side.png", png(product_photo(5, 3))), ("big.png", png(big)),
        ("blurry.png", png(cv2.GaussianBlur(product_photo(5, 2), (0, 0), 6))),
        ("notes.txt", b"not a photo"), ("broken.jpg", b"\xff\xd8 not really a jpeg")), follow_redirects=True)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    html = resp.get_data(as_text=True)
    assert f"Added 3 photos of {SKU}; the gallery has 3 of it" in html
    assert "blurry.png refused: blurred" in html
    assert "notes.txt refused: not a photo file" in html
    assert "broken.jpg refused: unreadable" in html
    assert "from <strong>3</strong> example photos" in html
    saved = Gallery.load(gallery.folder, ThumbEmbedder())
    assert saved.version == 1 and len(saved.manifest.skus[SKU]) == 3
    assert {e.source for e in saved.manifest.skus[SKU]} == {"photos"}
    assert saved.manifest.names[SKU] == "Kola Real 2 L"
    # the JSON API answers the same report
    api = owner.post(f"/api/products/{SKU}/photos", content_type="multipart/form-data",
                     data=upload(("again.png", png(product_photo(5, 1))), ("new.png", png(product_photo(5, 5)))))
    assert api.status_code == 200
    report = api.get_json()
    assert report["kept"] == 1 and report["skipped"][0]["photo"] == "again.png" and report["examples"] == 4


def test_only_owners_upload_with_the_token_and_a_gallery(login_as, gallery, web_context) -> None:
    photo = ("front.png", png(product_photo(5, 1)))
    for who in ("cashier", "supervisor"):
        resp = login_as(who).post(f"/api/products/{SKU}/photos", content_type="multipart/form-data",
                                  data=upload(photo))
        assert resp.status_code == 403
    owner = login_as("owner")
    no_token = owner.client.post(f"/manage/products/{SKU}/photos", content_type="multipart/form-data",
                                 data=upload(photo))
    assert no_token.status_code == 400
    none_chosen = owner.post(f"/manage/products/{SKU}/photos", content_type="multipart/form-data", data={})
    assert none_chosen.status_code == 400 and "choose one or more photos" in none_chosen.get_data(as_text=True)
    assert not (gallery.folder / "manifest.json").exists()
    web_context.gallery = None
    off = owner.post(f"/api/products/{SKU}/photos", content_type="multipart/form-data", data=upload(photo))
    assert off.status_code == 409 and "recognition is switched off" in off.get_json()["error"]
    assert "Photos cannot be added: recognition is switched off" in owner.get(f"/manage/products/{SKU}").get_data(
        as_text=True)
