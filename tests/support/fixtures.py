"""Pytest fixtures shared by the sync and hub suites (imported by name in their conftest files)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_config import TillsightConfig, load_config
from tests.support.mosquitto import MosquittoBroker, mosquitto_available
from tests.support.postgres import PostgresCluster, postgres_bin_dir


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto binary not installed (apt-get install mosquitto)")
    b = MosquittoBroker(tmp_path / "broker").start()
    try:
        yield b
    finally:
        b.kill()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql")
    cluster = PostgresCluster(bin_dir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def make_config(broker: MosquittoBroker, tmp_path: Path, **mqtt: object) -> TillsightConfig:
    """A config pointing at the test broker, with fast timings for tests."""
    settings: dict[str, object] = {"host": broker.host, "port": broker.port, "keepalive_s": 5,
                                   "reconnect_min_s": 0.1, "reconnect_max_s": 1.0, "telemetry_interval_s": 1.0}
    settings.update(mqtt)
    return load_config(None, env={}, overrides={
        "mqtt": settings, "data_dir": str(tmp_path / "device"),
        "hub": {"database_url": f"sqlite:///{tmp_path / 'hub.db'}", "resend_after_s": 2.0}})


def write_config(cfg: TillsightConfig, path: Path) -> Path:
    """Write a config as YAML (secrets included) for a subprocess."""
    import yaml

    data = cfg.model_dump(mode="json", exclude={"detector"})
    secrets = (("mqtt", "password", cfg.mqtt.password), ("web", "secret_key", cfg.web.secret_key),
               ("hub_web", "secret_key", cfg.hub_web.secret_key), ("llm", "api_key", cfg.llm.api_key))
    for section, key, secret in secrets:
        if secret is None:
            del data[section][key]
        else:
            data[section][key] = secret.get_secret_value()
    path.write_text(yaml.safe_dump(data))
    return path
