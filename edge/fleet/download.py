"""A resumable artifact download from retained chunk messages.  Each chunk is written to its own
file as it arrives (atomically), so after a disconnect or a restart only the missing chunks are
asked for again; the assembled file must then match the manifest's size and SHA-256."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from edge.fleet.files import write_atomic

log = logging.getLogger(__name__)


class ArtifactMismatch(ValueError):
    """The assembled bytes are not what the signed manifest describes."""


class ChunkDownload:
    def __init__(self, folder: Path, sha256: str, size: int, chunks: int, chunk_size: int) -> None:
        self.folder = folder
        self.sha256 = sha256
        self.size = size
        self.chunks = chunks
        self.chunk_size = chunk_size
        self.folder.mkdir(parents=True, exist_ok=True)
        self._have = {i for i in range(chunks) if self._chunk_path(i).exists()}

    def _chunk_path(self, index: int) -> Path:
        return self.folder / f"{index:06d}.chunk"

    @property
    def artifact_path(self) -> Path:
        return self.folder / "artifact"

    def missing(self) -> list[int]:
        return [i for i in range(self.chunks) if i not in self._have]

    def progress(self) -> float:
        return len(self._have) / self.chunks if self.chunks else 1.0

    def complete(self) -> bool:
        return len(self._have) == self.chunks

    def expected_length(self, index: int) -> int:
        if index < self.chunks - 1:
            return self.chunk_size
        return self.size - self.chunk_size * (self.chunks - 1)

    def add(self, index: int, data: bytes) -> bool:
        """Keep one chunk; returns False for an index outside the artifact or a wrong length
        (ignored: a good copy may still come)."""
        if not 0 <= index < self.chunks:
            log.warning("chunk %d of %s is outside the artifact (%d chunks); ignored", index, self.sha256[:12],
                        self.chunks)
            return False
        if len(data) != self.expected_length(index):
            log.warning("chunk %d of %s has %d bytes, expected %d; ignored", index, self.sha256[:12], len(data),
                        self.expected_length(index))
            return False
        if index in self._have:
            return True
        write_atomic(self._chunk_path(index), data)
        self._have.add(index)
        return True

    def assemble(self) -> Path:
        """Join the chunks and check size and SHA-256; a mismatch deletes the chunks (they are
        bad) and raises ``ArtifactMismatch``."""
        digest = hashlib.sha256()
        total = 0
        tmp = self.folder / "artifact.tmp"
        with open(tmp, "wb") as out:
            for i in range(self.chunks):
                data = self._chunk_path(i).read_bytes()
                digest.update(data)
                total += len(data)
                out.write(data)
        if total != self.size:
            self.discard()
            raise ArtifactMismatch(f"artifact size {total} bytes, the manifest says {self.size}")
        if digest.hexdigest() != self.sha256:
            self.discard()
            raise ArtifactMismatch(f"artifact sha256 {digest.hexdigest()[:16]}... does not match the signed "
                                   f"manifest ({self.sha256[:16]}...)")
        tmp.replace(self.artifact_path)
        return self.artifact_path

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._have.clear()
