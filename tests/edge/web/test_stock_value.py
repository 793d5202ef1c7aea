"""Stock-count adjustments and the movement history are valued at cost (the moving average cost of their
time), never at the shelf price; a product with no cost shows "no cost" and is counted apart, never as a zero
loss."""

from __future__ import annotations

from tests.edge.web.test_manage import seeded_store_file, store  # noqa: F401  (fast seeded store)

NO_COST = "SALAMI-500"  # the demo product with no cost


def _costed(store, n: int = 2):  # noqa: F811
    return [p for p in store.products.list() if p.cost is not None][:n]


def test_a_count_is_valued_at_the_cost_of_the_moment_and_a_product_with_no_cost_is_counted_apart(login_as,
                                                                                                  store):  # noqa: F811
    supervisor = login_as("supervisor")
    a, b = _costed(store)
    salami = store.products.get(NO_COST)
    assert salami.cost is None and a.cost != a.price
    counts = {a.sku: a.stock_qty - 4, b.sku: b.stock_qty + 1, NO_COST: salami.stock_qty - 2}
    out = supervisor.post("/api/stock-count", json={"counts": counts, "reason": "theft"}).get_json()
    by_sku = {x["sku"]: x for x in out["adjustments"]}
    assert by_sku[a.sku]["value"] == -4 * a.cost and by_sku[a.sku]["unit_cost"] == a.cost
    assert by_sku[b.sku]["value"] == b.cost
    assert by_sku[NO_COST]["value"] is None and by_sku[NO_COST]["unit_cost"] is None
    assert out["value"] == -4 * a.cost + b.cost  # the salami is not a zero loss inside the total...
    assert (out["lost"], out["found"]) == (-4 * a.cost, b.cost)
    assert (out["uncosted"], out["uncosted_units"], out["units"]) == (1, -2, -5)  # ...it is counted apart


def test_the_history_values_each_movement_at_the_cost_it_had_then(login_as, store):  # noqa: F811
    supervisor = login_as("supervisor")
    (a,) = _costed(store, 1)
    first = supervisor.post("/api/stock-count", json={"counts": {a.sku: a.stock_qty - 1}, "reason": "damage"})
    assert first.status_code == 200
    # the cost moves after the count (set by hand, dated later): the old adjustment keeps its old cost
    store.costs.set_cost(a.sku, a.cost + 1000, "owner", at="2999-01-01T00:00:00Z")
    moves = supervisor.get(f"/api/stock/movements?sku={a.sku}").get_json()
    assert [(m["reason"], m["unit_cost"], m["value"]) for m in moves["movements"]] == [("damage", a.cost, -a.cost)]
    assert moves["adjustments"]["lost"] == -a.cost


def test_the_count_pages_show_cost_values_and_no_cost_in_the_readers_language(login_as, store):  # noqa: F811
    supervisor = login_as("supervisor")
    (a,) = _costed(store, 1)
    salami = store.products.get(NO_COST)
    sheet = supervisor.get("/manage/stock-count").get_data(as_text=True)
    assert f'data-sku="{NO_COST}" data-book="{salami.stock_qty}" data-cost=""' in sheet
    assert f'data-sku="{a.sku}" data-book="{a.stock_qty}" data-cost="{a.cost}"' in sheet
    store.users.set_language("maria", "es")
    result = supervisor.client.post("/manage/stock-count", data={
        "csrf_token": supervisor.token, f"count-{a.sku}": str(a.stock_qty - 3), f"book-{a.sku}": str(a.stock_qty),
        f"count-{NO_COST}": str(salami.stock_qty - 1), f"book-{NO_COST}": str(salami.stock_qty), "reason": "damage"})
    html = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "Valor al costo" in html and "sin costo" in html and "Motivo: Daño." in html
    assert "1 producto ajustado no tiene costo" in html
    history = supervisor.get("/manage/stock-movements?reason=damage").get_data(as_text=True)
    assert 'id="adjustment-summary"' in history and "<td>Daño</td>" in history and "sin costo" in history
