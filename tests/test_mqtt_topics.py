"""MQTT topics and the parsing of commands from HA: valid words, garbage, 1 MB, any bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.model import Capability, ValidationError
from ttlock_nuki_addon.mqtt.discovery import removal_topics
from ttlock_nuki_addon.mqtt.topics import (
    Action,
    ActionCommand,
    SettingCommand,
    Topics,
    is_ha_online,
    parse_command,
)

LOCK_ID = "aabbcc001122"
CMD = f"ttlock_nuki/{LOCK_ID}"


@pytest.mark.parametrize(
    ("topic", "payload", "wanted"),
    [
        (f"{CMD}/lock/set", b"UNLOCK", ActionCommand(LOCK_ID, Action.UNLOCK)),
        (f"{CMD}/lock/set", b"LOCK", ActionCommand(LOCK_ID, Action.LOCK)),
        (f"{CMD}/lock/set", b" open\n", ActionCommand(LOCK_ID, Action.OPEN)),
        (f"{CMD}/refresh/set", b"PRESS", ActionCommand(LOCK_ID, Action.REFRESH)),
        (f"{CMD}/lock_n_go/set", b"PRESS", ActionCommand(LOCK_ID, Action.LOCK_N_GO)),
        (f"{CMD}/auto_lock/set", b"30", ("auto_lock_seconds", 30)),
        (f"{CMD}/auto_lock/set", b"0", ("auto_lock_seconds", 0)),
        (f"{CMD}/auto_lock/set", b"65535.0", ("auto_lock_seconds", 65535)),
        (f"{CMD}/sound/set", b"OFF", ("sound", False)),
        (f"{CMD}/passage_mode/set", b"ON", ("passage_mode", True)),
        (f"{CMD}/led/set", b"ON", ("led", True)),
        (f"{CMD}/auto_unlatch/set", b"OFF", ("auto_unlatch", False)),
        (f"{CMD}/remote_unlock/set", b"ON", ("remote_unlock", True)),
        (f"{CMD}/state", b"UNLOCK", None),
        (f"{CMD}/bogus/set", b"UNLOCK", None),
        (f"{CMD}/lock/set/x", b"UNLOCK", None),
        ("ttlock_nuki/AABBCC001122/lock/set", b"UNLOCK", None),
        ("other/aabbcc001122/lock/set", b"UNLOCK", None),
        ("homeassistant/status", b"online", None),
    ],
)
def test_parse_command_accepts(topic: str, payload: bytes, wanted: object) -> None:
    got = parse_command(topic, payload)
    if isinstance(wanted, tuple):
        assert isinstance(got, SettingCommand) and got.lock_id == LOCK_ID
        assert got.update.changes() == dict([wanted])
    else:
        assert got == wanted


@pytest.mark.parametrize(
    ("target", "payload"),
    [
        ("lock", b""),
        ("lock", b"   "),
        ("lock", b"UNLATCH"),
        ("lock", b"\xff\xfe\x00garbage"),
        ("lock", b"\x00" * 4),
        ("lock", b"U" * 1_000_000),
        ("lock", b'{"action": "UNLOCK"}'),
        ("lock", "UNLOCK".encode("utf-16")),
        ("refresh", b"UNLOCK"),
        ("auto_lock", b"-1"),
        ("auto_lock", b"65536"),
        ("auto_lock", b"1e3"),
        ("auto_lock", b"3.5"),
        ("auto_lock", b"nan"),
        ("auto_lock", b"9" * 40),
        ("sound", b"TRUE"),
        ("sound", b"1"),
    ],
)
def test_parse_command_rejects(target: str, payload: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_command(f"{CMD}/{target}/set", payload)
    message = str(caught.value)
    assert message.endswith(".") and len(message) < 120


@given(st.text(max_size=80), st.binary(max_size=80))
def test_parse_command_never_raises_otherwise(topic: str, payload: bytes) -> None:
    for where in (topic, f"{CMD}/{topic}/set", f"{CMD}/lock/set"):
        try:
            got = parse_command(where, payload)
        except ValidationError:
            continue
        assert got is None or isinstance(got, ActionCommand | SettingCommand)


def test_topics_validate_and_remove() -> None:
    for bad in ("", "a/+/b", "a/#", "/a", "a/", "a b", "$SYS"):
        with pytest.raises(ValidationError):
            Topics(base=bad)
    with pytest.raises(ValidationError):
        Topics().state("AA:BB")
    topics = Topics(base="my/base", discovery_prefix="ha")
    assert topics.subscriptions == ("my/base/+/+/set", "ha/status")
    assert removal_topics(LOCK_ID, topics) == (
        f"ha/device/ttlock_nuki_{LOCK_ID}/config",
        f"my/base/{LOCK_ID}/state",
        f"my/base/{LOCK_ID}/availability",
    )
    assert parse_command(f"my/base/{LOCK_ID}/lock/set", b"LOCK", topics) is not None
    assert parse_command(f"{CMD}/lock/set", b"LOCK", topics) is None
    assert is_ha_online("ha/status", b"online", topics)
    assert not is_ha_online("ha/status", b"offline", topics)
    assert not is_ha_online("homeassistant/status", b"online", topics)


def test_commands_name_the_capability_they_need() -> None:
    wanted = {
        b"LOCK": Capability.LOCK,
        b"UNLOCK": Capability.UNLOCK,
        b"OPEN": Capability.OPEN,
    }
    for payload, cap in wanted.items():
        command = parse_command(f"{CMD}/lock/set", payload)
        assert command is not None and command.capability is cap
    settings = {
        "sound": Capability.SOUND,
        "passage_mode": Capability.PASSAGE_MODE,
        "led": Capability.LED,
        "auto_unlatch": Capability.AUTO_UNLATCH,
        "remote_unlock": Capability.REMOTE_UNLOCK,
    }
    for target, cap in settings.items():
        command = parse_command(f"{CMD}/{target}/set", b"ON")
        assert isinstance(command, SettingCommand) and command.capability is cap
    timer = parse_command(f"{CMD}/auto_lock/set", b"15")
    assert timer is not None and timer.capability is Capability.AUTO_LOCK
    refresh = parse_command(f"{CMD}/refresh/set", b"PRESS")
    assert refresh is not None and refresh.capability is None
    go = parse_command(f"{CMD}/lock_n_go/set", b"PRESS")
    assert go is not None and go.capability is Capability.LOCK_N_GO


def test_non_ascii_look_alikes_are_refused() -> None:
    # "\u017f" (long s) upper-cases to "S": only ASCII words are folded to upper case.
    with pytest.raises(ValidationError):
        parse_command(f"{CMD}/refresh/set", "pre\u017f\u017f".encode())
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "unlock")
    with pytest.raises(ValidationError):
        parse_command(f"{CMD}/lock/set", fullwidth.encode())
