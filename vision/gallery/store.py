"""A gallery folder on disk: load it (checking every file and the embedder), add examples, save.

Layout::

    GALLERY/manifest.json         format, version, embedder, thresholds, SKUs and their examples
    GALLERY/embeddings.npy        float32 (rows, D): one unit vector per example, in manifest order
    GALLERY/photos/<sku>/<sha>.*  the enrolment photos, so a new embedder can re-embed the gallery

Saving writes the embeddings, then the manifest (which carries the embeddings' SHA-256), each
atomically, and raises the version by one: a reader sees the old gallery or the new one, and a
torn pair is reported as corrupt, by file name, instead of being matched against.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from vision.bundle import sha256_file
from vision.gallery.calibrate import DEFAULT_MIN_MARGIN, DEFAULT_MIN_SCORE, Calibration, calibrate
from vision.gallery.diversity import DEFAULT_DUPLICATE, DEFAULT_LIMIT, near_duplicate_of, thin
from vision.gallery.manifest import (
    EMBEDDINGS,
    PHOTOS,
    Example,
    ForeignGalleryError,
    GalleryError,
    GalleryManifest,
    GalleryThresholds,
    read_manifest,
    write_atomic,
    write_manifest,
)
from vision.gallery.matching import Matcher, Thresholds
from vision.gallery.verify import load_keypoints, verifier_for

log = logging.getLogger(__name__)

TOP_K = 1  # a SKU's score is its best example's (see matching.sku_scores)


class EmbedderLike(Protocol):
    """What the gallery needs of an embedder (vision.identifier.Embedder, or a stand-in in tests)."""

    views: int

    @property
    def identity(self) -> dict[str, str]: ...

    @property
    def dim(self) -> int: ...

    def embed(self, crops: list[np.ndarray], views: int | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class AddResult:
    sku: str
    kept: bool
    reason: str | None = None  # why not kept (a near-duplicate of an example it already has)
    duplicate_of: str | None = None  # that example's photo, when not kept


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_sku(sku: str) -> str:
    """A SKU is a folder name in the gallery: refuse what cannot be one."""
    if not sku or sku != sku.strip() or sku.startswith(".") or any(c in sku for c in "/\\\0") or len(sku) > 80:
        raise ValueError(f"{sku!r} cannot be a SKU (empty, leading dot, a path separator, or over 80 characters)")
    return sku


def same_embedder(a: dict[str, str], b: dict[str, str]) -> bool:
    return a.get("name") == b.get("name") and a.get("sha256") == b.get("sha256")


def describe(identity: dict[str, str]) -> str:
    return f"{identity.get('name', '?')} {identity.get('variant', '')} (sha256 {identity.get('sha256', '?')[:12]}...)"


class Gallery:
    """A gallery in memory: its folder, manifest and embeddings (rows in manifest order)."""

    def __init__(self, folder: Path, manifest: GalleryManifest, embeddings: np.ndarray):
        self.folder = folder
        self.manifest = manifest
        self._set_embeddings(embeddings)

    def _set_embeddings(self, embeddings: np.ndarray) -> None:
        """Split manifest-ordered rows into one array per SKU."""
        emb = embeddings.astype(np.float32).reshape(-1, self.manifest.embedding_dim)
        self._rows: dict[str, np.ndarray] = {}
        start = 0
        for sku, examples in self.manifest.skus.items():
            self._rows[sku] = emb[start:start + len(examples)]
            start += len(examples)

    @property
    def embeddings(self) -> np.ndarray:
        """(rows, D): every example's embedding, in manifest order."""
        parts = [self._rows[s] for s in self.manifest.skus]
        return np.vstack(parts) if parts else np.zeros((0, self.manifest.embedding_dim), np.float32)

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, embedder: EmbedderLike) -> Gallery:
        """A new, empty gallery (version 0) for ``embedder``; nothing is written until :meth:`save`."""
        manifest = GalleryManifest(version=0, updated=utc_now(), embedder=dict(embedder.identity),
                                   embedding_dim=embedder.dim, views=embedder.views, embeddings_sha256="",
                                   skus={})
        return cls(Path(folder), manifest, np.zeros((0, embedder.dim), np.float32))

    @classmethod
    def load(cls, folder: str | Path, embedder: EmbedderLike | dict[str, str] | None = None) -> Gallery:
        """Load and check a gallery.  With ``embedder`` (or its identity), a gallery made by another
        network raises :class:`ForeignGalleryError`; every other problem a :class:`GalleryError`."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        if embedder is not None:
            identity = embedder if isinstance(embedder, dict) else embedder.identity
            if not same_embedder(manifest.embedder, identity):
                raise ForeignGalleryError(
                    f"{folder / 'manifest.json'}: made by embedder {describe(manifest.embedder)}, but this device "
                    f"runs {describe(identity)}; re-embed it from its photos (tillsight vision enrol --reembed)")
            views = getattr(embedder, "views", manifest.views)
            if views != manifest.views:
                log.warning("gallery %s was embedded with %d test-time views, crops now get %d: scores are "
                            "lower than the thresholds expect", folder, manifest.views, views)
        epath = folder / manifest.embeddings_file
        rows = len(manifest.rows())
        if rows == 0 and not epath.exists():
            return cls(folder, manifest, np.zeros((0, manifest.embedding_dim), np.float32))
        if not epath.is_file():
            raise GalleryError(f"{epath}: gallery embeddings file not found")
        if sha256_file(epath) != manifest.embeddings_sha256:
            raise GalleryError(f"{epath}: corrupt gallery embeddings (SHA-256 does not match the manifest)")
        try:
            emb = np.load(epath, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise GalleryError(f"{epath}: corrupt gallery embeddings, not a numpy array ({exc})") from exc
        if emb.ndim != 2 or emb.shape != (rows, manifest.embedding_dim) or not np.isfinite(emb).all():
            raise GalleryError(f"{epath}: corrupt gallery embeddings, shape {emb.shape} but the manifest lists "
                               f"{rows} examples of dimension {manifest.embedding_dim}")
        return cls(folder, manifest, emb)

    @classmethod
    def open_or_create(cls, folder: str | Path, embedder: EmbedderLike) -> Gallery:
        """Load the gallery at ``folder``, or start a new one when the folder holds none."""
        folder = Path(folder)
        if not (folder / "manifest.json").exists():
            if folder.exists() and any(p for p in folder.iterdir() if not p.name.startswith(".")):
                raise GalleryError(f"{folder}: not empty and holds no gallery manifest.json (not a gallery)")
            return cls.create(folder, embedder)
        return cls.load(folder, embedder)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def skus(self) -> list[str]:
        return list(self.manifest.skus)

    def labels(self) -> np.ndarray:
        index = {s: i for i, s in enumerate(self.manifest.skus)}
        return np.array([index[s] for s, _ in self.manifest.rows()], np.int64)

    def rows_of(self, sku: str) -> np.ndarray:
        """The embeddings of one SKU's examples (none: an empty array)."""
        return self._rows.get(sku, np.zeros((0, self.manifest.embedding_dim), np.float32))

    def thresholds(self) -> Thresholds:
        th = self.manifest.thresholds
        if th is None:
            return Thresholds(DEFAULT_MIN_SCORE, DEFAULT_MIN_MARGIN)
        return Thresholds(th.min_score, th.min_margin)

    def matcher(self, thresholds: Thresholds | None = None, alternatives: int = 3, verify: bool = True) -> Matcher:
        """The gallery's matcher; with ``verify``, geometric verification against the photos' keypoints
        (``keypoints.npz``, rebuilt from the photos when missing or damaged: vision/gallery/verify.py)."""
        verifier = verifier_for(self.folder, self.manifest) if verify else None
        return Matcher(self.skus, self.embeddings, self.labels(), thresholds or self.thresholds(), TOP_K,
                       alternatives, verifier)

    # -- changing --------------------------------------------------------------------------------
    def add_photo(self, sku: str, data: bytes, suffix: str, embedding: np.ndarray, source: str = "photos",
                  limit: int = DEFAULT_LIMIT, duplicate: float = DEFAULT_DUPLICATE) -> AddResult:
        """Add one photo (its file bytes, and its embedding made from those bytes) as an example of ``sku``.

        A near-duplicate of an example the SKU has is not kept; past ``limit`` examples the SKU is
        thinned to its most diverse ones.  The photo is written under ``photos/<sku>/`` at once; the
        gallery changes on disk only at :meth:`save`."""
        check_sku(sku)
        vec = embedding.astype(np.float32).reshape(-1)
        if vec.shape[0] != self.manifest.embedding_dim:
            raise ValueError(f"embedding has dimension {vec.shape[0]}, the gallery {self.manifest.embedding_dim}")
        dup = near_duplicate_of(vec, self.rows_of(sku), duplicate)
        if dup is not None:
            other = self.manifest.skus[sku][dup].photo
            return AddResult(sku, False, f"near-duplicate of {other}", duplicate_of=other)
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{PHOTOS}/{sku}/{digest[:16]}{suffix.lower()}"
        write_atomic(self.folder / rel, data)
        self.manifest.skus.setdefault(sku, []).append(
            Example(photo=rel, sha256=digest, added=utc_now(), source=source))
        self._rows[sku] = np.vstack([self.rows_of(sku), vec[None, :]])
        if len(self.manifest.skus[sku]) > limit:
            keep = thin(self._rows[sku], limit)
            self.manifest.skus[sku] = [self.manifest.skus[sku][k] for k in keep]
            self._rows[sku] = self._rows[sku][keep]
        return AddResult(sku, True)

    def remove_sku(self, sku: str) -> None:
        if sku not in self.manifest.skus:
            raise KeyError(f"{sku!r} is not in the gallery")
        del self.manifest.skus[sku]
        self._rows.pop(sku, None)

    def recalibrate(self) -> Calibration:
        """Choose the unknown-item thresholds from the examples (vision/gallery/calibrate.py)."""
        cal = calibrate(self.embeddings, self.labels(), len(self.skus), TOP_K)
        self.manifest.thresholds = GalleryThresholds(cal.min_score, cal.min_margin, cal.method)
        return cal

    def reembed(self, embedder: EmbedderLike) -> None:
        """Embed every example again from its photo with ``embedder`` (a new embedding network)."""
        crops = []
        for _, ex in self.manifest.rows():
            path = self.folder / ex.photo
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise GalleryError(f"{path}: enrolment photo missing or unreadable, cannot re-embed")
            crops.append(image)
        emb = embedder.embed(crops) if crops else np.zeros((0, embedder.dim), np.float32)
        self.manifest = replace(self.manifest, embedder=dict(embedder.identity), embedding_dim=embedder.dim,
                                views=embedder.views)
        self._set_embeddings(emb)

    def save(self) -> int:
        """Write the gallery (embeddings, then manifest) with its version raised by one; returns it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        on_disk = self.folder / "manifest.json"
        version = self.manifest.version
        if on_disk.exists():
            try:
                version = max(version, read_manifest(self.folder).version)
            except GalleryError:
                pass  # replacing a corrupt manifest
        buf = io.BytesIO()
        np.save(buf, self.embeddings.astype(np.float32), allow_pickle=False)
        data = buf.getvalue()
        write_atomic(self.folder / EMBEDDINGS, data)
        self.manifest.embeddings_file = EMBEDDINGS
        self.manifest.embeddings_sha256 = hashlib.sha256(data).hexdigest()
        self.manifest.version = version + 1
        self.manifest.updated = utc_now()
        write_manifest(self.folder, self.manifest)
        load_keypoints(self.folder, self.manifest)  # each new photo's keypoints, computed once, beside the gallery
        log.info("gallery %s: version %d, %d SKUs, %d examples", self.folder, self.manifest.version,
                 len(self.skus), len(self.embeddings))
        return self.manifest.version
