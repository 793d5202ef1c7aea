"""Costs at import: the shared retailer data has none, so ``hub import`` takes a cost column (the
file's own costs: a blank cell is an unknown cost, never a free product) or a default margin (every
line's cost made up from its price, stored and shown as *assumed*).  The sales become
``tillsight.tx/2``; the products' current costs and margins follow."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.db import make_engine
from analytics.db import tables as t
from analytics.importer.layouts import LayoutError
from analytics.importer.run import import_file
from analytics.web.queries import costs as cq
from analytics.web.tenancy import StoreScope
from contracts import validate
from tests.analytics.importer.test_import import write_csv
from tillsight_cli.main import main

ALL = StoreScope.everything()
RETAIL = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2010-12-02 10:00:00,2.95,,United Kingdom",
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-02 09:41:00,2.55,17850.0,United Kingdom",
]


def _lines(engine: Engine) -> dict[tuple[str, str], tuple[int | None, bool | None]]:
    ln = t.tx_lines.c
    with engine.connect() as conn:
        rows = conn.execute(select(t.transactions.c.payload["receipt_no"].as_string(), ln.sku, ln.unit_cost,
                                   ln.cost_assumed).join(t.tx_lines, t.transactions.c.tx_id == ln.tx_id))
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_a_cost_column_gives_real_costs_and_a_blank_cell_an_unknown_cost(hub, tmp_path: Path) -> None:
    _, engine = hub
    src = tmp_path / "till.csv"
    src.write_text("ticket;codigo;articulo;cant;fecha;precio;costo\n"
                   "T1;RICE;Arroz 5 lb;2;20/11/2026 14:03;325,00;250,00\n"
                   "T1;MILK;Leche 1 L;1;20/11/2026 14:03;65,50;\n"
                   "T2;RICE;Arroz 5 lb;1;21/11/2026 09:00;325,00;262,50\n"
                   "T3;SODA;Refresco;3;21/11/2026 10:00;35,00;41,00\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"invoice": "ticket", "sku": "codigo", "description": "articulo", "quantity": "cant",
                                   "timestamp": "fecha", "timestamp_format": "%d/%m/%Y %H:%M", "unit_price": "precio",
                                   "unit_cost": "costo", "delimiter": ";", "decimal_separator": ",",
                                   "cancel_prefix": None}))
    report = import_file(engine, src, store_id="s-do", timezone_name="America/Santo_Domingo", currency="DOP",
                         mapping_file=mapping)
    assert report.costs == "column" and report.lines_with_cost == 3 and report.costs_missing == 1
    assert report.bad_rows == 0 and report.stored == 3
    with engine.connect() as conn:
        payloads = [r[0] for r in conn.execute(select(t.transactions.c.payload))]
    for doc in payloads:
        validate("tillsight.tx/2", doc)
    assert _lines(engine) == {("T1", "RICE"): (25000, False), ("T1", "MILK"): (None, None),
                              ("T2", "RICE"): (26250, False), ("T3", "SODA"): (4100, False)}
    with engine.connect() as conn:
        current = cq.current_costs(conn, ALL, "s-do")
        margins = {m.sku: m for m in cq.product_margins(conn, ALL, "s-do", "America/Santo_Domingo",
                                                          date(2026, 11, 22), days=7)}
    assert {k: (c.unit_cost, c.source, c.assumed) for k, c in current.items()} == {
        "RICE": (26250, "import", False), "SODA": (4100, "import", False)}  # the newer RICE cost; no MILK cost
    rice, milk, soda = margins["RICE"], margins["MILK"], margins["SODA"]
    assert rice.gross_profit == 3 * 32500 - 2 * 25000 - 26250 and not rice.assumed
    assert milk.gross_profit is None and milk.margin is None and not milk.loses_money  # unknown, not 100 %
    assert soda.gross_profit == 3 * (3500 - 4100) and soda.loses_money
    assert [m.sku for m in margins.values()] == ["RICE", "SODA", "MILK"]  # most profit first, no cost last


def test_a_default_margin_makes_assumed_costs_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = write_csv(tmp_path / "sales.csv", RETAIL)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    args = ["hub", "import", str(src), "--store-id", "s-uk", "--database-url", url, "--default-margin", "40%",
            "--json"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "costs assumed from a 40 % margin" in out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["costs"] == "default_margin" and report["default_margin_pct"] == "40"
    assert report["lines_with_cost"] == 4
    engine = make_engine(url)
    # 2.55 less 40 % = 1.53; 3.39 -> 2.034 -> 2.03; 2.95 -> 1.77 (half up to the penny)
    assert _lines(engine) == {("536365", "85123A"): (153, True), ("536365", "71053"): (203, True),
                              ("536366", "85123A"): (177, True), ("C536379", "85123A"): (153, True)}
    with engine.connect() as conn:
        current = cq.current_costs(conn, ALL, "s-uk")
        payload = conn.execute(select(t.transactions.c.payload)).first()[0]
    assert current["85123A"].unit_cost == 177 and current["85123A"].assumed
    assert current["85123A"].source == "default_margin"
    assert payload["schema"] == "tillsight.tx/2" and payload["origin"]["cost"] == "default_margin"
    assert main(args) == 0  # a second import stores nothing twice
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["stored"] == 0


def test_cost_options_that_cannot_work_are_refused_naming_the_problem(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    src = write_csv(tmp_path / "sales.csv", RETAIL)
    for margin in ("100", "-5", "lots"):
        with pytest.raises(LayoutError, match="default margin"):
            import_file(engine, src, store_id="s-uk", default_margin_pct=margin)
    with pytest.raises(LayoutError, match="not both"):
        import_file(engine, src, store_id="s-uk", cost_column="UnitPrice", default_margin_pct=30)
    with pytest.raises(LayoutError, match="Cost"):  # a column the header lacks is named
        import_file(engine, src, store_id="s-uk", cost_column="Cost")
    with pytest.raises(SystemExit):
        main(["hub", "import", str(src), "--store-id", "s-uk", "--cost-column", "UnitPrice", "--default-margin", "30"])
    assert "not allowed with" in capsys.readouterr().err
