"""``tillsight``: one command, many subcommands.  A thin dispatcher: each subcommand names the
function that runs it, and that side of the product is imported only when its subcommand runs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

# subcommand path -> "module:function"; the function takes the parsed argparse namespace
HANDLERS = {
    ("config", "check"): "tillsight_cli.commands:config_check",
    ("config", "show"): "tillsight_cli.commands:config_show",
    ("catalogue", "export"): "tillsight_cli.commands:catalogue_export",
    ("catalogue", "list"): "tillsight_cli.commands:catalogue_list",
    ("train", "all"): "tillsight_cli.commands:train_all",
    ("train", "dataset"): "tillsight_cli.commands:train_dataset",
    ("train", "evaluate"): "tillsight_cli.commands:train_evaluate",
    ("train", "package"): "tillsight_cli.commands:train_package",
    ("detect",): "tillsight_cli.commands:detect",
    ("bench", "vision"): "tillsight_cli.commands:bench_vision",
    ("bench", "edge"): "tillsight_cli.commands:bench_edge",
    ("demo",): "tillsight_cli.commands:demo",
    ("run",): "tillsight_cli.commands:run",
    ("staff", "add"): "tillsight_cli.commands:staff_add",
    ("sync", "run"): "tillsight_cli.commands:sync_run",
    ("hub", "ingest"): "tillsight_cli.commands:hub_ingest",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tillsight", description="Tillsight checkout appliance and hub")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    cfg = sub.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    c = cfg.add_parser("check", help="validate a config file without starting anything")
    c.add_argument("file")
    c = cfg.add_parser("show", help="print the effective configuration (secrets masked)")
    c.add_argument("file", nargs="?")

    cat = sub.add_parser("catalogue", help="the demo catalogue").add_subparsers(dest="action", required=True)
    c = cat.add_parser("export", help="write RGBA cut-outs of every SKU, one folder per SKU")
    c.add_argument("out")
    c.add_argument("--px-per-mm", type=float, default=2.5)
    cat.add_parser("list", help="list the demo catalogue as JSON lines")

    tr = sub.add_parser("train", help="datasets, training, evaluation").add_subparsers(dest="action", required=True)
    c = tr.add_parser("all", help="cut-outs -> dataset -> train -> ONNX -> bundle -> evaluation")
    c.add_argument("--out", default="models/demo")
    c.add_argument("--work", default="build/train")
    c.add_argument("--cutouts", help="a folder of cut-outs (one sub-folder per SKU); default: the demo catalogue")
    c.add_argument("--train-images", type=int, default=4000, help="freshly rendered scenes per stage")
    c.add_argument("--val-images", type=int, default=300)
    c.add_argument("--test-images", type=int, default=500)
    c.add_argument("--epochs", type=int, default=40, help="at most this many epochs per stage")
    c.add_argument("--stage-hours", default="1.2,0.75",
                   help="wall-clock budget of each stage, comma-separated; one number per stage")
    c.add_argument("--imgsz", type=int, default=320)
    c.add_argument("--batch", type=int, default=32)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--init-weights", help="continue from these .pt weights (same SKUs) instead of from scratch")
    c.add_argument("--device", default="cpu", help="cpu, or a CUDA device index such as 0")
    c = tr.add_parser("dataset", help="render a YOLO dataset from a cut-out folder")
    c.add_argument("cutouts")
    c.add_argument("out")
    c.add_argument("--train-images", type=int, default=4000)
    c.add_argument("--val-images", type=int, default=300)
    c.add_argument("--seed", type=int, default=0)
    c = tr.add_parser("package", help="export trained weights and pack + evaluate a bundle")
    c.add_argument("weights")
    c.add_argument("--work", required=True, help="the work folder of the run (holds dataset/ and cut-outs)")
    c.add_argument("--cutouts", help="default: WORK/cutouts")
    c.add_argument("--out", default="models/demo")
    c.add_argument("--imgsz", type=int, default=320)
    c.add_argument("--test-images", type=int, default=500)
    c = tr.add_parser("evaluate", help="evaluate a bundle on the held-out test scenes")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--cutouts", help="cut-outs to render the test set from; default: the demo catalogue")
    c.add_argument("--testset", default="build/testset", help="where the test set is rendered (reused)")
    c.add_argument("--images", type=int, default=500)
    c.add_argument("--json", action="store_true", help="print one JSON line last")

    c = sub.add_parser("detect", help="detect products in image files")
    c.add_argument("images", nargs="+")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--confidence", type=float)

    b = sub.add_parser("bench", help="benchmarks that print figures").add_subparsers(dest="action", required=True)
    c = b.add_parser("vision", help="detector vs raw ONNX Runtime vs ultralytics, and the change gate")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--frames", type=int, default=60)
    c.add_argument("--json", action="store_true")
    c = b.add_parser("edge", help="sale completion, API under 20 clients, settled-to-shown latency")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--sales", type=int, default=150)
    c.add_argument("--json", action="store_true")

    sy = sub.add_parser("sync", help="device MQTT sync agent").add_subparsers(dest="action", required=True)
    c = sy.add_parser("run", help="send the outbox to the hub over MQTT until SIGTERM")
    c.add_argument("--config")
    c.add_argument("--data-dir")
    hb = sub.add_parser("hub", help="the hub").add_subparsers(dest="action", required=True)
    c = hb.add_parser("ingest", help="store device messages from the broker until SIGTERM")
    c.add_argument("--config")
    c.add_argument("--client-id")

    st = sub.add_parser("staff", help="staff accounts on a device").add_subparsers(dest="action", required=True)
    c = st.add_parser("add", help="create or update a user (asks for the PIN, or the password for an owner)")
    c.add_argument("--config", help="config file (its data_dir holds the store)")
    c.add_argument("--data-dir", help="the device's data folder (overrides the config's)")
    c.add_argument("--id", required=True, help="user id, e.g. rosa")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=["cashier", "supervisor", "owner"])
    c.add_argument("--pin", help="an owner's PIN for approvals (optional)")
    c.add_argument("--secret-stdin", action="store_true", help="read the PIN/password from stdin (scripts)")

    for name, text in (("demo", "run the appliance on the synthetic camera with a seeded demo store"),
                       ("run", "run the appliance (cashier screen, dashboard, vision) from a config file")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--config", help="config file (default: the dev profile's defaults)")
        c.add_argument("--host")
        c.add_argument("--port", type=int)
        c.add_argument("--camera", help="camera URI (default: synthetic:)")
        c.add_argument("--data-dir", help="where the store database lives (demo default: var/demo)")
        if name == "demo":
            c.add_argument("--history-days", type=int, default=42,
                           help="days of synthetic sales history to seed a new demo store with")
    return p


def _handler_for(args: argparse.Namespace):
    key = tuple(v for v in (args.command, getattr(args, "action", None)) if v)
    target = HANDLERS.get(key) or HANDLERS.get((args.command,))
    if target is None:
        raise SystemExit(f"tillsight: no handler for {' '.join(key)}")
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return int(_handler_for(args)(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
