"""Every MQTT topic name of the fleet, in one place (DESIGN.md's topic table).

All topics live under a prefix (``mqtt.topic_prefix``, :data:`DEFAULT_PREFIX` by default):

| topic | direction | contract |
|---|---|---|
| ``{store}/{device}/tx`` | device -> hub, QoS 1, outbox | ``tillsight.tx/2`` (older outbox rows: ``tillsight.tx/1``) |
| ``{store}/{device}/alert`` | device -> hub, QoS 1, outbox | ``tillsight.alert/2``, raised and closed (older: ``/1``) |
| ``{store}/{device}/credit`` | device -> hub, QoS 1, outbox | ``tillsight.credit/1`` |
| ``{store}/{device}/gallery`` | device -> hub, QoS 1 | ``tillsight.gallery/1`` (the store gallery's version) |
| ``{store}/{device}/gallery_photo`` | device -> hub, QoS 1 | ``tillsight.gallery_photo/1`` (one photo) |
| ``{store}/{device}/telemetry`` | device -> hub, QoS 0 | ``tillsight.telemetry/1`` |
| ``{store}/{device}/status`` | device -> hub, retained, the Last Will | ``tillsight.status/1`` |
| ``{store}/{device}/reported`` | device -> hub, retained | ``tillsight.reported/1`` |
| ``{store}/{device}/desired`` | hub -> device, retained | ``tillsight.desired/1`` |
| ``{store}/{device}/resend`` | hub -> device, QoS 1 | ``tillsight.resend/1`` |
| ``{store}/{device}/resend_answer`` | device -> hub, QoS 1 | ``tillsight.resend_answer/1`` |
| ``{store}/{device}/insights`` | hub -> device, retained | ``tillsight.insights/1`` |
| ``fleet/{group}/desired`` | hub -> devices, retained | ``tillsight.desired/1`` |
| ``fleet/artifacts/{sha256}/{index}`` | hub -> devices, retained | raw bytes of one artifact chunk |
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.validation import ALERT_VERSIONS, TX_VERSIONS, contract_of

DEFAULT_PREFIX = "tillsight/v1"

TX = "tx"
ALERT = "alert"
CREDIT = "credit"
TELEMETRY = "telemetry"
STATUS = "status"
REPORTED = "reported"
DESIRED = "desired"
RESEND = "resend"
RESEND_ANSWER = "resend_answer"
INSIGHTS = "insights"
GALLERY = "gallery"
GALLERY_PHOTO = "gallery_photo"

#: the leaves a device writes (and the hub's ingest reads), and those a device reads
DEVICE_WRITES: tuple[str, ...] = (TX, ALERT, TELEMETRY, STATUS, REPORTED, CREDIT, GALLERY, GALLERY_PHOTO,
                                   RESEND_ANSWER)
DEVICE_READS: tuple[str, ...] = (DESIRED, RESEND, INSIGHTS)
#: the contract of each device leaf that carries JSON (the version written now)
CONTRACT_OF: dict[str, str] = {
    TX: "tillsight.tx/2", ALERT: "tillsight.alert/2", CREDIT: "tillsight.credit/1",
    TELEMETRY: "tillsight.telemetry/1", STATUS: "tillsight.status/1", REPORTED: "tillsight.reported/1",
    DESIRED: "tillsight.desired/1", RESEND: "tillsight.resend/1", INSIGHTS: "tillsight.insights/1",
    RESEND_ANSWER: "tillsight.resend_answer/1",
    GALLERY: "tillsight.gallery/1", GALLERY_PHOTO: "tillsight.gallery_photo/1",
}
#: the leaves whose readers accept more than one version, oldest first: a sale written before a device
#: upgraded stays in its outbox as it was written (``tillsight.tx/1``) and is sent as it is
ACCEPTED_CONTRACTS: dict[str, tuple[str, ...]] = {TX: TX_VERSIONS, ALERT: ALERT_VERSIONS}


def contract_for(leaf: str, document: object) -> str:
    """The contract a reader checks ``document`` on ``leaf`` against: for a leaf with several versions the
    one the document's ``schema`` names (the newest when it names none of them), else ``CONTRACT_OF``."""
    accepted = ACCEPTED_CONTRACTS.get(leaf)
    return CONTRACT_OF[leaf] if accepted is None else contract_of(document, accepted)


#: outbox kinds and the leaves they are published on
OUTBOX_KINDS: tuple[str, ...] = (TX, ALERT, CREDIT)

FLEET_SEGMENT = "fleet"  # {prefix}/fleet/... is the hub's fleet namespace (no store may be called this)
ARTIFACTS_GROUP = "artifacts"  # {prefix}/fleet/artifacts/# is every device's to read (no group may be called this)


def device_topic(prefix: str, store_id: str, device_id: str, leaf: str) -> str:
    """``{prefix}/{store}/{device}/{leaf}``."""
    return f"{prefix}/{store_id}/{device_id}/{leaf}"


def group_desired(prefix: str, group: str) -> str:
    """Hub -> devices (retained): the desired state of a whole fleet group."""
    return f"{prefix}/{FLEET_SEGMENT}/{group}/desired"


def artifacts_root(prefix: str) -> str:
    """Every artifact chunk topic starts with this (``.../fleet/artifacts/``)."""
    return f"{prefix}/{FLEET_SEGMENT}/{ARTIFACTS_GROUP}/"


def artifact_chunk(prefix: str, sha256: str, index: int) -> str:
    """Hub -> devices (retained): chunk ``index`` of the artifact with this SHA-256."""
    return f"{artifacts_root(prefix)}{sha256}/{index}"


def artifacts_filter(prefix: str) -> str:
    """The subscription filter that matches every artifact chunk."""
    return f"{artifacts_root(prefix)}#"


def hub_subscriptions(prefix: str, group: str, leaves: tuple[str, ...] = DEVICE_WRITES) -> list[str]:
    """The hub ingest's MQTT v5 shared subscriptions (``$share/{group}/{prefix}/+/+/{leaf}``)."""
    return [f"$share/{group}/{prefix}/+/+/{leaf}" for leaf in leaves]


def split_device_topic(prefix: str, topic: str) -> tuple[str, str, str] | None:
    """``{prefix}/{store}/{device}/{leaf}`` -> ``(store, device, leaf)``; None for any other shape."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class DeviceTopics:
    """The topics of one device."""

    prefix: str
    store_id: str
    device_id: str

    def _topic(self, leaf: str) -> str:
        return device_topic(self.prefix, self.store_id, self.device_id, leaf)

    @property
    def tx(self) -> str:
        return self._topic(TX)

    @property
    def alert(self) -> str:
        return self._topic(ALERT)

    @property
    def credit(self) -> str:
        """Device -> hub (QoS 1, through the outbox): credit customers and repayments (``tillsight.credit/1``)."""
        return self._topic(CREDIT)

    @property
    def gallery(self) -> str:
        """Device -> hub (QoS 1): the store gallery's version and examples (``tillsight.gallery/1``)."""
        return self._topic(GALLERY)

    @property
    def gallery_photo(self) -> str:
        """Device -> hub (QoS 1): one enrolment photo of the gallery (``tillsight.gallery_photo/1``)."""
        return self._topic(GALLERY_PHOTO)

    @property
    def telemetry(self) -> str:
        return self._topic(TELEMETRY)

    @property
    def status(self) -> str:
        return self._topic(STATUS)

    @property
    def reported(self) -> str:
        return self._topic(REPORTED)

    @property
    def resend(self) -> str:
        """Hub -> device: re-send the sales with these sequence numbers (gap repair)."""
        return self._topic(RESEND)

    @property
    def resend_answer(self) -> str:
        """Device -> hub: what it sent again, and the numbers it never had (``tillsight.resend_answer/1``)."""
        return self._topic(RESEND_ANSWER)

    @property
    def insights(self) -> str:
        """Hub -> device (retained): the hub's latest insights for the store dashboard."""
        return self._topic(INSIGHTS)

    @property
    def desired(self) -> str:
        """Hub -> device (retained): this device's desired model/config (``tillsight.desired/1``)."""
        return self._topic(DESIRED)

    def group_desired(self, group: str) -> str:
        """Hub -> devices (retained): the desired state of a whole fleet group."""
        return group_desired(self.prefix, group)

    def artifact_chunk(self, sha256: str, index: int) -> str:
        """Hub -> devices (retained): one chunk of a signed artifact."""
        return artifact_chunk(self.prefix, sha256, index)

    def is_artifact_chunk(self, topic: str) -> bool:
        return topic.startswith(artifacts_root(self.prefix))

    def for_kind(self, kind: str) -> str:
        """The topic of an outbox message kind (``tx``, ``alert`` or ``credit``)."""
        if kind not in OUTBOX_KINDS:
            raise ValueError(f"no topic for outbox kind {kind!r}")
        return self._topic(kind)
