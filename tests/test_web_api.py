"""The websocket API against the real LockManager and both virtual locks of the simulated world."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from manager_rig import NUKI_ADDRESS, NUKI_ID, NUKI_PIN, TT_ADDRESS, TT_ID, WAIT, wait_for
from support import LogCollector
from web_rig import USER_HEADERS, VERSION, Client, PanelRig, panel_rig

from ttlock_nuki_addon.app import record_secrets
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.web import Limits

pytestmark = pytest.mark.timeout(120)
WEEKLY = {
    "type": "weekly",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "from_time": "08:00",
    "until_time": "17:00",
    "from": None,
    "until": None,
}
PERIOD = {"type": "period", "from": "2030-01-01T08:00", "until": "2030-12-31T18:00"}
PASSPHRASE = "correct horse battery"


@pytest.fixture
async def web(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[PanelRig]:
    """A panel (dev mode) over a started manager with no lock paired yet; no bug is logged."""
    logs = LogCollector()
    logger = logging.getLogger("ttlock_nuki_addon")
    logger.addHandler(logs)
    try:
        async with panel_rig(sim_world, tmp_path) as rig:
            await rig.start()
            yield rig
    finally:
        logger.removeHandler(logs)
    assert not [line for line in logs.lines if "Traceback" in line or "unexpectedly" in line]


def manager_of(web: PanelRig) -> LockManager:
    assert web.manager is not None
    return web.manager


async def paired_ttlock(web: PanelRig) -> LockManager:
    manager = manager_of(web)
    await web.rig.pair_ttlock(manager)
    return manager


def bolt(web: PanelRig) -> str:
    """The virtual TTLock's bolt as the simulator sees it."""
    return "unlocked" if web.rig.ttlock.unlocked else "locked"


def assert_no_secrets(web: PanelRig, *clients: Client) -> None:
    """No stored secret (keys, admin codes, security PIN) in any frame the clients received."""
    frames = "\n".join(frame for client in clients for frame in client.frames)
    for lock_id in web.rig.store.lock_ids():
        record = web.rig.store.get_lock(lock_id) or {}
        pins = {
            entry.get("code")
            for entry in ((record.get("credentials") or {}).get("pin") or {}).values()  # type: ignore[union-attr]
            if isinstance(entry, dict)
        }
        for value, _width in record_secrets(record):
            if isinstance(value, str) and value in pins:
                continue  # PIN credential codes are shown to the panel's admins on purpose
            shown = value.hex() if isinstance(value, bytes) else str(value)
            if len(shown) >= 6:
                assert shown.lower() not in frames.lower(), f"a secret of {lock_id} was sent"


# --- pairing and the bolt --------------------------------------------------------------------


async def test_hello_scan_pair_drive_rename_and_remove_a_ttlock(web: PanelRig) -> None:
    client = await web.connect(headers=USER_HEADERS)
    name, hello = client.pushes[0]
    assert name == "hello"
    assert hello["version"] == VERSION and hello["locks"] == []
    assert hello["user"] == {"id": "a1b2c3", "name": "alice", "display_name": "Alice Admin"}
    assert set(hello) >= {"scanning", "discoveries", "scan"}
    assert await client.ok("locks.list") == []

    state = await client.ok("scan.start", seconds=30)
    assert state["discovering"] is True and state["until"] is not None
    assert set(state) == {"scanning", "discovering", "until", "error"}
    await client.push("scan.state", lambda d: d["discovering"])
    web.rig.ttlock.touch()
    found = await client.push(
        "discovery.updated", lambda d: any(x["address"] == TT_ADDRESS and x["pairable"] for x in d)
    )
    assert {"address", "brand", "name", "model", "rssi", "pairable", "hint"} == set(found[0])
    assert any(x["address"] == TT_ADDRESS for x in await client.ok("discovery.list"))

    snapshot = await client.ok(
        "lock.pair", timeout=60, address=TT_ADDRESS.lower(), brand="ttlock", name="Front door"
    )
    assert (snapshot["id"], snapshot["name"], snapshot["brand"]) == (TT_ID, "Front door", "ttlock")
    await client.push("lock.added", lambda d: d["id"] == TT_ID)
    stopped = await client.ok("scan.stop")
    assert stopped["discovering"] is False and stopped["until"] is None
    assert [lock["id"] for lock in await client.ok("locks.list")] == [TT_ID]
    again = await client.error("lock.pair", address=TT_ADDRESS, brand="ttlock")
    assert again["code"] == "pairing"

    since = len(client.pushes)
    assert (await client.ok("lock.unlock", lock_id=TT_ID))["status"] == "unlocked"
    assert bolt(web) == "unlocked"
    await client.push("lock.updated", lambda d: d["status"] == "unlocked", since)
    assert (await client.ok("lock.lock", lock_id=TT_ID))["status"] == "locked"
    assert bolt(web) == "locked"
    assert (await client.ok("lock.refresh", lock_id=TT_ID))["id"] == TT_ID
    assert (await client.error("lock.open", lock_id=TT_ID))["code"] == "not_supported"
    assert (await client.error("lock.set_pin", lock_id=TT_ID, pin="1234"))["code"] == (
        "not_supported"
    )

    # The unlock the panel asked for carries the HA user who asked.
    by_alice = await client.push(
        "lock.event",
        lambda d: d["lock_id"] == TT_ID and d["event"]["kind"] == "unlocked",
    )
    assert by_alice["event"]["user"] == "Alice Admin", by_alice
    events = await client.ok("events.list", lock_id=TT_ID, limit=50)
    assert set(events[0]) == {"kind", "source", "credential_id", "credential_name", "user", "time"}
    unlocks = [e for e in events if e["kind"] == "unlocked" and e["source"] == "app"]
    assert unlocks and unlocks[0]["user"] == "Alice Admin"
    assert events == sorted(events, key=lambda e: e["time"], reverse=True)
    assert len(await client.ok("events.list", lock_id=TT_ID, limit=1)) == 1

    renamed = await client.ok("lock.rename", lock_id=TT_ID, name="  Haustür ")
    assert renamed["name"] == "Haustür"
    await client.push("lock.updated", lambda d: d["name"] == "Haustür")
    assert (await client.error("lock.rename", lock_id=TT_ID, name=""))["code"] == "bad_request"

    assert await client.ok("lock.remove", lock_id=TT_ID, reset=False) is None
    await client.push("lock.removed", lambda d: d == {"lock_id": TT_ID})
    assert await client.ok("locks.list") == []
    gone = await client.error("lock.unlock", lock_id=TT_ID)
    assert gone["code"] == "not_found" and TT_ID in gone["message"]
    assert_no_secrets(web, client)


async def test_pair_a_nuki_unlatch_it_and_set_its_security_pin(web: PanelRig) -> None:
    client = await web.connect()
    web.rig.nuki.press_button(6)
    await client.push(
        "discovery.updated",
        lambda d: any(x["address"] == NUKI_ADDRESS and x["pairable"] for x in d),
    )
    bad = await client.error("lock.pair", address=NUKI_ADDRESS, brand="nuki", pin="12")
    assert bad["code"] == "bad_request" and "12" not in bad["message"]
    wrong_as = await client.error("lock.pair", address=NUKI_ADDRESS, brand="nuki", pair_as="x")
    assert wrong_as["code"] == "bad_request"
    snapshot = await client.ok(
        "lock.pair", timeout=60, address=NUKI_ADDRESS, brand="nuki", name="Back door",
        pin=NUKI_PIN, pair_as="app",
    )  # fmt: skip
    assert snapshot["id"] == NUKI_ID and "open" in snapshot["capabilities"]
    opened = await client.ok("lock.open", lock_id=NUKI_ID, timeout=30)
    assert opened["status"] in ("open", "opening", "unlocked")
    await wait_for(lambda: web.rig.nuki.describe()["lock_state"] in ("unlatched", "unlatching"))
    wrong = await client.error("lock.set_pin", lock_id=NUKI_ID, pin="9999")
    assert wrong["code"] in ("auth", "rejected") and "9999" not in wrong["message"]
    assert await client.ok("lock.set_pin", lock_id=NUKI_ID, pin=NUKI_PIN) is None
    settings = await client.ok("settings.get", lock_id=NUKI_ID)
    assert settings["auto_unlatch"] is not None
    assert_no_secrets(web, client)
    authorized = len(web.rig.nuki.describe()["authorizations"])
    assert await client.ok("lock.remove", lock_id=NUKI_ID, reset=True, timeout=30) is None
    assert len(web.rig.nuki.describe()["authorizations"]) == authorized - 1  # unpaired
    await client.push("lock.removed", lambda d: d == {"lock_id": NUKI_ID})
    not_bool = await client.error("lock.remove", lock_id=NUKI_ID, reset="yes")
    assert not_bool["code"] == "bad_request"


# --- credentials -----------------------------------------------------------------------------


async def test_pins_added_listed_updated_and_deleted(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    pin = await client.ok(
        "credentials.add", lock_id=TT_ID, kind="pin", name="Cleaner", code="246810",
        validity=WEEKLY,
    )  # fmt: skip
    assert pin["kind"] == "pin" and pin["code"] == "246810" and pin["validity"] == WEEKLY
    assert "246810" in web.rig.ttlock.memory.passcodes
    listed = await client.ok("credentials.list", lock_id=TT_ID, kind="pin")
    assert [c["id"] for c in listed] == [pin["id"]]
    assert any(c["id"] == pin["id"] for c in await client.ok("credentials.list", lock_id=TT_ID))

    updated = await client.ok(
        "credentials.update", lock_id=TT_ID, credential_id=pin["id"], kind="pin",
        name="Cleaner (2030)", code="135790", validity=PERIOD,
    )  # fmt: skip
    assert (updated["name"], updated["code"], updated["validity"]) == (
        "Cleaner (2030)", "135790", PERIOD,
    )  # fmt: skip
    assert "135790" in web.rig.ttlock.memory.passcodes
    deleted = await client.ok(
        "credentials.delete", lock_id=TT_ID, kind="pin", credential_id=updated["id"]
    )
    assert deleted is None
    assert await client.ok("credentials.list", lock_id=TT_ID, kind="pin") == []

    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "pin", "name": "x", "code": "12"}, "'code'"),
        ({"kind": "iris", "name": "x"}, "'kind'"),
        ({"kind": "pin", "name": "x", "code": "1234", "colour": "red"}, "colour"),
        ({"kind": "pin", "code": "1234"}, "name"),
        ({"kind": "pin", "name": "x", "code": "1234", "validity": {"type": "often"}}, "'type'"),
        ({"kind": "card", "name": "x", "code": "1234"}, "only for PINs"),
    ]
    for params, words in bad:
        error = await client.error("credentials.add", lock_id=TT_ID, **params)
        assert error["code"] == "bad_request" and words in error["message"], (params, error)
        assert "1234" not in error["message"]
    no_id = await client.error("credentials.delete", lock_id=TT_ID, kind="pin")
    assert no_id["code"] == "bad_request" and "credential_id" in no_id["message"]


async def test_fingerprint_enrolment_reports_every_step(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect(headers=USER_HEADERS)
    enrolling = await client.send(
        "credentials.add", lock_id=TT_ID, kind="fingerprint", name="Alice's thumb"
    )
    since = len(client.pushes)

    def step(n: int) -> Any:
        return lambda d: d["lock_id"] == TT_ID and d["step"] == n

    first = await client.push("credential.progress", step(0), since)
    assert first["total"] == 4 and first["message"]
    for n in range(1, 5):
        web.rig.ttlock.place_finger("right thumb")
        progress = await client.push("credential.progress", step(n), since)
        assert set(progress) == {"lock_id", "step", "total", "message"}
    reply = await asyncio.wait_for(enrolling, WAIT)
    assert reply["ok"] is True, reply
    finger = reply["result"]
    assert (finger["kind"], finger["name"], finger["code"]) == (
        "fingerprint",
        "Alice's thumb",
        None,
    )
    fingers = await client.ok("credentials.list", lock_id=TT_ID, kind="fingerprint")
    assert [f["id"] for f in fingers] == [finger["id"]]


async def test_a_slow_enrolment_blocks_nothing_else_and_can_be_cancelled(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    enrolling = await client.send("credentials.add", lock_id=TT_ID, kind="card", name="Blue")
    await client.push("credential.progress", lambda d: d["lock_id"] == TT_ID)
    assert [lock["id"] for lock in await client.ok("locks.list")] == [TT_ID]
    assert not enrolling.done()
    assert await client.ok("credentials.cancel", lock_id=TT_ID) is None
    reply = await asyncio.wait_for(enrolling, WAIT)
    assert reply == {"id": reply["id"], "ok": True, "result": None}  # cancelled: no credential


async def test_an_enrolment_is_cancelled_when_its_socket_closes(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    await client.send("credentials.add", lock_id=TT_ID, kind="card", name="Blue")
    await client.push("credential.progress", lambda d: d["lock_id"] == TT_ID)
    assert web.rig.ttlock.enrolment is not None
    await client.close()
    await wait_for(lambda: web.rig.ttlock.enrolment is None)
    other = await web.connect()
    assert [lock["id"] for lock in await other.ok("locks.list")] == [TT_ID]


async def test_a_closed_socket_waiting_behind_another_enrolment_leaves_it_alone(
    web: PanelRig,
) -> None:
    await paired_ttlock(web)
    first, second = await web.connect(), await web.connect()
    enrolling = await first.send("credentials.add", lock_id=TT_ID, kind="card", name="First")
    await first.push("credential.progress", lambda d: d["lock_id"] == TT_ID)
    await second.send("credentials.add", lock_id=TT_ID, kind="card", name="Second")
    panel = web.panel
    assert panel is not None
    await wait_for(lambda: len(panel.state.enrolling.get(TT_ID, [])) == 2)
    await second.close()
    await wait_for(lambda: len(panel.state.enrolling.get(TT_ID, [])) == 1)
    assert web.rig.ttlock.enrolment is not None  # the first one still waits for its card
    web.rig.ttlock.present_card(0xC0FFEE)
    reply = await asyncio.wait_for(enrolling, WAIT)
    assert reply["ok"] is True and reply["result"]["name"] == "First", reply
    cards = await first.ok("credentials.list", lock_id=TT_ID, kind="card")
    assert [card["name"] for card in cards] == ["First"]
    assert panel.state.enrolling == {}


async def test_stop_ends_running_requests_and_the_manager_goes_on(web: PanelRig) -> None:
    manager = await paired_ttlock(web)
    client = await web.connect()
    await client.send("credentials.add", lock_id=TT_ID, kind="fingerprint", name="Thumb")
    await client.push("credential.progress", lambda d: d["lock_id"] == TT_ID)
    panel = web.panel
    assert panel is not None
    started = asyncio.get_running_loop().time()
    await panel.stop()
    assert asyncio.get_running_loop().time() - started < 2.0
    assert not panel.state.tasks and not panel.state.sockets
    web.panel = None
    assert (await asyncio.wait_for(manager.unlock(TT_ID), WAIT)).status.value == "unlocked"


# --- settings --------------------------------------------------------------------------------


async def test_settings_read_and_written(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    settings = await client.ok("settings.get", lock_id=TT_ID)
    assert set(settings) == {
        "auto_lock_seconds", "sound", "passage_mode", "remote_unlock", "led", "auto_unlatch",
        "auto_lock_min", "auto_lock_max",
    }  # fmt: skip
    changed = await client.ok("settings.set", lock_id=TT_ID, auto_lock_seconds=10)
    assert changed["auto_lock_seconds"] == 10
    assert web.rig.ttlock.memory.settings.auto_lock_seconds == 10
    lacking = [name for name, value in settings.items() if value is None]
    if "led" in lacking:
        assert (await client.error("settings.set", lock_id=TT_ID, led=True))["code"] == (
            "not_supported"
        )
    for params in ({"sound": "yes"}, {"auto_lock_seconds": -1}, {"auto_lock_seconds": 1.5},
                   {"volume": 3}, {"auto_lock_seconds": True}):  # fmt: skip
        error = await client.error("settings.set", lock_id=TT_ID, **params)
        assert error["code"] == "bad_request", (params, error)


# --- the protocol's edges --------------------------------------------------------------------


async def test_malformed_requests_are_answered_with_bad_request(web: PanelRig) -> None:
    client = await web.connect()
    raw = [
        ("not json", None),
        ("[1, 2]", None),
        ('"text"', None),
        ('{"type": "locks.list"}', None),
        ('{"id": "7", "type": "locks.list"}', None),
        ('{"id": true, "type": "locks.list"}', None),
        ('{"id": 1.5, "type": "locks.list"}', None),
        ('{"id": 9007199254740993, "type": "locks.list"}', None),
        ('{"id": 3}', 3),
        ('{"id": 4, "type": "locks.destroy"}', 4),
        ('{"id": 5, "type": 5}', 5),
        ('{"id": 6, "type": "locks.list", "extra": 1}', 6),
        ('{"id": 7, "type": "lock.unlock"}', 7),
        ('{"id": 8, "type": "lock.unlock", "lock_id": "AA:BB"}', 8),
        ('{"id": 9, "type": "scan.start", "seconds": 1}', 9),
        ('{"id": 10, "type": "events.list", "lock_id": "3838e51d71fe", "limit": 501}', 10),
        ("[" * 30000 + "]" * 30000, None),
    ]
    for text, request_id in raw:
        before = len(client.replies)
        await client.ws.send_str(text)
        await wait_for(lambda before=before: len(client.replies) > before)  # type: ignore[misc]
        reply = client.replies[-1]
        assert reply["id"] == request_id and reply["ok"] is False, (text[:60], reply)
        assert reply["error"]["code"] == "bad_request", (text[:60], reply)
        assert reply["error"]["message"].endswith("."), reply
    await client.ws.send_bytes(b'{"id": 11, "type": "locks.list"}')
    await wait_for(lambda: client.replies[-1]["id"] is None and "binary" in str(client.replies[-1]))
    missing = await client.error("lock.unlock", lock_id="000000000000")
    assert missing["code"] == "not_found"
    assert await client.ok("locks.list") == []


async def test_an_oversized_frame_closes_only_that_socket(web: PanelRig) -> None:
    client = await web.connect()
    await client.ws.send_str(json.dumps({"id": 1, "type": "locks.list", "x": "a" * 70_000}))
    await asyncio.wait_for(client._reader, WAIT)  # type: ignore[arg-type]
    assert client.ws.close_code == 1009
    assert await (await web.connect()).ok("locks.list") == []


async def test_too_many_requests_in_flight_are_busy(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    enrolling = await client.send("credentials.add", lock_id=TT_ID, kind="card", name="Blue")
    await client.push("credential.progress", lambda d: d["lock_id"] == TT_ID)
    # A rename waits for the lock's queue like any operation, but needs no radio afterwards.
    waiting = [await client.send("lock.rename", lock_id=TT_ID, name=f"Door {n}") for n in range(15)]
    busy = await client.error("lock.rename", lock_id=TT_ID, name="Door 15")
    assert busy["code"] == "busy" and "wait" in busy["message"]
    await client.ok("credentials.cancel", lock_id=TT_ID)  # never queued: answered at once
    assert (await asyncio.wait_for(enrolling, WAIT))["result"] is None
    replies = await asyncio.wait_for(asyncio.gather(*waiting), WAIT)
    assert [reply["result"]["name"] for reply in replies] == [f"Door {n}" for n in range(15)]


async def test_a_flood_is_answered_busy_and_the_socket_survives(web: PanelRig) -> None:
    client = await web.connect()
    replies = [await client.send("locks.list") for _ in range(400)]
    results = await asyncio.wait_for(asyncio.gather(*replies), WAIT)
    codes = [r["error"]["code"] for r in results if not r["ok"]]
    assert codes and set(codes) == {"busy"}
    assert sum(r["ok"] for r in results) >= Limits().burst
    await asyncio.sleep(1.2)  # the bucket refills
    assert await client.ok("locks.list") == []


async def test_a_client_that_stops_reading_is_closed(web: PanelRig, caplog: Any) -> None:
    await web.panel.stop()  # type: ignore[union-attr]
    panel = await web.start(limits=Limits(queue=8, send_seconds=1.0))
    manager = manager_of(web)
    client = await web.connect()
    assert client._reader is not None
    client._reader.cancel()  # read nothing more, and let the kernel's buffers fill up
    transport = client.ws._response.connection.transport  # type: ignore[union-attr]
    assert transport is not None
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport.pause_reading()
    async with asyncio.timeout(WAIT):
        while panel.state.sockets:
            for _ in range(500):
                manager.end_discovery()  # each one pushes scan.state to every client
            await asyncio.sleep(0.01)
    assert "closing it" in caplog.text
    assert await (await web.connect()).ok("locks.list") == []


async def test_origin_must_match_the_host(web: PanelRig) -> None:
    assert web.panel is not None and web.panel.port is not None
    port = web.panel.port
    good = [
        {"Origin": f"http://127.0.0.1:{port}"},
        {"Origin": f"http://LOCALHOST:{port}", "Host": f"localhost:{port}"},
        {"Origin": "https://ha.example.org", "X-Forwarded-Host": "ha.example.org"},
        {"Origin": "https://ha.example.org:8123", "X-Forwarded-Host": "ha.example.org:8123"},
        {"Origin": "http://ha.local", "X-Forwarded-Host": "ha.local:80"},
        {"Origin": f"https://127.0.0.1:{port}"},  # host:port is what must match
    ]
    for headers in good:
        client = await web.connect(headers=headers)
        assert await client.ok("locks.list") == [], headers
    bad = [
        {"Origin": "http://evil.example"},
        {"Origin": f"http://127.0.0.1:{port + 1}"},
        {"Origin": "null"},
        {"Origin": f"ftp://127.0.0.1:{port}"},
        {"Origin": f"http://127.0.0.1:{port}/path"},
        {"Origin": f"http://127.0.0.1:{port}?x=1"},
        {"Origin": "https://ha.example.org", "X-Forwarded-Host": "evil.example"},
        {"Origin": f"http://127.0.0.1:{port}", "X-Forwarded-Host": "ha.example.org"},
        {"Origin": "http://[::1"},
        {"Origin": f"http://user@127.0.0.1:{port}"},
    ]
    for headers in bad:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await web.session().ws_connect(f"{web.url}/api/ws", headers=headers)
            pytest.fail(f"accepted {headers}")
        assert refused.value.status == 403, headers


# --- backups ---------------------------------------------------------------------------------


async def test_backup_export_remove_import_and_the_lock_is_back(web: PanelRig) -> None:
    await paired_ttlock(web)
    client = await web.connect()
    short = await client.error("backup.export", passphrase="short")
    assert short["code"] == "bad_request" and "short" not in short["message"]
    backup = await client.ok("backup.export", passphrase=PASSPHRASE)
    assert re.fullmatch(r"ttlock-nuki-backup-\d{8}-\d{4}\.json", backup["filename"])
    envelope = json.loads(backup["data"])
    assert envelope["format"] == "ttlock-nuki-backup" and envelope["locks"] == 1
    assert "Front door" not in backup["data"]
    record = web.rig.store.get_lock(TT_ID) or {}
    assert str(record["aes_key"]) not in backup["data"]

    wrong = await client.error("backup.import", data=backup["data"], passphrase="wrong passphrase")
    assert wrong["code"] == "backup" and "passphrase" in wrong["message"]
    kept = await client.ok("backup.import", data=backup["data"], passphrase=PASSPHRASE)
    assert kept == {"added": [], "kept": [TT_ID]}

    await client.ok("lock.remove", lock_id=TT_ID, reset=False)
    assert await client.ok("locks.list") == []
    junk = await client.error("backup.import", data="{}", passphrase=PASSPHRASE)
    assert junk["code"] == "backup"
    restored = await client.ok("backup.import", data=backup["data"], passphrase=PASSPHRASE)
    assert restored == {"added": [TT_ID], "kept": []}
    await client.push("lock.added", lambda d: d["id"] == TT_ID)
    assert [lock["name"] for lock in await client.ok("locks.list")] == ["Front door"]
    web.rig.ttlock.touch()
    assert (await client.ok("lock.unlock", lock_id=TT_ID, timeout=30))["status"] == "unlocked"
    assert_no_secrets(web, client)
