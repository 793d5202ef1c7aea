"""The device's anomaly scorer: rules while the history is short, rules + Isolation Forest after.

    scorer = AnomalyScorer("America/Santo_Domingo", "DOP")
    scorer.fit(recent_payloads, now=now)                 # the store's own history
    result = scorer.score(payload, context)              # AnomalyResult(score, reasons, model)
    payload["anomaly"] = result.to_payload()
    if scorer.is_alert(result): ...

Final score: ``max(forest, rules)``.  Both are calibrated so that 0.7 (the default alert threshold) means
"worth a look": the forest reaches it for about one sale in 200 of the store's history, the rules when
one strong sign or several weaker ones add up.  Reasons come from both, one per topic, most important
first, at most four.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

from contracts.timestamps import parse_utc

from .features import (
    DEFAULT_WINDOW,
    FEATURE_COLUMNS,
    CashierContext,
    SaleFeatures,
    features_matrix,
    rolling_contexts,
    sale_features,
)
from .forest import ForestModel
from .reasons import Reason, merge_reasons
from .rules import RULES_MODEL, Baseline, evaluate_rules, fit_baseline, rules_score

log = logging.getLogger(__name__)

MODEL_FORMAT = "tillsight.anomaly/1"
MAX_REASONS = 4


class AnomalyModelError(Exception):
    """A saved anomaly model that cannot be used (corrupt, another format or library version, another
    store's settings).  The caller falls back to rules (`AnomalyScorer(...)` unfitted) and refits."""


@dataclass(frozen=True)
class AnomalyResult:
    score: float  # 0..1
    reasons: tuple[str, ...]
    model: str  # "rules-v1" or "iforest-YYYYMMDDHHMM"

    def to_payload(self) -> dict:
        """The ``anomaly`` object of a `tillsight.tx/1` payload."""
        return {"score": round(float(self.score), 3), "reasons": list(self.reasons), "model": self.model}


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:  # naive: taken as UTC
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


class AnomalyScorer:
    """Scores sales of one store.  Unfitted, it scores with the rules and default thresholds.

    min_history: completed sales needed before the forest is trained (rules only below).
    alert_threshold: `is_alert` is true at or above it.
    contamination: passed to IsolationForest; a float also sets the tail share that the calibration maps
        to the alert threshold (0.005 when "auto").
    Refit schedule (`needs_refit`): when never fitted, when the fit is `refit_interval` old (daily),
    after `refit_after_sales` new sales, or, in rules mode, as soon as the history reaches `min_history`.
    """

    def __init__(self, timezone: str, currency: str, min_history: int = 200, alert_threshold: float = 0.7,
                 contamination: float | str = "auto", random_state: int | None = 0, *,
                 refit_interval: timedelta = timedelta(days=1), refit_after_sales: int = 100,
                 max_history: int = 20_000, context_window: int = DEFAULT_WINDOW,
                 max_reasons: int = MAX_REASONS):
        self.timezone = timezone
        self.currency = currency
        self.min_history = int(min_history)
        self.alert_threshold = float(alert_threshold)
        self.contamination = contamination
        self.random_state = random_state
        self.refit_interval = refit_interval
        self.refit_after_sales = int(refit_after_sales)
        self.max_history = int(max_history)
        self.context_window = int(context_window)
        self.max_reasons = int(max_reasons)
        self.baseline = Baseline()
        self.forest: ForestModel | None = None
        self.model = RULES_MODEL
        self.fitted_at: datetime | None = None
        self.history_size = 0

    # -- fitting ---------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"forest"`` when the Isolation Forest is trained, else ``"rules"``."""
        return "forest" if self.forest is not None else "rules"

    def history_features(self, history: Sequence[dict] | Sequence[SaleFeatures]) -> list[SaleFeatures]:
        """Features of the completed sales in `history` (payloads, any order), with each sale's cashier
        context from the sales before it; SaleFeatures pass through."""
        given = list(history)
        features = [item for item in given if isinstance(item, SaleFeatures)]
        if len(features) == len(given):
            return features[-self.max_history:] if self.max_history else features
        if features:
            raise TypeError("history must be all payloads or all SaleFeatures")
        items = [item for item in given if isinstance(item, dict)]
        contexts = rolling_contexts(items, self.context_window)  # voided sales count towards void rates
        completed = sorted((p for p in items if p.get("status", "completed") == "completed"),
                           key=lambda p: (parse_utc(p["completed_at"]), int(p.get("seq") or 0)))
        if self.max_history:
            completed = completed[-self.max_history:]
        return [sale_features(p, self.timezone, contexts.get(p["tx_id"])) for p in completed]

    def fit(self, history: Sequence[dict] | Sequence[SaleFeatures], now: datetime | None = None) -> None:
        """Fit on the store's history: the rules' baseline always, the forest once there are `min_history`
        completed sales.  Voided and refunded sales are skipped (they still count in cashier void rates)."""
        now = _utc(now)
        feats = self.history_features(history)
        self.baseline = fit_baseline(feats)
        self.history_size = len(feats)
        self.fitted_at = now
        if len(feats) >= max(self.min_history, 2):
            self.forest = ForestModel.fit(feats, contamination=self.contamination, random_state=self.random_state)
            self.model = f"iforest-{now:%Y%m%d%H%M}"
        else:
            self.forest = None
            self.model = RULES_MODEL
        log.info("anomaly scorer fitted on %d completed sales: %s", len(feats), self.model)

    def needs_refit(self, now: datetime, new_sales_since_fit: int) -> bool:
        """True when the model should be refitted (see the class docstring for the schedule)."""
        if self.fitted_at is None:
            return True
        if _utc(now) - self.fitted_at >= self.refit_interval:
            return True
        if new_sales_since_fit >= self.refit_after_sales:
            return True
        return self.forest is None and self.history_size + new_sales_since_fit >= self.min_history

    # -- scoring ---------------------------------------------------------------------------------

    def features(self, payload: dict, context: CashierContext | None = None) -> SaleFeatures:
        return sale_features(payload, self.timezone, context)

    def _result(self, f: SaleFeatures, forest_score: float | None, payload: dict | None) -> AnomalyResult:
        rule_reasons = evaluate_rules(f, self.baseline, self.currency, payload)
        score = rules_score(rule_reasons)
        forest_reasons: list[Reason] = []
        if forest_score is not None and self.forest is not None:
            score = max(score, forest_score)
            forest_reasons = self.forest.explain(f, self.currency)
        if forest_score is not None and self.forest is not None and forest_score >= self.alert_threshold \
                and not any(r.weight >= 0.3 for r in (*rule_reasons, *forest_reasons)):
            # a rare combination rather than one extreme value: say which parts are above usual
            said = {r.key for r in rule_reasons}
            parts = [r.text for r in self.forest.explain(f, self.currency, fallback=True) if r.key not in said]
            text = ("unusual combination for this store: " + "; ".join(parts) if parts
                    else "unusual combination of basket, timing and cashier actions for this store")
            forest_reasons = [Reason("combination", 0.3, text)]
        reasons = merge_reasons(rule_reasons, forest_reasons, limit=self.max_reasons)
        return AnomalyResult(score=float(min(max(score, 0.0), 1.0)), reasons=reasons, model=self.model)

    def score(self, payload: dict, context: CashierContext | None = None) -> AnomalyResult:
        """Score one sale.  `context`: the cashier's recent behaviour (`cashier_contexts`), if known."""
        f = self.features(payload, context)
        forest_score = float(self.forest.scores(f.as_vector())[0]) if self.forest is not None else None
        return self._result(f, forest_score, payload)

    def score_many(self, payloads: Sequence[dict],
                   contexts: Sequence[CashierContext | None] | dict[str, CashierContext] | None = None,
                   ) -> list[AnomalyResult]:
        """Score many sales at once (one forest pass; much faster than `score` in a loop).
        `contexts`: one per payload, or tx_id -> context (as `rolling_contexts` returns)."""
        if isinstance(contexts, dict):
            ctx = [contexts.get(p["tx_id"]) for p in payloads]
        else:
            ctx = list(contexts) if contexts is not None else [None] * len(payloads)
        if len(ctx) != len(payloads):
            raise ValueError("one context per payload")
        feats = [self.features(p, c) for p, c in zip(payloads, ctx, strict=True)]
        forest_scores: list[float | None] = [None] * len(feats)
        if self.forest is not None and feats:
            forest_scores = [float(s) for s in self.forest.scores(features_matrix(feats))]
        return [self._result(f, s, p) for f, s, p in zip(feats, forest_scores, payloads, strict=True)]

    def is_alert(self, result: AnomalyResult) -> bool:
        return result.score >= self.alert_threshold

    # -- model file ------------------------------------------------------------------------------

    def _state(self) -> dict:
        forest = None
        if self.forest is not None:
            forest = {f.name: getattr(self.forest, f.name) for f in fields(ForestModel)}
        return {
            "format": MODEL_FORMAT, "sklearn": sklearn.__version__,
            "timezone": self.timezone, "currency": self.currency, "min_history": self.min_history,
            "alert_threshold": self.alert_threshold, "contamination": self.contamination,
            "random_state": self.random_state, "refit_interval_s": self.refit_interval.total_seconds(),
            "refit_after_sales": self.refit_after_sales, "max_history": self.max_history,
            "context_window": self.context_window, "max_reasons": self.max_reasons,
            "model": self.model, "history_size": self.history_size,
            "fitted_at": self.fitted_at.isoformat() if self.fitted_at else None,
            "baseline": self.baseline.to_dict(), "forest": forest,
        }

    def save(self, path: Path) -> None:
        """Write the fitted scorer to `path` atomically (temporary file in the same folder, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                joblib.dump(self._state(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        log.info("anomaly model %s saved to %s", self.model, path)

    @classmethod
    def load(cls, path: Path, timezone: str | None = None, currency: str | None = None) -> AnomalyScorer:
        """Read a scorer written by `save`.  Raises AnomalyModelError when the file is missing, corrupt,
        of another format or scikit-learn version, or (when given) fitted for another time zone or
        currency.  Only load files this device wrote: the format is a pickle."""
        path = Path(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn's version warning: checked below, clearly
                state = joblib.load(path)
        except Exception as exc:
            raise AnomalyModelError(f"cannot read anomaly model {path}: {exc.__class__.__name__}: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
            raise AnomalyModelError(f"{path} is not a Tillsight anomaly model ({MODEL_FORMAT})")
        if state.get("sklearn") != sklearn.__version__:
            raise AnomalyModelError(f"{path} was made with scikit-learn {state.get('sklearn')}, this device runs "
                                    f"{sklearn.__version__}: refit")
        for key, want in (("timezone", timezone), ("currency", currency)):
            if want is not None and state.get(key) != want:
                raise AnomalyModelError(f"{path} was fitted for {key} {state.get(key)!r}, "
                                        f"the store uses {want!r}: refit")
        try:
            scorer = cls(state["timezone"], state["currency"], min_history=state["min_history"],
                         alert_threshold=state["alert_threshold"], contamination=state["contamination"],
                         random_state=state["random_state"],
                         refit_interval=timedelta(seconds=state["refit_interval_s"]),
                         refit_after_sales=state["refit_after_sales"], max_history=state["max_history"],
                         context_window=state["context_window"], max_reasons=state["max_reasons"])
            scorer.baseline = Baseline.from_dict(state["baseline"])
            scorer.model = str(state["model"])
            scorer.history_size = int(state["history_size"])
            scorer.fitted_at = datetime.fromisoformat(state["fitted_at"]) if state["fitted_at"] else None
            if state["forest"] is not None:
                forest = ForestModel(**state["forest"])
                if (not isinstance(forest.forest, IsolationForest)
                        or np.shape(forest.center) != (len(FEATURE_COLUMNS),)
                        or np.shape(forest.scale) != (len(FEATURE_COLUMNS),)):
                    raise TypeError("forest state has the wrong types")
                scorer.forest = forest
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalyModelError(f"{path} is an incomplete or incompatible anomaly model: {exc}") from exc
        log.info("anomaly model %s loaded from %s", scorer.model, path)
        return scorer
