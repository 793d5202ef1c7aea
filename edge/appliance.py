"""Assemble the appliance from the validated configuration and run it.

camera source -> change gate -> recogniser (finder, then each newly arrived product identified once
against the store's gallery in ``DATA_DIR/gallery``, unknown items flagged; the model bundle's
classes when recognition is off or has no gallery) (+ barcode fallback) -> basket stabiliser, in a
``VisionLoop`` thread -> the checkout session -> the store (one atomic write per sale, with its
outbox row) -> anomaly score.  The Flask app (cashier screen, dashboard, management) is served by
waitress, a production WSGI server, never Flask's development server.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.fleet.install import load_checked
from edge.fleet.switcher import ModelSwitcher, fleet_bundle, recogniser_settings
from firmware_config import ConfigError, TillsightConfig, apply_overlay, load_config
from runtime.notify import ProgressProbe, ServiceSupervisor
from runtime.serve import run_until_signal, wsgi_server
from runtime.tls import fingerprint, web_tls
from vision.barcode import BarcodeReader
from vision.basket import BasketStabiliser
from vision.bundle import BundleError
from vision.change_gate import ChangeGate
from vision.detector import Detector
from vision.pipeline import VisionLoop, VisionPipeline
from vision.recogniser import Recogniser, choose_finder
from vision.sources import FrameSource, open_source

log = logging.getLogger(__name__)


@dataclass
class VisionStack:
    source: FrameSource
    detector: Detector
    pipeline: VisionPipeline
    loop: VisionLoop
    recogniser: Recogniser | None = None


def gallery_dir(cfg: TillsightConfig) -> Path:
    """The store's gallery folder: ``gallery.dir``, by default ``DATA_DIR/gallery``."""
    return Path(cfg.gallery.dir) if cfg.gallery.dir is not None else Path(cfg.data_dir) / "gallery"


def build_recogniser(cfg: TillsightConfig) -> Recogniser | None:
    """The two-stage recogniser the configuration asks for; None when recognition is off, or when its
    embedder or finder cannot be loaded (logged by name: the till then runs on the bundle's classes)."""
    from vision.gallery.manifest import GalleryError, read_manifest
    from vision.identifier import Embedder, EmbedderError

    rec = cfg.recognition
    if not rec.enabled:
        return None
    folder = gallery_dir(cfg)
    views: int | None = rec.views
    if views is None:
        try:
            views = read_manifest(folder).views if (folder / "manifest.json").exists() else None
        except GalleryError:
            views = None  # the recogniser reports the broken gallery by name
    try:
        embedder = Embedder(rec.embedder, variant=rec.variant, views=views or 4)
        finder = choose_finder(rec.finder, synthetic_camera=cfg.camera.uri.startswith("synthetic:"))
    except Exception as exc:  # noqa: BLE001 - EmbedderError, FinderError, onnxruntime's own: never stop the till
        what = "embedder" if isinstance(exc, EmbedderError) else "finder or embedder"
        log.error("recognition is off, running on the model bundle's classes: the %s did not load: %s", what, exc)
        return None
    recogniser = Recogniser(embedder, folder, finder, recogniser_settings(cfg))
    log.info("recognition: %s finder, gallery %s (%s)", recogniser.status()["finder"], folder,
             f"version {recogniser.gallery_version}" if recogniser.gallery_version is not None
             else recogniser.status()["gallery_error"] or "none yet")
    return recogniser


def build_vision(cfg: TillsightConfig, realtime: bool = True) -> VisionStack:
    """Load the bundle (with its self-test), open the camera and wire the pipeline; nothing runs yet."""
    bundle = fleet_bundle(cfg)
    try:
        detector = load_checked(bundle, cfg)
    except BundleError as exc:
        if bundle == Path(cfg.detector.bundle):
            raise
        # A fleet-installed model that no longer loads: start on the set-up bundle; the fleet
        # agent sees the appliance is not running its model and restores the previous one.
        log.error("fleet model %s does not load (%s); starting with %s", bundle, exc, cfg.detector.bundle)
        detector = load_checked(Path(cfg.detector.bundle), cfg)
    log.info("model %s loaded from %s (self-test passed)", detector.manifest.version, detector.manifest.path)
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
    recogniser = build_recogniser(cfg)
    pipeline = VisionPipeline(source, detector, stabiliser, gate=gate, barcode_reader=reader,
                              sku_by_barcode=barcodes, barcode_interval_s=cfg.barcode.interval_s,
                              recogniser=recogniser)
    return VisionStack(source, detector, pipeline, VisionLoop(pipeline), recogniser)




@dataclass
class Appliance:
    """Everything one till runs: the store, staff auth, the checkout, vision and the web app."""

    cfg: TillsightConfig
    store: Any  # edge.store.Store
    auth: Any  # edge.auth.service.Authenticator
    checkout: Any  # edge.checkout.service.CheckoutService
    anomaly: Any  # edge.anomaly.service.AnomalyService | None
    vision: VisionStack | None
    app: Any  # flask.Flask
    switcher: ModelSwitcher | None = None  # follows fleet model/config updates between sales
    extra: dict[str, Any] = field(default_factory=dict)

    def health(self) -> dict[str, Any]:
        """Device health for the dashboard and telemetry."""
        out: dict[str, Any] = {}
        if self.vision is not None:
            stats = self.vision.pipeline.stats
            out.update(camera_fps=round(stats.camera_fps, 1), inference_ms=round(stats.inference_ms, 1),
                       model_version=self.vision.detector.manifest.version, vision_alive=self.vision.loop.alive(),
                       camera_state=self.vision.source.state.state,
                       vision_errors=stats.errors)
            rec = self.vision.recogniser
            if rec is not None:
                status = rec.status()
                # "none yet" rather than an unknown value: a store that has enrolled nothing is healthy
                out.update(gallery_version=status["gallery_version"] if status["gallery_version"] is not None
                           else "none yet", gallery_skus=status["gallery_skus"], finder=status["finder"])
                if status["gallery_error"]:
                    out["gallery_error"] = status["gallery_error"]  # the broken file, by name
        try:
            usage = shutil.disk_usage(self.store.path.parent)
            out.update(disk_free_mb=usage.free // 2**20, disk_total_mb=usage.total // 2**20)
        except OSError:
            pass
        out["sync_backlog"] = self.store.outbox.backlog()
        out["oldest_unsynced_at"] = self.store.outbox.oldest_pending_at()
        last = self.store.sales.recent(limit=1)
        out["last_sale_at"] = last[0]["completed_at"] if last else None
        if self.anomaly is not None:
            out["anomaly_model"] = self.anomaly.model_name
        return out


def build_appliance(cfg: TillsightConfig, with_vision: bool = True, realtime: bool = True,
                    seed_demo: bool = False, history_days: int = 0,
                    reload_config: Callable[[], TillsightConfig] | None = None) -> Appliance:
    """Open (and integrity-check) the store, seed it for the demo when asked, load the model, wire
    vision into the checkout, and build the web app.  Raises on anything invalid; nothing runs yet.

    ``reload_config`` rebuilds the configuration from its sources when the fleet changes the
    overlay; by default the new overlay is applied over ``cfg``."""
    from datetime import UTC, datetime

    from edge.anomaly.service import AnomalyService
    from edge.auth.service import Authenticator
    from edge.checkout.corrections import CorrectionKeeper
    from edge.checkout.service import CheckoutService
    from edge.demo.seed import seed_store
    from edge.store import DeviceIdentity, Store
    from edge.web import create_app
    from edge.web.context import WebContext
    from edge.web.live import LiveView
    from vision.gallery.candidates import CandidateStore

    data_dir = Path(cfg.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / "store.db", identity=DeviceIdentity(cfg.store.store_id, cfg.store.device_id),
                  drawers=cfg.till.drawers)
    if seed_demo:
        name = cfg.store.name if cfg.store.name != "Tillsight store" else "Colmado La Esquina"
        n = seed_store(store, store_name=name, currency=cfg.store.currency, timezone_name=cfg.store.timezone,
                       language=cfg.store.language,
                       history_days=history_days, store_id=cfg.store.store_id, device_id=cfg.store.device_id,
                       now=datetime.now(UTC))  # the running service's clock: the history ends now
        if n:
            log.info("seeded the demo store with %d sales of history", n)
    elif not store.settings.is_seeded():
        store.settings.update(store_name=cfg.store.name, currency=cfg.store.currency, timezone=cfg.store.timezone,
                              language=cfg.store.language)
    auth = Authenticator(store.users)
    anomaly = AnomalyService(store, data_dir / "anomaly-model.pkl")
    anomaly.ensure_fitted()
    candidates = CandidateStore(data_dir / "gallery-candidates")  # corrections' crops for the owner to approve
    checkout = CheckoutService(store, auth, cfg.store.store_id, cfg.store.device_id, scorer=anomaly.score_payload,
                               on_recorded=anomaly.sale_recorded, corrections=CorrectionKeeper(candidates))
    stack = build_vision(cfg, realtime=realtime) if with_vision else None
    live = None
    if stack is not None:
        stack.loop.on_result = lambda result: checkout.on_basket(result.basket, result.frame.image)
        names = dict(stack.detector.manifest.names)
        prices = {p.sku: p.price for p in store.products.list(include_inactive=True)}
        live = LiveView(loop=stack.loop, names=names, prices=prices, currency=store.settings.get().currency,
                        model_version=stack.detector.manifest.version, source_state=lambda: stack.source.state,
                        stats=lambda: stack.pipeline.stats)
    appliance = Appliance(cfg, store, auth, checkout, anomaly, stack, app=None)
    if stack is not None:
        def follow_model(detector: Detector) -> None:
            if live is not None:
                live.names = dict(detector.manifest.names)
                live.model_version = detector.manifest.version

        appliance.switcher = ModelSwitcher(cfg, stack, sale_open=checkout.sale_open,
                                           reload_config=reload_config or (lambda: with_overlay(cfg)),
                                           on_model=follow_model)
    context = WebContext(store=store, auth=auth, checkout=checkout, store_id=cfg.store.store_id,
                         device_id=cfg.store.device_id, live=live, health=appliance.health,
                         insights=store.insights.latest, on_settings_changed=checkout.settings_changed,
                         till=cfg.till, gallery=_gallery_access(stack), candidates=candidates)
    secret = cfg.web.secret_key.get_secret_value() if cfg.web.secret_key else _persistent_secret(data_dir)
    appliance.app = create_app(context, secret_key=secret, secure_cookies=cfg.web.secure_cookies,
                               session_hours=cfg.web.session_hours)
    return appliance


def _gallery_access(stack: VisionStack | None) -> Any:
    """The web layer's way to edit the recogniser's gallery (teaching, photo uploads, approved
    corrections): the same folder and embedder; a save makes the recogniser reload at once."""
    if stack is None or stack.recogniser is None:
        return None
    from edge.web.teach_session import GalleryAccess

    recogniser = stack.recogniser
    return GalleryAccess(recogniser.gallery_dir, recogniser.embedder, on_saved=lambda _version: _reload(recogniser))


def _reload(recogniser: Recogniser) -> None:
    recogniser.reload_now()


def with_overlay(cfg: TillsightConfig) -> TillsightConfig:
    """``cfg`` with the fleet config overlay now in its data folder applied on top."""
    from firmware_config.fleet import FleetConfigError, read_overlay

    try:
        overlay = read_overlay(cfg.data_dir)
    except FleetConfigError as exc:
        raise ConfigError([str(exc)]) from None
    return apply_overlay(cfg, overlay)


def _persistent_secret(data_dir: Path) -> str:
    """A session-signing key kept in the data folder (0600), so logins survive a restart."""
    import os
    import secrets

    path = data_dir / "web-secret.key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def run_appliance(config_path: str | None = None, host: str | None = None, port: int | None = None,
                  camera: str | None = None, data_dir: str | None = None, demo: bool = False,
                  history_days: int = 42) -> int:
    """``tillsight run`` / ``tillsight demo``: serve the appliance until SIGTERM or Ctrl-C."""
    from edge.store.errors import StoreError

    overrides: dict = {}
    if host:
        overrides.setdefault("web", {})["host"] = host
    if port:
        overrides.setdefault("web", {})["port"] = port
    if camera:
        overrides.setdefault("camera", {})["uri"] = camera
    if data_dir:
        overrides["data_dir"] = data_dir
    elif demo:
        overrides["data_dir"] = "var/demo"
    try:
        cfg = load_config(config_path, overrides=overrides)
        if demo and "language" not in cfg.store.model_fields_set:
            cfg.store.language = "es"  # the demo shop is a colmado in Santo Domingo, unless the file names a language
        # HTTPS on any address but loopback (runtime.tls); plain HTTP on the LAN is refused here, before seeding
        tls = web_tls(cfg.web.host, cfg.web.tls, Path(cfg.data_dir) / "tls", "web")
        appliance = build_appliance(cfg, seed_demo=demo, history_days=history_days if demo else 0,
                                    reload_config=lambda: load_config(config_path, overrides=overrides))
    except (ConfigError, BundleError, StoreError, FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    server, bound_port = wsgi_server(appliance.app, cfg.web.host, cfg.web.port, tls=tls, threads=cfg.web.threads)
    assert appliance.vision is not None
    recogniser = appliance.vision.recogniser
    if demo and recogniser is not None and cfg.recognition.demo_gallery:
        from vision.demo_gallery import ensure_demo_gallery

        # the demo recognises its catalogue through the gallery: built once, in the background
        ensure_demo_gallery(recogniser.gallery_dir, recogniser.embedder)
    appliance.vision.loop.start()
    if appliance.switcher is not None:
        appliance.switcher.start()
    base = f"{'https' if tls else 'http'}://{cfg.web.host}:{bound_port}"
    log.info("Tillsight appliance serving on %s (Ctrl-C to stop)%s", base,
             f"; certificate SHA-256 {fingerprint(tls.cert)}" if tls else "")
    lines = [f"  Cashier screen:   {base}/till", f"  Store dashboard:  {base}/dashboard",
             f"  Appliance live view: {base}/live", f"  Teach a product:  {base}/teach",
             f"  Log in at:        {base}/login"]
    if demo:
        lines.append("  Demo logins: cashier ana PIN 1357 · supervisor maria PIN 8024 · owner password tillsight-owner")
    sys.stdout.write("\n" + "\n".join(lines) + "\n\n")  # the lines a person looks for
    sys.stdout.flush()
    vision = appliance.vision
    service = ServiceSupervisor([ProgressProbe("vision loop", lambda: vision.loop.progress, "vision-loop")],
                                status=lambda: f"serving on {base}; camera {vision.source.state.state}")
    service.ready(f"serving on {base}")
    try:
        # waitress's loop raises OSError on the socket closed under it: the normal way out
        run_until_signal(server.run, server.close, what="the appliance", service=service,
                         expected_on_stop=(OSError,))
    finally:
        service.close()
        if appliance.switcher is not None:
            appliance.switcher.stop()
        appliance.vision.loop.stop()
        appliance.vision.source.close()
        appliance.store.close()
    return 0


def run_demo(config_path: str | None = None, host: str | None = None, port: int | None = None,
             camera: str | None = None, data_dir: str | None = None, history_days: int = 42) -> int:
    return run_appliance(config_path, host, port, camera, data_dir, demo=True, history_days=history_days)
