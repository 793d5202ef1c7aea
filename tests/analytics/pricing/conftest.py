"""The hub web app's fixtures (a seeded two-store hub, logged-in clients on a pinned clock) for the
pricing page's tests."""

from tests.analytics.web.conftest import app, clock, hub_engine, login_as, seeded_file  # noqa: F401 - fixtures
