"""A gallery's ``manifest.json``: its typed records, and reading and writing it.

Every problem is a :class:`GalleryError` whose message names the file at fault; a gallery whose
embeddings were made by another embedding network is a :class:`ForeignGalleryError` (its message
names both networks), so the till can say what is wrong instead of crashing or matching nonsense.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vision.bundle import read_json_object

GALLERY_FORMAT = "tillsight.gallery/1"
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.npy"
PHOTOS = "photos"
REQUIRED_KEYS = ("format", "version", "updated", "embedder", "embedding_dim", "views", "embeddings_file",
                 "embeddings_sha256", "skus")


class GalleryError(Exception):
    """A gallery folder is missing, corrupt or not a gallery; the message names the file."""


class ForeignGalleryError(GalleryError):
    """The gallery's embeddings were made by another embedding network than the one running."""


@dataclass(frozen=True)
class Example:
    """One enrolment photo of a SKU, kept in the gallery's ``photos/<sku>/`` folder."""

    photo: str  # path inside the gallery folder
    sha256: str  # of the photo file
    added: str  # ISO-8601 UTC
    source: str = "photos"  # photos | till | correction


@dataclass(frozen=True)
class GalleryThresholds:
    """When a match is an "unknown item": best score below ``min_score`` or less than ``min_margin``
    above the runner-up SKU.  ``method`` says how they were chosen."""

    min_score: float
    min_margin: float
    method: str


@dataclass
class GalleryManifest:
    version: int
    updated: str
    embedder: dict[str, str]  # name, version, variant, sha256 of the network that made the embeddings
    embedding_dim: int
    views: int  # test-time views averaged per photo
    embeddings_sha256: str
    skus: dict[str, list[Example]]  # SKU -> its examples, rows of the embeddings file in this order
    thresholds: GalleryThresholds | None = None
    names: dict[str, str] = field(default_factory=dict)  # SKU -> product name, where known
    embeddings_file: str = EMBEDDINGS

    def rows(self) -> list[tuple[str, Example]]:
        return [(sku, ex) for sku, examples in self.skus.items() for ex in examples]

    def to_json(self) -> dict:
        return {
            "format": GALLERY_FORMAT, "version": self.version, "updated": self.updated,
            "embedder": dict(self.embedder), "embedding_dim": self.embedding_dim, "views": self.views,
            "embeddings_file": self.embeddings_file, "embeddings_sha256": self.embeddings_sha256,
            "thresholds": asdict(self.thresholds) if self.thresholds else None, "names": dict(self.names),
            "skus": {sku: {"examples": [asdict(e) for e in examples]} for sku, examples in self.skus.items()},
        }


def read_manifest(folder: Path) -> GalleryManifest:
    """Parse ``folder/manifest.json``; a missing, non-JSON or malformed manifest is a GalleryError."""
    mpath = folder / MANIFEST
    if not folder.is_dir():
        raise GalleryError(f"{folder}: gallery folder not found")
    if not mpath.is_file():
        raise GalleryError(f"{mpath}: gallery manifest not found (is {folder} a gallery?)")
    raw = read_json_object(mpath, GalleryError, "corrupt gallery manifest, ")
    if raw.get("format") != GALLERY_FORMAT:
        raise GalleryError(f"{mpath}: not a Tillsight gallery (format {raw.get('format')!r}, "
                           f"expected {GALLERY_FORMAT!r})")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise GalleryError(f"{mpath}: corrupt gallery manifest, missing keys {missing}")
    try:
        skus = {str(sku): [Example(**e) for e in entry["examples"]] for sku, entry in raw["skus"].items()}
        th = raw.get("thresholds")
        thresholds = GalleryThresholds(float(th["min_score"]), float(th["min_margin"]), str(th["method"])) \
            if th else None
        return GalleryManifest(
            version=int(raw["version"]), updated=str(raw["updated"]),
            embedder={str(k): str(v) for k, v in raw["embedder"].items()},
            embedding_dim=int(raw["embedding_dim"]), views=int(raw["views"]),
            embeddings_sha256=str(raw["embeddings_sha256"]), skus=skus, thresholds=thresholds,
            names={str(k): str(v) for k, v in raw.get("names", {}).items()},
            embeddings_file=str(raw["embeddings_file"]),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GalleryError(f"{mpath}: corrupt gallery manifest ({type(exc).__name__}: {exc})") from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(folder: Path, manifest: GalleryManifest) -> None:
    write_atomic(folder / MANIFEST, (json.dumps(manifest.to_json(), indent=1) + "\n").encode())
