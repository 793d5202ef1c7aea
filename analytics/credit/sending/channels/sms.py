"""Collection reminders by SMS through a Twilio-style Messages API (``outbound.sms``): a form POSTed to
``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with HTTP basic auth (the account SID and its
auth token); the answer's ``sid`` is the provider id, an error answer's ``message`` and ``code`` the failure."""

from __future__ import annotations

import logging

import httpx

from analytics.credit.sending.base import Delivery, Outgoing, SendFailure, short
from firmware_config.outbound import OutboundConfig, SmsChannelConfig, read_secret

log = logging.getLogger(__name__)

CHANNEL = "sms"


class SmsSender:
    channel = CHANNEL

    def __init__(self, config: SmsChannelConfig) -> None:
        self.config = config

    def send(self, message: Outgoing) -> Delivery:
        cfg = self.config
        url = f"{cfg.base_url}/2010-04-01/Accounts/{cfg.account_sid}/Messages.json"
        form = {"To": message.recipient, "Body": message.text}
        if cfg.messaging_service_sid:
            form["MessagingServiceSid"] = cfg.messaging_service_sid
        else:
            form["From"] = cfg.from_number or ""
        auth = (cfg.account_sid or "", read_secret(cfg.auth_token, cfg.auth_token_file) or "")
        try:
            resp = httpx.post(url, data=form, auth=auth, timeout=cfg.timeout_s)
        except httpx.HTTPError as exc:
            raise SendFailure(f"could not reach the SMS provider ({type(exc).__name__}: {short(str(exc), 200)})") \
                from None
        body = _json(resp)
        if resp.status_code >= 300:
            detail = body.get("message") or short(resp.text, 200) or resp.reason_phrase
            code = f", code {body['code']}" if body.get("code") else ""
            raise SendFailure(f"the SMS provider answered HTTP {resp.status_code}: {short(str(detail), 300)}{code}")
        sid = body.get("sid")
        if not isinstance(sid, str) or not sid:
            raise SendFailure(f"the SMS provider answered HTTP {resp.status_code} without a message id")
        if body.get("status") == "failed":
            raise SendFailure(f"the SMS provider could not send it: {short(str(body.get('error_message')), 300)}")
        log.info("reminder %s: SMS accepted (%s)", message.reminder_id, sid)
        return Delivery(sid)


def _json(resp: httpx.Response) -> dict:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def build(config: OutboundConfig) -> SmsSender | None:
    return SmsSender(config.sms) if config.sms.enabled else None
