"""``tillsight``: one command, many subcommands.  A thin dispatcher: each subcommand names the
function that runs it, and that side of the product is imported only when its subcommand runs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from runtime.logs import setup_logging

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
    ("train", "compare"): "tillsight_cli.commands:train_compare",
    ("detect",): "tillsight_cli.commands:detect",
    ("bench", "vision"): "tillsight_cli.commands:bench_vision",
    ("bench", "edge"): "tillsight_cli.commands:bench_edge",
    ("bench", "sync"): "tillsight_cli.bench_sync_command:bench_sync",  # devices -> broker -> hub ingest
    # gallery enrolment, the real-photo bench, the embedder (tillsight_cli/vision_commands.py, docs/vision-api.md)
    ("vision", "enrol"): "tillsight_cli.vision_commands:vision_enrol",
    ("bench", "real"): "tillsight_cli.vision_commands:bench_real",
    ("train", "embedder"): "tillsight_cli.vision_commands:train_embedder",
    ("train", "finder"): "tillsight_cli.vision_commands:train_finder",
    ("demo",): "tillsight_cli.commands:demo",
    ("run",): "tillsight_cli.commands:run",
    ("staff", "add"): "tillsight_cli.commands:staff_add",
    ("sync", "run"): "tillsight_cli.commands:sync_run",
    ("hub", "ingest"): "tillsight_cli.commands:hub_ingest",
    # broker credentials, ACL, config and certificates; each dispatches on its own sub-action
    ("hub", "device"): "tillsight_cli.broker_commands:device",
    ("hub", "broker"): "tillsight_cli.broker_commands:broker",
    # the hub web app and its users (tillsight_cli/hub_web_commands.py, docs/hub.md)
    ("hub", "web"): "tillsight_cli.hub_web_commands:hub_web",
    ("hub", "user"): "tillsight_cli.hub_web_commands:hub_user",
    # AI credits, ledger and endpoint check (tillsight_cli/ai_commands.py, docs/llm.md)
    ("hub", "ai"): "tillsight_cli.ai_commands:ai",
    # fleet updates: keygen, publish, status, watch, rollback (tillsight_cli/fleet_commands.py, docs/fleet.md)
    ("hub", "fleet"): "tillsight_cli.fleet_commands:fleet",
    # hub analytics: import, nightly jobs, backtest, benchmark
    # (tillsight_cli/hub_analytics_commands.py, docs/analytics.md)
    ("hub", "import"): "tillsight_cli.hub_analytics_commands:hub_import",
    ("hub", "jobs"): "tillsight_cli.hub_analytics_commands:hub_jobs",
    ("hub", "backtest"): "tillsight_cli.hub_analytics_commands:hub_backtest",
    ("bench", "hub"): "tillsight_cli.hub_analytics_commands:bench_hub",
    # written insights: narratives and personas (tillsight_cli/narrative_commands.py, docs/insights.md)
    ("hub", "narrate"): "tillsight_cli.narrative_commands:hub_narrate",
    ("hub", "personas"): "tillsight_cli.narrative_commands:hub_personas",
    # ask a question about a store's business (tillsight_cli/ask_commands.py, docs/ask.md)
    ("hub", "ask"): "tillsight_cli.ask_commands:hub_ask",
    # credit customers: risk, collections, messages (tillsight_cli/credit_commands.py, docs/credit.md)
    ("hub", "credit"): "tillsight_cli.credit_commands:hub_credit",
    ("hub", "gallery"): "tillsight_cli.gallery_commands:hub_gallery",
    # price suggestions, the signed price push, the pricing backtest (tillsight_cli/pricing_commands.py)
    ("hub", "pricing"): "tillsight_cli.pricing_commands:hub_pricing",
}


def tcp_port(text: str) -> int:
    """An argparse type for a port: 1-65535.  0 ("any free port") is refused here, where the
    printed URLs and the device's broker settings need the real number."""
    port = _port_number(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535 (no free port is chosen here)")
    return port


def tcp_port_or_any(text: str) -> int:
    """A port, or 0 for any free one (where the command picks one and prints it)."""
    port = _port_number(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535 (or 0 for any free port)")
    return port


def _port_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None


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
    c.add_argument("--calibration-images", type=int, default=1000,
                   help="scenes the operating thresholds are chosen on (never the test set)")
    c.add_argument("--epochs", type=int, default=40, help="at most this many epochs per stage")
    c.add_argument("--stage-hours", default="1.2,0.75",
                   help="wall-clock budget of each stage, comma-separated; one number per stage")
    c.add_argument("--imgsz", type=int, default=320)
    c.add_argument("--batch", type=int, default=32)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--init-weights", help="continue from these .pt weights (same SKUs) instead of from scratch")
    c.add_argument("--first-stage", type=int, default=1,
                   help="number of the first stage (new seeds, fine-tune rate from 2): continuing from "
                        "weights trained in N stages, pass N+1")
    c.add_argument("--device", default="cpu", help="cpu, or a CUDA device index such as 0")
    c.add_argument("--gallery", action="append", metavar="GALLERY_DIR",
                   help="a store gallery (device folder or `hub gallery export`) whose photos join the cut-outs; "
                        "repeatable")
    c = tr.add_parser("dataset", help="render a YOLO dataset from a cut-out folder")
    c.add_argument("cutouts")
    c.add_argument("out")
    c.add_argument("--gallery", action="append", metavar="GALLERY_DIR",
                   help="a store gallery whose enrolment photos join the cut-outs; repeatable")
    c.add_argument("--train-images", type=int, default=4000)
    c.add_argument("--val-images", type=int, default=300)
    c.add_argument("--seed", type=int, default=0)
    c = tr.add_parser("compare", help="a new bundle against the running one on a store's own enrolment photos "
                                      "(exit 1 when worse; recorded in the new bundle for hub fleet publish)")
    c.add_argument("--bundle", required=True, help="the new model bundle")
    c.add_argument("--running", required=True, help="the bundle the devices run now")
    c.add_argument("--gallery", required=True, help="the store gallery (device folder or `hub gallery export`)")
    c.add_argument("--tolerance", type=float, default=0.0, help="how far below the running top-1 still passes")
    c.add_argument("--no-record", action="store_true", help="do not write gallery_check into the new bundle")
    c.add_argument("--json", action="store_true")
    c = tr.add_parser("package", help="export trained weights and pack + evaluate a bundle")
    c.add_argument("weights")
    c.add_argument("--work", required=True, help="the work folder of the run (holds dataset/ and cut-outs)")
    c.add_argument("--cutouts", help="default: WORK/cutouts")
    c.add_argument("--out", default="models/demo")
    c.add_argument("--imgsz", type=int, default=320)
    c.add_argument("--test-images", type=int, default=500)
    c.add_argument("--calibration-images", type=int, default=1000,
                   help="scenes the operating thresholds are chosen on (never the test set)")
    c.add_argument("--init-weights", help="the weights the run started from, recorded in the manifest's lineage")
    c = tr.add_parser("evaluate", help="evaluate a bundle on the held-out test scenes")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--cutouts", help="cut-outs to render the test set from; default: the demo catalogue")
    c.add_argument("--testset", default="build/testset", help="where the test set is rendered (reused)")
    c.add_argument("--images", type=int, default=500)
    c.add_argument("--json", action="store_true", help="print one JSON line last")

    c = sub.add_parser("detect", help="find and identify products in image files (one JSON line per image)")
    c.add_argument("images", nargs="+", metavar="IMAGE")
    c.add_argument("--bundle", default="models/demo", help="the model bundle (its classes, or the finder)")
    c.add_argument("--gallery", metavar="GALLERY_DIR",
                   help="identify against this gallery (default: a gallery the bundle ships, else its classes)")
    c.add_argument("--finder", help="a finder folder (default: models/finder when present, else the bundle)")
    c.add_argument("--embedder", default="models/embedder", help="the embedder the gallery was made with")
    c.add_argument("--variant", choices=("fp32", "int8"), default="fp32", help="which embedder network runs")
    c.add_argument("--confidence", type=float, help="the bundle's operating confidence (classes only)")
    c.add_argument("--json", action="store_true", help="JSON lines (the only output format; for scripts' clarity)")

    b = sub.add_parser("bench", help="benchmarks that print figures").add_subparsers(dest="action", required=True)
    c = b.add_parser("vision", help="detector vs raw ONNX Runtime vs ultralytics, and the change gate")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--frames", type=int, default=60)
    c.add_argument("--json", action="store_true")
    c = b.add_parser("edge", help="sale completion, API under 20 clients, settled-to-shown latency")
    c.add_argument("--bundle", default="models/demo")
    c.add_argument("--sales", type=int, default=150)
    c.add_argument("--json", action="store_true")
    # -- bench sync (tillsight_cli/bench_sync_command.py, benchmarks/sync_bench.py) --
    c = b.add_parser("sync", help="devices -> Mosquitto -> hub ingest: stored tx/s, latency, lost, duplicated")
    c.add_argument("--devices", type=int, default=4, help="simulated devices (default 4)")
    c.add_argument("--sales", type=int, default=2500, help="steady-phase sales per device (default 2500)")
    c.add_argument("--rate", type=float, default=600.0,
                   help="offered sales per second, all devices together (default 600; 0 = as fast as they can)")
    c.add_argument("--catchup-sales", type=int, default=1500,
                   help="sales per device recorded offline, then sent at once (default 1500; 0 = skip)")
    c.add_argument("--database-url", help="hub database (default: a fresh SQLite file), e.g. postgresql://...")
    c.add_argument("--warmup", type=float, default=2.0, help="seconds left out of the steady window (default 2)")
    c.add_argument("--device-processes", type=int, help="processes running the devices (default: one each)")
    c.add_argument("--keep", action="store_true", help="keep the run's folders (databases, logs)")
    c.add_argument("--json", action="store_true", help="print only the JSON line")

    sy = sub.add_parser("sync", help="device MQTT sync agent").add_subparsers(dest="action", required=True)
    c = sy.add_parser("run", help="send the outbox to the hub over MQTT until SIGTERM")
    c.add_argument("--config")
    c.add_argument("--data-dir")
    hb = sub.add_parser("hub", help="the hub").add_subparsers(dest="action", required=True)
    c = hb.add_parser("ingest", help="store device messages from the broker until SIGTERM")
    c.add_argument("--config")
    c.add_argument("--client-id")
    # -- hub device / hub broker (tillsight_cli/broker_commands.py, docs/security.md) --
    hd = hb.add_parser("device", help="devices allowed on the broker: credentials and ACL").add_subparsers(
        dest="device_action", required=True)
    for name, text in (("add", "register a device; prints its broker credentials once"),
                       ("rotate", "issue a new broker password for a registered device (prints it once)"),
                       ("remove", "unregister a device; its broker login stops working"),
                       ("group", "move a device to another fleet group"),
                       ("list", "list registered devices")):
        c = hd.add_parser(name, help=text)
        c.add_argument("--config", help="hub config file (hub.database_url, hub.broker.*)")
        c.add_argument("--broker-dir", help="folder of the password file and ACL (default: hub.broker.dir)")
        c.add_argument("--store", required=name != "list", help="store id, e.g. s-001")
        c.add_argument("--device", required=name != "list", help="device id, e.g. till-1")
        if name in ("add", "group", "list"):
            c.add_argument("--group", required=name == "group", default=None if name != "add" else "default",
                           help="fleet group (add: default 'default')")
        if name == "add":
            c.add_argument("--note", help="free text kept with the registration")
            c.add_argument("--store-name", help="a new store's name (default: its id)")
            c.add_argument("--timezone", help="a new store's IANA time zone (default: the config's store.timezone)")
            c.add_argument("--currency", help="a new store's ISO 4217 currency (default: the config's store.currency)")
        if name in ("add", "rotate"):
            c.add_argument("--host", help="broker host the device dials (default: hub.broker.public_host or mqtt.host)")
            c.add_argument("--port", type=tcp_port, help="broker port the device dials")
            c.add_argument("--ca-file", help="the CA certificate's path on the device (turns TLS on in the snippet)")
        if name == "list":
            c.add_argument("--json", action="store_true", help="one JSON object per line")
    hbr = hb.add_parser("broker", help="Mosquitto config, hub users and certificates").add_subparsers(
        dest="broker_action", required=True)
    c = hbr.add_parser("render", help="write mosquitto.conf, acl and passwords from the registry")
    c.add_argument("--config")
    c.add_argument("--broker-dir", help="where the password hashes are kept (default: hub.broker.dir)")
    c.add_argument("--out", help="folder to write into (default: the broker dir)")
    c.add_argument("--install-dir", help="folder the files will live in on the broker host (default: --out)")
    c.add_argument("--hub-user", action="append", help="hub user with readwrite on the prefix (repeat; "
                   "default: hub.broker.hub_users)")
    c.add_argument("--plain-port", type=int, default=1883, help="plain listener on 127.0.0.1; 0 = none")
    c.add_argument("--tls-port", type=tcp_port, help="TLS listener port for devices, e.g. 8883")
    c.add_argument("--tls-bind", help="address of the TLS listener (default: every interface)")
    c.add_argument("--tls-version", default="tlsv1.2", choices=["tlsv1.2", "tlsv1.3"], help="minimum TLS version")
    c.add_argument("--ca", help="CA certificate (clients' certificates are checked against it)")
    c.add_argument("--cert", help="the broker's server certificate")
    c.add_argument("--key", help="the broker's server key")
    c.add_argument("--require-certificate", action="store_true", help="devices must present a client certificate")
    c.add_argument("--snippet", action="store_true",
                   help="a conf.d snippet: leave persistence and logging to the main mosquitto.conf")
    c.add_argument("--persistence-dir", default="/var/lib/mosquitto",
                   help="persistence_location, writable by the broker's user (default: /var/lib/mosquitto)")
    c.add_argument("--log-dest", default="stderr", help="stderr (journald), syslog, or 'file /path'")
    c = hbr.add_parser("passwd", help="set a hub user's broker password (generated and printed once)")
    c.add_argument("--config")
    c.add_argument("--broker-dir")
    c.add_argument("--user", required=True, help="one of hub.broker.hub_users")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead")
    c = hbr.add_parser("ca", help="create a CA for the broker's TLS (ca.crt, ca.key)")
    c.add_argument("--out", required=True)
    c.add_argument("--name", default="Tillsight MQTT CA", help="the CA's common name")
    c.add_argument("--days", type=int, default=3650)
    c.add_argument("--force", action="store_true", help="replace an existing CA")
    c = hbr.add_parser("cert", help="issue a server or device (client) certificate from the CA")
    c.add_argument("--ca-dir", required=True, help="folder with ca.crt and ca.key")
    c.add_argument("--name", required=True, help="file name and common name, e.g. broker or s-001.till-1")
    c.add_argument("--out", required=True)
    c.add_argument("--server", action="store_true", help="a server certificate (needs --host)")
    c.add_argument("--host", action="append", help="DNS name or IP address clients dial (repeat)")
    c.add_argument("--days", type=int, default=825)
    c.add_argument("--group", help="give the key file this group, mode 0640 (e.g. mosquitto)")
    c.add_argument("--force", action="store_true", help="replace existing files")
    # -- end of hub device / hub broker --
    # -- hub web / hub user (tillsight_cli/hub_web_commands.py, docs/hub.md) --
    c = hb.add_parser("web", help="serve the hub web app (fleet, stores, exports, JSON API) until SIGTERM")
    c.add_argument("--config", help="hub config file (hub.database_url, hub_web.*)")
    c.add_argument("--host")
    c.add_argument("--port", type=tcp_port)
    hu = hb.add_parser("user", help="people who log in to the hub web app").add_subparsers(
        dest="user_action", required=True)
    c = hu.add_parser("add", help="create or update a hub user (asks for the password)")
    c.add_argument("--config", help="hub config file (hub.database_url)")
    c.add_argument("--id", required=True, help="login name, e.g. rosa")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=["operator", "owner", "viewer"],
                   help="operator: every store and the fleet; owner/viewer: only their --store stores")
    c.add_argument("--store", action="append", help="a store the user may see (repeat); replaces the list")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    c.add_argument("--keep-password", action="store_true", help="update an existing user without a new password")
    c.add_argument("--inactive", action="store_true", help="save the user as deactivated (cannot log in)")
    c = hu.add_parser("list", help="list hub users as JSON lines")
    c.add_argument("--config")
    # -- end of hub web / hub user --
    # -- hub ai (tillsight_cli/ai_commands.py, docs/llm.md) --
    from tillsight_cli.ai_commands import cap_value

    ha = hb.add_parser("ai", help="AI credits, ledger and the LLM endpoint").add_subparsers(
        dest="ai_action", required=True)
    c = ha.add_parser("credits", help="show a store's AI credits; --add / caps change them (in the ledger)")
    c.add_argument("store", help="store id, e.g. s-001")
    c.add_argument("--config", help="hub config file (hub.database_url, llm.*)")
    c.add_argument("--add", type=int, metavar="N", help="credits to add (negative: take back)")
    c.add_argument("--daily-cap", type=cap_value, default=argparse.SUPPRESS, metavar="N|none")
    c.add_argument("--monthly-cap", type=cap_value, default=argparse.SUPPRESS, metavar="N|none")
    c.add_argument("--note", help="why (kept in the ledger)")
    c = ha.add_parser("ledger", help="a store's AI ledger, newest first")
    c.add_argument("store")
    c.add_argument("--config")
    c.add_argument("--limit", type=int, default=200)
    c.add_argument("--json", action="store_true", help="JSON lines")
    c = ha.add_parser("check", help="one tiny call to the configured LLM endpoint (model, latency)")
    c.add_argument("--config")
    # -- end of hub ai --
    from tillsight_cli.pricing_commands import add_parser as add_pricing_parser

    add_pricing_parser(hb)  # hub pricing (tillsight_cli/pricing_commands.py, docs/pricing.md)
    # -- hub fleet (tillsight_cli/fleet_commands.py, docs/fleet.md) --
    hf = hb.add_parser("fleet", help="signed model and config updates for the devices").add_subparsers(
        dest="fleet_action", required=True)
    c = hf.add_parser("keygen", help="create the Ed25519 key that signs manifests (never overwrites)")
    c.add_argument("--out", required=True, help="folder for fleet-signing.key (0600) and fleet-signing.pub")
    c = hf.add_parser("publish", help="ship a model bundle, a fleet config or a catalogue gallery to a device or a "
                                      "group, in waves")
    what = c.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="BUNDLE_DIR", help="a model bundle folder (manifest.json, model.onnx, ...)")
    what.add_argument("--config", metavar="FILE", help="a fleet config YAML (fleet-managed keys only)")
    what.add_argument("--gallery", metavar="GALLERY_DIR",
                      help="a catalogue gallery folder (tillsight vision enrol); merged into each device's own gallery")
    c.add_argument("--force", action="store_true",
                   help="publish a model even though `tillsight train compare` found it worse than the running one")
    to = c.add_mutually_exclusive_group(required=True)
    to.add_argument("--device", metavar="STORE/DEVICE", help="one device, e.g. s-001/till-1")
    to.add_argument("--group", help="every registered device of a fleet group")
    c.add_argument("--waves", default="1", help="cumulative shares per wave, e.g. 0.1,0.5,1 (default: 1, all at once)")
    c.add_argument("--success-threshold", type=float, default=0.9,
                   help="share of released devices that must succeed before the next wave (default 0.9)")
    c.add_argument("--failure-threshold", type=float, default=0.2,
                   help="stop the rollout when more than this share of released devices failed (default 0.2)")
    c.add_argument("--health-window", type=float, default=300.0,
                   help="seconds a device watches itself after the switch")
    c.add_argument("--max-inference-ms", type=float,
                   help="roll back when inference is slower than this (default: no limit)")
    c.add_argument("--max-errors", type=int, default=0, help="roll back after more errors than this in the window")
    c.add_argument("--expires-in-days", type=float, help="manifest lifetime (default: hub.fleet_manifest_expiry_days)")
    c.add_argument("--name",
                   help="the manifest's name (default: the bundle's architecture and version / the file name)")
    c.add_argument("--key", help="signing key file (default: hub.fleet_signing_key)")
    c.add_argument("--config-file", help="hub config file (database, broker, fleet settings)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c = hf.add_parser("status", help="deployments and their progress as the hub database has them")
    c.add_argument("deployment", nargs="?", help="a deployment id (or its first characters) for per-device detail")
    c.add_argument("--limit", type=int, default=20, help="how many recent deployments to list")
    c.add_argument("--json", action="store_true")
    c.add_argument("--config-file", help="hub config file")
    c = hf.add_parser("watch", help="run the rollout controller: record progress, release waves, stop on failures")
    c.add_argument("deployment", nargs="?", help="follow this deployment until it ends (default: every active one)")
    c.add_argument("--interval", type=float, default=5.0, help="seconds between passes")
    c.add_argument("--once", action="store_true", help="one pass, then exit")
    c.add_argument("--forever", action="store_true", help="keep running when nothing is active (as a service)")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.add_argument("--config-file", help="hub config file")
    c = hf.add_parser("rollback", help="ship the previous artifact as a new, higher version, all at once")
    c.add_argument("deployment", help="the deployment to roll back (its id or first characters)")
    c.add_argument("--key", help="signing key file (default: hub.fleet_signing_key)")
    c.add_argument("--config-file", help="hub config file")
    # -- end of hub fleet --
    # -- hub analytics (docs/analytics.md) --
    c = hb.add_parser("import", help="load a CSV of sales lines as one store's sales (idempotent)")
    c.add_argument("file", help="CSV or CSV.gz of sales lines")
    c.add_argument("--store-id", required=True, help="the store the sales belong to, e.g. s-retail")
    c.add_argument("--store-name", help="name of a new store (default: the store id)")
    c.add_argument("--timezone", help="IANA zone of the file's local times (default: the store's, or the layout's)")
    c.add_argument("--currency", help="ISO code of the amounts (default: the store's, or the layout's)")
    c.add_argument("--layout", help="built-in column layout (default: online_retail)")
    c.add_argument("--mapping", help="JSON/YAML column mapping for another layout (see docs/analytics.md)")
    c.add_argument("--device-id", default="import", help="device id the imported sales are filed under")
    costs = c.add_mutually_exclusive_group()
    costs.add_argument("--cost-column", help="the file's column of unit costs (decimal, like the prices)")
    costs.add_argument("--default-margin", metavar="PCT",
                       help="no costs in the file: assume each line cost its price less PCT %% (marked assumed)")
    c.add_argument("--config", help="hub config file (its hub.database_url)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print the import report as one JSON line last")
    c = hb.add_parser("jobs", help="segmentation, forecasts and reorder advice for every store (nightly)")
    c.add_argument("--store", action="append", help="only this store (repeatable)")
    c.add_argument("--workers", type=int, help="stores processed in parallel (default: CPU count)")
    c.add_argument("--force", action="store_true", help="run stores whose data did not change too")
    c.add_argument("--publish", action="store_true", help="publish each store's insights to its devices (MQTT)")
    c.add_argument("--config", help="hub config file (hub.database_url, mqtt)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print the runs as one JSON line last")
    c = hb.add_parser("backtest", help="rolling-origin backtest of the demand forecaster beside the standard models")
    c.add_argument("--data", help="sales-line CSV (default: the shared retail data)")
    c.add_argument("--layout", help="column layout of --data (default: online_retail)")
    c.add_argument("--mapping", help="column mapping file of --data")
    c.add_argument("--store", help="backtest this store of the hub database instead of a file")
    c.add_argument("--config", help="hub config file (with --store)")
    c.add_argument("--database-url", help="overrides hub.database_url (with --store)")
    c.add_argument("--skus", type=int, default=200, help="the best-selling SKUs to backtest")
    c.add_argument("--horizon", type=int, default=28)
    c.add_argument("--origins", default="4",
                   help="a count (the last N multiples of --horizon before the data's end) or dates YYYY-MM-DD,...")
    c.add_argument("--json", action="store_true", help="print the figures as one JSON line last")
    c = b.add_parser("hub", help="segment 1M sales, forecast 1,000 SKU series, backtest mase_ratio")
    c.add_argument("--sales", type=int, default=1_000_000)
    c.add_argument("--series", type=int, default=1000)
    c.add_argument("--data", help="sales-line CSV for the forecast figures (default: the shared retail data)")
    c.add_argument("--json", action="store_true")
    # -- end of hub analytics --
    # -- hub narrate / hub personas (tillsight_cli/narrative_commands.py, docs/insights.md) --
    c = hb.add_parser("narrate", help="a store's daily or weekly narrative (LLM if configured, else computed)")
    c.add_argument("--store", required=True, help="the store id")
    c.add_argument("--period", choices=("daily", "weekly"), default="daily")
    c.add_argument("--day", help="last store-local day of the period (default: yesterday or the last day with sales)")
    c.add_argument("--config", help="hub config file (hub.database_url, llm.*)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print the narrative as one JSON line")
    c = hb.add_parser("personas", help="a persona, marketing ideas and advice for each segment of a store")
    c.add_argument("--store", required=True, help="the store id")
    c.add_argument("--config", help="hub config file (hub.database_url, llm.*)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print the personas as one JSON line")
    # -- end of hub narrate / hub personas --
    # -- hub ask (tillsight_cli/ask_commands.py, docs/ask.md) --
    c = hb.add_parser("ask", help="ask a question about a store's business (AI with tools, or the rule-based answer)")
    c.add_argument("question", help='e.g. "How many Presidente sold last Friday?"')
    c.add_argument("--store", required=True, help="the store the question is about")
    c.add_argument("--config", help="hub config file (hub.database_url, llm.*)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--no-ai", action="store_true", help="answer with the rule-based parser only")
    c.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    # -- end of hub ask --
    # -- hub credit (tillsight_cli/credit_commands.py, docs/credit.md) --
    c = hb.add_parser("gallery", help="the stores' galleries at the hub: list versions, export one as photos")
    c.add_argument("what", choices=("list", "export"))
    c.add_argument("--store", help="store id (list: only this store; export: required)")
    c.add_argument("--device", help="export: that device's gallery (default: the store's newest complete one)")
    c.add_argument("--version", type=int, help="export: that version (with --device; default: the newest complete)")
    c.add_argument("--out", help="export: an empty or new folder")
    c.add_argument("--json", action="store_true", help="list: one JSON object per line")
    c.add_argument("--config", help="hub config file (hub.database_url)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c = hb.add_parser("credit", help="credit customers: risk scores, collections priority, collection messages")
    c.add_argument("what", nargs="?", choices=("summary", "message", "send"), default="summary",
                   help="summary (default), message (a collection message for --customer) or send (send --customer "
                        "the reminder over the outbound channels, recorded like a send from the Credit tab)")
    c.add_argument("--store", required=True, help="store id")
    c.add_argument("--customer", help="customer id (for message and send)")
    c.add_argument("--tone", choices=("friendly", "firm", "formal"), default="friendly")
    c.add_argument("--language", choices=("en", "es", "fr"), default="en")
    c.add_argument("--channel", choices=("whatsapp", "sms", "email"),
                   help="send: this channel (default: the customer's preferred, else the first that reaches them)")
    c.add_argument("--key", help="send: the request's idempotency key (default: a new one; repeat it to retry safely)")
    c.add_argument("--retry", metavar="REMINDER_ID", help="send: send this failed reminder again (not --customer)")
    c.add_argument("--config", help="hub config file (hub.database_url, llm)")
    c.add_argument("--database-url", help="overrides hub.database_url")
    c.add_argument("--json", action="store_true", help="print one JSON line")
    # -- end of hub credit --

    # -- vision enrol / bench real / train embedder (tillsight_cli/vision_commands.py) --
    from tillsight_cli.vision_commands import add_parsers as add_vision_parsers

    add_vision_parsers(sub, b, tr)

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
        c.add_argument("--port", type=tcp_port)
        c.add_argument("--camera", help="camera URI (default: synthetic:)")
        c.add_argument("--data-dir", help="where the store database lives (demo default: var/demo)")
        if name == "demo":
            c.add_argument("--history-days", type=int, default=42,
                           help="days of synthetic sales history to seed a new demo store with")
            # the hub beside the appliance (tillsight_cli/demo_stack.py)
            c.add_argument("--hub-port", type=tcp_port_or_any, default=8090,
                           help="the demo hub dashboard's port (0 = any free port; a busy port falls back to one)")
            c.add_argument("--no-hub", action="store_true", help="run the appliance alone, without broker and hub")
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
    setup_logging(args.verbose)
    return int(_handler_for(args)(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
