"""``hub import``: a sales-line CSV into the hub database on SQLite and PostgreSQL, with every
unusable row counted, decimals to minor units, cancellations as refunds, and no duplicates on a
second import; another layout by a column mapping; a sample of the real retail file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.db import tables as t
from analytics.importer.frames import DEFAULT_DATA
from analytics.importer.layouts import LayoutError
from analytics.importer.run import import_file
from contracts import validate
from tests.support.hubdb import count
from tillsight_cli.main import main

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROWS = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536366,22633,HAND WARMER UNION JACK,2,2011-06-01 10:00:00,1.85,,United Kingdom",  # anonymous, summer time
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2011-06-02 09:41:00,2.55,17850.0,United Kingdom",
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,0,2011-06-02 10:00:00,1.69,13047.0,United Kingdom",  # zero qty
    "536368,22960,JAM MAKING SET WITH JARS,-3,2011-06-02 11:00:00,0,,United Kingdom",  # stock adjustment
    "536369,22961,JAM MAKING SET PRINTED,4,2011-06-02 11:00:00,0,,United Kingdom",  # zero price
    "536370,23166,MEDIUM CERAMIC TOP STORAGE JAR,74215,2011-01-18 10:01:00,1.04,12346.0,United Kingdom",  # > 9999
    "536371,22086,PAPER CHAIN KIT,2,not a date,2.55,13047.0,United Kingdom",
    "536372,22086,PAPER CHAIN KIT,2,2011-06-03 12:00:00,abc,13047.0,United Kingdom",
    "A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom",
    "536373,22086,PAPER CHAIN KIT,2,2011-06-03 12:00:00",  # too few fields
]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def docs(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.payload["receipt_no"]: r.payload for r in conn.execute(select(t.transactions.c.payload))}


def test_import_counts_bad_rows_converts_money_and_time_and_is_idempotent(hub, tmp_path: Path) -> None:
    _, engine = hub
    src = write_csv(tmp_path / "sales.csv", ROWS)
    report = import_file(engine, src, store_id="s-uk", store_name="UK shop")
    assert report.rows == len(ROWS)
    assert report.sales == 3 and report.refunds == 1 and report.anonymous_sales == 1 and report.customers == 1
    assert report.bad_rows == 8 and report.lines_used == 4
    assert report.bad_reasons == {
        "zero quantity": 1,
        "negative quantity outside a cancellation (stock adjustment, not a sale)": 1,
        "zero unit price (stock adjustment or free item, not a sale)": 1,
        "quantity beyond the tx/1 limit of 9999": 1,
        "timestamp not readable": 1,
        "unit price not a number": 1,
        "negative unit price (an accounting adjustment, not a sale)": 1,
        "has 5 fields, the header has 8": 1,
    }
    assert report.stored == 3 and report.already_there == 0
    stored = docs(engine)
    for doc in stored.values():
        validate("tillsight.tx/1", doc)
    sale = stored["536365"]
    assert [ln["unit_price"] for ln in sale["lines"]] == [255, 339]  # pence
    assert sale["total"] == 6 * 255 + 6 * 339 and sale["customer_id"] == "17850" and sale["currency"] == "GBP"
    assert sale["completed_at"] == "2010-12-01T08:26:00Z"  # GMT in winter
    assert sale["payment"] is None  # the file does not say how the customer paid
    assert stored["536366"]["completed_at"] == "2011-06-01T09:00:00Z"  # BST in summer
    assert stored["536366"]["customer_id"] is None
    refund = stored["C536379"]
    assert refund["status"] == "refunded" and refund["total"] == -510 and refund["lines"][0]["qty"] == -2
    with engine.connect() as conn:
        store = conn.execute(select(t.stores).where(t.stores.c.store_id == "s-uk")).mappings().one()
    assert store["timezone"] == "Europe/London" and store["settings"]["holiday_country"] == "GB"

    again = import_file(engine, src, store_id="s-uk")
    assert again.stored == 0 and again.already_there == 3
    assert count(engine, t.transactions) == 3 and count(engine, t.tx_lines) == 4


def test_a_mapping_reads_another_layout_and_bad_mappings_name_the_problem(tmp_path: Path) -> None:
    from analytics.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    src = tmp_path / "till.csv"
    src.write_text("ticket;codigo;articulo;cant;fecha;precio;cliente\n"
                   "T1;RICE;Arroz 5 lb;2;21/11/2026 14:03;325,00;\n"
                   "T1;MILK;Leche 1 L;1;21/11/2026 14:03;65,50;c-9\n"
                   "T2;RICE;Arroz 5 lb;x;21/11/2026 15:00;325,00;\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"invoice": "ticket", "sku": "codigo", "description": "articulo", "quantity": "cant",
                                   "timestamp": "fecha", "timestamp_format": "%d/%m/%Y %H:%M", "unit_price": "precio",
                                   "customer": "cliente", "delimiter": ";", "decimal_separator": ",",
                                   "cancel_prefix": None}))
    report = import_file(engine, src, store_id="s-do", timezone_name="America/Santo_Domingo", currency="DOP",
                         mapping_file=mapping)
    assert report.sales == 1 and report.bad_reasons == {"quantity is not a whole number": 1}
    doc = docs(engine)["T1"]
    assert doc["total"] == 2 * 32500 + 6550 and doc["customer_id"] == "c-9"
    assert doc["completed_at"] == "2026-11-21T18:03:00Z"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"invoice": "ticket", "sku": "codigo", "quantity": "cant", "timestamp": "fecha",
                               "unit_price": "precio", "colour": "x"}))
    with pytest.raises(LayoutError, match="colour"):
        import_file(engine, src, store_id="s-do", currency="DOP", mapping_file=bad)
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"invoice": "ticket", "sku": "sku_code", "quantity": "cant", "timestamp": "fecha",
                                   "unit_price": "precio", "delimiter": ";"}))
    with pytest.raises(LayoutError, match="sku_code"):
        import_file(engine, src, store_id="s-do", currency="DOP", mapping_file=missing)


def test_cli_imports_a_sample_of_the_real_retail_file_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if not DEFAULT_DATA.exists():
        pytest.skip(f"the shared retail data is not at {DEFAULT_DATA}")
    sample = tmp_path / "sample.csv.gz"
    with gzip.open(DEFAULT_DATA, "rt", encoding="utf-8") as src, gzip.open(sample, "wt", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > 20000:
                break
            dst.write(line)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    args = ["hub", "import", str(sample), "--store-id", "s-retail", "--database-url", url, "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["rows"] == 20000 and first["stored"] == first["sales"] > 500
    assert first["bad_rows"] == sum(first["bad_reasons"].values()) > 0
    assert first["lines_used"] + first["bad_rows"] == first["rows"]
    assert first["refunds"] > 0 and first["anonymous_sales"] > 0
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert second["stored"] == 0 and second["already_there"] == first["sales"]
    assert main(["hub", "import", str(sample), "--store-id", "s-retail", "--database-url", url,
                 "--currency", "EUR"]) == 2  # the store keeps its books in GBP
