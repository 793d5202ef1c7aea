from __future__ import annotations

from pathlib import Path

import pytest

from edge.demo.seed import seed_store
from edge.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db")
    seed_store(s)
    yield s
    s.close()
