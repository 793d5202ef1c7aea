"""Subcommand handlers.  Each imports its side of the product inside the function, so that
``tillsight config check`` never loads onnxruntime and nothing on the device loads torch."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from tillsight_cli.json_output import emit_json

log = logging.getLogger("tillsight")



def config_check(args: argparse.Namespace) -> int:
    import vision.detectors  # noqa: F401 - the detector back ends register their config keys (no onnxruntime)
    from firmware_config import check_config_file

    ok, message = check_config_file(args.file)
    (sys.stdout if ok else sys.stderr).write(message.rstrip() + "\n")
    return 0 if ok else 2


def config_show(args: argparse.Namespace) -> int:
    import vision.detectors  # noqa: F401 - the detector back ends register their config keys (no onnxruntime)
    from firmware_config import ConfigError, dump_config, load_config

    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(json.dumps(dump_config(cfg), indent=2, default=str) + "\n")
    return 0


def catalogue_export(args: argparse.Namespace) -> int:
    from vision.catalogue import demo_catalogue
    from vision.cutouts import export_cutouts

    n = export_cutouts(demo_catalogue(), Path(args.out), args.px_per_mm)
    log.info("wrote %d cut-outs of %d SKUs to %s", n, len(demo_catalogue()), args.out)
    return 0


def catalogue_list(args: argparse.Namespace) -> int:
    from vision.catalogue import demo_catalogue

    for p in demo_catalogue():
        emit_json({"sku": p.sku, "name": p.name, "category": p.category, "price": p.price,
                    "barcode": p.barcode, "size_mm": list(p.size_mm), "shape": p.look.shape, "family": p.family})
    return 0


def train_all(args: argparse.Namespace) -> int:
    from training.pipeline import PipelineSpec, run, stages_from_hours

    try:
        stages = stages_from_hours(args.stage_hours, args.train_images, args.epochs, args.first_stage)
    except ValueError as exc:
        sys.stderr.write(f"tillsight: --stage-hours/--first-stage: {exc}\n")
        return 2
    spec = PipelineSpec(out=args.out, work=args.work, cutouts=args.cutouts, stages=stages,
                        val_images=args.val_images, test_images=args.test_images, imgsz=args.imgsz,
                        batch=args.batch, seed=args.seed, calibration_images=args.calibration_images,
                        init_weights=args.init_weights, device=args.device,
                        galleries=tuple(getattr(args, "gallery", None) or ()))
    emit_json(run(spec))
    return 0


def train_dataset(args: argparse.Namespace) -> int:
    from training.dataset import DatasetSpec, build_dataset

    cutouts = args.cutouts
    if getattr(args, "gallery", None):
        from training.gallery import merged_cutouts

        cutouts = str(merged_cutouts(Path(args.cutouts), [Path(g) for g in args.gallery],
                                     Path(args.out).with_name(Path(args.out).name + "-cutouts")))
    path = build_dataset(DatasetSpec(cutouts, args.train_images, args.val_images, args.seed), Path(args.out))
    log.info("dataset ready: %s", path)
    return 0


def train_package(args: argparse.Namespace) -> int:
    from training.pipeline import PipelineSpec, package, read_run_datasets

    work = Path(args.work)
    spec = PipelineSpec(out=args.out, work=str(work), imgsz=args.imgsz, test_images=args.test_images,
                        calibration_images=args.calibration_images, init_weights=args.init_weights)
    for weights in (Path(args.weights), *([Path(args.init_weights)] if args.init_weights else [])):
        if not weights.is_file():
            sys.stderr.write(f"tillsight: {weights}: no such weights file\n")
            return 2
    weights = Path(args.weights)
    try:
        classes, dataset_meta = read_run_datasets(work)
    except FileNotFoundError as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    cutouts = Path(args.cutouts) if args.cutouts else work / "cutouts"
    emit_json(package(weights, spec, cutouts, classes, dataset_meta, stages=dataset_meta["datasets"]))
    return 0


def train_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import build_test_set, evaluate_bundle
    from vision.bundle import BundleError

    if args.cutouts:
        cutouts = Path(args.cutouts)
    else:
        from vision.catalogue import demo_catalogue
        from vision.cutouts import export_cutouts

        cutouts = Path(args.testset) / "cutouts"
        if not cutouts.exists():
            export_cutouts(demo_catalogue(), cutouts)
    test_dir = build_test_set(cutouts, Path(args.testset), args.images)
    try:
        figures = evaluate_bundle(Path(args.bundle), test_dir)
    except BundleError as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    if not args.json:
        sys.stdout.write(f"images {figures['images']}  mAP50 {figures['map50']:.4f}  "
                         f"mAP50-95 {figures['map50_95']:.4f}  cacc {figures['cacc']:.4f}\n")
    emit_json(figures)
    return 0


def detect(args: argparse.Namespace) -> int:
    """``tillsight detect``: one JSON line per image, ``{"image", "items": [{"sku" or null, "known",
    "confidence", "box", "alternatives"}]}`` (docs/vision-api.md).  With a gallery (``--gallery``, or
    ``gallery/`` inside the bundle) each found product is identified against it; without one the
    bundle's trained classes name them."""
    import cv2

    from vision.bundle import BundleError
    from vision.detector import Detection, Detector

    try:
        detector = Detector(args.bundle, confidence=args.confidence)
    except BundleError as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    gallery = Path(args.gallery) if args.gallery else None
    if gallery is None and (detector.manifest.path / "gallery" / "manifest.json").exists():
        gallery = detector.manifest.path / "gallery"  # a gallery the bundle ships
    recogniser = None
    if gallery is not None:
        recogniser = _detect_recogniser(args, gallery)
        if recogniser is None:
            return 2
    status = 0
    for path in args.images:
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if image is None:
            sys.stderr.write(f"tillsight: {path}: not a readable image\n")
            status = 2
            continue
        dets: list[Detection]
        if recogniser is not None:
            recogniser.forget()  # a new photo, not the next camera frame
            dets = recogniser.detect(image, detector)
        else:
            dets = detector.detect(image)
        emit_json({"image": path, "items": [_item_json(d, detector) for d in dets]})
    return status


def _detect_recogniser(args: argparse.Namespace, gallery: Path) -> Any:
    """The recogniser ``tillsight detect`` identifies with, or None after saying on stderr what is wrong."""
    from vision.identifier import Embedder, EmbedderError
    from vision.recogniser import Recogniser, choose_finder

    if not (gallery / "manifest.json").exists():
        sys.stderr.write(f"tillsight: {gallery / 'manifest.json'}: gallery manifest not found\n")
        return None
    try:
        from vision.gallery.manifest import GalleryError, read_manifest

        views = read_manifest(gallery).views
        embedder = Embedder(args.embedder, variant=args.variant, views=views)
    except (EmbedderError, GalleryError, ValueError) as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return None
    try:
        finder = choose_finder(args.finder)
    except Exception as exc:  # noqa: BLE001 - the finder back end's FinderError (names the file), onnxruntime's own
        sys.stderr.write(f"tillsight: {exc}\n")
        return None
    recogniser = Recogniser(embedder, gallery, finder)
    error = recogniser.status()["gallery_error"]
    if error:
        sys.stderr.write(f"tillsight: {error}\n")
        return None
    return recogniser


def _item_json(d: Any, detector: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": d.sku, "known": d.known, "confidence": round(float(d.confidence), 4),
                            "box": [round(float(v), 1) for v in d.box],
                            "alternatives": [[s, round(float(v), 4)] for s, v in d.alternatives]}
    if d.sku is not None:
        item["name"] = detector.manifest.name_of(d.sku)
    return item


def bench_vision(args: argparse.Namespace) -> int:
    from benchmarks.vision import run_vision_bench

    figures = run_vision_bench(Path(args.bundle), frames=args.frames)
    if not args.json:
        for size, row in figures["sizes"].items():
            sys.stdout.write(f"{size}: detect {row['detect_ms']} ms, raw {row['raw_ms']} ms, "
                             f"ultralytics {row['ultralytics_ms']} ms\n")
    emit_json(figures)
    return 0


def bench_edge(args: argparse.Namespace) -> int:
    from benchmarks.edge import run_edge_bench

    figures = run_edge_bench(sales=args.sales, bundle=args.bundle)
    if not args.json:
        sys.stdout.write(f"sale completion p50 {figures['sale_completion_ms']['p50']} ms"
                         f" p99 {figures['sale_completion_ms']['p99']} ms; API p50 {figures['api_ms']['p50']} ms"
                         f" p99 {figures['api_ms']['p99']} ms under {figures['api_clients']} clients;"
                         f" settled->shown p50 {figures['settled_to_shown_ms']['p50']} ms\n")
    emit_json(figures)
    return 0


def demo(args: argparse.Namespace) -> int:
    from tillsight_cli.demo_stack import run_demo_stack  # the appliance, and the hub beside it

    return run_demo_stack(args)


def run(args: argparse.Namespace) -> int:
    from edge.appliance import run_appliance

    return run_appliance(config_path=args.config, host=args.host, port=args.port, camera=args.camera,
                         data_dir=args.data_dir)


def staff_add(args: argparse.Namespace) -> int:
    """Create or update a staff account in a device's store (the first owner of a new device)."""
    import getpass

    from edge.auth.hashing import WeakSecretError
    from edge.auth.service import Authenticator
    from edge.store import Store, StoreError
    from firmware_config import ConfigError, load_config

    try:
        data_dir = Path(args.data_dir) if args.data_dir else Path(load_config(args.config).data_dir)
    except ConfigError as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    secret_name = "password" if args.role == "owner" else "PIN"
    secret = sys.stdin.readline().strip() if args.secret_stdin else getpass.getpass(f"{secret_name}: ")
    pin = None if args.role == "owner" else secret
    password = secret if args.role == "owner" else None
    if args.role == "owner" and args.pin:
        pin = args.pin
    try:
        store = Store(data_dir / "store.db")
        user = Authenticator(store.users).set_staff(args.id, args.name, args.role, pin=pin, password=password)
    except (WeakSecretError, StoreError) as exc:
        sys.stderr.write(f"tillsight: {exc}\n")
        return 2
    emit_json({"id": user.id, "name": user.name, "role": user.role, "store": str(data_dir / "store.db")})
    return 0


def sync_run(args: argparse.Namespace) -> int:
    from edge.sync.runner import run_sync_agent

    return run_sync_agent(args.config, args.data_dir)


def hub_ingest(args: argparse.Namespace) -> int:
    from analytics.ingest.runner import run_ingest

    return run_ingest(args.config, args.client_id)


def train_compare(args: argparse.Namespace) -> int:
    """``tillsight train compare``: the new bundle against the running one on a store's enrolment photos;
    exit 1 when the new one is worse (``hub fleet publish`` then refuses it unless ``--force``)."""
    from training.gallery import compare_on_gallery, record_check
    from vision.gallery import GalleryError

    try:
        result = compare_on_gallery(args.bundle, args.running, args.gallery, args.tolerance)
    except (GalleryError, FileNotFoundError, ValueError) as exc:
        sys.stderr.write(f"tillsight train compare: {exc}\n")
        return 2
    if not args.no_record:
        record_check(args.bundle, result)
    if args.json:
        emit_json(result.to_json())
    else:
        sys.stdout.write(result.summary() + "\n")
    return 1 if result.worse else 0
