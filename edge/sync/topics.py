"""Topic names of one device, from the contract table in DESIGN.md (prefix ``tillsight/v1``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceTopics:
    prefix: str
    store_id: str
    device_id: str

    def _topic(self, leaf: str) -> str:
        return f"{self.prefix}/{self.store_id}/{self.device_id}/{leaf}"

    @property
    def tx(self) -> str:
        return self._topic("tx")

    @property
    def alert(self) -> str:
        return self._topic("alert")

    @property
    def credit(self) -> str:
        """Device -> hub (QoS 1, through the outbox): credit customers and repayments (``tillsight.credit/1``)."""
        return self._topic("credit")

    @property
    def telemetry(self) -> str:
        return self._topic("telemetry")

    @property
    def status(self) -> str:
        return self._topic("status")

    @property
    def reported(self) -> str:
        return self._topic("reported")

    @property
    def resend(self) -> str:
        """Hub -> device: re-send the sales with these sequence numbers (gap repair)."""
        return self._topic("resend")

    @property
    def insights(self) -> str:
        """Hub -> device (retained): the hub's latest insights for the store dashboard."""
        return self._topic("insights")

    @property
    def desired(self) -> str:
        """Hub -> device (retained): this device's desired model/config (``tillsight.desired/1``)."""
        return self._topic("desired")

    def group_desired(self, group: str) -> str:
        """Hub -> devices (retained): the desired state of a whole fleet group."""
        return f"{self.prefix}/fleet/{group}/desired"

    def artifact_chunk(self, sha256: str, index: int) -> str:
        """Hub -> devices (retained): one chunk of a signed artifact."""
        return f"{self.prefix}/fleet/artifacts/{sha256}/{index}"

    def for_kind(self, kind: str) -> str:
        """The topic of an outbox message kind (``tx``, ``alert`` or ``credit``)."""
        if kind == "tx":
            return self.tx
        if kind == "alert":
            return self.alert
        if kind == "credit":
            return self.credit
        raise ValueError(f"no topic for outbox kind {kind!r}")
