"""What the scorer sees in a sale: counts, shares, store-local time, the cashier's recent behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from edge.anomaly import FEATURE_COLUMNS, CashierContext, cashier_contexts, rolling_contexts, sale_features

from .helpers import OIL, RICE, SODA, drawer, line, manual, mismatch, override, sale, void

SD = "America/Santo_Domingo"


def test_hour_is_store_local_time():
    # 02:00 UTC is 22:00 the evening before in Santo Domingo (UTC-4, no daylight saving)
    f = sale_features(sale(completed="2026-11-21T02:00:00Z"), SD)
    assert f.local_hour == pytest.approx(22.0)
    f = sale_features(sale(completed="2026-11-21T18:30:00Z"), SD)
    assert f.local_hour == pytest.approx(14.5)


def test_hour_follows_daylight_saving_of_the_store_zone():
    winter = sale_features(sale(completed="2026-01-15T17:00:00Z"), "America/New_York")
    summer = sale_features(sale(completed="2026-07-15T17:00:00Z"), "America/New_York")
    assert winter.local_hour == pytest.approx(12.0)
    assert summer.local_hour == pytest.approx(13.0)


def test_counts_shares_and_duration():
    payload = sale(
        seconds=95, discount=9000,
        lines=[line(RICE, 2), line(OIL, 1, source="manual"), line(SODA, 3, source="barcode")],
        events=[(10, void("BEER-PRZ-650")), (20, void()), (25, void(RICE["sku"])),
                (30, override({**OIL, "unit_price": 25000}, 21000)), (40, manual(OIL)), (50, mismatch())],
    )
    f = sale_features(payload, SD)
    assert f.total == payload["total"] == 2 * 17500 + 21000 + 3 * 5000 - 9000
    assert f.item_count == 6
    assert f.line_count == 3
    assert f.manual_lines == 1
    assert f.voids == 3
    assert f.overrides == 1
    assert f.vision_mismatches == 1
    assert f.discount == 9000
    assert f.discount_share == pytest.approx(9000 / payload["subtotal"])
    assert f.duration_s == pytest.approx(95)


def test_empty_sale_has_no_discount_share():
    f = sale_features(sale(lines=[], discount=0), SD)
    assert f.discount_share == 0.0 and f.total == 0 and f.item_count == 0


def test_drawer_opens_without_a_sale():
    payload = sale(events=[
        (-300, drawer(no_sale=True)),  # change for a neighbour before the sale
        (-120, drawer(no_sale=True)),
        (60, drawer(no_sale=False)),  # the sale's own cash payment
    ])
    assert sale_features(payload, SD).drawer_opens_no_sale == 2
    # the till may count openings it keeps outside the payload: the larger count is used, not the sum
    assert sale_features(payload, SD, CashierContext(drawer_opens_no_sale=3)).drawer_opens_no_sale == 3
    assert sale_features(sale(), SD, CashierContext(drawer_opens_no_sale=1)).drawer_opens_no_sale == 1


def test_context_reaches_the_features():
    f = sale_features(sale(), SD, CashierContext(recent_void_rate=0.25))
    assert f.cashier_void_rate == 0.25
    assert sale_features(sale(), SD).cashier_void_rate == 0.0


def test_vector_columns_and_cyclic_hour():
    late = sale_features(sale(completed="2026-11-22T03:50:00Z"), SD).as_vector()  # 23:50 local
    early = sale_features(sale(completed="2026-11-22T04:10:00Z"), SD).as_vector()  # 00:10 local
    noon = sale_features(sale(completed="2026-11-22T16:00:00Z"), SD).as_vector()  # 12:00 local
    assert late.shape == (len(FEATURE_COLUMNS),)
    assert "local_hour" not in FEATURE_COLUMNS and {"hour_sin", "hour_cos"} <= set(FEATURE_COLUMNS)
    h = [FEATURE_COLUMNS.index("hour_sin"), FEATURE_COLUMNS.index("hour_cos")]
    # 23:50 and 00:10 are neighbours for the model; noon is far from both
    assert np.linalg.norm(late[h] - early[h]) < 0.2
    assert np.linalg.norm(late[h] - noon[h]) > 1.9


def _history() -> list[dict]:
    """c-01: 4 sales, the 2nd with 2 voids; c-02: 1 sale with a void.  Given out of order on purpose."""
    rows = [
        sale(completed="2026-11-21T14:00:00Z", tx_id="a1", seq=1),
        sale(completed="2026-11-21T14:10:00Z", tx_id="a2", seq=2,
             events=[(5, void()), (6, void())]),
        sale(completed="2026-11-21T14:20:00Z", tx_id="b1", seq=3, cashier="c-02", events=[(5, void())]),
        sale(completed="2026-11-21T14:30:00Z", tx_id="a3", seq=4),
        sale(completed="2026-11-21T14:40:00Z", tx_id="a4", seq=5),
    ]
    return [rows[3], rows[0], rows[4], rows[2], rows[1]]


def test_rolling_contexts_see_only_the_cashiers_earlier_sales():
    ctx = rolling_contexts(_history(), window=50)
    assert ctx["a1"].recent_void_rate == 0.0  # nothing before it
    assert ctx["a2"].recent_void_rate == 0.0  # its own voids are not its context
    # after a1 (2 lines) and a2 (2 kept + 2 voided lines): 2 voided of 6 rung up
    assert ctx["a3"].recent_void_rate == pytest.approx(2 / 6)
    assert ctx["b1"].recent_void_rate == 0.0  # c-02's own history only


def test_rolling_context_window_forgets_old_sales():
    ctx = rolling_contexts(_history(), window=1)
    assert ctx["a3"].recent_void_rate == pytest.approx(2 / 4)  # only a2
    assert ctx["a4"].recent_void_rate == 0.0  # only a3


def test_cashier_contexts_for_the_next_sale():
    ctx = cashier_contexts(_history(), window=50)
    assert ctx["c-01"].recent_void_rate == pytest.approx(2 / 10)
    assert ctx["c-02"].recent_void_rate == pytest.approx(1 / 3)
    voided = sale(completed="2026-11-21T15:00:00Z", tx_id="a5", status="voided")  # a voided sale voids all lines
    assert cashier_contexts(_history() + [voided], window=1)["c-01"].recent_void_rate == 1.0
