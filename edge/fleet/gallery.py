"""Installing a catalogue gallery from the fleet into the store's own gallery, and taking it back out.

A chain publishes one catalogue gallery (``tillsight hub fleet publish --gallery DIR``) to a group of
devices.  The device **merges** it into its store gallery (``{data_dir}/gallery``, or ``gallery.dir``):

- the store's own examples (``source`` photos, till, correction) are never touched: every one of them,
  photo and embedding, is in the merged gallery;
- the catalogue's examples come in with ``source: "catalogue"`` and replace the examples of the
  catalogue installed before (so a new catalogue, or a rollback to an older one, leaves exactly one
  catalogue in the gallery); a catalogue photo the store already has is not added twice;
- product names from the catalogue fill in where the store has none; the unknown-item thresholds are
  chosen again from the merged examples.

The commit is one atomic rename: the merged embeddings go to a new file (``embeddings-<sha>.npy``)
and the manifest that names them replaces the old one, so the recogniser (which reloads when the
version grows) sees the old gallery or the new one, never half of one.  The old manifest is kept in
``{data_dir}/fleet/gallery.previous.json`` until the install succeeded; putting it back is the
rollback.  If the store changes its gallery (a product taught) while the merge is being worked out,
the merge starts again from the new version, so no enrolment is lost.

A catalogue made by another embedding network than the store's gallery (or, with no store gallery
yet, the device's configured embedder) is refused with both networks named, before anything changes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from vision.bundle import sha256_file
from vision.gallery.manifest import (
    MANIFEST,
    Example,
    GalleryError,
    GalleryManifest,
    read_manifest,
    write_atomic,
    write_manifest,
)
from vision.gallery.store import Gallery, utc_now
from vision.identifier import DEFAULT_EMBEDDER, EmbedderError, load_embedder_manifest

log = logging.getLogger(__name__)

CATALOGUE = "catalogue"  # the source of every example a fleet catalogue brought
MERGE_TRIES = 3


class GalleryInstallError(ValueError):
    """The catalogue cannot be installed; the message says why (it goes on ``reported``)."""


@dataclass(frozen=True)
class Merged:
    version: int  # the store gallery's new version
    own: int  # the store's own examples kept
    catalogue: int  # catalogue examples in the gallery now
    skus: int


def store_gallery_dir(cfg: Any) -> Path:
    """The store gallery's folder: ``gallery.dir`` when the configuration sets it, else ``{data_dir}/gallery``."""
    section = getattr(cfg, "gallery", None)
    folder = getattr(section, "dir", None) if section is not None else None
    return Path(folder) if folder else Path(cfg.data_dir) / "gallery"


def device_embedder(cfg: Any) -> dict[str, str] | None:
    """The identity of the embedding network the device runs (``recognition.embedder``/``variant``),
    or None when it cannot be read (then only the store gallery's own network is compared)."""
    section = getattr(cfg, "recognition", None)
    folder = getattr(section, "embedder", None) or DEFAULT_EMBEDDER
    variant = getattr(section, "variant", None) or "fp32"
    try:
        return dict(load_embedder_manifest(folder, str(variant)).identity)
    except (EmbedderError, OSError) as exc:
        log.warning("cannot read the device's embedder to check a catalogue gallery: %s", exc)
        return None


def expected_embedder(store_dir: Path, cfg: Any) -> dict[str, str] | None:
    """The network a catalogue must have been made by: the store gallery's, else the device's."""
    if (store_dir / MANIFEST).exists():
        try:
            return dict(read_manifest(store_dir).embedder)
        except GalleryError as exc:
            raise GalleryInstallError(f"the store gallery cannot be read, nothing is merged into it: {exc}") from None
    return device_embedder(cfg)


def check_catalogue(folder: Path, expected: dict[str, str] | None) -> Gallery:
    """Load the unpacked catalogue, checking its embedder, its embeddings and every photo."""
    try:
        catalogue = Gallery.load(folder, expected)
    except GalleryError as exc:  # ForeignGalleryError included: its message names both networks
        raise GalleryInstallError(str(exc)) from None
    if not catalogue.manifest.rows():
        raise GalleryInstallError(f"{folder / MANIFEST}: the catalogue gallery has no examples")
    for _, ex in catalogue.manifest.rows():
        path = folder / ex.photo
        if not path.is_file() or sha256_file(path) != ex.sha256:
            raise GalleryInstallError(f"{path}: catalogue photo missing or not matching its SHA-256")
    return catalogue


def _load_store(store_dir: Path, catalogue: Gallery) -> Gallery:
    if (store_dir / MANIFEST).exists():
        try:
            store = Gallery.load(store_dir, catalogue.manifest.embedder)
        except GalleryError as exc:
            raise GalleryInstallError(f"the store gallery cannot be read, nothing is merged into it: {exc}") from None
        if store.manifest.embedding_dim != catalogue.manifest.embedding_dim:
            raise GalleryInstallError(f"the catalogue's embeddings have dimension {catalogue.manifest.embedding_dim}, "
                                      f"the store gallery's {store.manifest.embedding_dim}")
        return store
    cm = catalogue.manifest
    empty = GalleryManifest(version=0, updated=utc_now(), embedder=dict(cm.embedder), embedding_dim=cm.embedding_dim,
                            views=cm.views, embeddings_sha256="", skus={})
    return Gallery(store_dir, empty, np.zeros((0, cm.embedding_dim), np.float32))


def _merge(store: Gallery, catalogue: Gallery) -> tuple[GalleryManifest, np.ndarray, int, int]:
    """The merged manifest (version not yet raised) and embeddings; the own and catalogue counts."""
    skus: dict[str, list[Example]] = {}
    rows: dict[str, list[np.ndarray]] = {}
    own_hashes: set[str] = set()
    own = 0
    for sku, examples in store.manifest.skus.items():
        vecs = store.rows_of(sku)
        for ex, vec in zip(examples, vecs, strict=True):
            if ex.source == CATALOGUE:
                continue  # the catalogue installed before: replaced by this one
            skus.setdefault(sku, []).append(ex)
            rows.setdefault(sku, []).append(vec)
            own_hashes.add(ex.sha256)
            own += 1
    added = 0
    for sku, examples in catalogue.manifest.skus.items():
        vecs = catalogue.rows_of(sku)
        for ex, vec in zip(examples, vecs, strict=True):
            if ex.sha256 in own_hashes:
                continue  # the store enrolled this very photo itself
            skus.setdefault(sku, []).append(replace(ex, source=CATALOGUE))
            rows.setdefault(sku, []).append(vec)
            added += 1
    dim = store.manifest.embedding_dim
    emb = np.vstack([np.vstack(rows[s]) for s in skus]) if skus else np.zeros((0, dim), np.float32)
    names = {**catalogue.manifest.names, **store.manifest.names}
    manifest = replace(store.manifest, skus=skus, names=names)
    return manifest, emb.astype(np.float32), own, added


def merge_catalogue(store_dir: Path, catalogue: Gallery, backup: Path) -> Merged:
    """Merge ``catalogue`` into the store gallery at ``store_dir`` and commit it (one atomic rename).
    The store's manifest before the merge is saved to ``backup`` first (see :func:`restore`)."""
    for _ in range(MERGE_TRIES):
        store = _load_store(store_dir, catalogue)
        before = (store_dir / MANIFEST).read_bytes() if (store_dir / MANIFEST).exists() else b""
        manifest, emb, own, added = _merge(store, catalogue)
        for _, ex in manifest.rows():  # catalogue photos go in first (content-addressed, harmless)
            target = store_dir / ex.photo
            if ex.source == CATALOGUE and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(catalogue.folder / ex.photo, target)
        merged = Gallery(store_dir, manifest, emb)
        try:
            cal = merged.recalibrate()
            log.info("merged gallery thresholds: %s", cal.method)
        except (ValueError, IndexError) as exc:  # too few examples to calibrate: keep what there was
            log.info("merged gallery keeps its thresholds (%s)", exc)
        buf = io.BytesIO()
        np.save(buf, merged.embeddings.astype(np.float32), allow_pickle=False)
        data = buf.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        emb_name = f"embeddings-{sha[:12]}.npy"
        write_atomic(store_dir / emb_name, data)
        current = (store_dir / MANIFEST).read_bytes() if (store_dir / MANIFEST).exists() else b""
        if current != before:
            log.info("the store gallery changed during the merge; merging again")
            continue
        write_atomic(backup, before)
        note_merged_version(backup, store.manifest.version + 1)
        merged.manifest.embeddings_file = emb_name
        merged.manifest.embeddings_sha256 = sha
        merged.manifest.version = store.manifest.version + 1
        merged.manifest.updated = utc_now()
        write_manifest(store_dir, merged.manifest)
        _drop_unused_embeddings(store_dir, keep={emb_name, "embeddings.npy", store.manifest.embeddings_file})
        log.info("catalogue merged into %s: version %d, %d own and %d catalogue examples", store_dir,
                 merged.manifest.version, own, added)
        return Merged(merged.manifest.version, own, added, len(merged.manifest.skus))
    raise GalleryInstallError("the store gallery kept changing while the catalogue was merged; tried "
                              f"{MERGE_TRIES} times, will try again with the next update")


def _drop_unused_embeddings(store_dir: Path, keep: set[str]) -> None:
    for path in store_dir.glob("embeddings-*.npy"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def check_merged(store_dir: Path, catalogue: Gallery, own_before: set[str]) -> None:
    """The health check after the commit: the store gallery loads and holds every own example it had
    and every catalogue SKU."""
    try:
        merged = Gallery.load(store_dir, catalogue.manifest.embedder)
    except GalleryError as exc:
        raise GalleryInstallError(f"the merged gallery does not load: {exc}") from None
    hashes = {ex.sha256 for _, ex in merged.manifest.rows()}
    lost = own_before - hashes
    if lost:
        raise GalleryInstallError(f"the merge would lose {len(lost)} of the store's own examples")
    missing = [s for s in catalogue.skus if s not in merged.manifest.skus]
    if missing:
        raise GalleryInstallError(f"the merged gallery lacks catalogue SKUs {missing[:5]}")


def own_examples(store_dir: Path) -> set[str]:
    """SHA-256 of the store's own examples (not from a catalogue) in its gallery now."""
    if not (store_dir / MANIFEST).exists():
        return set()
    try:
        return {ex.sha256 for _, ex in read_manifest(store_dir).rows() if ex.source != CATALOGUE}
    except GalleryError:
        return set()


def restore(store_dir: Path, backup: Path) -> bool:
    """Put the manifest from before the merge back (its embeddings file was never touched), with a
    version above the merged one so the recogniser reloads it; with no store gallery before, an empty
    one.  A gallery saved by someone else since the merge is left as it is (never losing what they
    saved).  True if there was a merge to undo."""
    if not backup.exists():
        return False
    old = backup.read_bytes()
    merged = read_manifest(store_dir) if (store_dir / MANIFEST).exists() else None
    hint = _merged_version_hint(backup)
    if merged is not None and hint and merged.version != hint:
        # Someone saved the gallery after the merge (a product taught at the till): putting the old
        # manifest back would lose that, so the gallery stays as they saved it.
        log.warning("store gallery %s changed after the catalogue merge (version %d, merged %d); left as it is",
                    store_dir, merged.version, hint)
        forget_backup(backup)
        return True
    top = max(merged.version if merged else 0, hint)
    if old:
        write_atomic(store_dir / MANIFEST, old)
        manifest = read_manifest(store_dir)
    else:
        if merged is None:
            forget_backup(backup)
            return True
        manifest = replace(merged, skus={}, names={}, thresholds=None, embeddings_sha256="",
                           embeddings_file="embeddings.npy")
    manifest.version = max(manifest.version, top) + 1
    manifest.updated = utc_now()
    write_manifest(store_dir, manifest)
    forget_backup(backup)
    log.warning("store gallery %s put back as it was before the catalogue (version %d)", store_dir, manifest.version)
    return True


def _merged_version_hint(backup: Path) -> int:
    try:
        return int(backup.with_suffix(".version").read_text())
    except (OSError, ValueError):
        return 0


def note_merged_version(backup: Path, version: int) -> None:
    """Remember the merged version, so a restore goes above it."""
    write_atomic(backup.with_suffix(".version"), str(version).encode())


def forget_backup(backup: Path) -> None:
    backup.unlink(missing_ok=True)
    backup.with_suffix(".version").unlink(missing_ok=True)
