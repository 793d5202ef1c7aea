"""The hub database on both backends for these tests."""

from tests.analytics.jobs.support import hub  # noqa: F401 - pytest fixture
