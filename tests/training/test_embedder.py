"""The appearance embedder's build and export (training/embedder.py): the packaged ImageNet weights
load by position with every shape checked, the network gives unit embeddings, and the ONNX export
that the device runs gives the same embeddings as torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra (make test installs it)")
pytest.importorskip("timm", reason="needs the train extra (make test installs it)")

pytestmark = [pytest.mark.train]

REPO = Path(__file__).resolve().parents[2]


def test_weights_that_do_not_fit_are_refused_with_the_layer_named() -> None:
    from training.embedder import load_by_position

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    good = {f"other.{i}": v.clone() + 1 for i, v in enumerate(model.state_dict().values())}
    assert load_by_position(model, good) == len(model.state_dict())
    assert torch.equal(model[0].weight, good["other.0"])
    bad = dict(good)
    bad["other.0"] = torch.zeros(4, 3, 5, 5)
    with pytest.raises(ValueError, match=r"0\.weight"):
        load_by_position(model, bad)


def test_the_packaged_imagenet_weights_give_unit_embeddings() -> None:
    from training.embedder import build_embedder

    net = build_embedder()
    with torch.no_grad():
        out = net(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 1280)
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)


@pytest.mark.slow
def test_the_onnx_export_matches_torch_and_the_shipped_manifest_names_its_sources(tmp_path: Path) -> None:
    import onnxruntime as ort

    from training.embedder import build_embedder, export_onnx, pretrained_state_path
    from vision.bundle import sha256_file

    net = build_embedder()
    export_onnx(net, tmp_path / "e.onnx")
    x = np.random.default_rng(0).normal(size=(3, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    got = ort.InferenceSession(str(tmp_path / "e.onnx"), providers=["CPUExecutionProvider"]).run(None, {"images": x})[0]
    assert np.abs(got - want).max() < 1e-4

    shipped = json.loads((REPO / "models" / "embedder" / "manifest.json").read_text())
    assert shipped["source_weights"]["sha256"] == sha256_file(pretrained_state_path())
    assert shipped["licence"] == "Apache-2.0" and shipped["embedding_dim"] == 1280
    assert (REPO / "models" / "embedder" / shipped["model_file"]).stat().st_size < 20_000_000
