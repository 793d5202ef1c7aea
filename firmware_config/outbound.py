"""The hub's outbound messages (``outbound:`` section): how collection reminders reach credit customers.

One model per channel, each read by its sender plug-in in ``analytics/credit/sending/channels/``:

- ``email``: SMTP (``security``: ``starttls`` on 587, ``ssl`` on 465, ``none`` for a relay on localhost), with a
  login when ``username`` is set;
- ``sms``: an HTTP API shaped like Twilio's Messages API (a form POSTed to
  ``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with basic auth);
- ``whatsapp``: the WhatsApp Cloud API (JSON POSTed to ``{base_url}/{api_version}/{phone_number_id}/messages``
  with a bearer token); ``template`` names an approved message template for business-initiated messages.

A channel is used only when ``enabled``.  Secrets (``password``, ``auth_token``, ``access_token``) come from the
environment (``TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN``) or from a file (``*_file``, e.g. a systemd credential),
never both; they are never logged or dumped.  ``base_url`` is configurable so a test (or a compatible provider)
points a channel at another server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

CHANNELS: tuple[str, ...] = ("whatsapp", "sms", "email")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as 'https://api.twilio.com'")
    return value.strip().rstrip("/")


def read_secret(value: SecretStr | None, path: Path | None) -> str | None:
    """The secret from the configuration or its file (stripped of the final newline); None when neither."""
    if value is not None:
        return value.get_secret_value()
    if path is not None:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    return None


def _one_of(secret: SecretStr | None, path: Path | None, name: str) -> None:
    if secret is not None and path is not None:
        raise ValueError(f"give {name} or {name}_file, not both")


class EmailChannelConfig(_Part):
    """Collection reminders by e-mail over SMTP."""

    enabled: bool = False
    host: str = Field("localhost", min_length=1, description="the SMTP server")
    port: int | None = Field(None, ge=1, le=65535, description="None: 587 (starttls), 465 (ssl) or 25 (none)")
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description="how the connection is protected")
    ca_file: Path | None = Field(None, description="PEM file of the authorities that sign the server's certificate "
                                                   "(a private CA); None: the system's")
    username: str | None = Field(None, min_length=1, description="log in as this user (None: no login)")
    password: SecretStr | None = Field(None, description="better from TILLSIGHT__OUTBOUND__EMAIL__PASSWORD")
    password_file: Path | None = Field(None, description="or read the password from this file")
    from_address: str | None = Field(None, min_length=3, max_length=254, description="the sender, shop@example.com")
    from_name: str | None = Field(None, max_length=120, description="shown as the sender (None: the store's name)")
    reply_to: str | None = Field(None, min_length=3, max_length=254)
    timeout_s: float = Field(20.0, gt=0, le=300)

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or any(c.isspace() for c in value)):
            raise ValueError("must be an e-mail address such as 'shop@example.com'")
        return value

    @model_validator(mode="after")
    def _complete(self) -> EmailChannelConfig:
        _one_of(self.password, self.password_file, "password")
        if self.enabled and not self.from_address:
            raise ValueError("from_address is needed when email.enabled is true")
        if (self.password is not None or self.password_file is not None) and not self.username:
            raise ValueError("a password needs username")
        if self.ca_file is not None and self.security == "none":
            raise ValueError("ca_file needs security starttls or ssl (with none nothing is checked)")
        if self.enabled and self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"ca_file: no such file {self.ca_file}")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]


class SmsChannelConfig(_Part):
    """Collection reminders by SMS through a Twilio-style Messages API."""

    enabled: bool = False
    base_url: str = Field("https://api.twilio.com", description="the provider's API root")
    account_sid: str | None = Field(None, min_length=1, max_length=64)
    auth_token: SecretStr | None = Field(None, description="better from TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN")
    auth_token_file: Path | None = None
    from_number: str | None = Field(None, min_length=3, max_length=32, description="the sender, +18095550000")
    messaging_service_sid: str | None = Field(None, min_length=1, max_length=64,
                                              description="instead of from_number: a messaging service")
    timeout_s: float = Field(20.0, gt=0, le=300)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @model_validator(mode="after")
    def _complete(self) -> SmsChannelConfig:
        _one_of(self.auth_token, self.auth_token_file, "auth_token")
        if self.enabled:
            if not self.account_sid:
                raise ValueError("account_sid is needed when sms.enabled is true")
            if self.auth_token is None and self.auth_token_file is None:
                raise ValueError("auth_token (or auth_token_file) is needed when sms.enabled is true")
            if not (self.from_number or self.messaging_service_sid):
                raise ValueError("from_number or messaging_service_sid is needed when sms.enabled is true")
        return self


class WhatsAppChannelConfig(_Part):
    """Collection reminders on WhatsApp through the WhatsApp Cloud API."""

    enabled: bool = False
    base_url: str = Field("https://graph.facebook.com", description="the Graph API root")
    api_version: str = Field("v21.0", pattern=r"^v\d+\.\d+$")
    phone_number_id: str | None = Field(None, min_length=1, max_length=64, description="the business number's id")
    access_token: SecretStr | None = Field(None, description="better from TILLSIGHT__OUTBOUND__WHATSAPP__ACCESS_TOKEN")
    access_token_file: Path | None = None
    template: str | None = Field(
        None, min_length=1, max_length=512,
        description="an approved template (body {{1}} name, {{2}} amount, {{3}} shop) for messages outside the "
                    "24-hour customer window; None: the composed text is sent as a text message")
    timeout_s: float = Field(20.0, gt=0, le=300)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @model_validator(mode="after")
    def _complete(self) -> WhatsAppChannelConfig:
        _one_of(self.access_token, self.access_token_file, "access_token")
        if self.enabled:
            if not self.phone_number_id:
                raise ValueError("phone_number_id is needed when whatsapp.enabled is true")
            if self.access_token is None and self.access_token_file is None:
                raise ValueError("access_token (or access_token_file) is needed when whatsapp.enabled is true")
        return self


class OutboundConfig(_Part):
    """How the hub sends collection reminders (docs/credit.md, "Sending reminders")."""

    email: EmailChannelConfig = Field(default_factory=EmailChannelConfig)
    sms: SmsChannelConfig = Field(default_factory=SmsChannelConfig)
    whatsapp: WhatsAppChannelConfig = Field(default_factory=WhatsAppChannelConfig)
    reminder_every_days: float = Field(7.0, ge=0, le=365,
                                       description="at most one reminder per customer in this many days (0: no limit)")
    default_region: str | None = Field(None, pattern=r"^[A-Z]{2}$",
                                       description="the country of phone numbers written without +code, e.g. DO")
    max_per_send: int = Field(50, ge=1, le=1000, description="customers one send may reach")


SECRET_KEYS: tuple[tuple[str, ...], ...] = (("outbound", "email", "password"), ("outbound", "sms", "auth_token"),
                                            ("outbound", "whatsapp", "access_token"))
