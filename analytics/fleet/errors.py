"""The one error type of the fleet commands: its message says what is wrong and what to do."""

from __future__ import annotations


class FleetError(Exception):
    """A fleet operation that cannot go ahead (bad input, missing key, unknown target, ...).
    Nothing has been changed when this is raised, unless the message says otherwise."""
