"""The fleet page and its API, from rows seeded the way the ingest and the fleet commands write
them: online state, versions, backlog, update progress, deployments per wave with their failures."""

from __future__ import annotations

import csv
import io
import re

from tests.analytics.web.seed import DEPLOY_CONFIG, DEPLOY_MODEL, A, B


def _rows(html: str, table_id: str) -> list[dict[str, str]]:
    """The cells of an HTML data table by column key (tags stripped)."""
    body = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', html, re.S)
    assert body, f"no table {table_id}"
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = re.findall(r'<td[^>]*data-key="([^"]+)">(.*?)</td>', tr, re.S)
        if cells:
            out.append({k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells})
    return out


def test_fleet_page_shows_every_device_with_state_versions_backlog_and_update(login_as) -> None:
    html = login_as("op").get("/fleet").get_data(as_text=True)
    devices = {(r["store_id"], r["device_id"]): r for r in _rows(html, "devices")}
    assert set(devices) == {(A, "till-1"), (A, "till-2"), (A, "till-3"), (B, "till-1")}
    t1, t2, t3 = devices[(A, "till-1")], devices[(A, "till-2")], devices[(A, "till-3")]
    assert (t1["state"], t2["state"], t3["state"]) == ("online", "offline", "never seen")
    assert t1["model"] == "v8 · 20261120.8" and t1["config_version"] == "3"
    assert t1["tillsight_version"] == "0.1.0" and t2["tillsight_version"] == "0.0.9"
    assert t1["update"] == "model v9: downloading 45%" and t1["update_deployment"] == DEPLOY_MODEL
    assert t1["last_outcome"] == "config v3 succeeded"
    assert t1["backlog"] == "7" and t1["gaps"] == "1" and t1["last_seen"] == "20 s ago"
    assert t2["status_reason"] == "connection lost" and t2["last_seen"] == "5 h ago"
    assert t3["group"] == "pilot" and t3["registered"] == "yes" and t3["last_seen"] == "never"
    assert "chunk 9 of 20" not in t1.values()  # detail stays in the API / deployment page
    summary = dict(re.findall(r'id="kpi-([a-z-]+)"><span class="label">[^<]*</span>\s*'
                              r'<span class="value">([^<]*)</span>', html))
    assert summary == {"devices": "4", "online": "2", "offline": "1", "never": "1", "updating": "1",
                       "backlog": "7", "gaps": "1", "dead-letters": "3"}
    deployments = {r["deployment_id"]: r for r in _rows(html, "deployments")}
    model = deployments[DEPLOY_MODEL]
    assert (model["state"], model["targets"], model["succeeded"], model["in_progress"], model["failed"],
            model["waiting"], model["progress"], model["current_wave"], model["waves"]) == \
        ("active", "4", "1", "1", "1", "1", "25%", "1", "2")
    assert deployments[DEPLOY_CONFIG]["progress"] == "100%"
    assert list(deployments) == [DEPLOY_MODEL, DEPLOY_CONFIG]  # newest first


def test_fleet_filter_by_state(login_as) -> None:
    op = login_as("op")
    html = op.get("/fleet?state=offline").get_data(as_text=True)
    assert [r["device_id"] for r in _rows(html, "devices")] == ["till-2"]
    rows = op.get("/api/fleet/devices?state=never seen").get_json()["rows"]
    assert [(r["store_id"], r["device_id"]) for r in rows] == [(A, "till-3")]
    assert op.get("/fleet?state=lost").status_code == 400


def test_deployment_page_shows_progress_per_wave_and_failures(login_as) -> None:
    op = login_as("op")
    html = op.get(f"/fleet/deployments/{DEPLOY_MODEL}").get_data(as_text=True)
    assert 'id="deployment-progress" max="4" value="1"' in html
    waves = _rows(html, "waves")
    assert [(w["wave"], w["status"], w["targets"], w["succeeded"], w["in_progress"], w["failed"], w["waiting"])
            for w in waves] == [("1", "current", "3", "1", "1", "1", "0"), ("2", "pending", "1", "0", "0", "0", "1")]
    assert waves[0]["share"] == "50%" and waves[1]["share"] == "100%"
    failures = _rows(html, "failures")
    assert [(f["store_id"], f["device_id"], f["state"], f["detail"]) for f in failures] == \
        [(A, "till-2", "failed", "sha256 mismatch after download")]
    targets = _rows(html, "targets")
    assert {(t["device_id"], t["store_id"]): t["progress"] for t in targets}[("till-1", A)] == "45%"
    assert op.get("/fleet/deployments/nope").status_code == 404
    body = op.get(f"/api/fleet/deployments/{DEPLOY_MODEL}").get_json()
    assert body["deployment"]["progress"] == 0.25 and body["deployment"]["wave_shares"] == [0.5, 1.0]
    assert body["failures"][0]["detail"] == "sha256 mismatch after download"
    assert body["waves"][0]["in_progress"] == 1


def test_fleet_api_and_exports(login_as) -> None:
    op = login_as("op")
    body = op.get("/api/fleet").get_json()
    assert body["summary"]["online"] == 2 and body["dead_letters"] == 3
    t1 = next(d for d in body["devices"] if d["store_id"] == A and d["device_id"] == "till-1")
    assert t1["update_progress"] == 0.45 and t1["update_step"] == "downloading" and t1["online"] is True
    csv_resp = op.get("/api/fleet/devices?format=csv")
    assert csv_resp.headers["Content-Disposition"].startswith('attachment; filename="fleet-devices-')
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 4 and rows[0]["store_id"] == A and rows[0]["online"] == "true"
    assert rows[0]["update_progress"] == "0.45"
    from openpyxl import load_workbook

    xlsx = op.get(f"/api/fleet/deployments/{DEPLOY_MODEL}/targets?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("wave", "store_id", "device_id", "state", "progress", "detail", "published_at",
                         "updated_at")
    assert len(values) == 5 and (2, A, "till-3", "waiting") in [v[:4] for v in values[1:]]
    failures = op.get(f"/api/fleet/deployments/{DEPLOY_MODEL}/targets?only=failures").get_json()
    assert [r["device_id"] for r in failures["rows"]] == ["till-2"]
    assert op.get("/api/fleet/devices?format=pdf").get_json() == {"error": "format must be one of json, csv, xlsx"}
