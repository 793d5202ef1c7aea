"""Real Mosquitto (and PostgreSQL when installed) for these tests."""

from tests.support.fixtures import broker, postgres_cluster  # noqa: F401 - pytest fixtures
