"""The appliance's live tray view: basket and health APIs (Flask client) and the MJPEG stream."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.appliance import build_vision
from edge.web import create_app
from edge.web.live import LiveView
from firmware_config import load_config
from vision.bundle import BundleError
from vision.catalogue import demo_catalogue


@pytest.fixture
def stack(demo_bundle: Path):
    cfg = load_config(None, env={}, overrides={
        "camera": {"uri": "synthetic:?seed=4&period=1&fps=10"}, "detector": {"bundle": str(demo_bundle)}})
    s = build_vision(cfg, realtime=False)
    yield s
    s.source.close()


@pytest.fixture
def _client(web_context):
    """``_client(stack)`` -> a test client logged in as a cashier, serving that vision stack."""

    def make(stack):
        web_context.live = LiveView(loop=stack.loop, names=dict(stack.detector.manifest.names),
                                    prices={p.sku: p.price for p in demo_catalogue()}, currency="DOP",
                                    model_version=stack.detector.manifest.version,
                                    source_state=lambda: stack.source.state, stats=lambda: stack.pipeline.stats)
        app = create_app(web_context, secret_key="test", testing=True)
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        assert client.post("/api/login", json={"user_id": "ana", "pin": "1357"},
                           headers={"X-CSRFToken": token}).status_code == 200
        return client

    return make


def _run(stack, frames: int) -> None:
    for _ in range(frames):
        result = stack.pipeline.step()
        stack.loop.state.image = result.frame.image
        stack.loop.state.detections = result.detections
        stack.loop.state.basket = result.basket
        stack.loop.state.events.extend(result.basket.events)


def test_basket_api_shows_the_products_on_the_tray(stack, _client):
    _run(stack, 40)  # 4 s of camera time: items have been put down and settled
    body = _client(stack).get("/api/basket").get_json()
    truth = stack.source.truth()
    assert body["currency"] == "DOP"
    assert body["items"], "the synthetic camera put items down; the basket must show them"
    names = {p.sku: p.name for p in demo_catalogue()}
    for item in body["items"]:
        assert item["name"] == names[item["sku"]]
        assert isinstance(item["unit_price"], int) and item["unit_price"] > 0
    assert body["total"] == sum(i["unit_price"] for i in body["items"])
    # what the page shows is what lies on the tray (exact agreement is measured in tests/vision)
    on_tray = sum(item["sku"] in truth for item in body["items"])
    assert on_tray >= 0.75 * len(body["items"])
    assert any(e["kind"] == "add" for e in body["events"])


def test_the_change_gate_skips_inference_on_a_still_tray(stack):
    _run(stack, 30)
    assert stack.pipeline.stats.inferences < stack.pipeline.stats.frames


def test_health_reports_camera_and_model(stack, _client):
    _run(stack, 3)
    resp = _client(stack).get("/api/health")
    body = resp.get_json()
    assert body["camera"]["uri"].startswith("synthetic:")
    assert body["model_version"] == stack.detector.manifest.version
    assert body["inference"]["count"] >= 1
    assert resp.status_code == 503 and body["vision_loop"] == "stopped"  # no loop thread in this test


def test_mjpeg_stream_serves_annotated_jpeg_frames(stack, _client):
    _run(stack, 30)
    resp = _client(stack).get("/video.mjpg", buffered=False)
    assert resp.mimetype == "multipart/x-mixed-replace"
    chunk = next(resp.response)
    assert chunk.startswith(b"--frame\r\nContent-Type: image/jpeg")
    jpg = chunk.split(b"\r\n\r\n", 1)[1]
    image = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (480, 640, 3)
    resp.close()


def test_pages_are_served_without_any_cdn_and_with_security_headers(stack, _client):
    client = _client(stack)
    page = client.get("/live")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/video.mjpg" in html
    assert "http://" not in html and "https://" not in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/static/live.js").status_code == 200


def test_a_bundle_that_fails_its_self_test_does_not_start(demo_bundle_copy: Path):
    import json

    manifest = json.loads((demo_bundle_copy / "manifest.json").read_text())
    manifest["selftest"]["expected"] = {"TP-4PK": 7}
    (demo_bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    cfg = load_config(None, env={}, overrides={"detector": {"bundle": str(demo_bundle_copy)}})
    with pytest.raises(BundleError, match="self-test failed"):
        build_vision(cfg, realtime=False)
