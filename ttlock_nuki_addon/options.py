"""Add-on options: defaults < <data-dir>/options.json < TTLOCK_NUKI_* environment < CLI flags."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from . import __version__
from .broker import (
    DEFAULT_BASE_TOPIC,
    DEFAULT_DISCOVERY_PREFIX,
    MQTT_URL_EXAMPLE,
    MqttSettings,
    parse_mqtt_url,
)
from .log_redact import LogLevel, register_secret
from .params import PairAs
from .validity import ValidationError

ENV_PREFIX = "TTLOCK_NUKI_"
ADDON_DIR = Path("/data")
OPTIONS_FILE_NAME = "options.json"
SUPERVISOR_TOKEN_ENV = ("SUPERVISOR_TOKEN", "HASSIO_TOKEN")  # ha-addon.md §3 (new, legacy)
DEFAULT_PORT = 8099  # the ingress port, ha-addon.md §1.3
DEFAULT_AVAILABILITY_TIMEOUT = 300.0
AVAILABILITY_LIMITS = (1.0, 86400.0)

_ADAPTER = re.compile(r"hci[0-9]{1,3}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_E = TypeVar("_E", bound=StrEnum)


class OptionsError(ValidationError):
    """An option is malformed; the message names the option, where it came from, and why."""


@dataclass(frozen=True, slots=True)
class Options:
    """Everything the add-on is configured with; `mqtt` is None unless a broker was given."""

    data_dir: Path
    adapter: str | None = None
    log_level: LogLevel = LogLevel.INFO
    mqtt: MqttSettings | None = None
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    base_topic: str = DEFAULT_BASE_TOPIC
    port: int = DEFAULT_PORT
    availability_timeout: float = DEFAULT_AVAILABILITY_TIMEOUT
    nuki_pair_as: PairAs = PairAs.BRIDGE
    dev: bool = False
    options_file: Path | None = None
    supervisor_token: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def in_addon(self) -> bool:
        """True inside the HA add-on container (the Supervisor gave us a token)."""
        return self.supervisor_token is not None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fail(where: str, must: str, value: object = None, *, secret: bool = False) -> OptionsError:
    got = "" if secret or value is None else f", not {_shown(value)}"
    return OptionsError(f"{where[:1].upper()}{where[1:]} must be {must}{got}.")


# --- converters: (raw value from JSON or text, where it came from) -> typed value ---------------


def _text(value: object, where: str, must: str = "a string") -> str:
    if not isinstance(value, str):
        raise _fail(where, must, value)
    return value.strip()


def _choice(enum: type[_E]) -> Callable[[object, str], _E]:
    def convert(value: object, where: str) -> _E:
        names = ", ".join(member.value for member in enum)
        try:
            return enum(_text(value, where, f"one of {names}").lower())
        except ValueError:
            raise _fail(where, f"one of {names}", value) from None

    return convert


def _adapter(value: object, where: str) -> str | None:
    text = _text(value, where, "a Bluetooth adapter name like hci0")
    if text and not _ADAPTER.fullmatch(text):
        raise _fail(where, "a Bluetooth adapter name like hci0", value)
    return text or None


def _seconds(value: object, where: str) -> float:
    low, high = AVAILABILITY_LIMITS
    must = f"a number of seconds from {low:g} to {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(where, must, value)
    try:
        seconds = float(value)
    except ValueError:
        raise _fail(where, must, value) from None
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise _fail(where, must, value)
    return seconds


def _port(value: object, where: str) -> int:
    must = "a port number from 0 (any free port) to 65535"
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _fail(where, must, value)
    return value


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value, where, "true or false").lower()
    if text not in _TRUE | _FALSE:
        raise _fail(where, "true or false (or 1/0, yes/no, on/off)", value)
    return text in _TRUE


def _topic(value: object, where: str) -> str:
    must = "an MQTT topic like 'homeassistant' (no +, #, empty levels or outer slashes)"
    text = _text(value, where, must)
    bad = not text or len(text) > 200 or any(c in text for c in "+#\0") or "" in text.split("/")
    if bad:
        raise _fail(where, must, value)
    return text


def _path(value: object, where: str) -> Path:
    text = _text(value, where, "a directory or file path")
    if not text:
        raise _fail(where, "a directory or file path", value)
    return Path(text)


def _mqtt_url(value: object, where: str) -> MqttSettings | None:
    if not isinstance(value, str):
        raise _fail(where, f"a URL like {MQTT_URL_EXAMPLE}", value, secret=True)
    if not value.strip():
        return None
    try:
        return parse_mqtt_url(value, where=where[:1].upper() + where[1:])
    except ValidationError as exc:
        raise OptionsError(str(exc)) from None


def _secret_text(value: object, where: str) -> str | None:
    if not isinstance(value, str):
        raise _fail(where, "a string", value, secret=True)
    register_secret(value or None)
    return value or None


@dataclass(frozen=True, slots=True)
class _Option:
    key: str
    convert: Callable[[object, str], object]
    help: str
    schema: str | None = None  # HA config.yaml schema type; None: not an add-on option
    flag: bool = True


_OPTIONS = (
    _Option(
        "data_dir", _path, "where the lock store lives (default /data in the add-on, else ./data)"
    ),
    _Option("options_file", _path, "the options JSON file (default DATA_DIR/options.json)"),
    _Option(
        "log_level",
        _choice(LogLevel),
        "how much to log: " + ", ".join(LogLevel),
        "list(" + "|".join(LogLevel) + ")",
    ),
    _Option("adapter", _adapter, "the Bluetooth adapter, e.g. hci0", "match(^hci[0-9]{1,3}$)?"),
    _Option("mqtt_url", _mqtt_url, f"the MQTT broker, {MQTT_URL_EXAMPLE}", "str?"),
    _Option("mqtt_username", _secret_text, "MQTT user when mqtt_url has none", "str?", flag=False),
    _Option(
        "mqtt_password", _secret_text, "MQTT password when mqtt_url has none", "password?", False
    ),
    _Option("discovery_prefix", _topic, "HA's MQTT discovery prefix", "str?"),
    _Option("base_topic", _topic, "the add-on's own MQTT topics start with this", "str?"),
    _Option("port", _port, f"the web panel's port (default {DEFAULT_PORT}, the ingress port)"),
    _Option(
        "availability_timeout",
        _seconds,
        "seconds without adverts before a lock is unavailable",
        f"int({AVAILABILITY_LIMITS[0]:g},{AVAILABILITY_LIMITS[1]:g})",
    ),
    _Option(
        "nuki_pair_as", _choice(PairAs), "pair Nuki locks as bridge or app", "list(bridge|app)"
    ),
    _Option("dev", _flag, "development mode: the panel also accepts loopback clients"),
)
_BY_KEY = {option.key: option for option in _OPTIONS}
# The `schema` and `options` (defaults) for config.yaml; keys as in /data/options.json.
ADDON_SCHEMA = {option.key: option.schema for option in _OPTIONS if option.schema}
ADDON_DEFAULTS = {
    "log_level": LogLevel.INFO.value,
    "availability_timeout": int(DEFAULT_AVAILABILITY_TIMEOUT),
    "nuki_pair_as": PairAs.BRIDGE.value,
}


def env_name(key: str) -> str:
    """The environment variable for option `key`, e.g. TTLOCK_NUKI_MQTT_URL."""
    return ENV_PREFIX + key.upper()


def build_parser() -> argparse.ArgumentParser:
    """The `python -m ttlock_nuki_addon` flags; every value defaults to None (= not given)."""
    parser = argparse.ArgumentParser(
        prog="python -m ttlock_nuki_addon",
        description="Run the TTLock & Nuki add-on. Options come from defaults, then "
        "DATA_DIR/options.json, then TTLOCK_NUKI_* environment variables, then these flags; "
        "later wins.",
    )
    for option in _OPTIONS:
        if not option.flag:
            continue
        name = "--" + option.key.replace("_", "-")
        text = f"{option.help} (env {env_name(option.key)})"
        if option.convert is _flag:
            parser.add_argument(name, dest=option.key, action="store_true", default=None, help=text)
        else:
            parser.add_argument(name, dest=option.key, metavar=option.key.upper(), help=text)
    parser.add_argument("--version", action="version", version=__version__)
    return parser


Raw = dict[str, tuple[object, str]]


def _read_file(path: Path, explicit: bool) -> tuple[Raw, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise OptionsError(f"The options file {path} does not exist.") from None
        return {}, []
    except UnicodeDecodeError:
        raise OptionsError(f"The options file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise OptionsError(f"The options file {path} cannot be read: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionsError(
            f"The options file {path} is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}."
        ) from None
    if not isinstance(data, dict):
        raise OptionsError(f"The options file {path} must hold a JSON object of options.")
    raw: Raw = {}
    warnings: list[str] = []
    for key, value in data.items():
        if key not in ADDON_SCHEMA:
            warnings.append(f"Option {_shown(key)} in {path} is not known and was ignored.")
        elif value is not None and value != "":  # HA leaves unset optional options out
            raw[key] = (value, f"option '{key}' in {path}")
    return raw, warnings


def _convert(raw: Raw, key: str) -> object:
    value, where = raw[key]
    return _BY_KEY[key].convert(value, where)


def load_options(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    addon_dir: Path = ADDON_DIR,
) -> Options:
    """Options from all sources; OptionsError names the bad option and its source.

    argparse exits (code 2) on unknown flags and handles --help/--version. The data directory
    defaults to `addon_dir` when it holds options.json (inside the add-on), else ./data; the
    options file defaults to DATA_DIR/options.json and may be absent unless named explicitly.
    """
    env = os.environ if environ is None else environ
    args = vars(build_parser().parse_args(argv))
    given: Raw = {}
    for option in _OPTIONS:
        name = env_name(option.key)
        if env.get(name):
            given[option.key] = (env[name], f"environment variable {name}")
    for key, value in args.items():
        if value is not None and value != "":
            given[key] = (value, f"--{key.replace('_', '-')}")

    if "data_dir" in given:
        data_dir = _path(*given.pop("data_dir"))
    else:
        data_dir = addon_dir if (addon_dir / OPTIONS_FILE_NAME).is_file() else Path("data")
    explicit = "options_file" in given
    options_file = _path(*given.pop("options_file")) if explicit else data_dir / OPTIONS_FILE_NAME
    from_file, warnings = _read_file(options_file, explicit)
    raw = from_file | given
    values = {key: _convert(raw, key) for key in raw}

    prefix = _get(values, "discovery_prefix", DEFAULT_DISCOVERY_PREFIX)
    base_topic = _get(values, "base_topic", DEFAULT_BASE_TOPIC)
    mqtt = values.get("mqtt_url")
    assert mqtt is None or isinstance(mqtt, MqttSettings)
    mqtt, note = _with_credentials(mqtt, values.get("mqtt_username"), values.get("mqtt_password"))
    warnings += [note] if note else []
    if mqtt is not None:
        mqtt = replace(mqtt, discovery_prefix=prefix, base_topic=base_topic)

    token = next((env[name] for name in SUPERVISOR_TOKEN_ENV if env.get(name)), None)
    register_secret(token)
    adapter = values.get("adapter")
    assert adapter is None or isinstance(adapter, str)
    return Options(
        data_dir=data_dir,
        adapter=adapter,
        log_level=_get(values, "log_level", LogLevel.INFO),
        mqtt=mqtt,
        discovery_prefix=prefix,
        base_topic=base_topic,
        port=_get(values, "port", DEFAULT_PORT),
        availability_timeout=_get(values, "availability_timeout", DEFAULT_AVAILABILITY_TIMEOUT),
        nuki_pair_as=_get(values, "nuki_pair_as", PairAs.BRIDGE),
        dev=_get(values, "dev", False),
        options_file=options_file if (explicit or options_file.is_file()) else None,
        supervisor_token=token,
        warnings=tuple(warnings),
    )


_T = TypeVar("_T")


def _with_credentials(
    mqtt: MqttSettings | None, username: object, password: object
) -> tuple[MqttSettings | None, str | None]:
    """Fill in mqtt_username/password when mqtt_url has no user; else a note why they're unused."""
    if username is None and password is None:
        return mqtt, None
    if mqtt is None:
        return mqtt, "mqtt_username and mqtt_password apply only together with mqtt_url; ignored."
    if mqtt.username is not None:
        return mqtt, "mqtt_url has its own user name; mqtt_username and mqtt_password are ignored."
    if not isinstance(username, str):
        return mqtt, "mqtt_password needs mqtt_username; ignored."
    secret = password if isinstance(password, str) else None
    return replace(mqtt, username=username, password=secret), None


def _get(values: Mapping[str, object], key: str, default: _T) -> _T:
    value = values.get(key, default)
    assert isinstance(value, type(default)), key  # each converter returns its option's type
    return value
