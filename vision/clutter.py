"""Product-free clutter on a checkout tray: loose barcode labels, receipts and price stickers.

Training scenes carry some of these, unlabelled, so the model learns that a printed barcode or a
strip of paper is not a product (a cashier scanning a loose label must not get a phantom tin).
They lie flat on the tray, under the items, and never enter the labels.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.catalogue import ean13
from vision.ean13 import render_ean13
from vision.sprites import frame_window, rotated_sprite

_CLUTTER_KINDS = ("barcode_label", "receipt", "price_sticker", "bare_barcode")


def random_ean13(rng: np.random.Generator) -> str:
    """A valid EAN-13 code with random digits (check digit computed)."""
    return ean13("".join(str(int(d)) for d in rng.integers(0, 10, 12)))


def _paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    tone = rng.uniform(225, 255)
    tint = rng.uniform(-8, 4, 3)
    return np.clip(np.full((h, w, 3), tone) + tint, 0, 255).astype(np.uint8)


def _ink(rng: np.random.Generator) -> tuple[int, int, int]:
    v = int(rng.integers(0, 70))
    return (v, v, v)


def _label_code(rng: np.random.Generator, codes: list[str]) -> str:
    """A catalogue code (when given) six times in ten, else a random valid one."""
    return codes[int(rng.integers(0, len(codes)))] if codes and rng.random() < 0.6 else random_ean13(rng)


def _barcode_label(rng: np.random.Generator, codes: list[str]) -> np.ndarray:
    bars = cv2.cvtColor(render_ean13(_label_code(rng, codes), module_px=3, bar_height_px=int(rng.integers(50, 110))),
                        cv2.COLOR_GRAY2BGR)
    pad_x, pad_top, pad_bottom = (int(rng.integers(4, 30)) for _ in range(3))
    h, w = bars.shape[0] + pad_top + pad_bottom, bars.shape[1] + 2 * pad_x
    label = _paper(rng, h, w)
    label[pad_top:pad_top + bars.shape[0], pad_x:pad_x + bars.shape[1]] = np.minimum(
        bars, label[pad_top:pad_top + bars.shape[0], pad_x:pad_x + bars.shape[1]])
    if pad_top > 18:
        cv2.putText(label, f"{rng.integers(1, 999)}.{rng.integers(0, 99):02d}", (pad_x, pad_top - 4),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, _ink(rng), 1, cv2.LINE_AA)
    return label


def _bare_barcode(rng: np.random.Generator, codes: list[str]) -> np.ndarray:
    return cv2.cvtColor(render_ean13(_label_code(rng, codes), module_px=int(rng.integers(2, 4)),
                                     quiet_modules=int(rng.integers(3, 12))), cv2.COLOR_GRAY2BGR)


def _receipt(rng: np.random.Generator, codes: list[str]) -> np.ndarray:
    w = int(rng.integers(160, 240))
    rows = int(rng.integers(6, 22))
    h = 30 + rows * 16 + int(rng.integers(0, 40))
    paper = _paper(rng, h, w)
    ink = _ink(rng)
    y = 24
    for _ in range(rows):
        words = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(4, 14))))
        cv2.putText(paper, words, (8, y), cv2.FONT_HERSHEY_PLAIN, 0.9, ink, 1, cv2.LINE_AA)
        cv2.putText(paper, f"{rng.integers(1, 99)}.{rng.integers(0, 99):02d}", (w - 56, y),
                    cv2.FONT_HERSHEY_PLAIN, 0.9, ink, 1, cv2.LINE_AA)
        y += 16
    if rng.random() < 0.5 and h - y > 40:
        code = cv2.cvtColor(render_ean13(random_ean13(rng), module_px=1, bar_height_px=30, with_digits=False),
                            cv2.COLOR_GRAY2BGR)
        code = code[:, : min(code.shape[1], w - 8)]
        paper[y:y + code.shape[0], 4:4 + code.shape[1]] = np.minimum(paper[y:y + code.shape[0], 4:4 + code.shape[1]],
                                                                      code)
    return paper


def _price_sticker(rng: np.random.Generator, codes: list[str]) -> np.ndarray:
    w, h = int(rng.integers(70, 140)), int(rng.integers(40, 80))
    colour = rng.integers(0, 256, 3)
    sticker = np.empty((h, w, 3), np.uint8)
    sticker[:] = colour
    ink = (255, 255, 255) if colour.mean() < 110 else (0, 0, 0)
    cv2.putText(sticker, f"{rng.integers(1, 99)}.{rng.integers(0, 99):02d}", (6, h - 12),
                cv2.FONT_HERSHEY_DUPLEX, h / 50, ink, 2, cv2.LINE_AA)
    return sticker


_MAKERS = {"barcode_label": _barcode_label, "receipt": _receipt, "price_sticker": _price_sticker,
           "bare_barcode": _bare_barcode}


def add_clutter(background: np.ndarray, rng: np.random.Generator, px_per_mm: float,
                codes: list[str] | None = None, max_pieces: int = 3) -> np.ndarray:
    """``background`` with 1 to ``max_pieces`` flat pieces of clutter drawn on it, at random places
    and angles; ``codes`` are barcodes to print on some of them (the catalogue's, so that a loose
    label of a known product is seen as not-a-product too)."""
    out = background.copy()
    fh, fw = out.shape[:2]
    for _ in range(int(rng.integers(1, max_pieces + 1))):
        kind = _CLUTTER_KINDS[int(rng.integers(0, len(_CLUTTER_KINDS)))]
        piece = _MAKERS[kind](rng, codes or [])
        # from true size (an EAN-13 label about 40 mm wide) up to a label held close to the camera
        scale = px_per_mm * rng.uniform(0.12, 0.6)
        sprite = rotated_sprite(cv2.cvtColor(piece, cv2.COLOR_BGR2BGRA), scale, float(rng.uniform(0, 360)))
        ch, cw = sprite.shape[:2]
        x0 = int(rng.integers(-cw // 4, max(1, fw - 3 * cw // 4)))
        y0 = int(rng.integers(-ch // 4, max(1, fh - 3 * ch // 4)))
        win = frame_window(out.shape, sprite.shape, x0 + cw / 2, y0 + ch / 2)
        if win is None:
            continue
        (fy, fx), (sy, sx) = win
        alpha = sprite[sy, sx, 3:4].astype(np.float32) / 255.0
        out[fy, fx] = (sprite[sy, sx, :3] * alpha + out[fy, fx] * (1 - alpha)).astype(np.uint8)
    return out
