"""Tillsight's runtime: the plumbing the device (``edge``) and the hub (``analytics``) both run.

| module | what |
|---|---|
| ``runtime.notify`` | systemd's ``sd_notify`` (READY, STATUS, STOPPING, WATCHDOG) and the progress watchdog |
| ``runtime.mqtt`` | the MQTT client factory (credentials, TLS, reconnect, Last Will); SUBACK-aware subscriptions |
| ``runtime.backoff`` | jittered exponential back-off |
| ``runtime.web_guard`` | the web login guard: roles, session stamps, ``require``, route check, security headers |
| ``runtime.serve`` | run until SIGTERM / SIGINT, then stop cleanly; the waitress server both web apps run |
| ``runtime.selfcheck`` | a web server's liveness (loopback requests) as a counter the watchdog watches |
| ``runtime.logs`` | logging set-up |

It imports only ``firmware_config`` and ``contracts`` of ours (and third-party libraries both
sides install: paho-mqtt, flask, waitress), so either side may use it and neither side imports the other.
"""
