"""The device's fleet-update agent: signed manifests in, verified artifacts installed beside the
running version, an atomic switch the appliance picks up between sales, a health window, and a
rollback on any failure — every step reported on ``reported``.

Two processes meet here through files in ``{data_dir}/fleet/`` (never through imports of each
other's objects): the sync/fleet agent (``agent.py``: verify, fetch, install, self-test, switch the
``models/current`` pointer, watch health) and the appliance (``switcher.py``: load the pointed-to
model when no sale is open, apply the fleet config overlay, write its heartbeat ``appliance.json``).
"""
