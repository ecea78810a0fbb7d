"""`python -m ttlock_nuki_addon` as a subprocess: a real mosquitto, the simulated world with one
paired virtual TTLock and one paired virtual Nuki; discovery, commands, events, reconnects,
malformed input, SIGTERM and a secret scan of all traffic and logs. Plus the composition root
in-process: bad options, signals, running without a broker, secrets of the store."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import signal
import stat
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from app_rig import NUKI_ID, TOPICS, TT_ID, TT_PIN, AppRig, Message, wait_until
from mosquitto import retained
from test_mqtt_discovery import REQUIRED, expected_keys

from ttlock_nuki_addon import app
from ttlock_nuki_addon.ble.scanner import Scanner
from ttlock_nuki_addon.log_redact import REDACTED, SECRETS
from ttlock_nuki_addon.mqtt.topics import Target
from ttlock_nuki_addon.options import load_options
from ttlock_nuki_addon.params import PairAs
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.snapshot import Brand
from ttlock_nuki_addon.store import Store

pytestmark = pytest.mark.timeout(240)
IDS = (TT_ID, NUKI_ID)
ONLINE, OFFLINE = b"online", b"offline"
SETTLE = 2.0  # how long "nothing more happens" is watched for


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppRig]:
    """One add-on process for the whole module, started after both locks were paired."""
    rig = AppRig(tmp_path_factory.mktemp("app"))
    try:
        rig.setup()
        yield rig
    finally:
        rig.close()


def last(rig: AppRig, topic: str) -> bytes | None:
    found = rig.recorder.on(topic)
    return found[-1].payload if found else None


def lock_states(rig: AppRig, lock_id: str, since: int) -> list[str | None]:
    return [state["lock"] for state in rig.recorder.states(lock_id, since)]


def wait_for_state(rig: AppRig, lock_id: str, since: int, want: str) -> list[str | None]:
    """The lock states published from `since` once `want` is among them."""

    def reached() -> list[str | None]:
        states = lock_states(rig, lock_id, since)
        return states if want in states else []

    return wait_until(reached, what=f"{lock_id} state {want}")


def all_online(rig: AppRig) -> bool:
    topics = [TOPICS.bridge_availability, *(TOPICS.availability(i) for i in IDS)]
    return all(last(rig, topic) == ONLINE for topic in topics) and all(
        rig.recorder.states(i) for i in IDS
    )


def held(rig: AppRig) -> dict[str, bytes]:
    """What the broker holds retained under the discovery prefix and the base topic."""
    return rig.run(retained(rig.broker, f"{TOPICS.discovery_prefix}/#", f"{TOPICS.base}/#"))


def complete(found: dict[str, bytes]) -> bool:
    wanted = [TOPICS.bridge_availability, *(TOPICS.availability(i) for i in IDS)]
    return all(found.get(topic) == ONLINE for topic in wanted) and all(
        TOPICS.discovery(i) in found and TOPICS.state(i) in found for i in IDS
    )


# --- discovery -------------------------------------------------------------------------------


def test_discovery_is_retained_one_message_per_lock_and_every_lock_is_online(rig: AppRig) -> None:
    wait_until(lambda: all_online(rig), what="both locks online")
    found = held(rig)
    assert complete(found)
    discovery = {t for t in found if t.startswith(f"{TOPICS.discovery_prefix}/device/")}
    assert discovery == {TOPICS.discovery(lock_id) for lock_id in IDS}
    for lock_id in IDS:
        payload = json.loads(found[TOPICS.discovery(lock_id)])
        assert set(payload) == {"dev", "o", "cmps"}
        assert payload["dev"]["identifiers"] == [f"ttlock_nuki_{lock_id}"]
        components = payload["cmps"]
        assert set(components) == expected_keys(rig.capabilities[lock_id])
        for key, config in components.items():
            assert REQUIRED[config["p"]] | {"p", "unique_id"} <= set(config), key
        assert ("payload_open" in components["lock"]) == (lock_id == NUKI_ID)
    tt_state = json.loads(found[TOPICS.state(TT_ID)])
    assert tt_state["lock"] == "LOCKED" and tt_state["available"] is True


# --- commands ----------------------------------------------------------------------------------


def test_unlock_and_lock_from_ha_move_the_ttlock_and_show_the_way(rig: AppRig) -> None:
    wait_until(lambda: all_online(rig), what="both locks online")
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "UNLOCK")
    states = wait_for_state(rig, TT_ID, mark, "UNLOCKED")
    assert "UNLOCKING" in states and states.index("UNLOCKING") < states.index("UNLOCKED")
    assert rig.call(lambda: rig.rig.ttlock.unlocked) is True

    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "LOCK")
    states = wait_for_state(rig, TT_ID, mark, "LOCKED")
    assert "LOCKING" in states and states.index("LOCKING") < states.index("LOCKED")
    assert rig.call(lambda: rig.rig.ttlock.unlocked) is False


def test_open_from_ha_unlatches_the_nuki(rig: AppRig) -> None:
    mark = rig.recorder.mark()
    rig.command(NUKI_ID, Target.LOCK, "OPEN")
    states = wait_for_state(rig, NUKI_ID, mark, "OPEN")
    assert "OPENING" in states and states.index("OPENING") < states.index("OPEN")
    notes = rig.call(lambda: list(rig.rig.nuki.core.notes))
    assert any(note.startswith("motor: unlatch") for note in notes)


def test_an_auto_lock_relock_is_reported(rig: AppRig) -> None:
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.AUTO_LOCK, "2")
    wait_until(lambda: any(s["auto_lock"] == 2 for s in rig.recorder.states(TT_ID, mark)))
    assert rig.call(lambda: rig.rig.ttlock.memory.settings.auto_lock_seconds) == 2

    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "UNLOCK")
    states = wait_for_state(rig, TT_ID, mark, "UNLOCKED")

    def auto_locked() -> list[dict[str, Any]]:
        events = rig.recorder.events(TT_ID, mark)
        return [e for e in events if (e["event_type"], e["source"]) == ("locked", "auto")]

    relocked = wait_until(auto_locked, what="the auto-lock event")
    assert len(relocked) == 1
    states = wait_for_state(rig, TT_ID, mark, "LOCKED")
    assert states.index("UNLOCKED") < len(states) - 1 - states[::-1].index("LOCKED")
    assert rig.call(lambda: rig.rig.ttlock.unlocked) is False

    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.AUTO_LOCK, "0")
    wait_until(lambda: any(s["auto_lock"] == 0 for s in rig.recorder.states(TT_ID, mark)))


def test_a_pin_typed_on_the_keypad_gives_one_event_with_its_name(rig: AppRig) -> None:
    mark = rig.recorder.mark()
    assert rig.call(lambda: rig.rig.ttlock.enter_pin(TT_PIN + "#")) is not None

    def keypad() -> list[dict[str, Any]]:
        return [e for e in rig.recorder.events(TT_ID, mark) if e["source"] == "keypad"]

    (event,) = wait_until(keypad, what="the keypad event")
    assert (event["event_type"], event["credential_name"]) == ("unlocked", "Alice")
    assert event["credential_id"]
    time.sleep(SETTLE)
    assert len(keypad()) == 1
    assert not [m for m in rig.recorder.on(TOPICS.event(TT_ID), mark) if m.retain]
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "LOCK")
    wait_for_state(rig, TT_ID, mark, "LOCKED")


def test_battery_falling_in_the_adverts_reaches_the_battery_sensor(rig: AppRig) -> None:
    mark = rig.recorder.mark()
    rig.call(lambda: rig.rig.ttlock.set_battery(17))
    wait_until(
        lambda: any(s["battery"] == 17 for s in rig.recorder.states(TT_ID, mark)),
        what="battery 17",
    )


BAD_PAYLOADS = (
    b"",
    b"   ",
    b"unlock please",
    b"DESTROY",
    b"\xff\xfe\x00\x80garbage",
    b'{"state": "UNLOCK"',
    b"U" * 1_000_000,
)


def test_malformed_commands_change_nothing_and_the_addon_keeps_serving(rig: AppRig) -> None:
    def bolts() -> tuple[bool, int]:
        return rig.rig.ttlock.unlocked, int(rig.rig.nuki.core.lock_state)

    before = rig.call(bolts)
    mark = rig.recorder.mark()
    ignored_before = rig.addon_output().count("Ignored a command")
    for lock_id in IDS:
        for payload in BAD_PAYLOADS:
            rig.command(lock_id, Target.LOCK, payload)
    rig.command(TT_ID, Target.AUTO_LOCK, b"-5")
    rig.command(TT_ID, Target.AUTO_LOCK, b"9" * 40)
    rig.run(rig.recorder.publish(f"{TOPICS.base}/{TT_ID}/self_destruct/set", b"PRESS"))
    rig.run(rig.recorder.publish(f"{TOPICS.base}/000000000000/lock/set", b"UNLOCK"))
    # A probe after them all (one client, QoS 1: handled in order): HA's birth republishes.
    probe = rig.recorder.mark()
    rig.run(rig.recorder.publish(TOPICS.ha_status, "online"))
    wait_until(lambda: all(rig.recorder.on(TOPICS.discovery(i), probe) for i in IDS))
    time.sleep(SETTLE)

    assert rig.call(bolts) == before
    moving = {"LOCKING", "UNLOCKING", "OPENING"}
    for lock_id in IDS:
        assert not moving & set(lock_states(rig, lock_id, mark))
    ignored = rig.addon_output().count("Ignored a command") - ignored_before
    assert ignored >= len(BAD_PAYLOADS) * len(IDS) + 2
    assert rig.addon is not None and rig.addon.running

    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "UNLOCK")
    wait_for_state(rig, TT_ID, mark, "UNLOCKED")
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "LOCK")
    wait_for_state(rig, TT_ID, mark, "LOCKED")


# --- Home Assistant and the broker coming and going --------------------------------------------


def test_ha_birth_message_republishes_discovery_availability_and_state(rig: AppRig) -> None:
    mark = rig.recorder.mark()
    rig.run(rig.recorder.publish(TOPICS.ha_status, "online"))
    for lock_id in IDS:
        for topic in (
            TOPICS.discovery(lock_id),
            TOPICS.availability(lock_id),
            TOPICS.state(lock_id),
        ):
            wait_until(partial(rig.recorder.on, topic, mark), what=topic)
    assert last(rig, TOPICS.availability(TT_ID)) == ONLINE
    mark = rig.recorder.mark()
    rig.run(rig.recorder.publish(TOPICS.ha_status, "offline"))
    time.sleep(SETTLE)
    assert not rig.recorder.on(TOPICS.discovery(TT_ID), mark)


def test_broker_restart_the_addon_reconnects_and_republishes(rig: AppRig) -> None:
    rig.run(rig.broker.restart())
    restarted = time.monotonic()
    wait_until(lambda: complete(held(rig)), timeout=10.0, what="republished after the restart")
    took = time.monotonic() - restarted
    logging.getLogger(__name__).info("republished %.2f s after the broker came back", took)
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "UNLOCK")
    wait_for_state(rig, TT_ID, mark, "UNLOCKED")
    mark = rig.recorder.mark()
    rig.command(TT_ID, Target.LOCK, "LOCK")
    wait_for_state(rig, TT_ID, mark, "LOCKED")


def test_sigterm_publishes_offline_closes_the_links_and_exits_0(rig: AppRig) -> None:
    assert rig.addon is not None
    mark = rig.recorder.mark()
    assert rig.addon.terminate() == 0
    assert held(rig).get(TOPICS.bridge_availability) == OFFLINE
    assert [m.payload for m in rig.recorder.on(TOPICS.bridge_availability, mark)] == [OFFLINE]
    assert rig.call(lambda: (rig.rig.ttlock.connected, rig.rig.nuki.connected)) == (False, False)
    output = rig.addon_output()
    assert "Received SIGTERM; stopping" in output and "Stopped" in output
    assert "Traceback" not in output
    assert "still ran after the stop" not in output
    assert output.count("No MQTT broker") == 0
    assert rig.thread.errors == []


# --- no secret anywhere ------------------------------------------------------------------------


def spellings(value: object) -> list[re.Pattern[str]]:
    """Patterns for a secret's hex (either case), base64 and decimal spellings."""
    forms: list[str] = []
    numbers: list[str] = []
    if isinstance(value, bytes):
        forms += [value.hex(), base64.b64encode(value).decode().rstrip("=")]
        forms.append(base64.urlsafe_b64encode(value).decode().rstrip("="))
        numbers += [str(int.from_bytes(value, order)) for order in ("big", "little")]
    elif isinstance(value, int):
        numbers.append(str(value))
        width = 2 if value <= 0xFFFF else 4
        raw = value.to_bytes(width, "big")
        if width == 4:  # 2-byte hex (4 digits) occurs by chance in logged frames
            forms += [raw.hex(), raw[::-1].hex()]
    else:
        assert isinstance(value, str)
        numbers.append(value)
    patterns = [re.compile(re.escape(form), re.IGNORECASE) for form in forms]
    patterns += [re.compile(rf"(?<![0-9]){re.escape(number)}(?![0-9])") for number in numbers]
    return patterns


def test_no_secret_of_the_store_in_any_mqtt_message_or_log(rig: AppRig) -> None:
    found = rig.secrets()
    assert {"ttlock aes_key", "nuki shared_key", "nuki security_pin"} <= set(found)
    assert TT_PIN in found.values()
    ours = {topic for topic, _ in rig.recorder.sent}
    messages: list[Message] = [
        m for m in rig.recorder.messages if m.topic not in ours and not m.topic.startswith("test/")
    ]  # what the add-on published
    texts = [m.topic + "\n" + m.payload.decode("latin-1") for m in messages]
    texts.append(rig.addon_output())
    assert len(messages) > 10
    for name, value in found.items():
        for pattern in spellings(value):
            leaks = [text for text in texts if pattern.search(text)]
            assert not leaks, f"{name} appears as {pattern.pattern!r}"


# --- the composition root in-process -------------------------------------------------------------


def test_a_bad_option_exits_2_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(["--data-dir", str(tmp_path), "--port", "http"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--port" in err and "port number" in err


def test_a_second_signal_while_stopping_exits_at_once(caplog: pytest.LogCaptureFixture) -> None:
    stop, codes = asyncio.Event(), list[int]()
    signals = app.Signals(stop, exit_now=codes.append)
    with caplog.at_level(logging.INFO, logger="ttlock_nuki_addon"):
        signals.on_signal(signal.SIGTERM)
        assert stop.is_set() and codes == []
        signals.on_signal(signal.SIGINT)
    assert codes == [130]
    assert "Received SIGINT again while stopping; exiting at once" in caplog.text


def test_store_secrets_are_registered_when_read_and_written(tmp_path: Path) -> None:
    key, shared = secrets.token_bytes(16), secrets.token_bytes(32)
    admin_ps, pin, code = secrets.randbits(32) | 1 << 31, 40000 + secrets.randbelow(20000), "7364"
    store = app.SecretStore(tmp_path)
    store.put_lock("aa", {"brand": "ttlock", "aes_key": key.hex(), "admin_ps": admin_ps})
    assert SECRETS.redact(f"k={key.hex().upper()} ps={admin_ps}") == f"k={REDACTED} ps={REDACTED}"
    record = {"brand": "nuki", "shared_key": shared.hex(), "security_pin": pin}
    record["credentials"] = {"pin": {"pin-1": {"name": "Bob", "code": "0" + code}}}
    Store(tmp_path).put_lock("bb", record)  # written behind the add-on's back: found on load
    assert SECRETS.redact(base64.b64encode(shared).decode()) != REDACTED
    app.SecretStore(tmp_path).load()
    assert SECRETS.redact(base64.b64encode(shared).decode()) == REDACTED
    assert SECRETS.redact(f"pin {pin} code 0{code}") == f"pin {REDACTED} code {REDACTED}"


async def test_without_a_broker_the_addon_runs_panel_only_and_stops_clean(
    sim_world: SimWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "new" / "data"
    options = load_options(
        ["--data-dir", str(data), "--log-level", "debug", "--port", "0"],
        {},
        addon_dir=tmp_path / "none",
    )
    assert options.mqtt is None and not options.in_addon
    addon = app.Addon(options, scanner=Scanner())
    assert addon.pairing_params(Brand.NUKI, "Door", "1234").pair_as is options.nuki_pair_as
    assert addon.pairing_params(Brand.NUKI, pair_as=PairAs.APP).pair_as is PairAs.APP
    stop = asyncio.Event()
    with caplog.at_level(logging.DEBUG):
        running = asyncio.create_task(app.serve(addon, stop))
        async with asyncio.timeout(20):
            while not addon.manager.scanning or "Running" not in caplog.text:
                await asyncio.sleep(0.02)
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert addon.bridge is None  # the panel runs without a broker
        assert [type(service).__name__ for service in addon.services] == ["WebPanel"]
        stop.set()
        assert await asyncio.wait_for(running, 20) == 0
    assert caplog.text.count("running without MQTT") == 1
    assert "Stopped" in caplog.text
    assert app.own_tasks() == []
    assert not addon.scanner.running


async def test_an_unusable_store_stops_the_start_with_exit_1(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "store.json").write_text("{ not json")
    options = load_options(
        ["--data-dir", str(tmp_path), "--port", "0"], {}, addon_dir=tmp_path / "none"
    )
    addon = app.Addon(options, scanner=Scanner())
    with caplog.at_level(logging.INFO):
        assert await asyncio.wait_for(app.serve(addon, asyncio.Event()), 20) == 1
    assert "Cannot start: The saved data in" in caplog.text and "Traceback" not in caplog.text
    assert not addon.scanner.running and app.own_tasks() == []


async def test_a_stop_during_the_start_stops_cleanly(tmp_path: Path) -> None:
    options = load_options(
        ["--data-dir", str(tmp_path), "--port", "0"], {}, addon_dir=tmp_path / "none"
    )
    addon = app.Addon(options, scanner=Scanner())
    stop = asyncio.Event()
    stop.set()
    assert await asyncio.wait_for(app.serve(addon, stop), 20) == 0
    assert not addon.scanner.running and app.own_tasks() == []
