"""The `tillsight` command: subcommands, exit codes, and lazy imports of each side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "tillsight_cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # tests read the exit status


def test_config_check_accepts_each_example_and_rejects_a_bad_value_naming_the_key(tmp_path: Path):
    for example in sorted((REPO / "firmware_config" / "examples").glob("*.yaml")):
        r = run("config", "check", str(example))
        assert r.returncode == 0, r.stderr
        assert "OK" in r.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("camera:\n  fps: 500\ndetector:\n  confidence: 2\n")
    r = run("config", "check", str(bad))
    assert r.returncode == 2
    assert "camera.fps" in r.stderr and "detector.confidence" in r.stderr and str(bad) in r.stderr


def test_config_check_does_not_load_the_vision_runtime():
    code = ("import sys; from tillsight_cli.main import main; rc = main(['config', 'check', "
            f"'{REPO / 'firmware_config' / 'examples' / 'dev.yaml'}']); "
            "print('LOADED' if ({'onnxruntime', 'cv2', 'torch'} & set(sys.modules)) else 'LEAN')")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.stdout.strip().endswith("LEAN"), r.stdout + r.stderr


def test_catalogue_list_prints_the_demo_range():
    r = run("catalogue", "list")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) >= 40 and all(isinstance(row["price"], int) for row in rows)


def test_detect_prints_the_products_in_an_image(demo_bundle: Path):
    manifest = json.loads((demo_bundle / "manifest.json").read_text())
    r = run("detect", str(demo_bundle / "selftest.jpg"), "--bundle", str(demo_bundle))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["image"] == str(demo_bundle / "selftest.jpg")
    found: dict[str, int] = {}
    for d in out["items"]:  # no gallery: the bundle's trained classes name every product
        assert d["known"] is True and len(d["box"]) == 4
        found[d["sku"]] = found.get(d["sku"], 0) + 1
        assert d["name"] == manifest["names"][d["sku"]]
    assert found == manifest["selftest"]["expected"]


def test_detect_with_a_broken_bundle_says_which_file(tmp_path: Path, demo_bundle_copy: Path):
    (demo_bundle_copy / "model.onnx").write_bytes(b"\x00" * 100)
    r = run("detect", str(demo_bundle_copy / "selftest.jpg"), "--bundle", str(demo_bundle_copy))
    assert r.returncode == 2
    assert "model.onnx" in r.stderr and "SHA-256" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_subcommand_is_a_usage_error():
    r = run("frobnicate")
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.parametrize("argv", [["demo", "--port", "0"], ["run", "--port", "70000"],
                                  ["demo", "--hub-port", "http"], ["hub", "web", "--port", "-1"]])
def test_a_port_outside_1_to_65535_is_refused_not_replaced_by_the_default(argv: list[str], capsys):
    from tillsight_cli.main import build_parser

    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    assert "port" in capsys.readouterr().err


def test_the_demo_hub_may_take_any_free_port(capsys):
    from tillsight_cli.main import build_parser

    assert build_parser().parse_args(["demo", "--hub-port", "0"]).hub_port == 0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--hub-port=-5"])
    assert "port -5 is outside 1-65535 (or 0 for any free port)" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_prints_one_json_line_last(tmp_path: Path, demo_bundle: Path):
    r = run("train", "evaluate", "--bundle", str(demo_bundle), "--testset", str(tmp_path / "t"),
            "--images", "10", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["images"] == 10
    assert {"map50", "map50_95", "cacc", "per_sku", "confusions"} <= set(figures)
