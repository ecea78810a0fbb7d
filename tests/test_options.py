"""Options: defaults < options.json < environment < CLI flags; clear errors naming the option."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ttlock_nuki_addon import log_redact
from ttlock_nuki_addon.broker import MqttSettings
from ttlock_nuki_addon.log_redact import REDACTED, LogLevel
from ttlock_nuki_addon.options import (
    ADDON_DEFAULTS,
    ADDON_SCHEMA,
    Options,
    OptionsError,
    build_parser,
    env_name,
    load_options,
)
from ttlock_nuki_addon.params import PairAs


@pytest.fixture(autouse=True, scope="module")
def private_secrets() -> Iterator[None]:
    """Secrets registered by these tests stay out of the process-wide registry."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(log_redact, "SECRETS", log_redact.SecretRegistry())
        yield


@pytest.fixture
def addon_dir(tmp_path: Path) -> Path:
    """A stand-in for /data that holds no options.json unless a test writes one."""
    path = tmp_path / "addon"
    path.mkdir()
    return path


def write(path: Path, options: Any) -> Path:
    """Write `options` as JSON (or raw text) to `path`."""
    path.write_text(options if isinstance(options, str) else json.dumps(options))
    return path


def load(
    addon_dir: Path, argv: list[str] | None = None, env: dict[str, str] | None = None
) -> Options:
    """load_options with a private /data and environment."""
    return load_options(argv or [], env or {}, addon_dir=addon_dir)


def test_defaults_outside_the_addon(addon_dir: Path) -> None:
    options = load(addon_dir)
    assert options == Options(data_dir=Path("data"))
    assert options.log_level is LogLevel.INFO
    assert options.port == 8099
    assert options.availability_timeout == 300.0
    assert options.nuki_pair_as is PairAs.BRIDGE
    assert options.mqtt is None
    assert not options.dev
    assert not options.in_addon
    assert options.discovery_prefix == "homeassistant"
    assert options.base_topic == "ttlock_nuki"


def test_inside_the_addon_reads_data_options_json(addon_dir: Path) -> None:
    file = write(
        addon_dir / "options.json",
        {
            "log_level": "debug",
            "adapter": "hci1",
            "availability_timeout": 120,
            "nuki_pair_as": "app",
            "mqtt_url": "mqtts://addons:p%40ss@core-mosquitto",
            "discovery_prefix": "ha",
            "base_topic": "locks/ble",
        },
    )
    options = load(addon_dir, env={"SUPERVISOR_TOKEN": "tok-0a9f3c7e"})
    assert options.data_dir == addon_dir
    assert options.options_file == file
    assert options.log_level is LogLevel.DEBUG
    assert options.adapter == "hci1"
    assert options.availability_timeout == 120.0
    assert options.nuki_pair_as is PairAs.APP
    assert options.in_addon
    assert options.mqtt == MqttSettings(
        host="core-mosquitto",
        port=8883,
        username="addons",
        password="p@ss",
        tls=True,
        discovery_prefix="ha",
        base_topic="locks/ble",
    )


PRECEDENCE = [
    (
        "log_level",
        "debug",
        "warning",
        ["--log-level", "error"],
        "log_level",
        ["debug", "warning", "error"],
    ),
    ("adapter", "hci1", "hci2", ["--adapter", "hci3"], "adapter", ["hci1", "hci2", "hci3"]),
    (
        "availability_timeout",
        60,
        "90.5",
        ["--availability-timeout", "600"],
        "availability_timeout",
        [60.0, 90.5, 600.0],
    ),
    (
        "nuki_pair_as",
        "app",
        "bridge",
        ["--nuki-pair-as", "APP"],
        "nuki_pair_as",
        ["app", "bridge", "app"],
    ),
    ("base_topic", "a", "b/c", ["--base-topic", "d"], "base_topic", ["a", "b/c", "d"]),
    (
        "mqtt_url",
        "mqtt://file-host",
        "mqtt://env-host:1884",
        ["--mqtt-url", "mqtts://cli-host"],
        "mqtt",
        [
            MqttSettings(host="file-host"),
            MqttSettings(host="env-host", port=1884),
            MqttSettings(host="cli-host", port=8883, tls=True),
        ],
    ),
]


@pytest.mark.parametrize(("key", "in_file", "in_env", "argv", "attr", "expected"), PRECEDENCE)
def test_later_source_wins(
    addon_dir: Path,
    key: str,
    in_file: object,
    in_env: str,
    argv: list[str],
    attr: str,
    expected: list[object],
) -> None:
    write(addon_dir / "options.json", {key: in_file})
    env = {env_name(key): in_env}
    assert getattr(load(addon_dir), attr) == expected[0]
    assert getattr(load(addon_dir, env=env), attr) == expected[1]
    assert getattr(load(addon_dir, argv, env), attr) == expected[2]
    # An empty value in a later source counts as not given.
    assert getattr(load(addon_dir, env={env_name(key): ""}), attr) == expected[0]


def test_data_dir_and_options_file_sources(addon_dir: Path, tmp_path: Path) -> None:
    write(addon_dir / "options.json", {"log_level": "error"})
    mine = tmp_path / "mine"
    mine.mkdir()
    write(mine / "options.json", {"log_level": "debug"})
    other = write(tmp_path / "other.json", {"log_level": "warning"})

    by_env = load(addon_dir, env={"TTLOCK_NUKI_DATA_DIR": str(mine)})
    assert (by_env.data_dir, by_env.log_level) == (mine, LogLevel.DEBUG)
    by_flag = load(addon_dir, ["--data-dir", str(mine)], {"TTLOCK_NUKI_DATA_DIR": "/nowhere"})
    assert (by_flag.data_dir, by_flag.options_file) == (mine, mine / "options.json")
    named = load(addon_dir, ["--data-dir", str(mine), "--options-file", str(other)])
    assert (named.data_dir, named.log_level, named.options_file) == (
        mine,
        LogLevel.WARNING,
        other,
    )
    by_env_file = load(addon_dir, env={"TTLOCK_NUKI_OPTIONS_FILE": str(other)})
    assert (by_env_file.data_dir, by_env_file.log_level) == (addon_dir, LogLevel.WARNING)


def test_named_options_file_must_exist(addon_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(OptionsError, match=re.escape(f"The options file {missing} does not exist")):
        load(addon_dir, ["--options-file", str(missing)])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"log_level": "debug",}', "is not valid JSON: Expecting property name"),
        ("log_level: debug", "is not valid JSON"),
        ('["log_level"]', "must hold a JSON object"),
        ("", "is not valid JSON"),
    ],
)
def test_unreadable_options_file(addon_dir: Path, text: str, reason: str) -> None:
    path = write(addon_dir / "options.json", text)
    with pytest.raises(OptionsError, match=re.escape(f"The options file {path} {reason}")):
        load(addon_dir)


def test_options_file_that_is_not_text_or_not_a_file(addon_dir: Path, tmp_path: Path) -> None:
    (addon_dir / "options.json").write_bytes(b'{"log_level": "\xff"}')
    with pytest.raises(OptionsError, match="is not UTF-8 text"):
        load(addon_dir)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(OptionsError, match=f"The options file {folder} cannot be read"):
        load(addon_dir, ["--options-file", str(folder)])


@pytest.mark.parametrize(
    ("key", "value", "must"),
    [
        ("log_level", 3, "must be one of trace, debug, info, notice, warning, error, fatal, not 3"),
        ("log_level", "verbose", "must be one of trace, debug"),
        ("availability_timeout", "soon", "must be a number of seconds from 1 to 86400"),
        ("availability_timeout", True, "must be a number of seconds"),
        ("availability_timeout", 0, "must be a number of seconds"),
        ("availability_timeout", [], "must be a number of seconds"),
        ("adapter", "bluetooth0", "must be a Bluetooth adapter name like hci0"),
        ("adapter", 0, "must be a Bluetooth adapter name"),
        ("nuki_pair_as", "hub", "must be one of bridge, app, not 'hub'"),
        ("discovery_prefix", "ha/#", "must be an MQTT topic"),
        ("base_topic", "/locks", "must be an MQTT topic"),
        ("base_topic", "a//b", "must be an MQTT topic"),
        ("mqtt_url", 5, "must be a URL like mqtt://"),
        ("mqtt_url", "http://broker", "must start with mqtt:// or mqtts://"),
        ("mqtt_username", 5, "must be a string"),
    ],
)
def test_bad_option_in_file_names_the_option(
    addon_dir: Path, key: str, value: object, must: str
) -> None:
    path = write(addon_dir / "options.json", {"log_level": "info", key: value})
    with pytest.raises(OptionsError) as caught:
        load(addon_dir)
    assert str(caught.value).startswith(f"Option '{key}' in {path} ")
    assert must in str(caught.value)


def test_unknown_and_unset_keys_in_file_are_not_fatal(addon_dir: Path) -> None:
    path = write(
        addon_dir / "options.json",
        {"log_level": "debug", "old_option": 1, "port": 1234, "adapter": None, "mqtt_url": ""},
    )
    options = load(addon_dir)
    assert options.log_level is LogLevel.DEBUG
    assert options.port == 8099  # the web port is not an add-on option
    assert options.adapter is None
    assert options.mqtt is None
    assert options.warnings == (
        f"Option 'old_option' in {path} is not known and was ignored.",
        f"Option 'port' in {path} is not known and was ignored.",
    )


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"TTLOCK_NUKI_PORT": "http"}, [], "Environment variable TTLOCK_NUKI_PORT must be a port"),
        ({}, ["--port", "70000"], "--port must be a port number from 0 (any free port) to 65535"),
        ({"TTLOCK_NUKI_DEV": "maybe"}, [], "Environment variable TTLOCK_NUKI_DEV must be true or"),
        ({}, ["--log-level", "loud"], "--log-level must be one of trace"),
        ({}, ["--availability-timeout", "inf"], "--availability-timeout must be a number"),
        ({}, ["--mqtt-url", "mqtt://"], "--mqtt-url names no broker host"),
        ({"TTLOCK_NUKI_DISCOVERY_PREFIX": "a+b"}, [], "TTLOCK_NUKI_DISCOVERY_PREFIX must be"),
    ],
)
def test_bad_environment_and_flags_name_their_source(
    addon_dir: Path, env: dict[str, str], argv: list[str], message: str
) -> None:
    with pytest.raises(OptionsError, match=re.escape(message)):
        load(addon_dir, argv, env)


def test_web_port_and_dev_flag(addon_dir: Path) -> None:
    assert load(addon_dir, ["--port", "0", "--dev"]).port == 0
    assert load(addon_dir, ["--dev"]).dev
    assert load(addon_dir, env={"TTLOCK_NUKI_DEV": "yes", "TTLOCK_NUKI_PORT": "18099"}) == Options(
        data_dir=Path("data"), dev=True, port=18099
    )
    assert not load(addon_dir, env={"TTLOCK_NUKI_DEV": "off"}).dev


def test_credentials_fill_in_a_url_without_user(addon_dir: Path) -> None:
    write(
        addon_dir / "options.json",
        {"mqtt_url": "mqtt://broker", "mqtt_username": "me", "mqtt_password": "pw-5e1b77d2"},
    )
    options = load(addon_dir)
    assert options.mqtt == MqttSettings(host="broker", username="me", password="pw-5e1b77d2")
    assert options.warnings == ()
    assert log_redact.SECRETS.redact("pw-5e1b77d2") == REDACTED


@pytest.mark.parametrize(
    ("options", "warning"),
    [
        ({"mqtt_username": "me"}, "apply only together with mqtt_url"),
        ({"mqtt_url": "mqtt://u:p@b", "mqtt_username": "me"}, "mqtt_url has its own user name"),
        ({"mqtt_url": "mqtt://b", "mqtt_password": "x"}, "mqtt_password needs mqtt_username"),
    ],
)
def test_unused_credentials_warn(addon_dir: Path, options: dict[str, str], warning: str) -> None:
    write(addon_dir / "options.json", options)
    loaded = load(addon_dir)
    assert len(loaded.warnings) == 1
    assert warning in loaded.warnings[0]
    assert loaded.mqtt is None or loaded.mqtt.username != "me"


def test_secrets_stay_out_of_repr_and_logs(addon_dir: Path) -> None:
    password, token = "Pw-c6f0e11b93", "token-41d7a0e5b6"
    options = load(
        addon_dir, ["--mqtt-url", f"mqtt://user:{password}@broker"], {"HASSIO_TOKEN": token}
    )
    assert options.supervisor_token == token
    assert options.mqtt is not None
    assert options.mqtt.password == password
    for text in (repr(options), str(options), repr(options.mqtt), options.mqtt.url):
        assert password not in text
        assert token not in text
    assert options.mqtt.url == "mqtt://user@broker:1883"
    assert log_redact.SECRETS.redact(f"{password} {token}") == f"{REDACTED} {REDACTED}"


def test_addon_schema_matches_the_options_file_keys(addon_dir: Path) -> None:
    assert set(ADDON_SCHEMA) == {
        "log_level",
        "adapter",
        "mqtt_url",
        "mqtt_username",
        "mqtt_password",
        "discovery_prefix",
        "base_topic",
        "availability_timeout",
        "nuki_pair_as",
    }
    ha_type = re.compile(r"(str|password|int\(\d+,\d+\)|list\([a-z|]+\)|match\(.+\))\??")
    assert all(ha_type.fullmatch(kind) for kind in ADDON_SCHEMA.values())
    assert ADDON_SCHEMA["log_level"] == "list(" + "|".join(LogLevel) + ")"
    # The config.yaml defaults load to the built-in defaults, with no warnings.
    write(addon_dir / "options.json", ADDON_DEFAULTS)
    assert load(addon_dir) == Options(data_dir=addon_dir, options_file=addon_dir / "options.json")


def test_help_names_every_flag_and_variable(capsys: pytest.CaptureFixture[str]) -> None:
    text = build_parser().format_help()
    squeezed = re.sub(r"\s+", "", text)
    for flag in ("data-dir", "options-file", "mqtt-url", "port", "log-level", "adapter", "dev"):
        assert f"--{flag}" in text
        assert env_name(flag.replace("-", "_")) in squeezed
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["--version"])
    assert stop.value.code == 0
    with pytest.raises(SystemExit) as stop:
        load_options(["--mqtt-password", "x"], {})
    assert stop.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
