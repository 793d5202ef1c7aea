"""Fleet updates, hub side (``tillsight hub fleet ...``): the operator's Ed25519 signing key,
artifacts (model bundle tarballs and fleet config YAML) stored by SHA-256, signed
``tillsight.manifest/1`` manifests with versions that only grow, rollouts in waves with automatic
stop and rollback, and the retained ``tillsight.desired/1`` documents and artifact chunks on the
broker.  See docs/fleet.md (operator guide) and docs/contracts.md ("Fleet updates")."""

from analytics.fleet.errors import FleetError

__all__ = ["FleetError"]
