"""End to end in a real headless Chromium: `tillsight demo` serves the live tray with boxes and names."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture
def window() -> tuple[int, int]:
    return (1280, 900)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(demo_bundle: Path, tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("TILLSIGHT__")}
    env["TILLSIGHT__STORE__LANGUAGE"] = "en"  # the demo store speaks Spanish; these checks read English
    proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "demo", "--port", str(port),
                             "--camera", "synthetic:?seed=5&period=1.5",
                             "--data-dir", str(tmp_path / "data"), "--history-days", "0"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    deadline = time.monotonic() + 90
    lines = []
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        lines.append(line)
        if "Appliance live view:" in line:
            url = line.split("Appliance live view:", 1)[1].strip()
            break
    if url is None:
        proc.kill()
        pytest.fail("demo did not start:\n" + "".join(lines[-30:]))
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert proc.returncode in (0, -signal.SIGTERM, -signal.SIGKILL)


def test_live_view_shows_camera_boxes_and_basket(demo_server: str, browser, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from vision.catalogue import demo_catalogue

    base = demo_server.rsplit("/live", 1)[0]
    browser.get(base + "/live")  # not logged in: the login screen comes first
    assert "/login" in browser.current_url
    browser.find_element(By.CSS_SELECTOR, "input[name=user_id][value=ana]").find_element(By.XPATH, "..").click()
    for digit in "1357":
        browser.find_element(By.CSS_SELECTOR, f".pinpad .key[data-key='{digit}']").click()
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 10).until(lambda d: "/login" not in d.current_url)
    browser.get(base + "/live")
    assert browser.title.startswith("Tillsight")
    # the MJPEG stream renders in the <img>
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const i=document.getElementById('camera'); return i.complete && i.naturalWidth") == 640)
    # the synthetic camera puts products down; the basket fills with catalogue names and prices
    # the basket redraws on every camera event: read its names in one script, not element by element
    cells = WebDriverWait(browser, 60, poll_frequency=0.5).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('#lines td.name'))"
        ".map(e => e.innerText.split('\\n')[0]);"))
    names = {p.name for p in demo_catalogue()}
    assert cells and all(c in names for c in cells), cells
    WebDriverWait(browser, 20).until(lambda d: "camera live" in d.find_element(By.ID, "health").text)
    assert "DOP" in browser.find_element(By.ID, "total").text
    browser.save_screenshot(str(tmp_path / "live.png"))
