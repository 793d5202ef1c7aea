"""Geometric verification (vision/gallery/verify.py): a pack matches its own photo turned and scaled, another
pack does not; the keypoints file beside a gallery is rebuilt when damaged or made with other settings,
and reported by name; a look-alike by embedding that does not verify is an unknown item; the shortlist
rule names a pack whose cosine falls short when its print and colours line up, never a recoloured
sibling."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.vision.test_gallery import ThumbEmbedder
from vision.gallery import Gallery, Matcher, Thresholds
from vision.gallery.verify import (
    KEYPOINTS,
    MAX_COLOUR,
    MIN_INLIERS,
    SHORTLIST_INLIERS,
    Verifier,
    colour_distance,
    extract,
    homography,
    inliers,
    load_keypoints,
    verifiable,
)

WORDS = ["CHIPS", "SALTY", "90g", "KETCHUP", "CRUNCH", "NEW!", "SNACK", "Original", "Maz", "Onion", "Best",
         "Taste", "Net wt", "Vinegar"]


def pack(seed: int, size: tuple[int, int] = (300, 420)) -> np.ndarray:
    """A printed pack face: coloured bands, shapes and words placed by ``seed`` (rich local texture)."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = np.full((h, w, 3), rng.integers(150, 256, 3), np.uint8)
    for _ in range(6):
        y = int(rng.integers(0, h))
        cv2.rectangle(img, (0, y), (w, y + int(rng.integers(8, 30))), rng.integers(0, 256, 3).tolist(), -1)
    for _ in range(8):
        cv2.circle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(5, 30)),
                   rng.integers(0, 256, 3).tolist(), int(rng.choice([-1, 2])))
    for _ in range(22):
        cv2.putText(img, str(rng.choice(WORDS)), (int(rng.integers(0, w - 60)), int(rng.integers(15, h))),
                    int(rng.choice([0, 2, 3, 4])), float(rng.uniform(0.4, 1.1)), rng.integers(0, 120, 3).tolist(),
                    int(rng.integers(1, 3)), cv2.LINE_AA)
    return img


def on_counter(image: np.ndarray, angle: float, scale: float) -> np.ndarray:
    """``image`` turned by ``angle`` degrees and scaled on a plain counter, a little blurred, cut out by its
    box with a 4 % margin (as the finder's crop would be): another view of the pack."""
    h, w = image.shape[:2]
    side = int(max(h, w) * 1.5)
    canvas = np.full((side, side, 3), (90, 95, 100), np.uint8)
    canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = image
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    turned = cv2.GaussianBlur(cv2.warpAffine(canvas, m, (side, side), borderValue=(90, 95, 100)), (3, 3), 0)
    corners = np.array([[(side - w) / 2, (side - h) / 2, 1], [(side + w) / 2, (side + h) / 2, 1],
                        [(side - w) / 2, (side + h) / 2, 1], [(side + w) / 2, (side - h) / 2, 1]]) @ m.T
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    mx, my = 0.04 * (x2 - x1), 0.04 * (y2 - y1)
    crop = turned[max(0, int(y1 - my)):int(y2 + my), max(0, int(x1 - mx)):int(x2 + mx)]
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


@pytest.mark.parametrize(("angle", "scale"), [(0, 1.0), (90, 0.8), (35, 0.5), (180, 1.3)])
def test_a_pack_matches_its_own_photo_turned_and_scaled(angle: float, scale: float) -> None:
    photo = extract(pack(1))
    assert inliers(extract(on_counter(pack(1), angle, scale)), photo) >= MIN_INLIERS


def test_another_pack_does_not_match() -> None:
    photo = extract(pack(1))
    for other in (2, 3, 4):  # the same words in the same fonts line up by chance here and there, no more
        assert inliers(extract(on_counter(pack(other), 20, 0.9)), photo) < MIN_INLIERS // 2


def test_an_image_without_texture_has_no_keypoints_and_matches_nothing() -> None:
    blank = extract(np.full((200, 300, 3), 128, np.uint8))
    assert len(blank.points) == 0
    assert inliers(blank, extract(pack(1))) == 0 and inliers(extract(pack(1)), blank) == 0


def test_a_look_alike_by_embedding_that_does_not_verify_is_an_unknown_item() -> None:
    # the same embedding for both queries: only the local features tell the pack from its sibling
    emb = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    verifier = Verifier({"A": [extract(pack(1))], "B": [extract(pack(2))]})
    matcher = Matcher(["A", "B"], emb, np.array([0, 1]), Thresholds(0.9, 0.0), verifier=verifier)
    query = np.array([[0.99, 0.14]], np.float32)
    query /= np.linalg.norm(query)
    same, sibling = matcher.identify(np.vstack([query, query]), [on_counter(pack(1), 60, 0.9), pack(5)])
    assert (same.sku, same.known) == ("A", True) and same.inliers is not None and same.inliers >= MIN_INLIERS
    assert (sibling.sku, sibling.known, sibling.best) == (None, False, "A")
    assert [s for s, _ in sibling.alternatives] == ["A", "B"]
    # without the crops the cosine rule alone decides (the sibling is named: why verification exists)
    assert matcher.identify(query)[0].sku == "A"


def recoloured(image: np.ndarray, hue_shift: int) -> np.ndarray:
    """The same print in other colours: a sibling flavour of one brand."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + hue_shift) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def test_colours_after_alignment_tell_a_pack_from_a_recoloured_sibling() -> None:
    photo = extract(pack(1))
    views = {"own": on_counter(pack(1), 35, 0.8), "dimmer light": on_counter((pack(1) * 0.8).astype(np.uint8), 20, 0.9),
             "sibling": on_counter(recoloured(pack(1), 45), 35, 0.8)}
    distance = {}
    for name, view in views.items():
        query = extract(view, keep_lab=True)
        n, h = homography(query, photo)
        assert n >= MIN_INLIERS and h is not None  # the print lines up in every case, the sibling's too
        distance[name] = colour_distance(query, photo, h)
    assert distance["own"] < MAX_COLOUR / 3 and distance["dimmer light"] < MAX_COLOUR / 2
    assert distance["sibling"] > MAX_COLOUR
    # a query extracted without its Lab image cannot be compared: never a pass
    n, h = homography(extract(views["own"]), photo)
    assert h is not None and colour_distance(extract(views["own"]), photo, h) == float("inf")


def test_the_shortlist_names_a_pack_whose_cosine_falls_short_but_never_a_recoloured_sibling() -> None:
    # a crop that takes in part of a neighbour scores a low cosine (here 0.8 against a threshold of 0.9)
    emb = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    verifier = Verifier({"A": [extract(pack(1))], "B": [extract(pack(2))]})
    matcher = Matcher(["A", "B"], emb, np.array([0, 1]), Thresholds(0.9, 0.0), verifier=verifier)
    query = np.array([[0.8, 0.6]], np.float32)
    own, sibling, other = matcher.identify(np.vstack([query] * 3), [
        on_counter(pack(1), 60, 0.9), on_counter(recoloured(pack(1), 45), 60, 0.9), on_counter(pack(7), 60, 0.9)])
    assert (own.sku, own.known) == ("A", True) and own.inliers is not None and own.inliers >= SHORTLIST_INLIERS
    assert [s for s, _ in own.alternatives] == ["B"]
    assert (sibling.sku, sibling.known, sibling.best) == (None, False, "A")
    assert (other.sku, other.known) == (None, False)
    # the shortlist reaches past the best cosine: a crop of B that scores higher for A is still named B
    close = Matcher(["A", "B"], np.array([[1.0, 0.0], [0.8, 0.6]], np.float32), np.array([0, 1]),
                    Thresholds(0.9, 0.0), verifier=verifier)
    b_view = close.identify(np.array([[1.0, 0.0]], np.float32), [on_counter(pack(2), 10, 1.0)])[0]
    assert (b_view.sku, b_view.known, b_view.best, b_view.confidence) == ("B", True, "B", pytest.approx(0.8))
    assert [s for s, _ in b_view.alternatives] == ["A"]
    # too low a cosine is an unknown item whatever the print says
    far = np.array([[0.5, np.sqrt(0.75)]], np.float32)
    assert matcher.identify(far, [on_counter(pack(1), 60, 0.9)])[0].known is False


def gallery_of_packs(folder: Path) -> Gallery:
    gallery = Gallery.create(folder, ThumbEmbedder())
    emb = ThumbEmbedder()
    for sku, seed in (("A", 1), ("B", 2)):
        image = pack(seed)
        ok, data = cv2.imencode(".png", image)
        assert ok
        gallery.add_photo(sku, data.tobytes(), ".png", emb.embed([image])[0])
    gallery.save()
    return gallery


def test_keypoints_are_kept_beside_the_gallery_and_used_by_its_matcher(tmp_path: Path) -> None:
    gallery = gallery_of_packs(tmp_path / "g")
    assert (tmp_path / "g" / KEYPOINTS).is_file()  # computed once, at saving
    matcher = Gallery.load(tmp_path / "g").matcher(Thresholds(-1.0, 0.0))
    crop = on_counter(pack(2), 90, 0.8)
    [result] = matcher.identify(ThumbEmbedder().embed([crop]), [crop])
    assert result.inliers is not None
    assert matcher.verifier is not None and matcher.verifier.covers("A") and matcher.verifier.covers("B")
    assert gallery.version == 1
    # the file keeps each photo's colour layout and size, as extracted (the colour check needs them)
    [stored] = matcher.verifier.by_sku["A"]
    fresh = extract(pack(1))
    assert stored.size == fresh.size and np.allclose(stored.cells, fresh.cells) and stored.lab is None


@pytest.mark.parametrize("damage", [b"not a zip file", b""])
def test_a_corrupt_keypoints_file_is_reported_by_name_and_rebuilt(tmp_path: Path, damage: bytes,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    gallery = gallery_of_packs(tmp_path / "g")
    path = tmp_path / "g" / KEYPOINTS
    good = load_keypoints(tmp_path / "g", gallery.manifest)
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="vision.gallery.verify"):
        rebuilt = load_keypoints(tmp_path / "g", gallery.manifest)
    assert str(path) in caplog.text and "rebuilding" in caplog.text
    assert sorted(rebuilt) == sorted(good)
    assert all(np.array_equal(rebuilt[s].descriptors, good[s].descriptors) for s in good)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vision.gallery.verify"):
        load_keypoints(tmp_path / "g", gallery.manifest)  # the file was rewritten: read without a warning
    assert caplog.text == ""


def test_a_keypoints_file_made_with_other_settings_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import vision.gallery.verify as verify

    gallery = gallery_of_packs(tmp_path / "g")
    monkeypatch.setattr(verify, "SETTINGS", {**verify.SETTINGS, "side": 999})
    with caplog.at_level(logging.WARNING, logger="vision.gallery.verify"):
        load_keypoints(tmp_path / "g", gallery.manifest)
    assert "other settings" in caplog.text and KEYPOINTS in caplog.text


def test_a_missing_photo_leaves_its_sku_to_the_cosine_rule(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gallery = gallery_of_packs(tmp_path / "g")
    (tmp_path / "g" / KEYPOINTS).unlink()
    photo = tmp_path / "g" / gallery.manifest.skus["B"][0].photo
    photo.unlink()
    with caplog.at_level(logging.WARNING, logger="vision.gallery.verify"):
        matcher = Gallery.load(tmp_path / "g").matcher()
    assert str(photo) in caplog.text
    assert matcher.verifier is not None and matcher.verifier.covers("A") and not matcher.verifier.covers("B")


def test_a_plain_pack_is_not_verifiable_and_keeps_the_cosine_rule(tmp_path: Path) -> None:
    gallery = Gallery.create(tmp_path / "g", ThumbEmbedder())
    plain = np.full((200, 300, 3), (40, 40, 200), np.uint8)
    ok, data = cv2.imencode(".png", plain)
    assert ok
    gallery.add_photo("PLAIN", data.tobytes(), ".png", ThumbEmbedder().embed([plain])[0])
    gallery.save()
    matcher = Gallery.load(tmp_path / "g").matcher(Thresholds(0.9, 0.0))
    assert matcher.verifier is not None and not matcher.verifier.covers("PLAIN")
    [result] = matcher.identify(ThumbEmbedder().embed([plain]), [plain])
    assert (result.sku, result.known, result.inliers) == ("PLAIN", True, None)


def test_a_crop_too_small_to_verify_keeps_the_cosine_rule() -> None:
    emb = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    verifier = Verifier({"A": [extract(pack(1))], "B": [extract(pack(2))]})
    matcher = Matcher(["A", "B"], emb, np.array([0, 1]), Thresholds(0.9, 0.0), verifier=verifier)
    far = cv2.resize(pack(5), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)  # 168 px: a product far away
    assert not verifiable(far) and len(extract(far).points) == 0
    [result] = matcher.identify(emb[:1], [far])
    assert (result.sku, result.known, result.inliers) == ("A", True, None)
