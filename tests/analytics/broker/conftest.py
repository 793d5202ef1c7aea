"""Real Mosquitto (and PostgreSQL when installed) for the broker security tests, plus a broker that
runs the configuration, password file and ACL that ``analytics.broker`` renders."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine
from tests.support.fixtures import broker, postgres_cluster  # noqa: F401 - pytest fixtures
from tests.support.hubdb import hub_database_url
from tests.support.mosquitto import mosquitto_available


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the broker process can read: run as root, Mosquitto drops to the ``mosquitto`` user,
    which cannot enter pytest's private temporary folders."""
    if not mosquitto_available():
        pytest.skip("mosquitto binary not installed (apt-get install mosquitto)")
    path = Path(tempfile.mkdtemp(prefix="tillsight-broker-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = hub_database_url(request.param, tmp_path, request)
    eng = make_engine(url)
    yield eng
    eng.dispose()
