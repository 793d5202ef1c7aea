"""Rendered YOLO datasets from a cut-out folder (the demo catalogue's export or a shop's photos).

Layout written (ultralytics' YOLO format)::

    out/
      data.yaml              path, train, val, names {index: sku}
      classes.json           [sku, ...] in class-index order
      dataset.json           seeds, counts, style and the content hash (the bundle's data hash)
      images/{train,val}/000123.jpg
      labels/{train,val}/000123.txt   class cx cy w h (normalised)

Scene seeds: training uses ``seed_base + i``, validation ``seed_base + VAL_OFFSET + i``, the
threshold calibration set ``CALIBRATION_SEED_BASE + i``; the held-out test set
(training.evaluate) uses ``TEST_SEED_BASE`` and background families the training set never sees.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2

from vision.backgrounds import HELD_OUT_FAMILIES, TRAIN_FAMILIES
from vision.cutouts import CutoutLibrary
from vision.scene import Scene, SceneStyle, compose_scene

log = logging.getLogger(__name__)

VAL_OFFSET = 5_000_000
TEST_SEED_BASE = 900_000_000
CALIBRATION_SEED_BASE = 800_000_000  # operating thresholds are chosen on these, never on the test set


@dataclass
class DatasetSpec:
    cutouts: str
    train_images: int = 3000
    val_images: int = 200
    seed_base: int = 0
    frame_size: tuple[int, int] = (640, 480)


# The test set's families, fixed: adding a training family must not re-deal the held-out scenes,
# or bundles trained before and after it could no longer be compared on the same test set.
TEST_FAMILIES = ("wood", "steel", "laminate", "checker_mat", "fabric") + tuple(HELD_OUT_FAMILIES)


def train_style(frame_size: tuple[int, int] = (640, 480)) -> SceneStyle:
    """Training scenes: the training families, with full trays drawn more often than sparse ones
    (the largest of two item counts), because crowded trays are where checkout accuracy is lost.
    A quarter of them carry loose labels, receipts or stickers, and a few of those no product at
    all: a bare barcode label must not be taken for a product."""
    return SceneStyle(frame_size=frame_size, background_families=tuple(TRAIN_FAMILIES),
                      item_count_draws=2, clutter_probability=0.25, empty_share=0.15)


def calibration_style(frame_size: tuple[int, int] = (640, 480)) -> SceneStyle:
    """Scenes for choosing operating thresholds: training backgrounds, item counts uniform over 1-12
    as on the test set and at a real till (the crowd bias is for learning, not for judging)."""
    return SceneStyle(frame_size=frame_size, background_families=tuple(TRAIN_FAMILIES))


def test_style(frame_size: tuple[int, int] = (640, 480)) -> SceneStyle:
    """Held-out scenes: item counts uniform over 1-12, and the held-out background families among
    the counter surfaces training knows."""
    return SceneStyle(frame_size=frame_size, background_families=TEST_FAMILIES)


def folder_hash(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes: the identity of the training input."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def yolo_lines(scene: Scene, class_index: dict[str, int]) -> list[str]:
    h, w = scene.image.shape[:2]
    lines = []
    for lab in scene.labels:
        x1, y1, x2, y2 = lab.box
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        lines.append(f"{class_index[lab.sku]} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                     f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    return lines


_WORKER_LIB: CutoutLibrary | None = None


def _init_worker(cutouts: str) -> None:
    global _WORKER_LIB  # noqa: PLW0603 - a pool initializer: one library per worker process, loaded once
    _WORKER_LIB = CutoutLibrary.from_folder(Path(cutouts))


def _render_one(job: tuple[int, str, str, str, tuple[int, int], bool, dict]) -> int:
    seed, img_path, lbl_path, _split, frame_size, held_out, class_index = job
    assert _WORKER_LIB is not None
    style = test_style(frame_size) if held_out else train_style(frame_size)
    scene = compose_scene(_WORKER_LIB, seed, style)
    cv2.imwrite(img_path, scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    Path(lbl_path).write_text("\n".join(yolo_lines(scene, class_index)) + "\n")
    return len(scene.labels)


def render_split(cutouts: Path, out: Path, split: str, seeds: list[int], class_index: dict[str, int],
                 frame_size: tuple[int, int], held_out: bool = False, workers: int | None = None) -> int:
    """Render scenes for ``seeds`` into ``out/images/split`` and ``out/labels/split``; returns the box count."""
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    jobs = [(s, str(out / "images" / split / f"{i:06d}.jpg"), str(out / "labels" / split / f"{i:06d}.txt"),
             split, frame_size, held_out, class_index) for i, s in enumerate(seeds)]
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    if workers == 1:
        _init_worker(str(cutouts))
        return sum(_render_one(j) for j in jobs)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(str(cutouts),)) as pool:
        return sum(pool.map(_render_one, jobs, chunksize=16))


def build_dataset(spec: DatasetSpec, out: Path, workers: int | None = None) -> Path:
    """Render a training set from ``spec.cutouts`` into ``out``; returns the data.yaml path."""
    out = Path(out)
    cutouts = Path(spec.cutouts)
    library = CutoutLibrary.from_folder(cutouts)
    skus = sorted(library.skus)
    class_index = {s: i for i, s in enumerate(skus)}
    data_hash = hashlib.sha256((folder_hash(cutouts) + json.dumps(asdict(spec), sort_keys=True)).encode()).hexdigest()
    marker = out / "dataset.json"
    if marker.exists() and json.loads(marker.read_text()).get("data_hash") == data_hash:
        log.info("dataset at %s is up to date (hash %s)", out, data_hash[:12])
        return out / "data.yaml"
    log.info("rendering %d train + %d val scenes from %s", spec.train_images, spec.val_images, cutouts)
    n_train = render_split(cutouts, out, "train", [spec.seed_base + i for i in range(spec.train_images)],
                           class_index, spec.frame_size, workers=workers)
    n_val = render_split(cutouts, out, "val", [spec.seed_base + VAL_OFFSET + i for i in range(spec.val_images)],
                         class_index, spec.frame_size, workers=workers)
    names = "\n".join(f"  {i}: {json.dumps(s)}" for s, i in class_index.items())
    (out / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    (out / "classes.json").write_text(json.dumps(skus, indent=1))
    marker.write_text(json.dumps({**asdict(spec), "data_hash": data_hash, "train_boxes": n_train,
                                  "val_boxes": n_val, "classes": len(skus)}, indent=2))
    return out / "data.yaml"
