"""Scene compositor: top-down checkout-tray scenes from product cut-outs, with exact labels.

``compose_scene`` draws a random scene (1-12 items) for training and evaluation; training styles
also lay loose labels, receipts and stickers (vision.clutter) under the items, and sometimes
leave the products out, so that paper and printed barcodes are learnt as not-a-product.  ``render_tray``
draws a given arrangement, so the synthetic camera can keep items still between frames and put
them down or take them away over time.  Effects: rotation, scale, mild perspective, overlap with
bounded occlusion, drop shadows, light gradient and white balance, blur, sensor noise, JPEG
artefacts and sometimes a hand.  Boxes are the visible extent of each item after all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.backgrounds import draw_background
from vision.clutter import add_clutter
from vision.cutouts import CutoutLibrary
from vision.sprites import Window, frame_window, rotated_sprite

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels


@dataclass
class PlacedItem:
    """An item on the tray: which cut-out, where (mm from the tray's top-left corner), at what angle."""

    sku: str
    view_index: int
    x_mm: float
    y_mm: float
    angle_deg: float
    scale_jitter: float = 1.0


@dataclass
class SceneStyle:
    frame_size: tuple[int, int] = (640, 480)
    tray_mm: tuple[float, float] = (800.0, 600.0)
    max_items: int = 12
    min_items: int = 1
    item_count_draws: int = 1  # the item count is the largest of this many uniform draws; 2+ favours full trays
    max_occlusion: float = 0.35  # at most this share of an item may be hidden
    hand_probability: float = 0.2
    background_families: tuple[str, ...] | None = None
    camera_scale: tuple[float, float] = (0.92, 1.08)
    perspective: float = 0.035  # corner shift as a share of the frame
    jpeg_quality: tuple[int, int] = (35, 95)
    effects: bool = True
    clutter_probability: float = 0.0  # share of scenes with loose labels, receipts, stickers (unlabelled)
    empty_share: float = 0.0  # share of the cluttered scenes that hold no product at all

    def __post_init__(self) -> None:
        if not 1 <= self.min_items <= self.max_items:
            raise ValueError(f"SceneStyle: min_items {self.min_items} and max_items {self.max_items} "
                             "must satisfy 1 <= min_items <= max_items")
        if self.item_count_draws < 1:
            raise ValueError(f"SceneStyle: item_count_draws must be 1 or more, got {self.item_count_draws}")
        for name in ("clutter_probability", "empty_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SceneStyle: {name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.max_occlusion < 1.0:
            raise ValueError(f"SceneStyle: max_occlusion must be in [0, 1), got {self.max_occlusion}")


@dataclass
class SceneLabel:
    sku: str
    box: Box
    visible_fraction: float


@dataclass
class Scene:
    image: np.ndarray  # BGR uint8
    labels: list[SceneLabel]
    items: list[PlacedItem] = field(default_factory=list)
    px_per_mm: float = 0.0  # the scale the items were drawn at
    background: str = ""  # the background family, when the scene was composed from one


class _Canvas:
    """Accumulates items with their id map, so occlusion is known exactly."""

    def __init__(self, background: np.ndarray, shadow_offset: tuple[int, int], shadow_strength: float):
        self.img: np.ndarray = background.astype(np.float32)
        self.ids: np.ndarray = np.zeros(background.shape[:2], np.int16)  # 0 = background, -1 = hand, k = item k
        self.areas: dict[int, int] = {}
        self.shadow_offset = shadow_offset
        self.shadow_strength = shadow_strength

    def _window(self, sprite: np.ndarray, cx: float, cy: float) -> Window | None:
        return frame_window(self.ids.shape, sprite.shape, cx, cy)

    def occlusion_ok(self, sprite: np.ndarray, cx: float, cy: float, max_occlusion: float,
                     min_inside: float) -> bool:
        win = self._window(sprite, cx, cy)
        if win is None:
            return False
        (fy, fx), (sy, sx) = win
        alpha = sprite[sy, sx, 3] > 127
        total = int((sprite[..., 3] > 127).sum())
        if total == 0 or alpha.sum() < min_inside * total:
            return False
        covered = self.ids[fy, fx][alpha]
        if covered.size:
            hit = np.bincount(covered[covered > 0].astype(np.int64), minlength=len(self.areas) + 2)
            for k, n in enumerate(hit):
                if n and k in self.areas:
                    visible_now = int((self.ids == k).sum())
                    if (visible_now - n) < (1 - max_occlusion) * self.areas[k]:
                        return False
        return True

    def paste(self, sprite: np.ndarray, cx: float, cy: float, item_id: int, shadow: bool = True) -> None:
        if shadow:
            dx, dy = self.shadow_offset
            sh = cv2.GaussianBlur(sprite[..., 3].astype(np.float32) / 255.0, (0, 0), 3 + abs(dx) / 2)
            shw = self._window(sh, cx + dx, cy + dy)
            if shw is not None:
                (fy, fx), (sy, sx) = shw
                self.img[fy, fx] *= (1 - self.shadow_strength * sh[sy, sx])[..., None]
        win = self._window(sprite, cx, cy)
        if win is None:
            return
        (fy, fx), (sy, sx) = win
        a = sprite[sy, sx, 3:4].astype(np.float32) / 255.0
        self.img[fy, fx] = self.img[fy, fx] * (1 - a) + sprite[sy, sx, :3].astype(np.float32) * a
        solid = a[..., 0] > 0.5
        ids = self.ids[fy, fx]
        ids[solid] = item_id
        if item_id > 0:
            self.areas[item_id] = int((sprite[..., 3] > 127).sum())


def _hand_sprite(rng: np.random.Generator, scale: float) -> np.ndarray:
    """A flat top-down hand with fingers, pointing into the frame along +x."""
    L = int(190 * scale)
    H = int(110 * scale)
    img = np.zeros((H, L, 4), np.uint8)
    skin = np.array([rng.uniform(40, 140), rng.uniform(70, 170), rng.uniform(110, 230)])
    col = tuple(int(c) for c in skin) + (255,)
    cv2.rectangle(img, (0, int(H * 0.25)), (int(L * 0.35), int(H * 0.8)), col, -1)  # wrist
    cv2.ellipse(img, (int(L * 0.45), H // 2), (int(L * 0.16), int(H * 0.32)), 0, 0, 360, col, -1, cv2.LINE_AA)
    for k in range(4):
        y = int(H * (0.26 + k * 0.15))
        length = L * (0.3 + 0.06 * (k in (1, 2)))
        cv2.line(img, (int(L * 0.5), y), (int(L * 0.5 + length), y), col, max(3, int(H * 0.11)), cv2.LINE_AA)
    cv2.line(img, (int(L * 0.42), int(H * 0.82)), (int(L * 0.62), int(H * 0.98)), col, max(3, int(H * 0.12)),
             cv2.LINE_AA)
    shade = np.linspace(0.85, 1.05, H)[:, None, None]
    img[..., :3] = np.clip(img[..., :3] * shade, 0, 255).astype(np.uint8)
    return img


def _apply_camera_effects(img: np.ndarray, rng: np.random.Generator, style: SceneStyle) -> np.ndarray:
    h, w = img.shape[:2]
    # light gradient and white balance
    gx, gy = rng.uniform(-1, 1, 2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grad = 1 + rng.uniform(0.0, 0.25) * ((xx / w - 0.5) * gx + (yy / h - 0.5) * gy)
    wb = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    gain = rng.uniform(0.7, 1.25)
    out: np.ndarray = img * grad[..., None] * wb[None, None, :] * gain
    # blur: focus or motion
    r = rng.random()
    if r < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.4))
    elif r < 0.4:
        k = int(rng.integers(3, 8))
        kernel: np.ndarray = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, m, (k, k))
        kernel = (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32)
        out = cv2.filter2D(out, -1, kernel)
    # sensor noise
    sigma = rng.uniform(0, 8)
    if sigma > 0.5:
        out = out + rng.normal(0, sigma, out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    q = int(rng.integers(style.jpeg_quality[0], style.jpeg_quality[1] + 1))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    return decoded if decoded is not None else out


def _perspective(img: np.ndarray, ids: np.ndarray, rng: np.random.Generator, amount: float):
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = src + rng.uniform(-amount, amount, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    ids = cv2.warpPerspective(ids, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)
    return img, ids


def render_tray(library: CutoutLibrary, items: list[PlacedItem], background: np.ndarray,
                style: SceneStyle, rng: np.random.Generator | None = None,
                px_per_mm: float | None = None, hand: bool = False) -> Scene:
    """Draw ``items`` (bottom first) on ``background``; effects only when ``rng`` is given."""
    w, h = style.frame_size
    if background.shape[:2] != (h, w):
        background = cv2.resize(background, (w, h))
    ppm = px_per_mm or (w / style.tray_mm[0])
    canvas = _Canvas(background, (4, 5), 0.35)
    for k, it in enumerate(items, start=1):
        cut = library.entry(it.sku).cutouts[it.view_index]
        sprite = rotated_sprite(cut.rgba, ppm / cut.px_per_mm * it.scale_jitter, it.angle_deg)
        canvas.paste(sprite, it.x_mm * ppm, it.y_mm * ppm, k)
    if hand:
        hr = rng if rng is not None else np.random.default_rng(0)
        _add_hand(canvas, hr, ppm)
    img, ids = canvas.img, canvas.ids
    if rng is not None and style.effects and style.perspective > 0:
        img, ids = _perspective(img, ids, rng, style.perspective)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng is not None and style.effects:
        img = _apply_camera_effects(img.astype(np.float32), rng, style)
    labels = _labels_from_ids(ids, items, canvas.areas)
    return Scene(img, labels, list(items), ppm)


def _add_hand(canvas: _Canvas, rng: np.random.Generator, ppm: float) -> None:
    sprite = _hand_sprite(rng, ppm / 1.0 * rng.uniform(0.9, 1.15))
    fh, fw = canvas.ids.shape
    side = int(rng.integers(0, 4))
    angle = {0: 0, 1: 180, 2: 90, 3: -90}[side] + rng.uniform(-25, 25)
    sprite = rotated_sprite(sprite, 1.0, angle)
    for _ in range(10):
        along = rng.uniform(0.15, 0.85)
        depth = rng.uniform(0.05, 0.2)
        cx, cy = {0: (depth * fw, along * fh), 1: ((1 - depth) * fw, along * fh),
                  2: (along * fw, (1 - depth) * fh), 3: (along * fw, depth * fh)}[side]
        if canvas.occlusion_ok(sprite, cx, cy, 0.35, 0.0):
            canvas.paste(sprite, cx, cy, -1, shadow=True)
            return


def _labels_from_ids(ids: np.ndarray, items: list[PlacedItem], areas: dict[int, int]) -> list[SceneLabel]:
    labels = []
    for k, it in enumerate(items, start=1):
        ys, xs = np.nonzero(ids == k)
        if xs.size < 30:
            continue
        frac = xs.size / max(areas.get(k, xs.size), 1)
        labels.append(SceneLabel(it.sku, (float(xs.min()), float(ys.min()), float(xs.max() + 1),
                                          float(ys.max() + 1)), min(1.0, frac)))
    return labels


def place_items(library: CutoutLibrary, rng: np.random.Generator, style: SceneStyle, n_items: int,
                px_per_mm: float, skus: list[str] | None = None) -> list[PlacedItem]:
    """Choose and place up to ``n_items`` without hiding more than ``style.max_occlusion`` of any item."""
    w, h = style.frame_size
    canvas = _Canvas(np.zeros((h, w, 3), np.uint8), (0, 0), 0.0)
    pool = skus or library.skus
    placed: list[PlacedItem] = []
    for _ in range(n_items):
        sku = pool[int(rng.integers(0, len(pool)))]
        entry = library.entry(sku)
        vi = int(rng.integers(0, len(entry.cutouts)))
        cut = entry.cutouts[vi]
        angle = float(rng.uniform(0, 360))
        jitter = float(rng.uniform(0.97, 1.03))
        sprite = rotated_sprite(cut.rgba, px_per_mm / cut.px_per_mm * jitter, angle)
        for _attempt in range(25):
            cx = rng.uniform(0.06, 0.94) * w
            cy = rng.uniform(0.06, 0.94) * h
            if canvas.occlusion_ok(sprite, cx, cy, style.max_occlusion, 0.85):
                canvas.paste(sprite, cx, cy, len(placed) + 1, shadow=False)
                placed.append(PlacedItem(sku, vi, cx / px_per_mm, cy / px_per_mm, angle, jitter))
                break
    return placed


def compose_scene(library: CutoutLibrary, seed: int, style: SceneStyle | None = None) -> Scene:
    """A random, fully labelled checkout scene; the same seed gives the same scene."""
    style = style or SceneStyle()
    rng = np.random.default_rng(seed)
    w, h = style.frame_size
    px_per_mm = w / style.tray_mm[0] * rng.uniform(*style.camera_scale)
    family, background = draw_background(rng, (w, h), style.background_families)
    n = int(rng.integers(style.min_items, style.max_items + 1))
    for _ in range(style.item_count_draws - 1):  # no extra draws by default: old seeds keep their scenes
        n = max(n, int(rng.integers(style.min_items, style.max_items + 1)))
    # clutter draws from its own stream, so a style without clutter keeps every old seed's scene
    clutter_rng = np.random.default_rng((seed, 0xC1))
    empty = False
    if style.clutter_probability > 0 and clutter_rng.random() < style.clutter_probability:
        codes = [str(e.meta["barcode"]) for e in library.entries if e.meta.get("barcode")]
        background = add_clutter(background, clutter_rng, px_per_mm, codes)
        empty = clutter_rng.random() < style.empty_share
    items = [] if empty else place_items(library, rng, style, n, px_per_mm)
    hand = style.effects and rng.random() < style.hand_probability
    scene = render_tray(library, items, background, style, rng, px_per_mm=px_per_mm, hand=hand)
    scene.background = family
    return scene
