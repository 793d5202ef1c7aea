"""The one exception every AI failure raises; features catch it and answer from computed figures."""

from __future__ import annotations

KINDS = ("not_configured", "budget", "circuit_open", "failed", "malformed", "privacy")


class AIUnavailable(Exception):
    """The AI could not answer.  ``kind`` is one of :data:`KINDS`; ``message`` is plain words for
    the shop owner (shown beside the computed answer)."""

    def __init__(self, kind: str, message: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown AIUnavailable kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"AIUnavailable(kind={self.kind!r}, message={self.message!r})"
