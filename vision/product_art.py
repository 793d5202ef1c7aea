"""Procedural product art: a top-down RGBA cut-out of a product lying on the tray.

The same product and view always give the same pixels (every random choice is seeded from the
SKU).  Shapes: box, can (lying, flat tin or round tin), bottle (lying), bag, carton, pouch.
Views: ``front`` (brand), ``back`` (barcode and small print), ``side`` (variant, large).
Only numpy and OpenCV are needed, so the device's synthetic camera can use it.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from vision.catalogue import Colour, Product
from vision.ean13 import render_ean13

VIEWS = ("front", "back", "side")
_FONTS = (cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SIMPLEX,
          cv2.FONT_HERSHEY_COMPLEX)


def _seed(product: Product, view: str = "") -> int:
    return zlib.crc32(f"{product.sku}|{view}".encode())


def _shade(colour: Colour, factor: float) -> Colour:
    return tuple(int(max(0, min(255, c * factor))) for c in colour)  # type: ignore[return-value]


def _fit_text(img: np.ndarray, text: str, centre: tuple[int, int], max_w: int, max_h: int,
              colour: Colour, font: int, outline: Colour | None = None) -> None:
    """Draw text as large as fits in max_w x max_h, centred on centre."""
    if not text or max_w < 4 or max_h < 4:
        return
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = min(max_w / max(tw, 1), max_h / max(th, 1))
    thick = max(1, int(round(scale * 2.2)))
    (tw, th), _baseline = cv2.getTextSize(text, font, scale, thick)
    org = (int(centre[0] - tw / 2), int(centre[1] + th / 2))
    if outline is not None:
        cv2.putText(img, text, org, font, scale, outline, thick + max(2, thick), cv2.LINE_AA)
    cv2.putText(img, text, org, font, scale, colour, thick, cv2.LINE_AA)


def _draw_logo(img: np.ndarray, kind: str, centre: tuple[int, int], r: int,
               fill: Colour, edge: Colour) -> None:
    cx, cy = centre
    if r < 3:
        return
    if kind == "circle":
        cv2.circle(img, centre, r, edge, -1, cv2.LINE_AA)
        cv2.circle(img, centre, int(r * 0.78), fill, -1, cv2.LINE_AA)
        cv2.circle(img, centre, int(r * 0.35), edge, -1, cv2.LINE_AA)
    elif kind == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.45
            a = -np.pi / 2 + k * np.pi / 5
            pts.append((cx + rad * np.cos(a), cy + rad * np.sin(a)))
        poly = np.array(pts, np.int32)
        cv2.fillPoly(img, [poly], fill, cv2.LINE_AA)
        cv2.polylines(img, [poly], True, edge, max(1, r // 10), cv2.LINE_AA)
    elif kind == "diamond":
        poly = np.array([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], np.int32)
        cv2.fillPoly(img, [poly], edge, cv2.LINE_AA)
        inner = np.array([(cx, cy - r * 0.6), (cx + r * 0.6, cy), (cx, cy + r * 0.6),
                          (cx - r * 0.6, cy)], np.int32)
        cv2.fillPoly(img, [inner], fill, cv2.LINE_AA)
    elif kind == "stripes":
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), edge, -1)
        for k in range(-2, 3):
            y = cy + k * r // 2.5
            cv2.line(img, (cx - r, int(y + r // 3)), (cx + r, int(y - r // 3)), fill,
                     max(2, r // 6), cv2.LINE_AA)
    elif kind == "sun":
        for k in range(12):
            a = k * np.pi / 6
            cv2.line(img, centre, (int(cx + r * np.cos(a)), int(cy + r * np.sin(a))), edge,
                     max(2, r // 7), cv2.LINE_AA)
        cv2.circle(img, centre, int(r * 0.6), fill, -1, cv2.LINE_AA)
        cv2.circle(img, centre, int(r * 0.6), edge, max(1, r // 10), cv2.LINE_AA)
    elif kind == "wave":
        cv2.circle(img, centre, r, fill, -1, cv2.LINE_AA)
        for k in range(3):
            xs = np.linspace(cx - r * 0.8, cx + r * 0.8, 24)
            ys = cy + (k - 1) * r * 0.4 + np.sin((xs - cx) / r * 3 * np.pi) * r * 0.12
            cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, edge,
                          max(2, r // 8), cv2.LINE_AA)
    elif kind == "leaf":
        cv2.ellipse(img, centre, (r, int(r * 0.5)), -30, 0, 360, edge, -1, cv2.LINE_AA)
        cv2.ellipse(img, centre, (int(r * 0.8), int(r * 0.32)), -30, 0, 360, fill, -1, cv2.LINE_AA)
        cv2.line(img, (int(cx - r * 0.7), int(cy + r * 0.4)), (int(cx + r * 0.7), int(cy - r * 0.4)),
                 edge, max(1, r // 10), cv2.LINE_AA)


def _decor(img: np.ndarray, product: Product, rng: np.random.Generator) -> None:
    """Background decoration of a label: band, diagonal stripes or a burst, per SKU."""
    h, w = img.shape[:2]
    look = product.look
    style = int(rng.integers(0, 4))
    if style == 0:  # horizontal accent band
        y0 = int(h * rng.uniform(0.62, 0.72))
        cv2.rectangle(img, (0, y0), (w, h), look.accent, -1)
    elif style == 1:  # diagonal stripes
        step = max(8, w // 9)
        for x in range(-h, w + h, step):
            cv2.line(img, (x, h), (x + h, 0), _shade(look.body, 0.82), max(2, step // 4), cv2.LINE_AA)
    elif style == 2:  # wave band
        xs = np.linspace(0, w, 40)
        ys = h * 0.7 + np.sin(xs / w * 2 * np.pi * rng.uniform(1, 2.5)) * h * 0.08
        poly = np.concatenate([np.stack([xs, ys], 1), [[w, h], [0, h]]]).astype(np.int32)
        cv2.fillPoly(img, [poly], look.accent, cv2.LINE_AA)
    else:  # burst behind the logo
        c = (int(w * 0.2), int(h * 0.45))
        for k in range(16):
            a0 = k * np.pi / 8
            pts = np.array([c, (c[0] + 2 * w * np.cos(a0), c[1] + 2 * w * np.sin(a0)),
                            (c[0] + 2 * w * np.cos(a0 + np.pi / 16), c[1] + 2 * w * np.sin(a0 + np.pi / 16))],
                           np.int32)
            cv2.fillPoly(img, [pts], _shade(look.body, 0.88 if k % 2 else 1.08))


def _label(product: Product, view: str, w: int, h: int) -> np.ndarray:
    """The printed face, w x h pixels, long axis horizontal."""
    look = product.look
    rng = np.random.default_rng(_seed(product))
    font = _FONTS[_seed(product, "font") % len(_FONTS)]
    img = np.empty((h, w, 3), np.uint8)
    img[:] = look.body
    _decor(img, product, rng)
    outline = _shade(look.body, 0.35) if sum(look.text) > 500 else None
    if view == "front":
        r = int(min(h * 0.3, w * 0.16))
        _draw_logo(img, look.logo, (int(w * 0.17), int(h * 0.42)), r, look.accent, look.text)
        _fit_text(img, look.brand, (int(w * 0.6), int(h * 0.3)), int(w * 0.62), int(h * 0.24),
                  look.text, font, outline)
        _fit_text(img, look.variant, (int(w * 0.6), int(h * 0.56)), int(w * 0.6), int(h * 0.13),
                  look.text, cv2.FONT_HERSHEY_SIMPLEX, outline)
        bw, bh = int(w * 0.26), int(h * 0.2)
        bx, by = int(w * 0.7), int(h * 0.74)
        cv2.rectangle(img, (bx, by), (bx + bw, min(h - 2, by + bh)), look.text, -1)
        _fit_text(img, look.size_label, (bx + bw // 2, by + bh // 2), int(bw * 0.86), int(bh * 0.7),
                  _shade(look.body, 0.6) if sum(look.body) < 600 else look.accent, cv2.FONT_HERSHEY_DUPLEX)
    elif view == "side":
        _fit_text(img, look.variant, (w // 2, int(h * 0.38)), int(w * 0.9), int(h * 0.3),
                  look.text, font, outline)
        _fit_text(img, look.size_label, (w // 2, int(h * 0.75)), int(w * 0.5), int(h * 0.22),
                  look.text, cv2.FONT_HERSHEY_DUPLEX, outline)
        _draw_logo(img, look.logo, (int(w * 0.08), int(h * 0.2)), int(min(h, w) * 0.12),
                   look.accent, look.text)
    else:  # back: small print and the barcode
        panel = _shade(look.body, 1.0)
        img[:] = panel
        cv2.rectangle(img, (0, 0), (w, int(h * 0.16)), look.accent, -1)
        _fit_text(img, look.brand, (w // 2, int(h * 0.08)), int(w * 0.5), int(h * 0.12), look.text, font)
        line_c = look.text if sum(look.body) < 400 else (40, 40, 40)
        for k in range(5):
            y = int(h * (0.26 + k * 0.1))
            x1 = int(w * (0.05 + 0.4 * ((k * 37 + _seed(product)) % 10) / 10 * 0.3))
            cv2.line(img, (int(w * 0.05), y), (int(w * 0.5) - x1 // 4, y), line_c, max(1, h // 60))
        code = render_ean13(product.barcode, module_px=max(1, int(w * 0.42 / 117)),
                            bar_height_px=int(h * 0.45))
        ch, cw = code.shape
        scale = min(w * 0.42 / cw, h * 0.7 / ch, 1.0)
        code = cv2.resize(code, (max(1, int(cw * scale)), max(1, int(ch * scale))), interpolation=cv2.INTER_AREA)
        ch, cw = code.shape
        x0, y0 = int(w * 0.54), int(h * 0.22)
        img[y0:y0 + ch, x0:x0 + cw] = code[:min(ch, h - y0), :min(cw, w - x0), None]
    return img


def _cyl_shading(h: int, w: int, axis: int = 0, strength: float = 0.45) -> np.ndarray:
    """Multiplicative shading of a cylinder whose axis runs along the image x axis (axis=0)."""
    n = h if axis == 0 else w
    t = np.linspace(-1, 1, n)
    prof = (1 - strength) + strength * np.sqrt(np.clip(1 - t ** 2, 0, 1))
    prof = prof + 0.35 * np.exp(-((t + 0.45) / 0.12) ** 2)  # specular stripe
    return (prof[:, None] if axis == 0 else prof[None, :]).astype(np.float32)


def _edge_shading(mask: np.ndarray, width_px: float) -> np.ndarray:
    """Darken towards the silhouette (pillow look of bags and pouches)."""
    dist = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 3)
    return (0.7 + 0.3 * np.clip(dist / max(width_px, 1.0), 0, 1)).astype(np.float32)


def _zigzag_ends(mask: np.ndarray, depth: int, teeth: int) -> None:
    h, w = mask.shape
    for x_edge, sign in ((0, 1), (w - 1, -1)):
        pts = [(x_edge, 0)]
        for k in range(teeth * 2 + 1):
            y = int(k * h / (teeth * 2))
            pts.append((x_edge + sign * (depth if k % 2 else 0), y))
        pts.append((x_edge, h - 1))
        cv2.fillPoly(mask, [np.array(pts, np.int32)], 0)


def views_for(product: Product) -> tuple[str, ...]:
    return VIEWS


def render_product(product: Product, view: str = "front", px_per_mm: float = 2.5) -> np.ndarray:
    """Render ``product`` lying on the tray as seen from above: an RGBA (BGRA) uint8 cut-out."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
    look = product.look
    length, width = product.size_mm
    if view == "side" and look.shape in ("box", "carton"):
        width = product.depth_mm  # lying on its narrow side
    w = max(8, int(round(length * px_per_mm)))
    h = max(8, int(round(width * px_per_mm)))
    shape = look.shape
    mask = np.zeros((h, w), np.uint8)
    shading: np.ndarray = np.ones((h, w), np.float32)
    rgb = np.zeros((h, w, 3), np.uint8)
    mm = px_per_mm

    if shape == "box":
        r = int(2 * mm)
        cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
        cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(mask, (cx, cy), r, 255, -1, cv2.LINE_AA)
        rgb[:] = _label(product, view, w, h)
        shading = _edge_shading(mask, 4 * mm) * 0.15 + 0.87
    elif shape in ("bag", "pouch"):
        cv2.rectangle(mask, (0, 0), (w - 1, h - 1), 255, -1)
        if shape == "bag":
            _zigzag_ends(mask, int(2.5 * mm), max(4, h // int(5 * mm)))
            seal = int(9 * mm)
            rgb[:] = _label(product, view, w, h)
            rgb[:, :seal] = _shade(look.body, 0.9)
            rgb[:, w - seal:] = _shade(look.body, 0.9)
            for x in range(int(mm), seal, max(2, int(1.5 * mm))):
                cv2.line(rgb, (x, 0), (x, h), _shade(look.body, 0.75), 1)
                cv2.line(rgb, (w - 1 - x, 0), (w - 1 - x, h), _shade(look.body, 0.75), 1)
        else:
            r = int(min(h, w) * 0.18)
            mask[:] = 0
            cv2.rectangle(mask, (0, 0), (w - 1 - r, h - 1), 255, -1)
            cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
            cv2.circle(mask, (w - 1 - r, r), r, 255, -1, cv2.LINE_AA)
            cv2.circle(mask, (w - 1 - r, h - 1 - r), r, 255, -1, cv2.LINE_AA)
            rgb[:] = _label(product, view, w, h)
            zx = int(12 * mm)
            cv2.line(rgb, (zx, 0), (zx, h), _shade(look.body, 0.55), max(2, int(1.2 * mm)))
            cv2.rectangle(rgb, (0, 0), (int(6 * mm), h), _shade(look.body, 0.85), -1)
            cv2.circle(mask, (int(6 * mm), int(3 * mm)), int(1.5 * mm), 0, -1)  # tear notch
        shading = _edge_shading(mask, 10 * mm)
    elif shape == "carton":
        fin = int(10 * mm)
        cv2.rectangle(mask, (0, 0), (w - 1, h - 1), 255, -1)
        rgb[:] = _label(product, view, w, h)
        rgb[:, w - fin:] = _shade(look.body, 0.8)
        cv2.line(rgb, (w - fin, 0), (w - fin, h), _shade(look.body, 0.5), max(1, int(0.8 * mm)))
        cv2.line(rgb, (w - fin // 2, 0), (w - fin // 2, h), _shade(look.body, 0.65), 1)
        cv2.circle(rgb, (w - fin - int(14 * mm), int(h * 0.5)), int(min(h * 0.12, 6 * mm)),
                   (230, 230, 230), -1, cv2.LINE_AA)  # cap
        shading = _edge_shading(mask, 3 * mm) * 0.2 + 0.8
    elif shape == "can":
        flat = product.depth_mm < min(product.size_mm) * 0.8
        if flat and length == width:  # round tin seen from above
            cv2.circle(mask, (w // 2, h // 2), min(w, h) // 2 - 1, 255, -1, cv2.LINE_AA)
            rgb[:] = (180, 180, 185)
            inner = _label(product, view, w, h)
            disc = np.zeros_like(mask)
            cv2.circle(disc, (w // 2, h // 2), int(min(w, h) * 0.42), 255, -1, cv2.LINE_AA)
            rgb[disc > 0] = inner[disc > 0]
            for k in (0.46, 0.48):
                cv2.circle(rgb, (w // 2, h // 2), int(min(w, h) * k), (120, 120, 125), 1, cv2.LINE_AA)
            shading = _edge_shading(mask, 3 * mm) * 0.25 + 0.75
        elif flat:  # rectangular tin, printed lid
            r = int(min(h, w) * 0.2)
            cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
            cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
            for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
                cv2.circle(mask, (cx, cy), r, 255, -1, cv2.LINE_AA)
            rgb[:] = (175, 175, 180)
            rim = int(3 * mm)
            rgb[rim:h - rim, rim:w - rim] = _label(product, view, w - 2 * rim, h - 2 * rim)
            cv2.ellipse(rgb, (int(w * 0.12), h // 2), (int(3 * mm), int(5 * mm)), 0, 0, 360,
                        (150, 150, 155), -1, cv2.LINE_AA)  # ring pull
            shading = _edge_shading(mask, 3 * mm) * 0.25 + 0.75
        else:  # lying on its side
            cv2.rectangle(mask, (0, 0), (w - 1, h - 1), 255, -1)
            rim = int(4 * mm)
            rgb[:] = (185, 185, 190)
            rgb[:, rim:w - rim] = _label(product, view, w - 2 * rim, h)
            for x in (rim // 3, w - 1 - rim // 3):
                cv2.line(rgb, (x, 0), (x, h), (130, 130, 135), max(1, int(mm)))
            shading = _cyl_shading(h, w)
    elif shape == "bottle":
        body_len = int(w * 0.68)
        neck_w = int(h * 0.36)
        cap_len = int(max(6 * mm, w * 0.06))
        cy = h // 2
        cv2.rectangle(mask, (0, int(h * 0.02)), (body_len, h - 1 - int(h * 0.02)), 255, -1)
        shoulder = np.array([(body_len, int(h * 0.02)), (int(w * 0.84), cy - neck_w // 2),
                             (w - cap_len, cy - neck_w // 2), (w - cap_len, cy + neck_w // 2),
                             (int(w * 0.84), cy + neck_w // 2), (body_len, h - 1 - int(h * 0.02))], np.int32)
        cv2.fillPoly(mask, [shoulder], 255, cv2.LINE_AA)
        cv2.rectangle(mask, (w - cap_len, cy - int(neck_w * 0.62)), (w - 1, cy + int(neck_w * 0.62)), 255, -1)
        clear = look.body[0] > 150 and look.body[1] > 150  # water: clear plastic
        glass = _shade(look.body, 0.55) if not clear else (215, 205, 190)
        rgb[:] = glass
        lx0, lx1 = int(w * 0.12), int(w * 0.62)
        rgb[:, lx0:lx1] = _label(product, view, lx1 - lx0, h)
        cv2.rectangle(rgb, (w - cap_len, 0), (w - 1, h), look.accent, -1)
        if clear:
            for x in range(int(w * 0.03), lx0, max(3, int(4 * mm))):
                cv2.line(rgb, (x, 0), (x, h), (190, 180, 165), max(1, int(mm)))
        shading = _cyl_shading(h, w, strength=0.5)
    else:
        raise ValueError(f"{product.sku}: unknown shape {shape!r}")

    # a touch of print grain keeps flat colours from looking synthetic, same every time
    grain = np.random.default_rng(_seed(product, view)).normal(0, 3.0, (h, w, 1)).astype(np.float32)
    out = np.clip(rgb.astype(np.float32) * shading[..., None]
                  + grain, 0, 255).astype(np.uint8)
    return np.dstack([out, mask])
