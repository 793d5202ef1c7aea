"""Fixtures for the runtime tests: a real Mosquitto broker per test (as the sync and hub suites)."""

from tests.support.fixtures import broker  # noqa: F401 - pytest fixture
