"""A store gallery as it travels from the device to the hub: ``tillsight.gallery/1`` and ``tillsight.gallery_photo/1``.

The device's gallery (``vision/gallery/``: photos, embeddings, a versioned manifest) crosses the
boundary as two kinds of message, both QoS 1 on the device's own topics:

- :class:`GalleryPhoto` on ``{store}/{device}/gallery_photo``: one enrolment photo, its bytes in
  base64, content-addressed by SHA-256 (checked when read), at most :data:`MAX_PHOTO_BYTES`;
- :class:`GalleryAnnouncement` on ``{store}/{device}/gallery``: the gallery's version, the embedding
  network that made it, and every SKU's examples by photo SHA-256.  It is sent once every photo it
  lists went out, and it is idempotent by ``(store, device, version)``.

Embeddings never travel: they belong to the device's network, and the photos let any network
re-embed the gallery.  :func:`GalleryAnnouncement.from_payload` and :func:`GalleryPhoto.from_payload`
are the one typed reading of each message (they validate first); ``to_payload`` the one writing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.validation import ContractError, validate

GALLERY = "tillsight.gallery/1"
GALLERY_PHOTO = "tillsight.gallery_photo/1"
MAX_PHOTO_BYTES = 512 * 1024  # a photo bigger than this is not synced (enrolment crops are far smaller)
MAX_ANNOUNCEMENT_BYTES = 4 * 2**20  # an announcement payload over this is not sent (some 20 000 examples)


@dataclass(frozen=True)
class GalleryExample:
    """One example photo of a SKU, as listed in an announcement."""

    sku: str
    photo: str  # path inside the gallery folder: photos/<sku>/<sha256[:16]>.<ext>
    sha256: str
    added: str
    source: str  # photos | till | correction | catalogue

    def to_payload(self) -> dict[str, str]:
        return {"photo": self.photo, "sha256": self.sha256, "added": self.added, "source": self.source}


@dataclass(frozen=True)
class GalleryAnnouncement:
    """``tillsight.gallery/1``: one version of a device's gallery."""

    store_id: str
    device_id: str
    at: str
    version: int
    updated: str
    embedder: dict[str, str]
    embedding_dim: int
    examples: tuple[GalleryExample, ...]
    names: dict[str, str] = field(default_factory=dict)

    @property
    def skus(self) -> list[str]:
        return list(dict.fromkeys(e.sku for e in self.examples))

    @property
    def photo_hashes(self) -> set[str]:
        return {e.sha256 for e in self.examples}

    def to_payload(self) -> dict[str, Any]:
        skus: dict[str, list[dict[str, str]]] = {}
        for ex in self.examples:
            skus.setdefault(ex.sku, []).append(ex.to_payload())
        doc: dict[str, Any] = {
            "schema": GALLERY, "store_id": self.store_id, "device_id": self.device_id, "at": self.at,
            "version": self.version, "updated": self.updated, "embedder": dict(self.embedder),
            "embedding_dim": self.embedding_dim, "names": dict(self.names), "skus": skus}
        validate(GALLERY, doc)
        return doc

    @classmethod
    def from_payload(cls, doc: Any) -> GalleryAnnouncement:
        validate(GALLERY, doc)
        examples = tuple(GalleryExample(str(sku), e["photo"], e["sha256"], e["added"], e["source"])
                         for sku, items in doc["skus"].items() for e in items)
        return cls(doc["store_id"], doc["device_id"], doc["at"], int(doc["version"]), doc["updated"],
                   {str(k): str(v) for k, v in doc["embedder"].items()}, int(doc["embedding_dim"]), examples,
                   {str(k): str(v) for k, v in (doc.get("names") or {}).items()})


@dataclass(frozen=True)
class GalleryPhoto:
    """``tillsight.gallery_photo/1``: one enrolment photo's bytes."""

    store_id: str
    device_id: str
    sku: str
    photo: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def to_payload(self) -> dict[str, Any]:
        if len(self.data) > MAX_PHOTO_BYTES:
            raise ContractError(f"{GALLERY_PHOTO}: data: {self.photo} is {len(self.data)} bytes, "
                                f"over the {MAX_PHOTO_BYTES} a photo may have")
        doc = {"schema": GALLERY_PHOTO, "store_id": self.store_id, "device_id": self.device_id, "sku": self.sku,
               "photo": self.photo, "sha256": self.sha256, "data": base64.b64encode(self.data).decode("ascii")}
        validate(GALLERY_PHOTO, doc)
        return doc

    @classmethod
    def from_payload(cls, doc: Mapping[str, Any]) -> GalleryPhoto:
        validate(GALLERY_PHOTO, doc)
        try:
            data = base64.b64decode(doc["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ContractError(f"{GALLERY_PHOTO}: data: not base64 ({exc})") from None
        if len(data) > MAX_PHOTO_BYTES:
            raise ContractError(f"{GALLERY_PHOTO}: data: {len(data)} bytes, over {MAX_PHOTO_BYTES}")
        photo = cls(doc["store_id"], doc["device_id"], doc["sku"], doc["photo"], data)
        if photo.sha256 != doc["sha256"]:
            raise ContractError(f"{GALLERY_PHOTO}: sha256: the data's SHA-256 is {photo.sha256[:12]}..., "
                                f"not {str(doc['sha256'])[:12]}... (damaged in transit)")
        return photo
