"""Helpers that start real services (a Mosquitto broker, a PostgreSQL cluster) for tests."""
