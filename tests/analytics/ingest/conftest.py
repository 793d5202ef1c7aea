"""Real Mosquitto for these tests."""

from tests.support.fixtures import broker  # noqa: F401 - pytest fixture
