"""``tillsight bench real``'s parts on a small folder in the real-counter layout, written by the
layout's own writer from demo-catalogue renders: reading the layout, which frames are measured,
box matching, the unenrolled choice, and the whole bench run."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.real import choose_unenrolled, match_boxes, run_real_bench
from benchmarks.real_layout import RealDataWriter, load_real_data
from vision.catalogue import demo_catalogue
from vision.product_art import render_product

PRODUCTS = (0, 5, 12)  # three demo products that look nothing alike
EXEMPLAR_FRAMES = 4
FRAMES = 8


def _product(index: int, long_side: int = 170) -> np.ndarray:
    art = render_product(demo_catalogue()[index], "front")
    scale = long_side / max(art.shape[:2])
    return cv2.resize(art, (round(art.shape[1] * scale), round(art.shape[0] * scale)), interpolation=cv2.INTER_AREA)


def write_counter_folder(root: Path, seed: int = 0) -> Path:
    """FRAMES frames of the three products on a plain counter, turned a different way in each frame;
    exemplars cut from the first EXEMPLAR_FRAMES frames."""
    rng = np.random.default_rng(seed)
    catalogue = demo_catalogue()
    writer = RealDataWriter(root, [catalogue[i].name for i in PRODUCTS])
    slots = [(40, 40), (330, 40), (180, 260)]
    for f in range(FRAMES):
        surface = rng.integers(140, 200, size=3).astype(np.float32)  # each frame: other light, other spot
        frame = np.clip(rng.normal(surface, 6, size=(480, 560, 3)), 0, 255).astype(np.uint8)
        boxes = []
        for cid, slot in zip(rng.permutation(len(PRODUCTS)), slots, strict=True):
            art = _product(PRODUCTS[cid], int(rng.integers(140, 200)))
            art[..., :3] = np.clip(art[..., :3] * rng.uniform(0.75, 1.15), 0, 255).astype(np.uint8)
            art = np.ascontiguousarray(np.rot90(art, int(rng.integers(4))))
            h, w = art.shape[:2]
            x, y = slot
            alpha = art[..., 3:4].astype(np.float32) / 255.0
            region = frame[y:y + h, x:x + w].astype(np.float32)
            frame[y:y + h, x:x + w] = (art[..., :3] * alpha + region * (1 - alpha)).astype(np.uint8)
            ys, xs = np.nonzero(art[..., 3] > 0)
            boxes.append((int(cid), (float(x + xs.min()), float(y + ys.min()), float(x + xs.max() + 1),
                                     float(y + ys.max() + 1))))
        path = writer.add_frame(f"v1_f{f:04d}", frame, boxes)
        if f < EXEMPLAR_FRAMES:
            for cid, box in boxes:
                writer.add_exemplar(path, frame, cid, box)
    writer.close()
    return root


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counter_folder(tmp_path_factory.mktemp("counter"))


def test_the_layout_reads_back_with_skus_from_the_exemplar_folders(counter: Path) -> None:
    data = load_real_data(counter)
    assert data.skus == sorted(data.exemplars) or set(data.skus) == set(data.exemplars)
    assert len(data.images) == FRAMES
    measured = data.measured_frames()
    assert [p.name for p in measured] == [f"v1_f{f:04d}.jpg" for f in range(EXEMPLAR_FRAMES, FRAMES)]
    truth = data.truth(measured[0], (560, 480))
    assert len(truth) == 3 and {t.sku for t in truth} == set(data.skus)
    assert all(4 == len(v) for v in data.exemplars.values())


def test_a_folder_missing_a_part_is_named(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    with pytest.raises(FileNotFoundError, match="labels"):
        load_real_data(tmp_path)


def test_boxes_match_one_to_one_by_iou() -> None:
    truth = [(0, 0, 100, 100), (200, 0, 300, 100)]
    found = [(5, 5, 105, 105), (0, 0, 98, 98), (400, 400, 450, 450), (210, 10, 300, 100)]
    pairs = dict(match_boxes(found, truth))
    assert pairs == {1: 0, 3: 1}  # the better of the two boxes on the first product; the far box unmatched


def test_the_unenrolled_choice_is_fixed_by_the_seed() -> None:
    skus = [f"sku{i}" for i in range(19)]
    assert choose_unenrolled(skus, 4, 0) == choose_unenrolled(skus, 4, 0)
    assert len(set(choose_unenrolled(skus, 4, 0))) == 4
    assert choose_unenrolled(skus, 0) == []
    with pytest.raises(ValueError):
        choose_unenrolled(skus, 19)


def test_the_bench_identifies_products_enrolled_from_other_frames(counter: Path, demo_bundle: Path) -> None:
    figures = run_real_bench(counter, bundle=demo_bundle, threads=2)
    assert figures["images"] == FRAMES - EXEMPLAR_FRAMES
    assert figures["enrolled"] == 3 and figures["boxes"]["truth"] == 3 * (FRAMES - EXEMPLAR_FRAMES)
    assert figures["given_boxes"]["best_top1"] == 1.0
    assert figures["given_boxes"]["box_top1"] >= 0.75
    assert 0.0 <= figures["recall"] <= 1.0 and figures["ms_per_image"] > 0


def test_an_unenrolled_product_is_flagged_unknown(counter: Path, demo_bundle: Path) -> None:
    figures = run_real_bench(counter, bundle=demo_bundle, unenrolled=1, threads=2)
    assert figures["enrolled"] == 2 and len(figures["unenrolled"]) == 1
    assert figures["given_boxes"]["unknown_recall"] == 1.0
    assert figures["given_boxes"]["false_unknown"] <= 0.25
