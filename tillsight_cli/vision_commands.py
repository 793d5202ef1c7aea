"""``tillsight vision enrol``, ``tillsight bench real`` and ``tillsight train embedder``.

Enrol products into a store gallery from photos, measure finding and identifying on real photos,
and rebuild the appearance embedder.  The parsers are added by :func:`add_parsers` (called from
tillsight_cli/main.py); each handler imports its side only when it runs.  docs/vision-api.md
documents the commands and their JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER_DIR = "models/embedder"
DEFAULT_FINDER_DIR = "models/finder"


def add_parsers(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction,
                train: argparse._SubParsersAction) -> None:
    """Add ``vision enrol`` to ``sub``, ``real`` to the bench sub-commands, ``embedder`` to train's."""
    vi = sub.add_parser("vision", help="the store's gallery of enrolled products").add_subparsers(
        dest="action", required=True)
    c = vi.add_parser("enrol", help="enrol products from photos: PHOTOS_DIR/<sku>/*.jpg (folder name = SKU)")
    c.add_argument("photos", metavar="PHOTOS_DIR")
    c.add_argument("--gallery", required=True, metavar="GALLERY_DIR", help="the gallery folder (created if missing)")
    c.add_argument("--embedder", default=DEFAULT_EMBEDDER_DIR, help="embedder folder (default: models/embedder)")
    c.add_argument("--variant", choices=("fp32", "int8"), default="fp32", help="which of its networks runs")
    c.add_argument("--sku", action="append", help="enrol only this sub-folder (repeat)")
    c.add_argument("--reembed", action="store_true",
                   help="a gallery made by another embedder: embed its photos again with this one first")
    c.add_argument("--json", action="store_true", help="print the report as one JSON line")

    c = bench.add_parser("real", help="find and identify products on real photos, enrolled from their exemplars")
    c.add_argument("--data", required=True, help="a folder laid out like ../shared/data/real-counter")
    c.add_argument("--finder", default=None,
                   help="the product finder's folder (default: models/finder when it exists, "
                        "else --bundle class-blind)")
    c.add_argument("--finder-variant", choices=("fp32", "int8"), default="fp32", help="which finder network runs")
    c.add_argument("--bundle", default="models/demo", help="a model bundle used class-blind when there is no finder")
    c.add_argument("--embedder", default=DEFAULT_EMBEDDER_DIR)
    c.add_argument("--variant", choices=("fp32", "int8"), default="fp32")
    c.add_argument("--views", type=int, choices=(1, 2, 4, 8), help="test-time views per crop (default: the embedder's)")
    c.add_argument("--unenrolled", type=int, default=0, metavar="N", help="leave N classes out of the gallery")
    c.add_argument("--seed", type=int, default=0, help="chooses the unenrolled classes")
    c.add_argument("--threads", type=int, help="ONNX Runtime threads for the embedder")
    c.add_argument("--json", action="store_true", help="print the figures as one JSON line last")

    c = train.add_parser("embedder", help="build and export the appearance embedder (models/embedder)")
    c.add_argument("--out", default=DEFAULT_EMBEDDER_DIR)
    c.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    c.add_argument("--calibration", type=int, default=64, help="rendered crops the int8 quantiser calibrates on")

    c = train.add_parser("finder", help="train and export the class-blind product finder (models/finder)")
    c.add_argument("--out", default=DEFAULT_FINDER_DIR)
    c.add_argument("--work", default="build/finder", help="where the rendered training scenes go (reused)")
    c.add_argument("--scenes", type=int, default=3600, help="domain-randomised training scenes")
    c.add_argument("--epochs", type=int, default=12)
    c.add_argument("--seed", type=int, default=0)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def vision_enrol(args: argparse.Namespace) -> int:
    from vision.gallery.enrol import enrol_folder
    from vision.gallery.manifest import ForeignGalleryError, GalleryError
    from vision.gallery.store import Gallery
    from vision.identifier import Embedder, EmbedderError

    try:
        embedder = Embedder(args.embedder, variant=args.variant)
        if args.reembed:
            try:
                Gallery.load(args.gallery, embedder)
            except ForeignGalleryError:
                gallery = Gallery.load(args.gallery)
                gallery.reembed(embedder)
                gallery.recalibrate()
                version = gallery.save()
                log.info("re-embedded %s with %s (version %d)", args.gallery, embedder.identity["name"], version)
        report = enrol_folder(args.photos, args.gallery, embedder, skus=args.sku)
    except (EmbedderError, GalleryError, FileNotFoundError, ValueError) as exc:
        sys.stderr.write(f"tillsight vision enrol: {exc}\n")
        return 2
    if args.json:
        _out(json.dumps(report.to_json()))
    else:
        for s in report.skus:
            skipped = f", {len(s.skipped)} near-duplicate(s) skipped" if s.skipped else ""
            _out(f"{s.sku}: kept {s.kept} photo(s), {s.examples} example(s) in the gallery{skipped}")
            for note in s.refused:
                _out(f"  refused {note.photo}: {note.reason}")
        th = report.thresholds
        _out(f"gallery {report.gallery}: version {report.version}; an unknown item below score {th['min_score']} "
             f"or margin {th['min_margin']}")
    empty = [s.sku for s in report.skus if s.examples == 0]
    if empty:
        sys.stderr.write(f"tillsight vision enrol: no usable photo for {', '.join(empty)}\n")
        return 1
    return 0


def bench_real(args: argparse.Namespace) -> int:
    from benchmarks.real import run_real_bench

    figures = run_real_bench(args.data, bundle=args.bundle, embedder_dir=args.embedder, unenrolled=args.unenrolled,
                             seed=args.seed, variant=args.variant, views=args.views, threads=args.threads,
                             finder_dir=args.finder, finder_variant=args.finder_variant)
    if not args.json:
        for key, value in figures.items():
            _out(f"{key}: {value}")
    _out(json.dumps(figures))
    return 0


def train_embedder(args: argparse.Namespace) -> int:
    from training.embedder import export_embedder

    manifest = export_embedder(args.out, int8=not args.no_int8, calibration=args.calibration)
    _out(json.dumps({"out": args.out, "name": manifest["name"], "model_sha256": manifest["model_sha256"],
                     "variants": sorted(manifest["variants"])}))
    return 0


def train_finder(args: argparse.Namespace) -> int:
    from training.finder import FinderTrainConfig
    from training.finder import train_finder as run

    config = FinderTrainConfig(scenes=args.scenes, epochs=args.epochs, seed=args.seed)
    manifest = run(args.out, args.work, config)
    _out(json.dumps({"out": args.out, "manifest": str(manifest), "scenes": config.scenes, "epochs": config.epochs}))
    return 0
