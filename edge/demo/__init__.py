"""Demo data for the appliance: a seeded synthetic sales history for the demo store."""

from .history import DemoHistory, generate_history

__all__ = ["DemoHistory", "generate_history"]
