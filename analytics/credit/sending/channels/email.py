"""Collection reminders by e-mail over SMTP (``outbound.email``): STARTTLS or SSL/TLS with the system's
certificate authorities, a login when a user is configured, UTF-8 throughout (a subject or body with
"Señora Peña" arrives as written).  The provider id is the message's Message-ID."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from analytics.credit.sending.base import Delivery, Outgoing, SendFailure, short
from firmware_config.outbound import EmailChannelConfig, OutboundConfig, read_secret

log = logging.getLogger(__name__)

CHANNEL = "email"


class EmailSender:
    channel = CHANNEL

    def __init__(self, config: EmailChannelConfig) -> None:
        self.config = config

    def compose(self, message: Outgoing) -> EmailMessage:
        cfg = self.config
        assert cfg.from_address
        mail = EmailMessage()
        mail["From"] = formataddr((cfg.from_name or message.shop, cfg.from_address))
        mail["To"] = formataddr((message.name, message.recipient))
        if cfg.reply_to:
            mail["Reply-To"] = cfg.reply_to
        mail["Subject"] = message.subject or message.shop
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(idstring=message.reminder_id, domain=Address(addr_spec=cfg.from_address).domain)
        mail.set_content(message.text, charset="utf-8")  # (clears Content-* headers: the language comes after)
        mail["Content-Language"] = message.language
        return mail

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(cfg.host, cfg.effective_port, timeout=cfg.timeout_s, context=context)
        smtp = smtplib.SMTP(cfg.host, cfg.effective_port, timeout=cfg.timeout_s)
        if cfg.security == "starttls":
            smtp.starttls(context=context)
        return smtp

    def send(self, message: Outgoing) -> Delivery:
        cfg = self.config
        mail = self.compose(message)
        try:
            with self._connect() as smtp:
                if cfg.username:
                    smtp.login(cfg.username, read_secret(cfg.password, cfg.password_file) or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise SendFailure(f"the mail server refused the address ({code} {_text(text)})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailure(f"the mail server refused the login ({exc.smtp_code} {_text(exc.smtp_error)})") from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailure(f"the mail server refused the message ({exc.smtp_code} {_text(exc.smtp_error)})") \
                from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendFailure(f"the mail server {cfg.host}:{cfg.effective_port} does not offer what email.security "
                              f"or the login needs ({short(str(exc), 200)})") from None
        except (smtplib.SMTPException, OSError) as exc:  # connection refused, time-out, TLS, a dropped line
            raise SendFailure(f"could not reach the mail server {cfg.host}:{cfg.effective_port} "
                              f"({type(exc).__name__}: {short(str(exc), 200)})") from None
        if refused:
            code, text = next(iter(refused.values()))
            raise SendFailure(f"the mail server refused the address ({code} {_text(text)})")
        log.info("reminder %s: e-mail accepted by %s", message.reminder_id, cfg.host)
        return Delivery(str(mail["Message-ID"]))


def _text(raw: bytes | str) -> str:
    return short(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw), 200)


def build(config: OutboundConfig) -> EmailSender | None:
    return EmailSender(config.email) if config.email.enabled else None
