"""A whole appliance built from its config on the synthetic camera's hand-changed tray, with two-stage
recognition and a gallery of the first few demo products, served over HTTP in this process: the till the
acceptance tests (unknown items, teaching) drive in a real browser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge.appliance import Appliance, build_appliance
from firmware_config.loader import load_config
from vision.catalogue import demo_catalogue
from vision.demo_gallery import build_demo_gallery


@contextmanager
def recognising_till(folder: Path, bundle: Path, seed: int, enrolled: int) -> Iterator[tuple[Appliance, str]]:
    """(the running appliance, its base URL); everything it started is stopped on exit."""
    from waitress import create_server

    cfg = load_config(None, env={}, overrides={
        "camera": {"uri": f"synthetic:?manual=1&seed={seed}&fps=10"}, "detector": {"bundle": str(bundle)},
        "data_dir": str(folder / "device")})
    appliance = build_appliance(cfg, seed_demo=True, history_days=0)
    assert appliance.vision is not None and appliance.vision.recogniser is not None
    recogniser = appliance.vision.recogniser
    build_demo_gallery(recogniser.gallery_dir, recogniser.embedder, demo_catalogue()[:enrolled])
    appliance.vision.loop.start()
    server = create_server(appliance.app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield appliance, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)
        teacher = appliance.app.extensions.get("tillsight.teacher")
        if teacher is not None:
            teacher.close()
        appliance.vision.loop.stop()
        appliance.vision.source.close()
        corrections = getattr(appliance.checkout, "corrections", None)
        if corrections is not None:
            corrections.stop()
        appliance.store.close()
