"""The hub's copy of each store's gallery (issue 24): what the devices announce on ``tillsight.gallery/1``
and the photos they send on ``tillsight.gallery_photo/1``.

- ``tables``: ``gallery_versions`` (one row per store, device and gallery version) and
  ``gallery_photos`` (each store's photos by SHA-256, the bytes in the database, SQLite or PostgreSQL);
- ``ingest``: storing both messages inside the ingest's transaction, idempotently;
- ``query``: a store's galleries, whether a version is complete (every photo it lists is here), and
  exporting a version as a folder of photos (``photos/<sku>/...`` + ``gallery.json``) for
  ``tillsight train`` and for publishing a catalogue gallery to the fleet.

The hub never imports ``vision``: it reads galleries only through ``contracts.gallery``.
"""
