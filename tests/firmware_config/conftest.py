"""Configuration tests validate as a device does: with its detector back ends registered
(``vision.detectors`` registers each back end's config model; the hub's fallback has its own test)."""

import vision.detectors  # noqa: F401 - registers the detector back ends' config models
