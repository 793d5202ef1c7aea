"""Unit tests of the broker security pieces: password hashes, the ACL text, the broker config,
the device registry (SQLite and PostgreSQL), certificates and the broker folder's writes."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import Engine, select

from analytics.broker import certs, registry, service
from analytics.broker.acl import DeviceGrant, render_acl
from analytics.broker.files import BrokerDir
from analytics.broker.mosquitto_conf import BrokerConf, BrokerConfError, TlsListener, render_conf
from analytics.broker.passwords import (
    PasswordFileError,
    hash_password,
    new_password,
    parse_password_file,
    render_password_file,
    verify_password,
)
from analytics.broker.service import BrokerSettings
from analytics.db import make_engine, migrate
from analytics.db.fleet_tables import device_registry
from analytics.db.tables import stores

# Made by Mosquitto's own tool: `mosquitto_passwd -c -b FILE alice secret1` (Mosquitto 2.0.11).
MOSQUITTO_PASSWD_LINE = ("alice:$7$101$POV9Mfxrtmq5Q/ec$sLmRmiin5ttAcw81pgnm4YOa6aY9V/k2ha3VRabX2Ai3SyB90GkA1NVq1g75Xd6"
                         "4/HIwzfnaGNlzpDXtKN99gw==")


# -- passwords ---------------------------------------------------------------------------------

def test_password_hash_has_mosquittos_pbkdf2_sha512_format_and_verifies() -> None:
    encoded = hash_password("correct horse battery", iterations=1000)
    assert re.fullmatch(r"\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==", encoded), encoded
    assert verify_password("correct horse battery", encoded)
    assert not verify_password("correct horse batterY", encoded)
    assert hash_password("x" * 20) != hash_password("x" * 20)  # a fresh salt every time


def test_password_hash_matches_what_mosquitto_passwd_writes() -> None:
    _, encoded = MOSQUITTO_PASSWD_LINE.split(":", 1)
    salt = base64.b64decode(encoded.split("$")[3])
    assert hash_password("secret1", iterations=101, salt=salt) == encoded
    assert verify_password("secret1", encoded) and not verify_password("secret2", encoded)


@pytest.mark.skipif(not Path("/usr/bin/mosquitto_passwd").is_file(), reason="mosquitto_passwd not installed")
def test_hashes_from_the_installed_mosquitto_passwd_verify(tmp_path: Path) -> None:
    pwfile = tmp_path / "pw"
    subprocess.run(["/usr/bin/mosquitto_passwd", "-c", "-b", str(pwfile), "s-001.till-1", "tr0ub4dor&3"], check=True)
    entries = parse_password_file(pwfile.read_text())
    assert verify_password("tr0ub4dor&3", entries["s-001.till-1"])


def test_new_passwords_are_long_and_random() -> None:
    seen = {new_password() for _ in range(50)}
    assert len(seen) == 50 and all(len(p) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in seen)


def test_password_file_round_trip_and_errors_name_the_line() -> None:
    a, b = hash_password("a" * 16), hash_password("b" * 16)
    text = render_password_file({"s-002.till-1": b, "hub": a})
    assert text.splitlines() == [f"hub:{a}", f"s-002.till-1:{b}"]  # sorted
    assert parse_password_file("# comment\n\n" + text) == {"hub": a, "s-002.till-1": b}
    with pytest.raises(PasswordFileError, match=r"line 2 .*hub2.*not a \$7\$"):
        parse_password_file(f"hub:{a}\nhub2:plaintext\n")
    with pytest.raises(PasswordFileError, match="line 2: user 'hub' is listed twice"):
        parse_password_file(f"hub:{a}\nhub:{b}\n")
    with pytest.raises(PasswordFileError, match="line 1: expected 'username:hash'"):
        parse_password_file("no-colon-here\n")


# -- ACL ---------------------------------------------------------------------------------------

def test_acl_grants_a_device_only_its_own_topics_and_its_groups_desired_state() -> None:
    text = render_acl("tillsight/v1", [DeviceGrant("s-001.till-1", "s-001", "till-1", "north")], ["hub"])
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert lines == [
        "user hub",
        "topic readwrite tillsight/v1/#",
        "user s-001.till-1",
        "topic write tillsight/v1/s-001/till-1/tx",
        "topic write tillsight/v1/s-001/till-1/alert",
        "topic write tillsight/v1/s-001/till-1/telemetry",
        "topic write tillsight/v1/s-001/till-1/status",
        "topic write tillsight/v1/s-001/till-1/reported",
        "topic write tillsight/v1/s-001/till-1/credit",
        "topic write tillsight/v1/s-001/till-1/gallery",
        "topic write tillsight/v1/s-001/till-1/gallery_photo",
        "topic write tillsight/v1/s-001/till-1/resend_answer",
        "topic read tillsight/v1/s-001/till-1/desired",
        "topic read tillsight/v1/s-001/till-1/resend",
        "topic read tillsight/v1/s-001/till-1/insights",
        "topic read tillsight/v1/fleet/north/desired",
        "topic read tillsight/v1/fleet/artifacts/#",
    ]


def test_acl_is_stable_and_grants_nothing_to_anonymous_clients() -> None:
    devices = [DeviceGrant("s-002.till-1", "s-002", "till-1", "default"),
               DeviceGrant("s-001.till-1", "s-001", "till-1", "default")]
    text = render_acl("acme/v1", devices, ["hub-web", "hub-ingest"])
    assert text == render_acl("acme/v1", list(reversed(devices)), ["hub-ingest", "hub-web"])
    before_first_user = text.split("\nuser ", 1)[0]
    assert all(ln.startswith("#") or not ln.strip() for ln in before_first_user.splitlines())
    users = [ln.split()[1] for ln in text.splitlines() if ln.startswith("user ")]
    assert users == ["hub-ingest", "hub-web", "s-001.till-1", "s-002.till-1"]
    topics = [ln.split()[2] for ln in text.splitlines() if ln.startswith("topic ")]
    assert "acme/v1/s-002/till-1/tx" in topics and all(t.startswith("acme/v1/") for t in topics)


@pytest.mark.parametrize("grant, hubs, message", [
    (DeviceGrant("s-001.t+", "s-001", "t+", "default"), ["hub"], "cannot be used in a topic"),
    (DeviceGrant("s-001.till-1", "s-001", "till-1", "a/b"), ["hub"], "group id 'a/b'"),
    (DeviceGrant("hub", "s-001", "till-1", "default"), ["hub"], "clash with device usernames"),
])
def test_acl_refuses_names_that_would_widen_a_grant(grant: DeviceGrant, hubs: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_acl("tillsight/v1", [grant], hubs)
    with pytest.raises(ValueError, match="wildcards"):
        render_acl("tillsight/#", [], ["hub"])


# -- broker config -----------------------------------------------------------------------------

def test_broker_conf_has_auth_on_every_listener_and_tls_for_devices(tmp_path: Path) -> None:
    tls = TlsListener(8883, Path("/etc/t/ca.crt"), Path("/etc/t/broker.crt"), Path("/etc/t/broker.key"),
                      require_certificate=True)
    text = render_conf(BrokerConf(Path("/etc/t/passwords"), Path("/etc/t/acl"), plain_port=1883, tls=tls,
                                  persistence_dir=Path("/var/lib/mosquitto")))
    lines = text.splitlines()
    for expected in ("per_listener_settings false", "allow_anonymous false", "password_file /etc/t/passwords",
                     "acl_file /etc/t/acl", "listener 1883 127.0.0.1", "listener 8883", "cafile /etc/t/ca.crt",
                     "certfile /etc/t/broker.crt", "keyfile /etc/t/broker.key", "require_certificate true",
                     "tls_version tlsv1.2", "persistence true", "persistence_location /var/lib/mosquitto/"):
        assert expected in lines, expected
    # TLS options follow their listener line
    assert lines.index("cafile /etc/t/ca.crt") > lines.index("listener 8883")
    snippet = render_conf(BrokerConf(Path("/etc/t/passwords"), Path("/etc/t/acl"), standalone=False))
    assert "persistence" not in snippet and "log_dest" not in snippet and "allow_anonymous false" in snippet


@pytest.mark.parametrize("conf, message", [
    (BrokerConf(Path("/p"), Path("/a"), plain_port=None), "no listener"),
    (BrokerConf(Path("/p"), Path("/a"), plain_bind="0.0.0.0"), "must bind a loopback address"),
    (BrokerConf(Path("passwords"), Path("/a")), "must be an absolute path"),
    (BrokerConf(Path("/p"), Path("/a"), tls=TlsListener(1883, Path("/c"), Path("/s"), Path("/k"))), "both use port"),
    (BrokerConf(Path("/p"), Path("/a"), log_dest="elsewhere"), "log destination"),
])
def test_broker_conf_refuses_unsafe_or_broken_settings(conf: BrokerConf, message: str) -> None:
    with pytest.raises(BrokerConfError, match=message):
        render_conf(conf)


# -- registry ----------------------------------------------------------------------------------

def test_registry_adds_a_device_and_its_store_once(hub_engine: Engine) -> None:
    migrate(hub_engine)
    with hub_engine.begin() as conn:
        added = registry.add_device(conn, "s-001", "till-1", "north", note="front till",
                                    store=registry.StoreDefaults(name="Colmado Rosa", timezone="America/Santo_Domingo",
                                                                 currency="DOP"))
        second = registry.add_device(conn, "s-001", "till-2", store=registry.StoreDefaults(timezone="Europe/Paris",
                                                                                          currency="EUR"))
    assert added.store_created and not second.store_created
    assert added.device.mqtt_username == "s-001.till-1" and second.device.group_id == "default"
    with hub_engine.connect() as conn:
        store = conn.execute(select(stores)).mappings().one()
        assert (store["name"], store["timezone"], store["currency"]) == ("Colmado Rosa", "America/Santo_Domingo", "DOP")
        assert [d.device_id for d in registry.list_devices(conn)] == ["till-1", "till-2"]
        assert [d.device_id for d in registry.list_devices(conn, group_id="north")] == ["till-1"]
    with pytest.raises(registry.DeviceExists, match="registered already"), hub_engine.begin() as conn:
        registry.add_device(conn, "s-001", "till-1")
    with hub_engine.begin() as conn:
        moved = registry.set_group(conn, "s-001", "till-1", "south")
        removed = registry.remove_device(conn, "s-001", "till-2")
    assert moved.group_id == "south" and removed.device_id == "till-2"
    with hub_engine.connect() as conn:
        rows = conn.execute(select(device_registry.c.device_id, device_registry.c.group_id)).all()
    assert [tuple(r) for r in rows] == [("till-1", "south")]


@pytest.mark.parametrize("store_id, device_id, group, message", [
    ("S-001", "till-1", "default", "invalid store id 'S-001'"),
    ("s-001", "till.1", "default", "invalid device id 'till.1'"),
    ("s-001", "", "default", "invalid device id ''"),
    ("fleet", "till-1", "default", "store id 'fleet' is reserved"),
    ("s-001", "till-1", "north/east", "invalid group 'north/east'"),
    ("s-001", "till-1", "artifacts", "group 'artifacts' is reserved"),
])
def test_registry_refuses_bad_ids_with_a_clear_message(tmp_path: Path, store_id: str, device_id: str, group: str,
                                                       message: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    with pytest.raises(registry.RegistryError, match=re.escape(message)), engine.begin() as conn:
        registry.add_device(conn, store_id, device_id, group)
    with engine.connect() as conn:
        assert registry.list_devices(conn) == []


def test_registry_refuses_a_bad_time_zone_or_currency_for_a_new_store(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    for defaults, message in ((registry.StoreDefaults(timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
                              (registry.StoreDefaults(currency="dop"), "invalid currency 'dop'")):
        with pytest.raises(registry.RegistryError, match=message), engine.begin() as conn:
            registry.add_device(conn, "s-001", "till-1", store=defaults)


# -- service: registry and files together -------------------------------------------------------

def test_a_failed_file_write_leaves_the_registry_as_it_was(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    settings = BrokerSettings(dir=tmp_path / "broker", prefix="tillsight/v1", hub_users=("hub",))
    issued, _ = service.add_device(engine, settings, "s-001", "till-1")
    before = {p.name: p.read_text() for p in (settings.folder.passwords, settings.folder.acl)}
    settings.folder.acl.unlink()
    settings.folder.acl.mkdir()  # the ACL cannot be replaced now
    from analytics.broker.files import BrokerFilesError

    with pytest.raises(BrokerFilesError, match=r"cannot (read|write) .*acl"):
        service.add_device(engine, settings, "s-001", "till-2")
    with engine.connect() as conn:
        assert [d.device_id for d in registry.list_devices(conn)] == ["till-1"]
    assert settings.folder.passwords.read_text() == before["passwords"]  # put back
    assert verify_password(issued.password, parse_password_file(before["passwords"])["s-001.till-1"])


def test_broker_files_keep_an_existing_files_mode_and_new_ones_are_not_world_readable(tmp_path: Path) -> None:
    folder = BrokerDir(tmp_path / "broker")
    folder.ensure()
    folder.write({folder.acl: "user hub\n"})
    assert stat.S_IMODE(folder.acl.stat().st_mode) == 0o640
    os.chmod(folder.acl, 0o600)
    changed = folder.write({folder.acl: "user hub\ntopic readwrite x/#\n", folder.passwords: ""})
    assert stat.S_IMODE(folder.acl.stat().st_mode) == 0o600 and folder.acl.read_text().endswith("x/#\n")
    assert changed == [folder.acl, folder.passwords]
    assert folder.write({folder.acl: folder.acl.read_text()}) == []  # unchanged content is not rewritten


# -- certificates ------------------------------------------------------------------------------

def test_ca_server_and_client_certificates(tmp_path: Path) -> None:
    ca = certs.create_ca(tmp_path / "ca")
    assert stat.S_IMODE(ca.files.key.stat().st_mode) == 0o600
    server = certs.issue_cert(ca, "broker", tmp_path / "tls", server=True, hosts=["127.0.0.1", "mqtt.example.com"])
    cert = certs.check_pair(server.cert, server.key, ca.files.cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["mqtt.example.com"]
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    client = certs.issue_cert(certs.load_ca(tmp_path / "ca"), "s-001.till-1", tmp_path / "dev")
    ccert = certs.check_pair(client.cert, client.key, ca.files.cert)
    assert ccert.subject.rfc4514_string() == "CN=s-001.till-1"
    assert ExtendedKeyUsageOID.CLIENT_AUTH in ccert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value


def test_certificate_mistakes_are_refused_with_a_reason(tmp_path: Path) -> None:
    ca = certs.create_ca(tmp_path / "ca")
    with pytest.raises(certs.CertError, match="refusing to replace the CA"):
        certs.create_ca(tmp_path / "ca")
    with pytest.raises(certs.CertError, match="needs at least one host"):
        certs.issue_cert(ca, "broker", tmp_path / "tls", server=True)
    with pytest.raises(certs.CertError, match="invalid host name"):
        certs.issue_cert(ca, "broker", tmp_path / "tls", server=True, hosts=["bad host"])
    other = certs.create_ca(tmp_path / "other")
    files = certs.issue_cert(other, "broker", tmp_path / "tls", server=True, hosts=["localhost"])
    with pytest.raises(certs.CertError, match="not signed by the CA"):
        certs.check_pair(files.cert, files.key, ca.files.cert)
    with pytest.raises(certs.CertError, match="is not the private key"):
        certs.check_pair(files.cert, ca.files.key)
    with pytest.raises(certs.CertError, match="exists; refusing to overwrite"):
        certs.issue_cert(other, "broker", tmp_path / "tls", server=True, hosts=["localhost"])
    shutil.rmtree(tmp_path / "ca")
    with pytest.raises(certs.CertError, match="not found"):
        certs.load_ca(tmp_path / "ca")
