"""The store's gallery of enrolled products, and identification of a crop against it.

A gallery is store data: a folder with the enrolment photos of each SKU (so a new embedder can
re-embed them), the embeddings of those photos and a manifest (format, a version that grows on
every change, the embedder that made the embeddings, each SKU's examples, the unknown-item
thresholds).  One job per module:

- ``manifest``: the manifest's typed records, reading and writing it, :class:`GalleryError`;
- ``store``: :class:`Gallery`: load (checking the embedder and every file), add examples, save;
- ``quality``: refusing unreadable, too small or blurred photos, with the reason;
- ``diversity``: a bounded, diverse set of examples per SKU (near-duplicates dropped);
- ``matching``: scoring a crop's embedding against the gallery, known or "unknown item";
- ``verify``: geometric verification of a match (local features + RANSAC) and the keypoints file;
- ``calibrate``: choosing the unknown-item thresholds from the gallery's own examples;
- ``enrol``: enrolling a folder of photos (one sub-folder per SKU).
"""

from vision.gallery.manifest import ForeignGalleryError, GalleryError
from vision.gallery.matching import Identification, Matcher, Thresholds
from vision.gallery.store import Gallery

__all__ = ["ForeignGalleryError", "Gallery", "GalleryError", "Identification", "Matcher", "Thresholds"]
