"""Domain-randomised scenes for training the class-blind product finder (``training/finder.py``).

The finder must find whatever product lies on a real counter, and ignore what is not on it: goods
seen through a glass counter, receipts, hands, the counter's own pattern.  No real counter photo is
used here.  Each scene is drawn from parts that vary far more than any one shop does:

- **Products on top** (labelled): bags with crimped ends, boxes, bars, tubs and pouches, 20-85 % of
  the frame's short side, any rotation, overlapping; printed with the demo renderer's procedural art
  for random made-up products, with crops of real photographs (the sample photos scikit-image,
  scikit-learn and matplotlib ship) under brand bands and text, or with flat colour blocks; crinkles,
  gloss streaks and soft shadows.
- **Surfaces** (unlabelled): the demo renderer's counters (wood, steel, laminate, fabric, granite,
  paper) or a **glass display case**: shelves of many small products behind glass (blurred, dimmed,
  tinted, with reflections and specular streaks), which look like products and must not be found.
- **Distractors** (unlabelled): receipts, price stickers, hands, paper sheets.
- **Camera**: exposure, white balance, blur, noise and JPEG compression.

``make_scene(rng, (w, h), textures, bank)`` returns the BGR image and the products' visible boxes (x1, y1, x2, y2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.backgrounds import make_background
from vision.catalogue import Look, Product
from vision.product_art import render_product

log = logging.getLogger(__name__)

SHAPES = ("box", "can", "bottle", "bag", "carton", "pouch")
LOGOS = ("circle", "star", "diamond", "stripes", "sun", "wave", "leaf")
MIN_VISIBLE = 0.35  # a product hidden more than this is not labelled (nor is it in real labels)


@dataclass(frozen=True)
class FinderScene:
    image: np.ndarray  # BGR uint8
    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2 in pixels


def _photo_files() -> list[Path]:
    """Real photographs that installed packages ship (no download): textures for product prints."""
    found: list[Path] = []
    for module, sub in (("skimage", "data"), ("sklearn.datasets", "images"), ("matplotlib", "mpl-data/sample_data")):
        try:
            mod = __import__(module, fromlist=["__file__"])
        except ImportError:
            continue
        folder = Path(str(mod.__file__)).parent / sub
        for path in sorted(folder.glob("*")):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                found.append(path)
    return found


class TexturePool:
    """Colour photographs to cut product prints and background patches from."""

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []
        for path in _photo_files():
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None or min(img.shape[:2]) < 64:
                continue
            if float(np.std(img.astype(np.float32).mean(axis=2) - img[..., 0])) < 2.0:
                continue  # grey photos: fine for print but we want colour
            self.images.append(img)
        log.info("texture pool: %d photographs", len(self.images))

    def patch(self, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
        if not self.images:
            return _colour_blocks(rng, w, h)
        img = self.images[int(rng.integers(len(self.images)))]
        ih, iw = img.shape[:2]
        scale = rng.uniform(0.15, 0.8)
        cw, ch = max(8, int(iw * scale)), max(8, int(ih * scale))
        x, y = int(rng.integers(0, iw - cw + 1)), int(rng.integers(0, ih - ch + 1))
        crop = img[y:y + ch, x:x + cw]
        if rng.random() < 0.5:
            crop = cv2.flip(crop, int(rng.integers(-1, 2)))
        crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:  # re-colour: prints are saturated
            hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV).astype(np.int32)
            hsv[..., 0] = (hsv[..., 0] + int(rng.integers(0, 180))) % 180
            hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1.0, 2.0), 0, 255)
            crop = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
        return crop


def _rand_colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, 3)
    return int(c[0]), int(c[1]), int(c[2])


def _colour_blocks(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = _rand_colour(rng)
    for _ in range(int(rng.integers(1, 6))):
        x1, x2 = sorted(rng.integers(0, w, 2))
        y1, y2 = sorted(rng.integers(0, h, 2))
        if rng.random() < 0.5:
            cv2.rectangle(img, (int(x1), int(y1)), (int(x2), int(y2)), _rand_colour(rng), -1)
        else:
            cv2.circle(img, (int(x1), int(y1)), int(max(4, (x2 - x1) // 2)), _rand_colour(rng), -1, cv2.LINE_AA)
    return img


def _words(rng: np.random.Generator, n: int) -> str:
    return "".join(chr(int(c)) for c in rng.integers(65, 91, n))


def _print_text(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        text = _words(rng, int(rng.integers(3, 9)))
        scale = rng.uniform(0.3, 1.6) * min(w, h) / 120
        thick = max(1, int(scale * rng.uniform(1.5, 3.5)))
        org = (int(rng.integers(0, max(1, w // 2))), int(rng.integers(h // 5, h)))
        colour = _rand_colour(rng)
        if rng.random() < 0.5:
            cv2.putText(img, text, org, int(rng.integers(0, 8)), scale, (255, 255, 255), thick + 3, cv2.LINE_AA)
        cv2.putText(img, text, org, int(rng.integers(0, 8)), scale, colour, thick, cv2.LINE_AA)


def _procedural_art(rng: np.random.Generator, shape: str, length_mm: int, width_mm: int) -> np.ndarray:
    look = Look(shape=shape, body=_rand_colour(rng), accent=_rand_colour(rng), text=_rand_colour(rng),
                logo=LOGOS[int(rng.integers(len(LOGOS)))], brand=_words(rng, int(rng.integers(3, 8))).title(),
                variant=_words(rng, int(rng.integers(3, 9))).title(), size_label=f"{int(rng.integers(20, 900))}g")
    product = Product(sku=f"R{int(rng.integers(1 << 30))}", name="random", category="random", price=100,
                      barcode="0000000000000", size_mm=(length_mm, width_mm), depth_mm=int(rng.integers(10, 60)),
                      look=look)
    view = ("front", "back", "side")[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
    return render_product(product, view, px_per_mm=float(rng.uniform(1.2, 2.5)))


def _outline(rng: np.random.Generator, kind: str, w: int, h: int) -> np.ndarray:
    """A product's silhouette as a 0/255 mask of h x w."""
    mask = np.zeros((h, w), np.uint8)
    if kind == "tub":
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 255, -1, cv2.LINE_AA)
        return mask
    radius = int(min(w, h) * (rng.uniform(0.02, 0.12) if kind in ("box", "bar") else rng.uniform(0.08, 0.25)))
    cv2.rectangle(mask, (radius, 0), (w - 1 - radius, h - 1), 255, -1)
    cv2.rectangle(mask, (0, radius), (w - 1, h - 1 - radius), 255, -1)
    corners = ((radius, radius), (w - 1 - radius, radius), (radius, h - 1 - radius), (w - 1 - radius, h - 1 - radius))
    for cx, cy in corners:
        cv2.circle(mask, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    if kind == "bag":  # crimped (zig-zag) sealed ends along the long axis
        depth = max(2, int(w * rng.uniform(0.02, 0.05)))
        teeth = int(rng.integers(8, 24))
        step = h / teeth
        for t in range(teeth):
            y0, y1 = int(t * step), int((t + 1) * step)
            tri_left = np.array([[0, y0], [depth, (y0 + y1) // 2], [0, y1]], np.int32)
            tri_right = np.array([[w - 1, y0], [w - 1 - depth, (y0 + y1) // 2], [w - 1, y1]], np.int32)
            cv2.fillPoly(mask, [tri_left, tri_right], 0)
    return mask


def _product_sprite(rng: np.random.Generator, textures: TexturePool, long_px: int) -> np.ndarray:
    """An RGBA top-down product, long side ``long_px``."""
    kind = ("bag", "bag", "bag", "box", "box", "bar", "tub", "pouch")[int(rng.integers(8))]
    aspect = {"bag": rng.uniform(0.45, 0.85), "box": rng.uniform(0.3, 0.9), "bar": rng.uniform(0.15, 0.35),
              "tub": rng.uniform(0.7, 1.0), "pouch": rng.uniform(0.5, 0.9)}[kind]
    w, h = max(12, long_px), max(8, int(long_px * aspect))
    source = rng.random()
    if source < 0.35:
        shape = {"bag": "bag", "box": "box", "bar": "box", "tub": "can", "pouch": "pouch"}[kind]
        art = _procedural_art(rng, shape, 160, max(20, int(160 * aspect)))
        rgb = cv2.resize(art[..., :3], (w, h), interpolation=cv2.INTER_AREA)
    elif source < 0.8:
        rgb = textures.patch(rng, w, h)
        if rng.random() < 0.7:  # a brand band or panel printed over the photo
            band = _colour_blocks(rng, w, max(4, int(h * rng.uniform(0.15, 0.45))))
            y = int(rng.integers(0, h - band.shape[0] + 1))
            alpha = rng.uniform(0.6, 1.0)
            rgb[y:y + band.shape[0]] = (alpha * band + (1 - alpha) * rgb[y:y + band.shape[0]]).astype(np.uint8)
    else:
        rgb = _colour_blocks(rng, w, h)
    rgb = np.ascontiguousarray(rgb)
    if rng.random() < 0.8:
        _print_text(rgb, rng)
    mask = _outline(rng, kind, w, h)
    shade = np.ones((h, w), np.float32)
    if kind in ("bag", "pouch"):  # pillow shading and crinkles
        yy = np.linspace(-1, 1, h)[:, None]
        shade *= (1.0 - rng.uniform(0.1, 0.35) * yy ** 2).astype(np.float32)
        noise = cv2.resize(rng.normal(0, 1, (max(2, h // 12), max(2, w // 12))).astype(np.float32), (w, h))
        shade *= 1.0 + rng.uniform(0.03, 0.12) * noise
    elif kind == "tub":
        yy, xx = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
        shade *= (1.0 - 0.25 * (xx ** 2 + yy ** 2)).astype(np.float32)
    out = np.clip(rgb.astype(np.float32) * shade[..., None], 0, 255)
    for _ in range(int(rng.integers(0, 4))):  # gloss: soft white streaks where the film catches the light
        streak = np.zeros((h, w), np.float32)
        x = int(rng.integers(0, w))
        cv2.line(streak, (x, 0), (x + int(rng.integers(-w // 3, w // 3 + 1)), h), 1.0,
                 max(2, int(w * rng.uniform(0.01, 0.06))))
        soft = cv2.GaussianBlur(streak, (0, 0), max(1.0, w * 0.02))
        out = out + soft[..., None] * rng.uniform(60, 200)
    out = np.clip(out, 0, 255).astype(np.uint8)
    return np.dstack([out, mask])


class SpriteBank:
    """Product sprites drawn once and varied on every use (scale, hue, mirror): drawing a product is
    the slow part of a scene, and a bank of a few hundred varied this way looks like thousands."""

    def __init__(self, rng: np.random.Generator, textures: TexturePool, count: int = 400, long_px: int = 320):
        self.sprites = [_product_sprite(rng, textures, int(long_px * rng.uniform(0.7, 1.0))) for _ in range(count)]
        # each sprite also at 1/2, 1/4 and 1/8 size: small goods on a shelf resize from a near size
        self.pyramids = [[s] + [cv2.resize(s, (max(4, s.shape[1] // f), max(4, s.shape[0] // f)),
                                           interpolation=cv2.INTER_AREA) for f in (2, 4, 8)] for s in self.sprites]

    def take(self, rng: np.random.Generator, long_px: int) -> np.ndarray:
        levels = self.pyramids[int(rng.integers(len(self.pyramids)))]
        sprite = levels[0]
        for level in levels[1:]:
            if max(level.shape[:2]) >= long_px:
                sprite = level
        h, w = sprite.shape[:2]
        scale = long_px / max(h, w)
        aspect = rng.uniform(0.85, 1.15)
        out = cv2.resize(sprite, (max(4, int(w * scale * aspect)), max(4, int(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            out = cv2.flip(out, int(rng.integers(-1, 2)))
        if rng.random() < 0.5:
            hsv = cv2.cvtColor(np.ascontiguousarray(out[..., :3]), cv2.COLOR_BGR2HSV)
            hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + int(rng.integers(0, 180))) % 180).astype(np.uint8)
            out = np.dstack([cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), out[..., 3]])
        return out


def _rotate(sprite: np.ndarray, angle: float) -> np.ndarray:
    h, w = sprite.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(sprite, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))


def _paste(canvas: np.ndarray, sprite: np.ndarray, x: int, y: int, ids: np.ndarray | None = None,
           item: int = 0, shadow: float = 0.0) -> None:
    """Alpha-paste ``sprite`` with its top-left at (x, y), clipped to the canvas; marks ``ids``."""
    H, W = canvas.shape[:2]
    h, w = sprite.shape[:2]
    x1, y1, x2, y2 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 >= x2 or y1 >= y2:
        return
    sp = sprite[y1 - y:y2 - y, x1 - x:x2 - x]
    a = sp[..., 3:4].astype(np.float32) / 255.0
    region = canvas[y1:y2, x1:x2].astype(np.float32)
    if shadow > 0:
        sh = cv2.GaussianBlur(a[..., 0], (0, 0), max(1.0, w * 0.03))[..., None]
        region = region * (1 - shadow * sh)
    canvas[y1:y2, x1:x2] = (a * sp[..., :3] + (1 - a) * region).astype(np.uint8)
    if ids is not None:
        ids[y1:y2, x1:x2][sp[..., 3] > 127] = item


def _display_case(rng: np.random.Generator, textures: TexturePool, bank: SpriteBank,
                  size: tuple[int, int]) -> np.ndarray:
    """Shelves of small goods seen through a glass counter: product-like, but not on the counter."""
    w, h = size
    img = np.full((h, w, 3), _rand_colour(rng, 20, 200), np.uint8)
    frame_colour = _rand_colour(rng)
    cols, rows = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    short = min(w, h)
    for r in range(rows):
        for c in range(cols):
            x1, x2 = int(c * w / cols), int((c + 1) * w / cols)
            y1, y2 = int(r * h / rows), int((r + 1) * h / rows)
            cell = img[y1:y2, x1:x2]
            cell[:] = _rand_colour(rng, 30, 230)
            for _ in range(int(rng.integers(4, 18))):
                long_px = int(short * rng.uniform(0.06, 0.22))
                sprite = bank.take(rng, long_px)
                if rng.random() < 0.6:
                    sprite = _rotate(sprite, float(rng.choice([0.0, 90.0])) + rng.normal(0, 8))
                _paste(cell, sprite, int(rng.integers(-10, max(1, x2 - x1 - 10))),
                       int(rng.integers(-10, max(1, y2 - y1 - 10))))
            cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), frame_colour, max(2, int(short * rng.uniform(0.005, 0.03))))
    return img


def _glass(img: np.ndarray, rng: np.random.Generator, textures: TexturePool) -> np.ndarray:
    """Look at ``img`` through a glass counter top: softer, dimmer, tinted, with reflections."""
    h, w = img.shape[:2]
    out = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.5)).astype(np.float32)
    out = out * rng.uniform(0.5, 0.9) + rng.uniform(10, 70)
    out = out * np.array([rng.uniform(0.85, 1.1) for _ in range(3)], np.float32)
    if rng.random() < 0.7:  # reflection of the room
        refl = cv2.GaussianBlur(textures.patch(rng, w, h), (0, 0), rng.uniform(3, 12)).astype(np.float32)
        out = out * (1 - 0.15) + refl * 0.15 * rng.uniform(0.3, 1.0)
    for _ in range(int(rng.integers(0, 3))):  # specular streaks on the glass
        streak = np.zeros((h, w), np.float32)
        x = int(rng.integers(0, w))
        cv2.line(streak, (x, 0), (x + int(rng.integers(-w, w)), h), 1.0, int(w * rng.uniform(0.02, 0.15)))
        out += cv2.GaussianBlur(streak, (0, 0), w * 0.04)[..., None] * rng.uniform(20, 90)
    return np.clip(out, 0, 255).astype(np.uint8)


def _surface(rng: np.random.Generator, textures: TexturePool, bank: SpriteBank, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    pick = rng.random()
    if pick < 0.5:
        return _glass(_display_case(rng, textures, bank, size), rng, textures)
    if pick < 0.85:
        bg = make_background(rng, (w, h))
        if bg.shape[:2] != (h, w):
            bg = cv2.resize(bg, (w, h))
        return _glass(bg, rng, textures) if rng.random() < 0.3 else bg
    patch = cv2.GaussianBlur(textures.patch(rng, w, h), (0, 0), rng.uniform(1, 6))
    return _glass(patch, rng, textures)


def _receipt(rng: np.random.Generator, short: int) -> np.ndarray:
    w = int(short * rng.uniform(0.15, 0.35))
    h = int(w * rng.uniform(1.2, 3.0))
    paper = np.full((h, w, 3), int(rng.integers(215, 255)), np.uint8)
    for y in range(int(h * 0.08), h - 4, max(6, int(h / rng.uniform(12, 30)))):
        x2 = int(w * rng.uniform(0.3, 0.95))
        cv2.line(paper, (int(w * 0.08), y), (x2, y), (int(rng.integers(20, 90)),) * 3, max(1, int(w * 0.015)))
    return np.dstack([paper, np.full((h, w), 255, np.uint8)])


def _hand(rng: np.random.Generator, short: int) -> np.ndarray:
    length = int(short * rng.uniform(0.35, 0.7))
    height = int(length * 0.58)
    img = np.zeros((height, length, 4), np.uint8)
    skin = (int(rng.uniform(40, 140)), int(rng.uniform(70, 170)), int(rng.uniform(110, 230)), 255)
    cv2.rectangle(img, (0, int(height * 0.25)), (int(length * 0.35), int(height * 0.8)), skin, -1)
    cv2.ellipse(img, (int(length * 0.45), height // 2), (int(length * 0.16), int(height * 0.32)), 0, 0, 360, skin, -1)
    for k in range(4):
        y = int(height * (0.26 + k * 0.15))
        cv2.line(img, (int(length * 0.5), y), (int(length * (0.8 + 0.06 * (k in (1, 2)))), y), skin,
                 max(3, int(height * 0.11)), cv2.LINE_AA)
    return img


def _camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out: np.ndarray = img.astype(np.float32)
    out = out * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
    out = out * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    gamma = rng.uniform(0.75, 1.3)
    out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** gamma
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.5))
    out = out + rng.normal(0, rng.uniform(0, 6), out.shape)
    out8: np.ndarray = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", out8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            out8 = decoded
    return out8


def make_scene(rng: np.random.Generator, size: tuple[int, int], textures: TexturePool, bank: SpriteBank) -> FinderScene:
    """One scene of ``size`` (w, h): an image and the visible boxes of the products on top."""
    w, h = size
    short = min(w, h)
    canvas = _surface(rng, textures, bank, size)
    ids = np.zeros((h, w), np.int32)
    n_items = int(rng.choice(8, p=[0.05, 0.12, 0.16, 0.18, 0.17, 0.14, 0.1, 0.08]))
    areas: list[int] = []
    for _ in range(int(rng.integers(0, 3))):  # distractors under the products
        sprite = _receipt(rng, short) if rng.random() < 0.6 else _hand(rng, short)
        sprite = _rotate(sprite, float(rng.uniform(0, 360)))
        _paste(canvas, sprite, int(rng.integers(-sprite.shape[1] // 3, w)), int(rng.integers(-sprite.shape[0] // 3, h)))
    for item in range(1, n_items + 1):
        long_px = int(short * rng.uniform(0.22, 0.85))
        sprite = bank.take(rng, long_px)
        angle = float(rng.normal(0, 10)) + (90.0 if rng.random() < 0.5 else 0.0)
        if rng.random() < 0.3:
            angle = float(rng.uniform(0, 360))
        sprite = _rotate(sprite, angle)
        sh, sw = sprite.shape[:2]
        x = int(rng.integers(-sw // 5, max(1, w - sw + sw // 5)))
        y = int(rng.integers(-sh // 5, max(1, h - sh + sh // 5)))
        _paste(canvas, sprite, x, y, ids, item, shadow=float(rng.uniform(0.1, 0.5)))
        areas.append(int((sprite[..., 3] > 127).sum()))
    if rng.random() < 0.25:  # a hand reaching over the products
        sprite = _rotate(_hand(rng, short), float(rng.uniform(0, 360)))
        _paste(canvas, sprite, int(rng.integers(-sprite.shape[1] // 2, w)), int(rng.integers(-sprite.shape[0] // 2, h)),
               ids, 0)
    boxes = []
    for item, area in enumerate(areas, start=1):
        ys, xs = np.nonzero(ids == item)
        if len(xs) < max(1.0, MIN_VISIBLE * area):
            continue
        boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    return FinderScene(_camera(canvas, rng), np.array(boxes, np.float32).reshape(-1, 4))
