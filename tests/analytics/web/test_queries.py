"""The query functions behind the pages, on SQLite and on PostgreSQL: store-local days, refunds
netted and voids ignored, the registry unioned with the devices heard from, deployment counts, and
the scope applied to every one of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from analytics.web.queries import analytics as aq
from analytics.web.queries import fleet as fq
from analytics.web.queries import stores as sq
from analytics.web.tenancy import StoreScope
from tests.analytics.web.seed import DEPLOY_MODEL, NOW, A, B, seed_hub

ALL, ONLY_A, NONE = StoreScope.everything(), StoreScope.only([A]), StoreScope.only([])


def test_store_rows_count_store_local_days(any_engine: Engine) -> None:
    seed_hub(any_engine)
    with any_engine.connect() as conn:
        rows = {r.store_id: r for r in sq.store_rows(conn, ALL, NOW)}
        only_a = sq.store_rows(conn, ONLY_A, NOW)
        assert sq.store_rows(conn, NONE, NOW) == []
    a, b = rows[A], rows[B]
    # today in Santo Domingo: 100.00 + 50.00 - 20.00 (refund); the void and the 23:30 sale of
    # yesterday (03:30 UTC today) are not today's
    assert (a.sales_today, a.transactions_today) == (13000, 2)
    assert (a.sales_7d, a.transactions_7d) == (13000 + 700 + 20000, 4)  # not the sale of 10 days ago
    assert (a.devices, a.online, a.currency, a.timezone) == (3, 1, "DOP", "America/Santo_Domingo")
    assert (b.sales_today, b.transactions_today, b.devices, b.online, b.currency) == (12345, 1, 1, 1, "EUR")
    assert [r.store_id for r in only_a] == [A] and only_a[0] == a
    # an hour later in Madrid it is still the same day; a day later the 7-day window moves on
    with any_engine.connect() as conn:
        later = {r.store_id: r for r in sq.store_rows(conn, ALL, NOW + timedelta(days=4))}
    assert later[A].sales_today == 0 and later[A].sales_7d == 13000 + 700


def test_a_listed_store_that_never_sent_is_still_the_owners(any_engine: Engine) -> None:
    seed_hub(any_engine)
    with any_engine.connect() as conn:
        rows = sq.store_rows(conn, StoreScope.only([A, "s-new"]), NOW)
        assert sq.store_info(conn, ALL, "s-new") is None  # an operator: unknown is unknown
        info = sq.store_info(conn, StoreScope.only(["s-new"]), "s-new")
    assert [r.store_id for r in rows] == [A, "s-new"] and rows[1].sales_7d == 0
    assert info is not None and not info.known and info.timezone == "UTC"


def test_daily_sales_recent_sales_and_alerts(any_engine: Engine) -> None:
    seed_hub(any_engine)
    with any_engine.connect() as conn:
        info = sq.store_info(conn, ONLY_A, A)
        daily = sq.daily_sales(conn, ONLY_A, info, NOW, days=14)
        sales = sq.recent_sales(conn, ONLY_A, A, limit=50)
        alerts = sq.store_alerts(conn, ONLY_A, A)
        assert sq.recent_sales(conn, ONLY_A, B) == [] and sq.store_alerts(conn, ONLY_A, B) == []
        assert sq.store_info(conn, ONLY_A, B) is None
    # from the store's first sale (11 Nov) on: the days before it are unknown to the hub, not zeros
    assert len(daily) == 11 and daily[-1].date == "2026-11-21" and daily[0].date == "2026-11-11"
    by_day = {d.date: (d.sales, d.transactions) for d in daily if d.sales}
    assert by_day == {"2026-11-21": (13000, 2), "2026-11-20": (700, 1), "2026-11-18": (20000, 1),
                      "2026-11-11": (70000, 1)}
    assert len(sales) == 7 and sales[0].status == "voided" and sales[0].completed_at == "2026-11-21T08:00:00Z"
    assert [s.items for s in sales[:3]] == [1, -1, 1]  # the refund's units are negative
    assert [a.alert_id for a in alerts] == ["a-alert-1"] and alerts[0].reasons == ["void after payment", "odd basket"]


def test_the_trend_series_starts_at_the_stores_first_sale(any_engine: Engine) -> None:
    """The Trend chart's 91 days of history and a SKU's chart begin at the first sale the hub holds
    (11 Nov, store time), not with weeks of zeros for the days before it had any of the store's sales."""
    seed_hub(any_engine)
    as_of = NOW.date()  # 21 Nov: the days before it
    with any_engine.connect() as conn:
        days = aq.daily_actuals(conn, ONLY_A, A, "America/Santo_Domingo", as_of, 91)
        units = aq.sku_daily_units(conn, ONLY_A, A, "RICE-5LB", "America/Santo_Domingo", as_of, 84)
    assert [d.day for d in days][:1] == ["2026-11-11"] and days[-1].day == "2026-11-20" and len(days) == 10
    assert days[0].revenue == 70000 and sum(d.revenue for d in days) == 70000 + 20000 + 700
    assert units[0]["day"] == "2026-11-11" and len(units) == 10


def test_devices_deployments_and_their_scope(any_engine: Engine) -> None:
    seed_hub(any_engine)
    with any_engine.connect() as conn:
        devices = {(d.store_id, d.device_id): d for d in fq.device_rows(conn, ALL)}
        a_devices = fq.device_rows(conn, ONLY_A)
        deps = {d.deployment_id: d for d in fq.deployment_rows(conn, ALL)}
        a_deps = {d.deployment_id: d for d in fq.deployment_rows(conn, ONLY_A)}
        b_deps = fq.deployment_rows(conn, StoreScope.only([B]))
        waves = fq.wave_rows(conn, ALL, deps[DEPLOY_MODEL])
        failures = fq.target_rows(conn, ALL, DEPLOY_MODEL, states=fq.FAILED)
        dead_all, dead_a, dead_owner = (fq.dead_letter_count(conn, ALL), fq.dead_letter_count(conn, ALL, A),
                                        fq.dead_letter_count(conn, ONLY_A, A))
        assert fq.device_rows(conn, NONE) == [] and fq.deployment_rows(conn, NONE) == []
    assert sorted(devices) == [(A, "till-1"), (A, "till-2"), (A, "till-3"), (B, "till-1")]
    assert {d.store_id for d in a_devices} == {A}
    t1 = devices[(A, "till-1")]
    assert (t1.state, t1.model_version, t1.config_version, t1.backlog, t1.update_step, t1.update_progress) == \
        ("online", 8, 3, 7, "downloading", 0.45)
    assert devices[(A, "till-3")].state == "never seen" and devices[(A, "till-3")].registered
    assert devices[(B, "till-1")].group == "default" and devices[(B, "till-1")].model_version == 9
    model = deps[DEPLOY_MODEL]
    assert (model.targets, model.succeeded, model.in_progress, model.failed, model.waiting) == (4, 1, 1, 1, 1)
    # store A's view of the same rollout counts only its own devices; store B sees only its one
    assert (a_deps[DEPLOY_MODEL].targets, a_deps[DEPLOY_MODEL].succeeded) == (3, 0)
    assert [(d.deployment_id, d.targets, d.succeeded) for d in b_deps] == [(DEPLOY_MODEL, 1, 1)]
    assert [(w.wave, w.targets, w.status) for w in waves] == [(1, 3, "current"), (2, 1, "pending")]
    assert [(f.device_id, f.detail) for f in failures] == [("till-2", "sha256 mismatch after download")]
    assert (dead_all, dead_a, dead_owner) == (3, 2, None)


def test_an_update_the_device_has_not_reported_shows_the_hubs_view(any_engine: Engine) -> None:
    from sqlalchemy import update

    from analytics.db import tables as t

    seed_hub(any_engine)
    with any_engine.begin() as conn:
        conn.execute(update(t.devices).where(t.devices.c.store_id == A, t.devices.c.device_id == "till-1")
                     .values(reported=None))
        row = next(d for d in fq.device_rows(conn, ONLY_A) if d.device_id == "till-1")
    assert (row.update_step, row.update_deployment, row.update) == \
        ("downloading", DEPLOY_MODEL, "model v9: downloading 45%")
    assert row.model_version is None


def test_refused_counts_as_failed_and_superseded_devices_leave_the_progress(any_engine: Engine) -> None:
    from sqlalchemy import update

    from analytics.db import fleet_tables as ft

    seed_hub(any_engine)
    dt = ft.deployment_targets.c
    with any_engine.begin() as conn:
        conn.execute(update(ft.deployment_targets).where(dt.device_id == "till-2").values(state="refused"))
        conn.execute(update(ft.deployment_targets).where(dt.deployment_id == DEPLOY_MODEL, dt.device_id == "till-3")
                     .values(state="superseded"))
        dep = fq.deployment(conn, ALL, DEPLOY_MODEL)
        failures = fq.target_rows(conn, ALL, DEPLOY_MODEL, states=fq.FAILED + fq.ROLLED_BACK)
    assert (dep.targets, dep.failed, dep.superseded, dep.waiting, dep.succeeded) == (4, 1, 1, 0, 1)
    assert dep.progress == 1 / 3
    assert [f.state for f in failures] == ["refused"]
