"""The fleet page (operators): every device with its online state, versions, backlog and update
progress, and every deployment with its progress per wave and its failures."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, abort, jsonify, render_template, url_for

from analytics.web.context import hub
from analytics.web.datatable import Col, Link, TableSpec, table_response
from analytics.web.pages import NavItem, Page
from analytics.web.params import choice_arg, int_arg
from analytics.web.queries import fleet as fq
from analytics.web.security import require
from analytics.web.tenancy import current_scope
from i18n import N_

blueprint = Blueprint("fleet", __name__)

STATE_PILLS = {"online": "ok", "offline": "bad", "never seen": "warn"}
DEPLOYMENT_PILLS = {"active": "ok", "completed": "ok", "paused": "warn", "stopped": "bad", "rolled_back": "bad",
                    "superseded": ""}
TARGET_PILLS = {"succeeded": "ok", "failed": "bad", "refused": "bad", "rolled_back": "bad", "waiting": "",
                "superseded": "", "published": "warn"}
DEPLOYMENT_LINK = Link("fleet.deployment_page", {"deployment_id": "deployment_id"})
STORE_LINK = Link("stores.store_page", {"store_id": "store_id"})

DEVICES = TableSpec("devices", N_("Devices"), (
    Col("store_id", N_("Store"), "code", link=STORE_LINK),
    Col("device_id", N_("Device"), "code"),
    Col("group", N_("Group")),
    Col("state", N_("State"), "pill", pills=STATE_PILLS),
    Col("online", N_("Online"), "bool", html=False),
    Col("status_at", N_("State since"), "time"),
    Col("last_seen", N_("Last heard"), "ago"),
    Col("tillsight_version", N_("Software")),
    Col("model", N_("Model")),
    Col("model_version", N_("Model version (0: as installed)"), "int", html=False),
    Col("model_name", N_("Model bundle"), html=False),
    Col("config_version", N_("Config"), "int"),
    Col("update", N_("Update")),
    Col("update_step", N_("Update step"), html=False),
    Col("update_progress", N_("Update step progress"), "pct", html=False),
    Col("update_detail", N_("Update detail"), html=False),
    Col("update_deployment", N_("Update deployment"), "code",
        link=Link("fleet.deployment_page", {"deployment_id": "update_deployment"})),
    Col("last_outcome", N_("Last update result")),
    Col("backlog", N_("Unsent"), "int"),
    Col("oldest_unsent_age_s", N_("Oldest unsent (s)"), "int"),
    Col("gaps", N_("Seq gaps"), "int"),
    Col("disk_free_bytes", N_("Disk free"), "bytes"),
    Col("registered", N_("Registered"), "bool"),
    Col("first_seen", N_("First seen"), "time"),
    Col("status_reason", N_("State reason")),
    Col("last_outcome_at", N_("Last update result at"), "time", html=False),
    Col("telemetry_at", N_("Telemetry at"), "time", html=False),
    Col("last_seq", N_("Last seq"), "int", html=False),
))
DEPLOYMENTS = TableSpec("deployments", N_("Deployments"), (
    Col("deployment_id", N_("Deployment"), "code", link=DEPLOYMENT_LINK),
    Col("kind", N_("Kind")),
    Col("version", N_("Version"), "int"),
    Col("name", N_("Name")),
    Col("target", N_("Target")),
    Col("state", N_("State"), "pill", pills=DEPLOYMENT_PILLS),
    Col("progress", N_("Progress"), "pct"),
    Col("current_wave", N_("Wave"), "int"),
    Col("waves", N_("Waves"), "int"),
    Col("targets", N_("Devices"), "int"),
    Col("succeeded", N_("Succeeded"), "int"),
    Col("in_progress", N_("In progress"), "int"),
    Col("waiting", N_("Waiting"), "int"),
    Col("failed", N_("Failed"), "int"),
    Col("rolled_back", N_("Rolled back"), "int"),
    Col("superseded", N_("Superseded"), "int", html=False),
    Col("created_at", N_("Created"), "time"),
    Col("updated_at", N_("Updated"), "time"),
    Col("state_reason", N_("Reason")),
))
WAVES = TableSpec("waves", N_("Waves"), (
    Col("wave", N_("Wave"), "int"),
    Col("share", N_("Reaches"), "pct"),
    Col("status", N_("Status"), "pill", pills={"done": "ok", "current": "warn", "pending": ""}),
    Col("targets", N_("Devices"), "int"),
    Col("succeeded", N_("Succeeded"), "int"),
    Col("in_progress", N_("In progress"), "int"),
    Col("waiting", N_("Waiting"), "int"),
    Col("failed", N_("Failed"), "int"),
    Col("rolled_back", N_("Rolled back"), "int"),
    Col("superseded", N_("Superseded"), "int"),
))
TARGETS = TableSpec("targets", N_("Devices in this deployment"), (
    Col("wave", N_("Wave"), "int"),
    Col("store_id", N_("Store"), "code", link=STORE_LINK),
    Col("device_id", N_("Device"), "code"),
    Col("state", N_("State"), "pill", pills=TARGET_PILLS),
    Col("progress", N_("Step progress"), "pct"),
    Col("detail", N_("Detail")),
    Col("published_at", N_("Published"), "time"),
    Col("updated_at", N_("Updated"), "time"),
))
FAILURES = TableSpec("failures", N_("Failures"), TARGETS.columns)


def _device_rows(state: str | None = None) -> list[fq.DeviceRow]:
    with hub().connect() as conn:
        rows = fq.device_rows(conn, current_scope())
    return [r for r in rows if state is None or r.state == state]


def _deployment(deployment_id: str) -> fq.DeploymentRow:
    with hub().connect() as conn:
        dep = fq.deployment(conn, current_scope(), deployment_id)
    if dep is None:
        abort(404, description=f"no deployment {deployment_id!r}")
    return dep


@blueprint.get("/fleet")
@require("operator")
def index() -> str:
    state = choice_arg("state", ("online", "offline", "never seen"))
    scope = current_scope()
    with hub().connect() as conn:
        devices = fq.device_rows(conn, scope)
        deployments = fq.deployment_rows(conn, scope, limit=50)
        dead = fq.dead_letter_count(conn, scope)
    summary = fq.fleet_summary(devices, deployments)
    shown = [d for d in devices if state is None or d.state == state]
    return render_template("fleet.html", summary=summary, devices=shown, deployments=deployments, state=state,
                           dead_letters=dead, devices_spec=DEVICES, deployments_spec=DEPLOYMENTS)


# what the deployment page's heading says of a deployment's kind, state and target (values stay as stored)
DEPLOYMENT_KINDS = {"model": N_("Model"), "config": N_("Configuration"), "gallery": N_("Gallery"),
                    "prices": N_("Prices")}
DEPLOYMENT_STATES = {"active": N_("active"), "completed": N_("completed"), "paused": N_("paused"),
                     "stopped": N_("stopped"), "rolled_back": N_("rolled back"), "superseded": N_("superseded")}
TARGET_KINDS = {"device": N_("devices"), "group": N_("group")}


@blueprint.get("/fleet/deployments/<deployment_id>")
@require("operator")
def deployment_page(deployment_id: str) -> str:
    dep = _deployment(deployment_id)
    scope = current_scope()
    with hub().connect() as conn:
        waves = fq.wave_rows(conn, scope, dep)
        targets = fq.target_rows(conn, scope, deployment_id)
    failures = [t for t in targets if t.state in fq.FAILED + fq.ROLLED_BACK]
    return render_template("deployment.html", dep=dep, waves=waves, targets=targets, failures=failures,
                           waves_spec=WAVES, targets_spec=TARGETS, failures_spec=FAILURES,
                           kind_word=DEPLOYMENT_KINDS.get(dep.kind, dep.kind),
                           state_word=DEPLOYMENT_STATES.get(dep.state, dep.state),
                           target_word=TARGET_KINDS.get(dep.target_kind, dep.target_kind))


@blueprint.get("/api/fleet")
@require("operator")
def api_fleet() -> Response:
    scope = current_scope()
    with hub().connect() as conn:
        devices = fq.device_rows(conn, scope)
        deployments = fq.deployment_rows(conn, scope, limit=50)
        dead = fq.dead_letter_count(conn, scope)
    return jsonify(summary=asdict(fq.fleet_summary(devices, deployments)), dead_letters=dead,
                   devices=DEVICES.records(devices), deployments=DEPLOYMENTS.records(deployments),
                   tables={"devices": url_for("fleet.api_devices"), "deployments": url_for("fleet.api_deployments")})


@blueprint.get("/api/fleet/devices")
@require("operator")
def api_devices() -> Response:
    state = choice_arg("state", ("online", "offline", "never seen"))
    return table_response(DEVICES, _device_rows(state), filename="fleet-devices")


@blueprint.get("/api/fleet/deployments")
@require("operator")
def api_deployments() -> Response:
    limit = int_arg("limit", 1, 100_000, 500)
    with hub().connect() as conn:
        rows = fq.deployment_rows(conn, current_scope(), limit=limit)
    return table_response(DEPLOYMENTS, rows, filename="fleet-deployments")


@blueprint.get("/api/fleet/deployments/<deployment_id>")
@require("operator")
def api_deployment(deployment_id: str) -> Response:
    dep = _deployment(deployment_id)
    scope = current_scope()
    with hub().connect() as conn:
        waves = fq.wave_rows(conn, scope, dep)
        failures = fq.target_rows(conn, scope, deployment_id, states=fq.FAILED + fq.ROLLED_BACK)
    return jsonify(deployment=asdict(dep), waves=WAVES.records(waves), failures=FAILURES.records(failures),
                   tables={"waves": url_for("fleet.api_waves", deployment_id=deployment_id),
                           "targets": url_for("fleet.api_targets", deployment_id=deployment_id)})


@blueprint.get("/api/fleet/deployments/<deployment_id>/waves")
@require("operator")
def api_waves(deployment_id: str) -> Response:
    dep = _deployment(deployment_id)
    with hub().connect() as conn:
        rows = fq.wave_rows(conn, current_scope(), dep)
    return table_response(WAVES, rows, filename=f"deployment-{deployment_id}-waves")


@blueprint.get("/api/fleet/deployments/<deployment_id>/targets")
@require("operator")
def api_targets(deployment_id: str) -> Response:
    _deployment(deployment_id)
    failures_only = choice_arg("only", ("failures",)) == "failures"
    with hub().connect() as conn:
        rows = fq.target_rows(conn, current_scope(), deployment_id,
                              states=fq.FAILED + fq.ROLLED_BACK if failures_only else None)
    name = "failures" if failures_only else "targets"
    return table_response(FAILURES if failures_only else TARGETS, rows, filename=f"deployment-{deployment_id}-{name}")


page = Page(blueprint, nav=(NavItem("Fleet", "fleet.index", "operator", order=20),))
