"""Artifacts the fleet ships: a model bundle folder or a catalogue gallery folder packed into a
deterministic tar.gz, or a fleet config YAML, each checked before it may go anywhere; all kept in
the hub's artifact folder by SHA-256 with an ``artifacts`` row.

Packing is deterministic (sorted names, mtime 0, uid/gid 0, no owner names, mode 0644, no leading
folder, regular files only, gzip header without name or time), so the same folder always gives the
same bytes and the same SHA-256, wherever and whenever it is packed.

The bundle's ``manifest.json`` is read with ``json`` (the hub never imports ``vision``): it must
say ``format: tillsight.bundle/1`` and its ``model_sha256`` must match the model file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, insert, select

from analytics.db.fleet_tables import artifacts
from analytics.fleet.errors import FleetError
from firmware_config import ConfigError, load_config
from firmware_config.fleet import FleetConfigError, parse_fleet_config

log = logging.getLogger(__name__)

BUNDLE_FORMAT = "tillsight.bundle/1"
GALLERY_FORMAT = "tillsight.gallery/1"
Kind = Literal["model", "config", "gallery", "prices"]
# prices: a store's approved price changes, tillsight.prices/1 (analytics/pricing/push.py builds them)
FORMATS: dict[str, str] = {"model": "tar.gz", "config": "yaml", "gallery": "tar.gz", "prices": "json"}


@dataclass(frozen=True)
class Artifact:
    """Artifact bytes ready to store: what they are and what the manifest says about them."""

    kind: Kind
    name: str
    data: bytes
    bundle_version: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def format(self) -> str:
        return FORMATS[self.kind]


@dataclass(frozen=True)
class StoredArtifact:
    """An ``artifacts`` row: the file in the artifact folder and its identity."""

    sha256: str
    kind: Kind
    name: str
    size: int
    path: Path
    created_at: str

    @property
    def format(self) -> str:
        return FORMATS[self.kind]

    def read(self) -> bytes:
        """The artifact's bytes, checked against its SHA-256 (a damaged file is refused)."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise FleetError(f"artifact {self.sha256[:12]} ({self.name}): cannot read {self.path}: "
                             f"{exc.strerror or exc}; publish it again") from None
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise FleetError(f"artifact {self.sha256[:12]} ({self.name}): {self.path} no longer matches its "
                             "SHA-256 (damaged or replaced); publish it again")
        return data


# --- model bundles -------------------------------------------------------------------------------


def read_bundle_manifest(folder: Path) -> dict[str, Any]:
    """The bundle's manifest.json, checked: format, version, model file present and matching."""
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise FleetError(f"{folder}: not a folder (a model bundle is a folder with manifest.json and model.onnx)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"{folder}: no manifest.json (not a model bundle)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FleetError(f"{path}: cannot read: {exc}") from None
    if not isinstance(doc, dict):
        raise FleetError(f"{path}: must be a JSON object")
    if doc.get("format") != BUNDLE_FORMAT:
        raise FleetError(f"{path}: format is {doc.get('format')!r}, expected {BUNDLE_FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, str) or not version or len(version) > 64:
        raise FleetError(f"{path}: version must be a non-empty string of at most 64 characters")
    model_file = doc.get("model_file", "model.onnx")
    if not isinstance(model_file, str) or "/" in model_file or model_file.startswith("."):
        raise FleetError(f"{path}: model_file must be a file name in the bundle folder")
    model_path = folder / model_file
    if not model_path.is_file() or model_path.is_symlink():
        raise FleetError(f"{folder}: model file {model_file} missing")
    expected = doc.get("model_sha256")
    if not isinstance(expected, str):
        raise FleetError(f"{path}: model_sha256 missing")
    actual = _file_sha256(model_path)
    if actual != expected.lower():
        raise FleetError(f"{path}: model_sha256 {expected[:12]}... does not match {model_file} "
                         f"({actual[:12]}...); the bundle was changed after it was packaged")
    selftest = doc.get("selftest")
    if isinstance(selftest, dict) and isinstance(selftest.get("image"), str):
        if not (folder / selftest["image"]).is_file():
            raise FleetError(f"{folder}: self-test image {selftest['image']} named in manifest.json is missing")
    return doc


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundle_files(folder: Path) -> list[tuple[str, Path]]:
    """(archive name, path) of every regular file under ``folder``, sorted by name."""
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                raise FleetError(f"{Path(root) / name}: symbolic links are not allowed in a bundle")
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file():
                raise FleetError(f"{path}: only regular files are allowed in a bundle (not links or devices)")
            found.append((rel, path))
    return sorted(found)


def _pack(files: list[tuple[str, Path]]) -> bytes:
    """Deterministic tar.gz bytes of (archive name, path) pairs, in the order given."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in files:
            info = tarfile.TarInfo(name)
            info.size = path.stat().st_size
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def pack_bundle(folder: str | Path) -> Artifact:
    """Check the bundle folder and pack it into deterministic tar.gz bytes."""
    root = Path(folder)
    manifest = read_bundle_manifest(root)
    version = str(manifest["version"])
    name = f"{manifest.get('architecture') or 'model'} {version}"
    return Artifact("model", name[:120], _pack(_bundle_files(root)), bundle_version=version)


# --- catalogue galleries -------------------------------------------------------------------------


def read_gallery_manifest(folder: Path) -> tuple[dict[str, Any], list[tuple[str, Path]]]:
    """A gallery folder's manifest.json (read with ``json``: the hub never imports ``vision``), checked
    as the device will check it: format, the embeddings file and every photo present and matching its
    SHA-256.  Returns the manifest and the files to ship (manifest, embeddings, the photos it lists)."""
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise FleetError(f"{folder}: not a folder (a gallery is a folder made by `tillsight vision enrol`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"{folder}: no manifest.json (not a gallery)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FleetError(f"{path}: corrupt gallery manifest: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != GALLERY_FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise FleetError(f"{path}: not a Tillsight gallery (format {got!r}, expected {GALLERY_FORMAT!r})")
    try:
        files = [("manifest.json", path)]
        embeddings = str(doc["embeddings_file"])
        checks = [(embeddings, str(doc["embeddings_sha256"]))]
        checks += [(str(e["photo"]), str(e["sha256"])) for entry in doc["skus"].values() for e in entry["examples"]]
        embedder = doc["embedder"]
        if not isinstance(embedder, dict) or not embedder.get("name") or not embedder.get("sha256"):
            raise ValueError("embedder must name the network and its sha256")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise FleetError(f"{path}: corrupt gallery manifest ({type(exc).__name__}: {exc})") from None
    if not checks[1:]:
        raise FleetError(f"{folder}: the gallery has no examples; enrol products first")
    for rel, sha in checks:
        file = folder / rel
        if rel.startswith("/") or ".." in Path(rel).parts or not file.is_file() or file.is_symlink():
            raise FleetError(f"{file}: missing from the gallery (or not a plain file inside it)")
        if _file_sha256(file) != sha:
            raise FleetError(f"{file}: does not match its SHA-256 in manifest.json (the gallery is damaged)")
        files.append((rel, file))
    return doc, files


def pack_gallery(folder: str | Path) -> Artifact:
    """Check a catalogue gallery folder and pack what it lists into deterministic tar.gz bytes."""
    root = Path(folder)
    doc, files = read_gallery_manifest(root)
    embedder = doc["embedder"]
    skus = len(doc["skus"])
    name = f"gallery v{doc.get('version')} {skus} SKUs ({embedder['name']})"
    return Artifact("gallery", name[:120], _pack(sorted(set(files))),
                    bundle_version=f"{embedder['name']} {str(embedder['sha256'])[:12]}"[:64])


# --- fleet config --------------------------------------------------------------------------------


def check_fleet_config(text: str) -> dict[str, dict[str, Any]]:
    """Refuse a fleet config naming the offending key: keys the fleet may not set
    (``firmware_config.fleet``), and values the configuration schema rejects (the document is
    validated as a whole configuration: defaults with it on top)."""
    try:
        doc = parse_fleet_config(text)
    except FleetConfigError as exc:
        raise FleetError(f"fleet config refused: {exc}") from None
    try:
        load_config(None, env={}, overrides=doc, fleet_overlay=False)
    except ConfigError as exc:
        problems = "; ".join(p.replace(" (from overrides)", "") for p in exc.problems)
        raise FleetError(f"fleet config refused: {problems}") from None
    return doc


def config_artifact(path: str | Path, name: str | None = None) -> Artifact:
    source = Path(path)
    try:
        data = source.read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        raise FleetError(f"cannot read {source}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FleetError(f"{source}: not UTF-8 text") from None
    if not data.strip():
        raise FleetError(f"{source} is empty; to clear every fleet-set value publish a file containing {{}}")
    check_fleet_config(text)
    return Artifact("config", (name or f"config {source.name}")[:120], data)


# --- storage -------------------------------------------------------------------------------------


def store_artifact(conn: Connection, artifact_dir: str | Path, artifact: Artifact, now: str) -> StoredArtifact:
    """Write the bytes to ``{artifact_dir}/{sha256}.{format}`` (atomically) and record the row,
    inside the caller's transaction.  Storing the same bytes again returns the existing row."""
    sha = artifact.sha256
    folder = Path(artifact_dir).resolve()
    path = folder / f"{sha}.{artifact.format}"
    existing = find_artifact(conn, sha)
    if existing is not None and existing.kind != artifact.kind:
        raise FleetError(f"artifact {sha[:12]} is already stored as a {existing.kind}")
    if not path.is_file() or _file_sha256(path) != sha:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            fh.write(artifact.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    if existing is not None:
        if existing.path != path:
            existing = StoredArtifact(existing.sha256, existing.kind, existing.name, existing.size, path,
                                      existing.created_at)
            conn.execute(artifacts.update().where(artifacts.c.sha256 == sha).values(path=str(path)))
        return existing
    conn.execute(insert(artifacts).values(sha256=sha, kind=artifact.kind, name=artifact.name,
                                          size=len(artifact.data), path=str(path), created_at=now))
    log.info("stored %s artifact %s (%d bytes) at %s", artifact.kind, sha[:12], len(artifact.data), path)
    return StoredArtifact(sha, artifact.kind, artifact.name, len(artifact.data), path, now)


def find_artifact(conn: Connection, sha256: str) -> StoredArtifact | None:
    row = conn.execute(select(artifacts).where(artifacts.c.sha256 == sha256)).mappings().first()
    if row is None:
        return None
    return StoredArtifact(row["sha256"], row["kind"], row["name"], int(row["size"]), Path(row["path"]),
                          row["created_at"])
