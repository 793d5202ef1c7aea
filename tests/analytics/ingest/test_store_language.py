"""The hub learns each store's language from its device (issue 28): the device's store setting travels in its
telemetry (``tillsight.telemetry/1`` ``language``), and the hub writes the store's texts in it (narratives,
the assistant, credit reminders, the store's pages) unless the hub's own store setting names a language.
Data through the real writers: the device's store and telemetry snapshot, the hub's ingest and importer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from analytics.assistant.tools import AskStore
from analytics.credit.data import load_store
from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.importer.writer import StoreSpec, ensure_store
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from analytics.jobs.data import store_info
from analytics.narratives.facts import build_facts
from analytics.narratives.narrative import computed_sections
from contracts.timestamps import parse_utc
from edge.store import Store
from edge.sync import telemetry
from tests.support.device import record_sales, seeded_store

PREFIX = "tillsight/v1"
NOW = "2026-11-21T15:00:00Z"


@pytest.fixture
def till(tmp_path: Path) -> Store:
    store = seeded_store(tmp_path / "device" / "store.db")
    store.settings.update(language="es")  # the owner chose Spanish on the device's Settings page
    record_sales(store, 3)
    yield store
    store.close()


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    return engine


def _msg(leaf: str, doc: dict) -> Parsed:
    got = parse(f"{PREFIX}/s-001/till-1/{leaf}", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Parsed), got
    return got


def _store_row(engine: Engine, till: Store, settings: dict) -> None:
    s = till.settings.get()
    with engine.begin() as conn:
        ensure_store(conn, StoreSpec("s-001", s.store_name, s.timezone, s.currency, settings), NOW, True, True)


def _sync(engine: Engine, till: Store, doc: dict | None = None) -> None:
    """The till's sales and one telemetry message, as the ingest stores them."""
    sales = [_msg("tx", r.payload) for r in till.outbox.pending(limit=1000) if r.kind == "tx"]
    doc = doc or telemetry.snapshot(till, "s-001", "till-1", Path("."), datetime(2026, 11, 21, 15, tzinfo=UTC))
    with engine.begin() as conn:
        apply_batch(conn, [*sales, _msg("telemetry", doc)], NOW)


def _last_sale_day(engine: Engine) -> date:
    info = store_info(engine, "s-001")
    assert info is not None
    with engine.connect() as conn:
        last = conn.execute(select(func.max(t.transactions.c.completed_at))).scalar_one()
    return parse_utc(last).astimezone(ZoneInfo(info.timezone)).date()


def test_the_device_reports_its_store_language_in_telemetry(till: Store) -> None:
    doc = telemetry.snapshot(till, "s-001", "till-1", Path("."), datetime(2026, 11, 21, 15, tzinfo=UTC))
    assert doc["language"] == "es"
    till.settings.update(language="fr")
    assert telemetry.snapshot(till, "s-001", "till-1", Path("."), datetime(2026, 11, 21, 15, tzinfo=UTC))[
        "language"] == "fr"


def test_the_hub_writes_in_the_language_the_device_reports(hub: Engine, till: Store) -> None:
    _store_row(hub, till, {})
    info = store_info(hub, "s-001")
    assert info is not None and info.settings.language is None  # nothing heard yet: English
    _sync(hub, till)
    info = store_info(hub, "s-001")
    assert info is not None and info.settings.language == "es"
    title, sections = computed_sections(build_facts(hub, "s-001", end=_last_sale_day(hub)))
    assert title.startswith("Informe diario, ") and "Revenue" not in " ".join(sections["what_happened"])
    assert AskStore.load(hub, "s-001").language == "es"
    assert load_store(hub, "s-001").language == "es"  # collection reminders default to it too

    till.settings.update(language="fr")  # the owner switches the till to French: the hub follows
    _sync(hub, till)
    assert store_info(hub, "s-001").settings.language == "fr"  # type: ignore[union-attr]
    assert computed_sections(build_facts(hub, "s-001", end=_last_sale_day(hub)))[0].startswith("Rapport du jour, ")


def test_the_hubs_own_store_setting_overrides_the_device(hub: Engine, till: Store) -> None:
    _store_row(hub, till, {"language": "fr"})
    _sync(hub, till)
    info = store_info(hub, "s-001")
    assert info is not None and info.settings.language == "fr"
    assert AskStore.load(hub, "s-001").language == "fr"
    assert load_store(hub, "s-001").language == "fr"


def test_an_older_device_that_reports_no_language_leaves_the_store_in_english(hub: Engine, till: Store) -> None:
    _store_row(hub, till, {})
    doc = telemetry.snapshot(till, "s-001", "till-1", Path("."), datetime(2026, 11, 21, 15, tzinfo=UTC))
    doc.pop("language")
    _sync(hub, till, doc)
    info = store_info(hub, "s-001")
    assert info is not None and info.settings.language is None
    assert load_store(hub, "s-001").language == "en"
    assert computed_sections(build_facts(hub, "s-001", end=_last_sale_day(hub)))[0].startswith("Daily report, ")
