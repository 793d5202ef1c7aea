"""The reminder channels: one module each (``email``, ``sms``, ``whatsapp``), found by ``sending.registry``."""
