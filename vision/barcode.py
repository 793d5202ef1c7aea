"""Barcode fallback: EAN-13 codes read from the same camera frame with OpenCV's barcode detector.

Used for items the model does not know (a new product not yet in the bundle): a valid code that the
catalogue knows, lying where no vision detection already is, becomes a ``Detection`` with
``source="barcode"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from vision.detector import Box, Detection
from vision.frames import normalise_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BarcodeHit:
    code: str
    box: Box  # axis-aligned box around the symbol, frame pixels
    valid: bool  # EAN-13 check digit verified


def _ean13_ok(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


class BarcodeReader:
    """Reads every EAN-13 symbol in a frame; tolerant of grey/BGRA input and of no symbols at all."""

    def __init__(self) -> None:
        self._detector = cv2.barcode.BarcodeDetector()

    def _decode(self, image: np.ndarray) -> list[BarcodeHit]:
        ok, infos, _types, points = self._detector.detectAndDecodeWithType(image)
        hits: list[BarcodeHit] = []
        if not ok or points is None:
            return hits
        for info, quad in zip(infos, points, strict=True):
            code = str(info).strip()
            if not code:
                continue
            xs, ys = quad[:, 0], quad[:, 1]
            hits.append(BarcodeHit(code, (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                                   _ean13_ok(code)))
        return hits

    def read(self, frame: np.ndarray) -> list[BarcodeHit]:
        image = normalise_frame(frame)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        # a camera's slight softness helps the gradient-based locator; perfectly sharp renders need it
        hits = self._decode(cv2.GaussianBlur(grey, (0, 0), 0.9))
        if not hits:
            hits = self._decode(grey)
        return hits


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


SAME_ITEM_OVERLAP = 0.5  # of the smaller of the two areas


def _same_item(symbol: Box, box: Box) -> bool:
    """Whether a vision box is the item that carries this barcode symbol: it covers the symbol's
    centre, or half of the smaller of the two lies on the other (a box that sits mostly on the
    printed symbol is the model reading the symbol itself as a product)."""
    if _inside(((symbol[0] + symbol[2]) / 2, (symbol[1] + symbol[3]) / 2), box):
        return True
    iw = min(symbol[2], box[2]) - max(symbol[0], box[0])
    ih = min(symbol[3], box[3]) - max(symbol[1], box[1])
    if iw <= 0 or ih <= 0:
        return False
    smaller = min((symbol[2] - symbol[0]) * (symbol[3] - symbol[1]), (box[2] - box[0]) * (box[3] - box[1]))
    return iw * ih >= SAME_ITEM_OVERLAP * max(smaller, 1e-9)


def apply_barcodes(hits: list[BarcodeHit], detections: list[Detection],
                   sku_by_barcode: dict[str, str]) -> list[Detection]:
    """``detections`` corrected by the barcodes read in the same frame.

    A valid code the catalogue knows is near-certain: where it lies on a vision box of the same
    SKU nothing changes; on a box of another SKU (see ``_same_item``) the box takes the barcode's
    SKU (the vision guess stays as an alternative); where no box is on it, it becomes a new
    detection.
    Invalid or unknown codes change nothing."""
    out = list(detections)
    for hit in hits:
        if not hit.valid:
            log.debug("ignoring barcode %s: bad check digit", hit.code)
            continue
        sku = sku_by_barcode.get(hit.code)
        if sku is None:
            log.info("barcode %s is not in the catalogue", hit.code)
            continue
        covering = [i for i, d in enumerate(out) if _same_item(hit.box, d.box)]
        if any(out[i].sku == sku for i in covering):
            continue
        if covering:
            i = min(covering, key=lambda k: (out[k].box[2] - out[k].box[0]) * (out[k].box[3] - out[k].box[1]))
            guess = out[i]
            out[i] = Detection(sku=sku, class_id=-1, confidence=1.0, box=guess.box,
                               alternatives=((guess.sku, guess.confidence),) if guess.sku else (), source="barcode")
        else:
            out.append(Detection(sku=sku, class_id=-1, confidence=1.0, box=hit.box, source="barcode"))
    return out
