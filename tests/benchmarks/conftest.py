"""PostgreSQL (when installed) for the sync benchmark's test."""

from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
