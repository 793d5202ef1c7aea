"""Assemble the appliance's vision stack and live view from the validated configuration.

camera source -> change gate -> detector (+ barcode fallback) -> basket stabiliser, in a
``VisionLoop`` thread; the Flask app serves the live view behind waitress (a production WSGI
server, never Flask's development server).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass

from firmware_config import ConfigError, TillsightConfig, load_config
from vision.barcode import BarcodeReader
from vision.basket import BasketStabiliser
from vision.bundle import BundleError
from vision.catalogue import demo_catalogue
from vision.change_gate import ChangeGate
from vision.detector import Detector
from vision.pipeline import VisionLoop, VisionPipeline
from vision.selftest import run_self_test
from vision.sources import FrameSource, open_source

log = logging.getLogger(__name__)


@dataclass
class VisionStack:
    source: FrameSource
    detector: Detector
    pipeline: VisionPipeline
    loop: VisionLoop


def build_vision(cfg: TillsightConfig, realtime: bool = True) -> VisionStack:
    """Load the bundle (with its self-test), open the camera and wire the pipeline; nothing runs yet."""
    det_cfg = cfg.detector
    detector = Detector(det_cfg.bundle, input_size=det_cfg.input_size, threads=det_cfg.threads,
                        confidence=det_cfg.confidence, iou=det_cfg.iou, alternatives=cfg.stabiliser.alternatives)
    result = run_self_test(detector)
    if not result.passed:
        raise BundleError(f"{detector.manifest.path}: {result.message}")
    log.info("model %s loaded: %s", detector.manifest.version, result.message)
    cam = cfg.camera
    source = open_source(cam.uri, width=cam.width, height=cam.height, fps=cam.fps, realtime=realtime,
                         backoff_s=cam.reopen_backoff_s, backoff_max_s=cam.reopen_backoff_max_s)
    stab = cfg.stabiliser
    stabiliser = BasketStabiliser(settle_frames=stab.settle_frames, min_confidence=stab.min_confidence,
                                  iou_match=stab.iou_match, alternatives=stab.alternatives)
    gate = None
    if cfg.gate.enabled:
        # let enough frames through after a change for the stabiliser to confirm it
        gate = ChangeGate(threshold=cfg.gate.threshold, downscale=cfg.gate.downscale,
                          max_interval_s=cfg.gate.max_interval_s, settle_frames=stab.settle_frames + 1)
    barcodes = {code: sku for sku, code in detector.manifest.barcodes.items()}
    reader = BarcodeReader() if cfg.barcode.enabled else None
    pipeline = VisionPipeline(source, detector, stabiliser, gate=gate, barcode_reader=reader,
                              sku_by_barcode=barcodes, barcode_interval_s=cfg.barcode.interval_s)
    return VisionStack(source, detector, pipeline, VisionLoop(pipeline))


def run_demo(config_path: str | None = None, host: str | None = None, port: int | None = None,
             camera: str | None = None) -> int:
    """``tillsight demo``: the live tray view on the synthetic camera, until Ctrl-C."""
    from waitress import create_server

    from edge.web import create_app
    from edge.web.live import LiveView

    overrides: dict = {}
    if host:
        overrides.setdefault("web", {})["host"] = host
    if port:
        overrides.setdefault("web", {})["port"] = port
    if camera:
        overrides.setdefault("camera", {})["uri"] = camera
    try:
        cfg = load_config(config_path, overrides=overrides)
        stack = build_vision(cfg)
    except (ConfigError, BundleError, FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    names = dict(stack.detector.manifest.names)
    prices = {p.sku: p.price for p in demo_catalogue()}
    live = LiveView(loop=stack.loop, names=names, prices=prices, currency=cfg.store.currency,
                    model_version=stack.detector.manifest.version, source_state=lambda: stack.source.state,
                    stats=lambda: stack.pipeline.stats)
    secret = cfg.web.secret_key.get_secret_value() if cfg.web.secret_key else None
    app = create_app(live, secret_key=secret)
    server = create_server(app, host=cfg.web.host, port=cfg.web.port, threads=8)
    stack.loop.start()
    url = f"http://{cfg.web.host}:{server.effective_port}/"
    log.info("Tillsight demo running: live tray view at %s (Ctrl-C to stop)", url)
    sys.stdout.write(f"\n  Appliance live view: {url}\n\n")  # the line a person looks for
    sys.stdout.flush()

    stop = threading.Event()

    def _shutdown(*_: object) -> None:
        stop.set()
        server.close()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        server.run()
    except OSError:
        if not stop.is_set():
            raise
    finally:
        stack.loop.stop()
        stack.source.close()
    return 0
