"""PostgreSQL (when installed) for these tests."""

from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
