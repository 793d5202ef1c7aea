"""Real Mosquitto for the fleet tests."""

from tests.support.fixtures import broker  # noqa: F401 - pytest fixture
