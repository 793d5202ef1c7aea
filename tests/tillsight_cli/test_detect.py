"""``tillsight detect --gallery``: products found class-blind and identified against a store gallery."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from tests.conftest import REPO
from tests.tillsight_cli.test_main import run
from vision.catalogue import demo_catalogue
from vision.demo_gallery import build_demo_gallery
from vision.identifier import Embedder
from vision.sources import SyntheticSource
from vision.unenrolled import unenrolled_product

ENROLLED = ["RICE-LG-2LB", "SODA-KOLA-2L", "BEER-STOUT-330"]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store gallery of three demo products, enrolled from their photos with the shipped embedder."""
    folder = tmp_path_factory.mktemp("detect") / "gallery"
    build_demo_gallery(folder, Embedder(REPO / "models" / "embedder"),
                       [p for p in demo_catalogue() if p.sku in ENROLLED])
    return folder


def photo(tmp_path: Path, sku: str, name: str) -> Path:
    """A camera frame with ``sku`` alone on the tray (the synthetic camera, tray changed by hand)."""
    source = SyntheticSource(seed=3, manual=True, noise_sigma=0)
    source.add_products([unenrolled_product(1)])
    source.show([sku])
    frame = source.read()
    assert frame is not None
    path = tmp_path / name
    cv2.imwrite(str(path), frame.image)
    return path


def test_detect_with_a_gallery_names_enrolled_products_and_flags_the_others_unknown(tmp_path: Path,
                                                                                    gallery: Path) -> None:
    known = photo(tmp_path, "RICE-LG-2LB", "rice.png")
    new = photo(tmp_path, unenrolled_product(1).sku, "new.png")
    r = run("detect", "--json", "--gallery", str(gallery), str(known), str(new))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(known), str(new)]
    [rice] = lines[0]["items"]
    assert (rice["sku"], rice["known"]) == ("RICE-LG-2LB", True)
    assert all(alt[0] in ENROLLED and alt[0] != "RICE-LG-2LB" for alt in rice["alternatives"])
    [unknown] = lines[1]["items"]
    assert (unknown["sku"], unknown["known"]) == (None, False)
    assert 0 < unknown["confidence"] < 1 and len(unknown["box"]) == 4
    assert [alt[0] for alt in unknown["alternatives"]] and all(alt[0] in ENROLLED for alt in unknown["alternatives"])


def test_detect_with_a_corrupt_gallery_says_which_file(tmp_path: Path, gallery: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(gallery, broken)
    (broken / "embeddings.npy").write_bytes(b"\x00" * 64)
    r = run("detect", "--json", "--gallery", str(broken), str(photo(tmp_path, "RICE-LG-2LB", "rice.png")))
    assert r.returncode == 2
    assert "embeddings.npy" in r.stderr and "Traceback" not in r.stderr
