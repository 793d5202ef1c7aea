"""Crash-safe file writes: write a temporary file, fsync, rename over the target, fsync the folder.
A process killed at any moment leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, doc: Any) -> None:
    write_atomic(path, json.dumps(doc, indent=1, sort_keys=True).encode())


def read_json(path: Path) -> Any | None:
    """The document, or None when the file does not exist (or is unreadable junk, logged by caller)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def point_symlink(link: Path, target: Path) -> None:
    """Atomically make ``link`` point at ``target`` (a relative link inside the same folder)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def resolve_link(link: Path) -> Path | None:
    """Where ``link`` points (absolute), or None when there is no such link."""
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()
