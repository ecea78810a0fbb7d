"""Broker settings: mqtt:// URLs, and the Supervisor's MQTT service on a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon import log_redact
from ttlock_nuki_addon.broker import (
    MqttProtocol,
    MqttSettings,
    MqttSource,
    fetch_supervisor_mqtt,
    parse_mqtt_url,
    resolve_mqtt,
)
from ttlock_nuki_addon.log_redact import REDACTED
from ttlock_nuki_addon.options import Options
from ttlock_nuki_addon.validity import ValidationError

TOKEN = "sup-token-1f8e7a6d5c"
PASSWORD = "mqtt-pw-Xa83kq0Zr2"
SERVICE = {
    "addon": "core_mosquitto",
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "protocol": "3.1.1",
    "username": "addons",
    "password": PASSWORD,
}


@pytest.fixture(autouse=True, scope="module")
def private_secrets() -> Iterator[None]:
    """Secrets registered by these tests stay out of the process-wide registry."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(log_redact, "SECRETS", log_redact.SecretRegistry())
        yield


@dataclass
class FakeSupervisor:
    """What the fake answers, and what it was asked."""

    url: str = ""
    status: int = 200
    body: bytes = b""
    hang: bool = False
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def answer(self, status: int, document: object) -> None:
        """Reply `status` with `document` as JSON."""
        self.status, self.body = status, json.dumps(document).encode()


@pytest.fixture
async def supervisor() -> AsyncIterator[FakeSupervisor]:
    """An aiohttp server on 127.0.0.1 serving GET /services/mqtt like the Supervisor."""
    fake = FakeSupervisor()
    release = asyncio.Event()

    async def services_mqtt(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        fake.requests.append((request.method, request.path, auth))
        if fake.hang:
            await release.wait()
        return web.Response(status=fake.status, body=fake.body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/services/mqtt", services_mqtt)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        release.set()
        await runner.cleanup()


def options(**changes: object) -> Options:
    """Options as the add-on would have them, changed by `changes`."""
    return Options(data_dir=Path("data"), **changes)  # type: ignore[arg-type]


def assert_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """Neither the token nor the broker password was ever put into a log message."""
    assert TOKEN not in caplog.text
    assert PASSWORD not in caplog.text


async def test_service_found(supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    supervisor.answer(200, {"result": "ok", "data": SERVICE})
    found = await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url)
    assert found == MqttSettings(
        host="core-mosquitto",
        port=1883,
        username="addons",
        password=PASSWORD,
        tls=False,
        protocol=MqttProtocol.V311,
        source=MqttSource.SUPERVISOR,
    )
    assert supervisor.requests == [("GET", "/services/mqtt", f"Bearer {TOKEN}")]
    assert log_redact.SECRETS.redact(PASSWORD) == REDACTED
    assert_no_secrets(caplog)


async def test_tls_and_protocol_are_taken_over(supervisor: FakeSupervisor) -> None:
    data = SERVICE | {"ssl": True, "port": 8883, "protocol": "5", "username": None}
    supervisor.answer(200, {"result": "ok", "data": data})
    found = await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url + "/")
    assert found is not None
    assert (found.tls, found.port, found.protocol, found.username) == (
        True,
        8883,
        MqttProtocol.V5,
        None,
    )
    supervisor.answer(200, {"result": "ok", "data": SERVICE | {"protocol": "9"}})
    found = await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url)
    assert found is not None
    assert found.protocol is MqttProtocol.V311


async def test_service_not_enabled(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor.answer(400, {"result": "error", "message": "Service not enabled"})
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url) is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "The Supervisor offers no MQTT broker (HTTP 400: Service not enabled)" in message
    assert "Mosquitto broker add-on or set the mqtt_url option" in message
    assert "running without MQTT (the panel still works)" in message


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (403, b'{"result": "error", "message": "No access to mqtt service!"}', "No access to mqtt"),
        (401, b"401: Unauthorized", "no reason given"),
    ],
)
async def test_access_refused(
    supervisor: FakeSupervisor,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
    reason: str,
) -> None:
    supervisor.status, supervisor.body = status, body
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url) is None
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert f"(HTTP {status}: {reason}" in record.getMessage()
    assert "'services: [mqtt:need]'" in record.getMessage()
    assert_no_secrets(caplog)


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (200, b"<html>not json</html>", "is not a JSON object (HTTP 200)"),
        (200, b"[1, 2]", "is not a JSON object (HTTP 200)"),
        (502, b"", "is not a JSON object (HTTP 502)"),
        (200, b'{"result": "ok"}', "data is unusable: 'data' is not an object"),
        (200, b'{"result": "ok", "data": {"port": 1883}}', "unusable: 'host' is not a host name"),
        (
            200,
            json.dumps({"result": "ok", "data": SERVICE | {"port": "1883"}}).encode(),
            "unusable: 'port' is not a port number",
        ),
        (
            200,
            json.dumps({"result": "ok", "data": SERVICE | {"ssl": "no"}}).encode(),
            "unusable: 'ssl' is not true or false",
        ),
        (
            200,
            json.dumps({"result": "ok", "data": SERVICE | {"username": 7}}).encode(),
            "'username' or 'password' is not a string",
        ),
        (200, b'{"result": "error"}', "offers no MQTT broker (HTTP 200: no reason given)"),
    ],
)
async def test_malformed_answers(
    supervisor: FakeSupervisor,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
    says: str,
) -> None:
    supervisor.status, supervisor.body = status, body
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url) is None
    [record] = caplog.records
    assert says in record.getMessage()
    assert_no_secrets(caplog)


async def test_timeout(supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture) -> None:
    supervisor.hang = True
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await fetch_supervisor_mqtt(TOKEN, base_url=supervisor.url, timeout=0.2) is None
    [record] = caplog.records
    assert "The Supervisor did not answer about the MQTT service within 0.2 s" in record.message


async def test_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await fetch_supervisor_mqtt(TOKEN, base_url=f"http://127.0.0.1:{port}") is None
    [record] = caplog.records
    assert "Cannot reach the Supervisor to ask for the MQTT broker" in record.getMessage()
    assert_no_secrets(caplog)


async def test_resolve_prefers_the_options(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    own = MqttSettings(host="broker", username="me", password=PASSWORD)
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        found = await resolve_mqtt(
            options(mqtt=own, supervisor_token=TOKEN), supervisor_url=supervisor.url
        )
    assert found is own
    assert supervisor.requests == []
    assert "Using the MQTT broker from the options: mqtt://me@broker:1883" in caplog.text
    assert_no_secrets(caplog)


async def test_resolve_asks_the_supervisor_inside_the_addon(supervisor: FakeSupervisor) -> None:
    supervisor.answer(200, {"result": "ok", "data": SERVICE})
    found = await resolve_mqtt(
        options(supervisor_token=TOKEN, discovery_prefix="ha", base_topic="locks"),
        supervisor_url=supervisor.url,
    )
    assert found is not None
    assert (found.host, found.source) == ("core-mosquitto", MqttSource.SUPERVISOR)
    assert (found.discovery_prefix, found.base_topic) == ("ha", "locks")
    supervisor.answer(400, {"result": "error", "message": "Service not enabled"})
    assert (
        await resolve_mqtt(options(supervisor_token=TOKEN), supervisor_url=supervisor.url) is None
    )


async def test_resolve_without_any_broker(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "ttlock_nuki_addon"):
        assert await resolve_mqtt(options(), supervisor_url=supervisor.url) is None
    assert supervisor.requests == []
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "No MQTT broker is configured" in record.getMessage()
    assert "TTLOCK_NUKI_MQTT_URL" in record.getMessage()


GOOD_URLS = [
    ("mqtt://broker", MqttSettings(host="broker")),
    ("  MQTT://Broker.LAN:1884/  ", MqttSettings(host="broker.lan", port=1884)),
    ("mqtts://broker", MqttSettings(host="broker", port=8883, tls=True)),
    ("mqtt://me@10.0.0.2", MqttSettings(host="10.0.0.2", username="me")),
    ("mqtt://me:@h", MqttSettings(host="h", username="me", password="")),
    (
        "mqtts://a%20b:p%3Aw%40rd@[fd00::1]:8884",
        MqttSettings(host="fd00::1", port=8884, username="a b", password="p:w@rd", tls=True),
    ),
]


@pytest.mark.parametrize(("url", "expected"), GOOD_URLS)
def test_parse_mqtt_url(url: str, expected: MqttSettings) -> None:
    assert parse_mqtt_url(url) == expected
    assert parse_mqtt_url(url).source is MqttSource.OPTIONS


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("broker:1883", "must start with mqtt:// or mqtts://"),
        ("tcp://hunter2@broker", "must start with mqtt:// or mqtts://"),
        ("mqtt:broker", "names no broker host"),
        ("mqtt://:hunter2@", "names no broker host"),
        ("mqtt://broker:port", "has a malformed host or port"),
        ("mqtt://u:hunter2@broker:99999", "has a malformed host or port"),
        ("mqtt://broker:0", "has port 0"),
        ("mqtt://[fd00::1", "has a malformed host or port"),
        ("mqtt://broker/topic", "must end after host[:port]"),
        ("mqtt://broker?x=1", "must end after host[:port]"),
        ("mqtt://:hunter2@broker", "has a password but no user name"),
        ("mqtt://bro$ker", "has a host name with characters a host name cannot have"),
    ],
)
def test_bad_mqtt_urls(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_mqtt_url(url, where="--mqtt-url")
    assert str(caught.value).startswith(f"--mqtt-url {reason}")
    assert "hunter2" not in str(caught.value)


@given(st.text(max_size=80))
def test_parse_mqtt_url_never_raises_anything_else(url: str) -> None:
    try:
        settings = parse_mqtt_url(url)
    except ValidationError:
        return
    assert 1 <= settings.port <= 65535
    assert settings.host


@given(
    user=st.text(min_size=1, max_size=20),
    password=st.text(max_size=20),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9]{1,10}){0,2}", fullmatch=True),
    port=st.integers(1, 65535),
    tls=st.booleans(),
)
def test_url_round_trip(user: str, password: str, host: str, port: int, tls: bool) -> None:
    scheme = "mqtts" if tls else "mqtt"
    url = f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"
    settings = parse_mqtt_url(url)
    assert settings == MqttSettings(host=host, port=port, username=user, password=password, tls=tls)
    assert parse_mqtt_url(settings.url) == MqttSettings(
        host=host, port=port, username=user, tls=tls
    )
