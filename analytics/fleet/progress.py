"""Where a deployment stands: counts over its targets (released, succeeded, failed, updating,
waiting, superseded), as ``status``, ``watch`` and the rollout controller see it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from analytics.fleet.records import FAILED_OUTCOMES, PUBLISHED, SUCCEEDED, SUPERSEDED, Deployment, Target, load_targets


@dataclass
class Summary:
    """Where one deployment stands: counts over its targets."""

    deployment: Deployment
    total: int = 0
    released: int = 0  # in released waves, not superseded
    succeeded: int = 0
    failed: int = 0  # failed, rolled_back or refused
    pending: int = 0  # released, nothing reported yet
    in_progress: int = 0  # released, a step reported
    waiting: int = 0  # wave not released
    superseded: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def success_share(self) -> float:
        return self.succeeded / self.released if self.released else 0.0

    @property
    def failure_share(self) -> float:
        return self.failed / self.released if self.released else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = self.deployment
        return {"deployment_id": d.deployment_id, "kind": d.kind, "version": d.version, "name": d.name,
                "target": f"{d.target_kind}:{d.target}", "state": d.state, "state_reason": d.state_reason,
                "wave": d.current_wave + 1, "waves": len(d.waves), "total": self.total,
                "released": self.released, "succeeded": self.succeeded, "failed": self.failed,
                "pending": self.pending, "in_progress": self.in_progress, "waiting": self.waiting,
                "superseded": self.superseded, "steps": dict(self.steps), "outcomes": dict(self.outcomes),
                "success_threshold": d.success_threshold, "failure_threshold": d.failure_threshold,
                "rollback_of": d.rollback_of, "created_at": d.created_at, "updated_at": d.updated_at}


def summarize(deployment: Deployment, targets: Sequence[Target]) -> Summary:
    s = Summary(deployment, total=len(targets))
    for t in targets:
        if t.state == SUPERSEDED:
            s.superseded += 1
        elif t.wave > deployment.current_wave:
            s.waiting += 1
        else:
            s.released += 1
            if t.state == SUCCEEDED:
                s.succeeded += 1
                s.outcomes[t.state] += 1
            elif t.state in FAILED_OUTCOMES:
                s.failed += 1
                s.outcomes[t.state] += 1
            elif t.state == PUBLISHED:
                s.pending += 1
            else:
                s.in_progress += 1
                s.steps[t.state] += 1
    return s


def summary_of(conn: Connection, deployment: Deployment) -> Summary:
    return summarize(deployment, load_targets(conn, deployment.deployment_id))
