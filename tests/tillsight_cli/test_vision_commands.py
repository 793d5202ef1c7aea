"""``tillsight vision enrol`` and ``tillsight bench real`` as a shop owner and a developer run them:
photos in, a report out; a gallery made by another embedder refused by name; the bench's JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.benchmarks.test_real import write_counter_folder
from tillsight_cli.main import main
from vision.catalogue import demo_catalogue
from vision.product_art import render_product


def write_product_photos(root: Path, skus: dict[str, int], per_sku: int = 3) -> Path:
    """Each SKU's demo product alone on a plain surface, photographed a few ways (turned, other light)."""
    rng = np.random.default_rng(3)
    for sku, index in skus.items():
        folder = root / sku
        folder.mkdir(parents=True)
        art = render_product(demo_catalogue()[index], "front")
        for j in range(per_sku):
            surface = rng.integers(120, 220, size=3).astype(np.float32)
            alpha = art[..., 3:4].astype(np.float32) / 255.0
            photo = art[..., :3].astype(np.float32) * rng.uniform(0.8, 1.1) * alpha + surface * (1 - alpha)
            photo = np.ascontiguousarray(np.rot90(np.clip(photo, 0, 255).astype(np.uint8), j))
            cv2.imwrite(str(folder / f"photo{j}.jpg"), photo)
    return root


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_enrol_from_photos_reports_each_sku_and_refuses_a_blurred_photo(tmp_path: Path, capsys) -> None:
    photos = write_product_photos(tmp_path / "photos", {"RICE-LG-5LB": 29, "SODA-KOLA-600": 40})
    sharp = cv2.imread(str(photos / "RICE-LG-5LB" / "photo0.jpg"))
    cv2.imwrite(str(photos / "RICE-LG-5LB" / "shaky.jpg"), cv2.GaussianBlur(sharp, (0, 0), 8))
    gallery = tmp_path / "gallery"

    assert main(["vision", "enrol", str(photos), "--gallery", str(gallery), "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    by_sku = {s["sku"]: s for s in report["skus"]}
    assert by_sku["RICE-LG-5LB"]["examples"] >= 1 and by_sku["SODA-KOLA-600"]["examples"] >= 1
    assert [r["photo"] for r in by_sku["RICE-LG-5LB"]["refused"]] == ["shaky.jpg"]
    assert by_sku["RICE-LG-5LB"]["refused"][0]["reason"].startswith("blurred")
    assert report["version"] == 1

    more = write_product_photos(tmp_path / "more", {"COFFEE-227": 12})
    assert main(["vision", "enrol", str(more), "--gallery", str(gallery)]) == 0
    out = capsys.readouterr().out
    assert "COFFEE-227: kept" in out and "version 2" in out


def test_a_gallery_made_by_another_embedder_is_refused_by_name_then_reembedded(tmp_path: Path, capsys) -> None:
    photos = write_product_photos(tmp_path / "photos", {"MILK-1L": 21, "TUNA-170": 45})
    gallery = tmp_path / "gallery"
    assert main(["vision", "enrol", str(photos), "--gallery", str(gallery), "--variant", "int8"]) == 0
    capsys.readouterr()

    assert main(["vision", "enrol", str(photos), "--gallery", str(gallery)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "int8" in err and "fp32" in err

    assert main(["vision", "enrol", str(photos), "--gallery", str(gallery), "--reembed", "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["version"] == 3  # re-embedded (2), then the photos offered again (3)
    assert json.loads((gallery / "manifest.json").read_text())["embedder"]["variant"] == "fp32"


def test_enrol_names_a_missing_photos_folder(tmp_path: Path, capsys) -> None:
    assert main(["vision", "enrol", str(tmp_path / "nowhere"), "--gallery", str(tmp_path / "g")]) == 2
    assert "photos folder not found" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_real_prints_its_figures_as_one_json_line_last(tmp_path: Path, capsys) -> None:
    data = write_counter_folder(tmp_path / "counter")
    assert main(["bench", "real", "--data", str(data), "--json", "--unenrolled", "1"]) == 0
    figures = last_json(capsys.readouterr().out)
    for key in ("images", "recall", "precision", "box_top1", "cacc", "ms_per_image", "unknown_recall",
                "false_unknown"):
        assert key in figures
    assert set(figures["given_boxes"]) >= {"box_top1", "unknown_recall", "false_unknown"}
    assert figures["images"] == 4 and figures["given_boxes"]["unknown_recall"] == 1.0
