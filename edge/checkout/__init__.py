"""Checkout: the session state machine at the till, totals, refunds and receipts."""
