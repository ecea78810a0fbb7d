"""Where the MQTT broker is: an mqtt:// URL from the options, or the Supervisor's MQTT service."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import aiohttp

from .log_redact import register_secret
from .validity import ValidationError

if TYPE_CHECKING:
    from .options import Options

DEFAULT_DISCOVERY_PREFIX = "homeassistant"
DEFAULT_BASE_TOPIC = "ttlock_nuki"
MQTT_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
MQTT_URL_EXAMPLE = "mqtt://user:password@host:1883 or mqtts://host:8883"
SUPERVISOR_URL = "http://supervisor"  # ha-addon.md §3
SUPERVISOR_TIMEOUT = 10.0
NO_MQTT = "running without MQTT (the panel still works)"

_HOST = re.compile(r"[A-Za-z0-9._~%:-]+")
_LOGGER = logging.getLogger(__name__)


class MqttProtocol(StrEnum):
    """MQTT protocol versions a broker may announce (ha-addon.md §3)."""

    V31 = "3.1"
    V311 = "3.1.1"
    V5 = "5"


class MqttSource(StrEnum):
    """Where the broker settings came from."""

    OPTIONS = "options"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """How to reach the MQTT broker and which topics to use; the password is kept out of repr."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    base_topic: str = DEFAULT_BASE_TOPIC
    protocol: MqttProtocol = MqttProtocol.V311
    source: MqttSource = MqttSource.OPTIONS

    @property
    def url(self) -> str:
        """The broker as a URL without the password: safe to log and to show in the panel."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"


def parse_mqtt_url(url: str, *, where: str = "The MQTT URL") -> MqttSettings:
    """`mqtt://[user[:password]@]host[:port]` or `mqtts://...` -> MqttSettings; ValidationError.

    Error messages never repeat the URL, so a password in it cannot leak through them.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValidationError(
            f"{where} has a malformed host or port; it must look like {MQTT_URL_EXAMPLE}."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in MQTT_DEFAULT_PORTS:
        raise ValidationError(
            f"{where} must start with mqtt:// or mqtts://, like {MQTT_URL_EXAMPLE}."
        )
    host = parts.hostname
    if not host:
        raise ValidationError(
            f"{where} names no broker host; it must look like {MQTT_URL_EXAMPLE}."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError(f"{where} must end after host[:port] (no path, query or fragment).")
    if not _HOST.fullmatch(host):
        raise ValidationError(f"{where} has a host name with characters a host name cannot have.")
    if port == 0:
        raise ValidationError(f"{where} has port 0; the port must be from 1 to 65535.")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and username is None:
        raise ValidationError(f"{where} has a password but no user name; MQTT needs both.")
    register_secret(password or None)
    return MqttSettings(
        host=host,
        port=port or MQTT_DEFAULT_PORTS[scheme],
        username=username,
        password=password,
        tls=scheme == "mqtts",
    )


def _settings_from(data: object) -> MqttSettings:
    """The Supervisor's `data` {host, port, ssl, protocol, username, password} (ha-addon.md §3)."""
    if not isinstance(data, dict):
        raise ValidationError("'data' is not an object")
    password, username = data.get("password"), data.get("username")
    if isinstance(password, str):
        register_secret(password or None)
    host, port, ssl = data.get("host"), data.get("port"), data.get("ssl", False)
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        raise ValidationError("'host' is not a host name")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError("'port' is not a port number")
    if not isinstance(ssl, bool):
        raise ValidationError("'ssl' is not true or false")
    if not isinstance(username, str | None) or not isinstance(password, str | None):
        raise ValidationError("'username' or 'password' is not a string")
    protocol = data.get("protocol")
    return MqttSettings(
        host=host,
        port=port,
        username=username or None,
        password=password or None,
        tls=ssl,
        protocol=next((p for p in MqttProtocol if p.value == protocol), MqttProtocol.V311),
        source=MqttSource.SUPERVISOR,
    )


def _brief(text: object) -> str:
    shown = ("" if text is None else str(text)).strip() or "no reason given"
    return shown if len(shown) <= 200 else shown[:197] + "..."


def _from_reply(status: int, body: bytes) -> MqttSettings | None:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    message = _brief(document.get("message") if isinstance(document, dict) else None)
    if status in (401, 403):
        _LOGGER.error(
            "The Supervisor refused to tell us the MQTT broker (HTTP %d: %s); the add-on needs "
            "'services: [mqtt:need]' in its config.yaml; %s.",
            status,
            message,
            NO_MQTT,
        )
        return None
    if not isinstance(document, dict):
        _LOGGER.warning(
            "The Supervisor's answer about the MQTT service is not a JSON object (HTTP %d); %s.",
            status,
            NO_MQTT,
        )
        return None
    if status != 200 or document.get("result") != "ok":
        _LOGGER.warning(
            "The Supervisor offers no MQTT broker (HTTP %d: %s). Install the Mosquitto broker "
            "add-on or set the mqtt_url option; %s.",
            status,
            message,
            NO_MQTT,
        )
        return None
    try:
        return _settings_from(document.get("data"))
    except ValidationError as exc:
        _LOGGER.warning("The Supervisor's MQTT service data is unusable: %s; %s.", exc, NO_MQTT)
        return None


async def fetch_supervisor_mqtt(
    token: str, *, base_url: str = SUPERVISOR_URL, timeout: float = SUPERVISOR_TIMEOUT
) -> MqttSettings | None:
    """GET {base_url}/services/mqtt with the token: the broker, or None after one log line why."""
    url = base_url.rstrip("/") + "/services/mqtt"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, headers=headers, allow_redirects=False) as response,
        ):
            status = response.status
            body = await response.read()
    except TimeoutError:
        _LOGGER.warning(
            "The Supervisor did not answer about the MQTT service within %g s; %s.",
            timeout,
            NO_MQTT,
        )
        return None
    except (aiohttp.ClientError, OSError) as exc:
        _LOGGER.warning(
            "Cannot reach the Supervisor to ask for the MQTT broker (%s); %s.",
            _brief(exc) if str(exc) else type(exc).__name__,
            NO_MQTT,
        )
        return None
    return _from_reply(status, body)


async def resolve_mqtt(
    options: Options, *, supervisor_url: str = SUPERVISOR_URL, timeout: float = SUPERVISOR_TIMEOUT
) -> MqttSettings | None:
    """The broker to use: the options' own, else the Supervisor's (in the add-on), else None."""
    if options.mqtt is not None:
        _LOGGER.info("Using the MQTT broker from the options: %s", options.mqtt.url)
        return options.mqtt
    if options.supervisor_token is None:
        _LOGGER.warning(
            "No MQTT broker is configured (use --mqtt-url or TTLOCK_NUKI_MQTT_URL); %s.", NO_MQTT
        )
        return None
    found = await fetch_supervisor_mqtt(
        options.supervisor_token, base_url=supervisor_url, timeout=timeout
    )
    if found is None:
        return None
    found = replace(found, discovery_prefix=options.discovery_prefix, base_topic=options.base_topic)
    _LOGGER.info("Using the MQTT broker announced by the Supervisor: %s", found.url)
    return found
