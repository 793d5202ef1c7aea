"""``tillsight hub backtest`` side by side with the standard models: each metric on series small enough
to work out by hand, the interval coverage (open days only, intervals that start at zero for a slow
SKU), no look-ahead (the SKUs and every fit see only the days before an origin), ``--origins`` as a
count or dates, and the command's last JSON line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.forecasting import backtest as bt
from analytics.forecasting.distribution import interval, zero_probability
from analytics.forecasting.standard import ModelForecast
from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.settings import parse_settings
from tillsight_cli.main import main


def test_each_metric_on_a_series_worked_out_by_hand() -> None:
    actual = np.array([[0.0, 4.0], [2.0, 0.0], [4.0, 2.0]])  # 3 days x 2 series
    mean = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    bounds = {0.8: (np.zeros((3, 2)), np.full((3, 2), 2.0)), 0.95: (np.zeros((3, 2)), np.full((3, 2), 4.0))}
    tally = bt._Tally()
    mase = tally.add(mean, bounds, actual, scale=np.array([2.0, 1.0]), open_days=np.array([True, True, False]))
    # series 0: errors 1, 1, 3 -> MAE 5/3, scale 2; series 1: 2, 2, 0 -> 4/3, scale 1
    assert mase == pytest.approx([5 / 6, 4 / 3])
    fig = tally.figures()
    assert fig["mase"] == pytest.approx(round((5 / 6 + 4 / 3) / 2, 4))
    assert fig["wape"] == pytest.approx(round(9 / 12, 4))  # total absolute error / total units
    assert fig["bias"] == pytest.approx(round(9 / 12 - 1, 4))  # forecast 9 units for 12 sold
    # coverage over the two open days only: [0, 2] holds 0, 2, but not 4, 0 -> 3 of 4; [0, 4] all four
    assert fig["coverage_80"] == 0.75 and fig["coverage_95"] == 1.0


def test_mase_scale_is_the_seasonal_naive_error_from_the_first_sale() -> None:
    hist = pd.DataFrame({"a": [0.0] * 7 + [1, 2, 3, 4, 5, 6, 7] * 2 + [3.0]})
    # from the first sale: 7 weekly differences of 0 and one of |3 - 1| = 2
    assert bt.mase_scale(hist)["a"] == pytest.approx(2 / 8)


def test_a_slow_skus_interval_starts_at_zero_and_holds_its_level() -> None:
    mean, phi = np.array([0.6]), np.array([2.0])
    assert zero_probability(mean, phi)[0] == pytest.approx(0.5 ** 0.6)
    lo, hi = interval(mean, phi, 0.8)
    assert lo[0] == 0
    rng = np.random.default_rng(3)
    draws = rng.negative_binomial(0.6 / (2.0 - 1), 1 / 2.0, size=50_000)
    held = float(((draws >= lo[0]) & (draws <= hi[0])).mean())
    assert 0.8 <= held < 0.9  # the central interval [q10, q90] would hold over 90 % here
    busy_lo, busy_hi = interval(np.array([40.0]), np.array([1.5]), 0.8)
    assert 0 < busy_lo[0] < 40 < busy_hi[0]  # a best seller keeps its central interval


def test_origins_are_a_count_or_dates() -> None:
    days = pd.date_range("2026-01-01", periods=100, freq="D")
    assert bt.origin_cuts(days, 28, 2) == [44, 72]
    assert bt.parse_origins("3") == 3
    assert bt.parse_origins("2026-02-01, 2026-03-01") == [date(2026, 2, 1), date(2026, 3, 1)]
    assert bt.origin_cuts(days, 28, [date(2026, 3, 1), date(2026, 2, 1)]) == [31, 59]
    with pytest.raises(ValueError, match="ends before"):
        bt.origin_cuts(days, 28, [date(2026, 3, 20)])
    with pytest.raises(ValueError, match="outside the data"):
        bt.origin_cuts(days, 28, [date(2025, 12, 1)])
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        bt.parse_origins("last month")


def _panel(n: int, days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.3, 4.0, n)
    weekday = np.where(days.dayofweek == 6, 0.0, 1.0)
    return pd.DataFrame({f"S{i:02d}": rng.poisson(rates[i] * weekday).astype(float) for i in range(n)}, index=days)


def test_no_look_ahead_the_skus_and_every_fit_see_only_the_days_before_the_origin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    days = pd.date_range("2026-01-05", periods=140, freq="D")
    base = _panel(24, days, seed=4)
    base["S23"] = (np.arange(140) % 9 == 0).astype(float)  # a unit every nine days: the slowest SKU
    origin = days[112]
    later = base.copy()
    later.loc[days >= origin] *= 50  # the future is wildly different...
    later.loc[days >= origin, "S23"] += 500  # ...and a SKU that sold little before becomes the best seller
    traded = np.asarray(days.dayofweek != 6)
    cal = StoreCalendar(parse_settings({}), [6])
    seen: list[tuple[pd.Timestamp, list[str], pd.DataFrame]] = []
    real_forecast = bt.forecast_series

    def spy_forecast(history: pd.DataFrame, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        fc = real_forecast(history, *args, **kw)  # type: ignore[arg-type]
        seen.append((history.index.max(), list(history.columns), fc.mean))
        return fc

    def spy_standard(history: pd.DataFrame, traded: np.ndarray, future: pd.DatetimeIndex, *args: object,
                     **kw: object) -> dict[str, ModelForecast]:
        assert history.index.max() < origin and len(traded) == len(history)  # (run for real by the test below)
        zero = np.zeros((len(future), history.shape[1]))
        return {"seasonal_naive": ModelForecast(zero, {0.8: (zero, zero), 0.95: (zero, zero)})}

    monkeypatch.setattr(bt, "forecast_series", spy_forecast)
    monkeypatch.setattr(bt, "standard_forecasts", spy_standard)
    runs = [bt.run_backtest(frame, traded, cal, horizon=28, origins=[origin.date()], skus=20)
            for frame in (base, later)]
    (end_a, skus_a, mean_a), (end_b, skus_b, mean_b) = seen
    assert end_a == end_b == origin - pd.Timedelta(days=1)
    top_before = list(base.iloc[:112].sum().sort_values(ascending=False, kind="stable").index[:20])
    assert skus_a == skus_b == top_before and "S23" not in skus_a
    pd.testing.assert_frame_equal(mean_a, mean_b)  # the same forecasts whatever came after the origin
    assert runs[0]["models"]["hub"]["mase"] != runs[1]["models"]["hub"]["mase"]  # scored against what came


HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _retail_csv(path: Path, skus: int = 22, days: int = 130) -> Path:
    """A small file in the Online Retail layout: a few orders a day of each SKU, closed on Saturdays."""
    rng = np.random.default_rng(11)
    rows = []
    invoice = 500000
    rates = rng.uniform(0.4, 3.0, skus)
    for d in pd.date_range("2011-01-03", periods=days, freq="D"):
        if d.dayofweek == 5:
            continue
        for i in range(skus):
            for _ in range(int(rng.poisson(rates[i]))):
                invoice += 1
                rows.append(f"{invoice},SKU{i:02d},PRODUCT {i},{int(rng.integers(1, 6))},"
                            f"{d.date()} 10:{i:02d}:00,{1.5 + i / 10:.2f},{12000 + i},United Kingdom")
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_backtest_command_prints_the_side_by_side_table_and_a_json_line_last(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _retail_csv(tmp_path / "sales.csv")
    assert main(["hub", "backtest", "--data", str(src), "--skus", "22", "--horizon", "14", "--origins",
                 "2011-04-25", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["origin_dates"] == ["2011-04-25"] and result["series"] == 22
    assert set(result["models"]) == {"hub", "global_gbm", "seasonal_naive", "ADIDA", "IMAPA", "CrostonOptimized",
                                     "AutoETS"}
    best = min(v["mase"] for k, v in result["models"].items() if k != "hub")
    assert result["ratio_to_best_standard"] == pytest.approx(result["models"]["hub"]["mase"] / best, abs=1e-3)
    assert result["coverage_80"] == result["models"]["hub"]["coverage_80"]
    assert 0.5 < result["coverage_80"] <= result["coverage_95"] <= 1.0
    table = "\n".join(out[:-1])
    for name in ("hub", "global_gbm", "AutoETS", "ratio_to_best_standard"):
        assert name in table
    assert main(["hub", "backtest", "--data", str(src), "--origins", "next week"]) == 2
