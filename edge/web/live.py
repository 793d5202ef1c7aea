"""Live camera view: MJPEG stream with boxes and product names, and the basket as JSON."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
from flask import Blueprint, Response, current_app, jsonify, render_template

from edge.web.security import require
from vision.overlay import draw_detections
from vision.pipeline import PipelineStats, VisionLoop
from vision.sources import SourceState

live_blueprint = Blueprint("live", __name__)


@dataclass
class LiveView:
    """What the web layer needs from the running vision stack (read-only)."""

    loop: VisionLoop
    names: dict[str, str]
    prices: dict[str, int]
    currency: str
    model_version: str
    source_state: Callable[[], SourceState]
    stats: Callable[[], PipelineStats]
    stream_fps: float = 10.0


def _live() -> LiveView:
    return current_app.extensions["tillsight.live"]


@live_blueprint.get("/live")
@require("cashier")
def index() -> str:
    live = _live()
    return render_template("live.html", model_version=live.model_version, currency=live.currency)


def _mjpeg(live: LiveView) -> Iterator[bytes]:
    period = 1.0 / max(live.stream_fps, 0.5)
    last_id = None
    while True:
        snap = live.loop.snapshot()
        if snap.image is not None and id(snap.image) != last_id:
            last_id = id(snap.image)
            frame = draw_detections(snap.image, snap.detections, live.names)
            ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
            if ok:
                yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpg)).encode()
                       + b"\r\n\r\n" + jpg.tobytes() + b"\r\n")
        time.sleep(period)


@live_blueprint.get("/video.mjpg")
@require("cashier")
def video() -> Response:
    return Response(_mjpeg(_live()), mimetype="multipart/x-mixed-replace; boundary=frame",
                    headers={"Cache-Control": "no-store"})


@live_blueprint.get("/api/basket")
@require("cashier")
def basket() -> Response:
    live = _live()
    snap = live.loop.snapshot()
    items = []
    total = 0
    if snap.basket is not None:
        for it in snap.basket.items:
            price = live.prices.get(it.sku, 0) if it.sku is not None else 0
            total += price
            name = live.names.get(it.sku, it.sku) if it.sku is not None else "Unknown item"
            items.append({"track_id": it.track_id, "sku": it.sku, "known": it.known, "name": name,
                          "confidence": it.confidence, "source": it.source, "unit_price": price,
                          "alternatives": [{"sku": s, "name": live.names.get(s, s), "score": sc}
                                           for s, sc in it.alternatives]})
    events = [{"kind": e.kind, "sku": e.sku, "known": e.known,
               "name": live.names.get(e.sku, e.sku) if e.sku is not None else "Unknown item",
               "confidence": e.confidence, "at": e.at} for e in snap.events[-10:]]
    return jsonify({"settled": bool(snap.basket.settled) if snap.basket else False, "items": items,
                    "total": total, "currency": live.currency, "events": events})


@live_blueprint.get("/api/health")
@require("cashier")
def health() -> tuple[Response, int]:
    live = _live()
    st = live.source_state()
    stats = live.stats()
    alive = live.loop.alive()
    ok = alive and st.state == "live"
    body = {"ok": ok, "vision_loop": "running" if alive else "stopped",
            "camera": {"uri": st.uri, "state": st.state, "fps": round(st.fps, 1), "frames": st.frames,
                       "reconnects": st.reconnects, "last_error": st.last_error},
            "inference": {"count": stats.inferences, "ms": round(stats.inference_ms, 1), "errors": stats.errors,
                          "last_error": stats.last_error},
            "model_version": live.model_version}
    return jsonify(body), (200 if ok else 503)
