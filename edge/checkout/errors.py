"""Errors of the checkout, each with a message the cashier screen shows as is."""

from __future__ import annotations


class CheckoutError(Exception):
    """The action is not possible now (wrong state, bad value); nothing changed."""


class ApprovalRequired(CheckoutError):
    """The action needs a supervisor's PIN."""
