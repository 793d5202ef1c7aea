"""The anomaly scorer at work on the device: loaded or fitted at start, scoring each sale before it
is written, refitted on its schedule in the background, and backfilling imported history.

Scoring never blocks a sale: any failure leaves the sale unscored (``anomaly: null``) and is logged.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.anomaly.features import CashierContext, cashier_contexts, rolling_contexts
from edge.anomaly.scorer import AnomalyModelError, AnomalyScorer
from edge.store import Store
from edge.store.records import SaleRecord

log = logging.getLogger(__name__)

CONTEXT_WINDOW = 50


class AnomalyService:
    def __init__(self, store: Store, model_path: Path, alert_threshold: float = 0.7) -> None:
        self.store = store
        self.model_path = Path(model_path)
        self.alert_threshold = alert_threshold
        self._lock = threading.Lock()
        self._refitting = threading.Lock()
        settings = store.settings.get()
        self.scorer = AnomalyScorer(settings.timezone, settings.currency, alert_threshold=alert_threshold)
        self.new_sales = 0

    @property
    def model_name(self) -> str:
        return self.scorer.model

    # -- lifecycle -----------------------------------------------------------------------------
    def ensure_fitted(self) -> None:
        """Load the saved model; fit one on the store's history when there is none or it is unusable."""
        settings = self.store.settings.get()
        if self.model_path.exists():
            try:
                scorer = AnomalyScorer.load(self.model_path, timezone=settings.timezone, currency=settings.currency)
                with self._lock:
                    self.scorer = scorer
                log.info("anomaly model %s loaded", scorer.model)
                if not scorer.needs_refit(datetime.now(UTC), 0):
                    return
            except AnomalyModelError as exc:
                log.warning("anomaly model unusable (%s): refitting from the store's history", exc)
        self.refit()

    def refit(self) -> str:
        """Fit on the store's own history and save; returns the model name."""
        settings = self.store.settings.get()
        history = self.store.sales.history_payloads()
        scorer = AnomalyScorer(settings.timezone, settings.currency, alert_threshold=self.alert_threshold)
        scorer.fit(history, now=datetime.now(UTC))
        try:
            scorer.save(self.model_path)
        except OSError as exc:  # a full disk must not stop scoring
            log.warning("could not save the anomaly model: %s", exc)
        with self._lock:
            self.scorer = scorer
            self.new_sales = 0
        log.info("anomaly model %s fitted on %d sales", scorer.model, len(history))
        return scorer.model

    def sale_recorded(self, record: SaleRecord) -> None:
        """After each sale: count it, and refit in the background when the schedule says so."""
        with self._lock:
            self.new_sales += 1
            due = self.scorer.needs_refit(datetime.now(UTC), self.new_sales)
        if due and self._refitting.acquire(blocking=False):
            def _run() -> None:
                try:
                    self.refit()
                except Exception:
                    log.exception("anomaly refit failed")
                finally:
                    self._refitting.release()
            threading.Thread(target=_run, name="anomaly-refit", daemon=True).start()

    # -- scoring -------------------------------------------------------------------------------
    def context_for(self, cashier_id: str, started_at: str) -> CashierContext:
        payloads = self.store.sales.cashier_payloads(cashier_id, CONTEXT_WINDOW)
        ctx = cashier_contexts(payloads).get(cashier_id, CashierContext())
        since = payloads[0]["completed_at"] if payloads else "0000"
        opens = self.store.sales.drawer_opens_without_sale(cashier_id, since, started_at)
        return CashierContext(recent_void_rate=ctx.recent_void_rate, drawer_opens_no_sale=opens)

    def score_payload(self, payload: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        """For the checkout: the payload's ``anomaly`` block and whether it raises an alert."""
        with self._lock:
            scorer = self.scorer
        context = self.context_for(payload["cashier_id"], payload["started_at"])
        result = scorer.score(payload, context)
        return result.to_payload(), scorer.is_alert(result)

    def backfill(self, payloads: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
        """Scores for imported history (each sale sees only its cashier's earlier sales)."""
        with self._lock:
            scorer = self.scorer
        contexts = rolling_contexts(payloads)
        results = scorer.score_many(payloads, contexts)
        return [(r.to_payload(), scorer.is_alert(r)) for r in results]
