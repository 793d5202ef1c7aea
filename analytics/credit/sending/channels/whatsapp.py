"""Collection reminders on WhatsApp through the WhatsApp Cloud API (``outbound.whatsapp``): JSON POSTed to
``{base_url}/{api_version}/{phone_number_id}/messages`` with a bearer token.

WhatsApp lets a business start a conversation only with an approved message template; with ``template`` set
the reminder goes as that template in the customer's language (body parameters: the name, the amount, the
shop), else as a text message (accepted inside the 24 hours after the customer last wrote).  The answer's
``messages[0].id`` (a ``wamid``) is the provider id; an error answer's ``error.message`` the failure."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from analytics.credit.sending.base import Delivery, Outgoing, SendFailure, short
from firmware_config.outbound import OutboundConfig, WhatsAppChannelConfig, read_secret

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"


class WhatsAppSender:
    channel = CHANNEL

    def __init__(self, config: WhatsAppChannelConfig) -> None:
        self.config = config

    def payload(self, message: Outgoing) -> dict[str, Any]:
        to = message.recipient.lstrip("+")
        if self.config.template:
            params = [{"type": "text", "text": value} for value in (message.name, message.amount_text, message.shop)]
            return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
                    "template": {"name": self.config.template, "language": {"code": message.language},
                                 "components": [{"type": "body", "parameters": params}]}}
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
                "text": {"preview_url": False, "body": message.text}}

    def send(self, message: Outgoing) -> Delivery:
        cfg = self.config
        url = f"{cfg.base_url}/{cfg.api_version}/{cfg.phone_number_id}/messages"
        token = read_secret(cfg.access_token, cfg.access_token_file) or ""
        try:
            resp = httpx.post(url, json=self.payload(message), headers={"Authorization": f"Bearer {token}"},
                              timeout=cfg.timeout_s)
        except httpx.HTTPError as exc:
            raise SendFailure(f"could not reach WhatsApp ({type(exc).__name__}: {short(str(exc), 200)})") from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if resp.status_code >= 300:
            found = body.get("error")
            err: dict[str, Any] = found if isinstance(found, dict) else {}
            detail = err.get("message") or short(resp.text, 200) or resp.reason_phrase
            code = f", code {err['code']}" if err.get("code") else ""
            raise SendFailure(f"WhatsApp answered HTTP {resp.status_code}: {short(str(detail), 300)}{code}")
        messages = body.get("messages")
        wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) \
            else None
        if not isinstance(wamid, str) or not wamid:
            raise SendFailure(f"WhatsApp answered HTTP {resp.status_code} without a message id")
        log.info("reminder %s: WhatsApp accepted (%s)", message.reminder_id, wamid)
        return Delivery(wamid)


def build(config: OutboundConfig) -> WhatsAppSender | None:
    return WhatsAppSender(config.whatsapp) if config.whatsapp.enabled else None
