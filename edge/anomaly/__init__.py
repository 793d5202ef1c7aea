"""Local anomaly scoring of sales: features, transparent rules, an Isolation Forest, the scorer.

See docs/anomaly.md.  Pure: no database, no web; the checkout session passes payloads in.
"""

from .features import FEATURE_COLUMNS, CashierContext, SaleFeatures, cashier_contexts, rolling_contexts, sale_features
from .rules import RULES_MODEL, Baseline
from .scorer import AnomalyModelError, AnomalyResult, AnomalyScorer

__all__ = [
                       "FEATURE_COLUMNS",
                       "RULES_MODEL",
                       "AnomalyModelError",
                       "AnomalyResult",
                       "AnomalyScorer",
                       "Baseline",
                       "CashierContext",
                       "SaleFeatures",
                       "cashier_contexts",
                       "rolling_contexts",
                       "sale_features",
]
