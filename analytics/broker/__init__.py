"""The hub's MQTT broker security: the device registry, Mosquitto password file, ACL and broker
configuration, and a small CA for operators without a PKI (see docs/security.md)."""
