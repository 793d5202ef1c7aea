"""Hub ingest: MQTT v5 shared-subscription workers that validate device messages, store them
idempotently and acknowledge each message only after its database commit."""

from analytics.ingest.worker import IngestStats, IngestWorker

__all__ = ["IngestStats", "IngestWorker"]
