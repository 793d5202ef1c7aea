"""What every reminder channel plug-in speaks: the message to send (:class:`Outgoing`), the provider's answer
(:class:`Delivery`) and the one error a sender raises (:class:`SendFailure`, with the provider's words).

A channel is one module in ``channels/`` that defines ``CHANNEL`` (its name) and ``build(config)`` returning a
:class:`Sender`, or None when the channel is not enabled in the ``outbound`` configuration; the registry finds
the modules, so adding a channel touches one file (and its configuration model in ``firmware_config/outbound``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One reminder to one customer, as the channel sends it."""

    reminder_id: str
    recipient: str  # E.164 phone (+18095550102) for SMS and WhatsApp, an e-mail address for e-mail
    name: str  # the customer's name (e-mail's To:, a WhatsApp template's first parameter)
    text: str  # the SMS, the WhatsApp text or the e-mail body
    subject: str | None  # e-mail only
    language: str  # en | es | fr
    amount_text: str  # the balance as the text writes it (a WhatsApp template's parameter)
    shop: str  # the store's name (the e-mail's sender name by default)


@dataclass(frozen=True)
class Delivery:
    """The provider accepted the message: its id for it (Twilio's SID, WhatsApp's wamid, the Message-ID)."""

    provider_id: str


class SendFailure(Exception):
    """The provider refused the message or could not be reached; ``str()`` says why in the provider's words."""


class Sender(Protocol):
    channel: str

    def send(self, message: Outgoing) -> Delivery:
        """Hand the message to the provider; raise :class:`SendFailure` when it is not accepted."""
        ...


def short(text: str, limit: int = 300) -> str:
    """A provider's answer cut to a length that fits an error line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
