"""Errors the store raises, each with a message a cashier or owner can act on."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: the store refused an operation; nothing was written."""


class StoreUnavailableError(StoreError):
    """The database cannot be written (full disk, read-only file system, I/O error)."""


class StoreFullError(StoreUnavailableError):
    pass


class StoreReadOnlyError(StoreUnavailableError):
    pass


class StoreCorruptError(StoreError):
    """The integrity check failed at start-up."""


class NotFoundError(StoreError):
    pass


class ValidationError(StoreError):
    """A value was rejected (negative quantity, unknown SKU, over the credit limit, ...)."""
