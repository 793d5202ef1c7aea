"""The real-photo data layout (as ``../shared/data/real-counter``): reading it, and writing one.

::

    DATA/images/<frame>.jpg        photos
    DATA/labels/<frame>.txt        YOLO boxes, one product a line: ``class cx cy w h`` (normalised)
    DATA/classes.txt               line i names class i
    DATA/exemplars/<sku>/*.jpg     enrolment crops, one folder per class (the folder name is the SKU)
    DATA/exemplars/exemplars.csv   class_id, class_name, exemplar, source_image, box_px, touches_border

A class's SKU is the name of its exemplar folder (from the csv); a class with no exemplar gets its
name from classes.txt in lower case with runs of other characters as ``_``.  The writer exists so
tests and tools build folders in this layout the way the reader expects them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
CSV_FIELDS = ("class_id", "class_name", "exemplar", "source_image", "box_px", "touches_border")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class TruthBox:
    class_id: int
    sku: str
    box: Box


@dataclass
class RealData:
    root: Path
    classes: list[str]  # class id -> display name
    skus: list[str]  # class id -> SKU (the exemplar folder's name)
    images: list[Path]  # every frame, sorted by name
    exemplar_frames: set[str]  # names of the frames exemplars were cut from
    exemplar_dir: Path
    exemplars: dict[str, list[Path]] = field(default_factory=dict)  # SKU -> its crops

    def measured_frames(self) -> list[Path]:
        """The frames no exemplar was cut from: the only ones a benchmark may measure on."""
        return [p for p in self.images if p.name not in self.exemplar_frames]

    def truth(self, image: Path, size: tuple[int, int]) -> list[TruthBox]:
        """The labelled boxes of ``image`` in pixels (``size`` = (width, height)); none without a label file."""
        path = self.root / "labels" / f"{image.stem}.txt"
        if not path.is_file():
            return []
        w, h = size
        out = []
        for n, line in enumerate(path.read_text().splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 5:
                raise ValueError(f"{path}:{n}: expected 'class cx cy w h', got {line!r}")
            cid = int(parts[0])
            if not 0 <= cid < len(self.skus):
                raise ValueError(f"{path}:{n}: class {cid} is not in classes.txt ({len(self.skus)} classes)")
            cx, cy, bw, bh = (float(v) for v in parts[1:])
            out.append(TruthBox(cid, self.skus[cid], ((cx - bw / 2) * w, (cy - bh / 2) * h,
                                                      (cx + bw / 2) * w, (cy + bh / 2) * h)))
        return out


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def load_real_data(root: str | Path) -> RealData:
    """Read a folder in the layout above; a missing part raises FileNotFoundError naming it."""
    root = Path(root)
    for part in ("images", "labels", "classes.txt", "exemplars", "exemplars/exemplars.csv"):
        if not (root / part).exists():
            raise FileNotFoundError(f"{root / part}: missing (expected the real-counter layout, "
                                    "see docs/vision-api.md)")
    classes = [line.strip() for line in (root / "classes.txt").read_text().splitlines() if line.strip()]
    skus = [slug(c) for c in classes]
    exemplar_frames: set[str] = set()
    exemplars: dict[str, list[Path]] = {}
    with open(root / "exemplars" / "exemplars.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            crop = root / row["exemplar"]
            cid = int(row["class_id"])
            if 0 <= cid < len(skus):
                skus[cid] = crop.parent.name
            exemplar_frames.add(Path(row["source_image"]).name)
            exemplars.setdefault(crop.parent.name, []).append(crop)
    images = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return RealData(root, classes, skus, images, exemplar_frames, root / "exemplars", exemplars)


class RealDataWriter:
    """Writes a folder in the layout above: frames with their boxes, and exemplar crops cut from frames."""

    def __init__(self, root: str | Path, classes: list[str]):
        self.root = Path(root)
        self.classes = list(classes)
        self.skus = [slug(c) for c in classes]
        for part in ("images", "labels", "exemplars"):
            (self.root / part).mkdir(parents=True, exist_ok=True)
        (self.root / "classes.txt").write_text("".join(f"{c}\n" for c in classes))
        self._rows: list[dict[str, str]] = []
        self._count: dict[int, int] = {}

    def add_frame(self, name: str, image: np.ndarray, boxes: list[tuple[int, Box]]) -> Path:
        """Write one frame (BGR) and its labels: ``boxes`` are (class id, pixel box)."""
        h, w = image.shape[:2]
        path = self.root / "images" / f"{name}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines = [f"{cid} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
                 for cid, (x1, y1, x2, y2) in boxes]
        (self.root / "labels" / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))
        return path

    def add_exemplar(self, frame: Path, image: np.ndarray, class_id: int, box: Box, margin: float = 0.04) -> Path:
        """Cut the box (plus ``margin``) out of a frame written by :meth:`add_frame` as an exemplar crop."""
        h, w = image.shape[:2]
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        xa, ya = max(0, int(x1 - mx)), max(0, int(y1 - my))
        xb, yb = min(w, int(x2 + mx)), min(h, int(y2 + my))
        sku = self.skus[class_id]
        n = self._count.get(class_id, 0)
        self._count[class_id] = n + 1
        rel = f"exemplars/{sku}/{sku}_{n:02d}_{frame.stem}.jpg"
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(self.root / rel), image[ya:yb, xa:xb], [cv2.IMWRITE_JPEG_QUALITY, 95])
        touches = int(xa == 0 or ya == 0 or xb == w or yb == h)
        self._rows.append({"class_id": str(class_id), "class_name": self.classes[class_id], "exemplar": rel,
                           "source_image": frame.name, "box_px": f"{xa} {ya} {xb} {yb}",
                           "touches_border": str(touches)})
        return self.root / rel

    def close(self) -> None:
        with open(self.root / "exemplars" / "exemplars.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(self._rows)
