"""Thousands of malformed and random websocket messages: every reply is a well-formed answer."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from manager_rig import WAIT
from support import LogCollector
from web_rig import PanelRig, panel_rig

from ttlock_nuki_addon.sim.world import SimWorld
from ttlock_nuki_addon.web import Limits
from ttlock_nuki_addon.web.errors import KNOWN_CODES
from ttlock_nuki_addon.web.verbs import VERBS

pytestmark = pytest.mark.timeout(120)
T = TypeVar("T")
Frame = str | bytes
# Verbs that may succeed on a manager with no lock; everything else must fail.
MAY_SUCCEED = {"locks.list", "discovery.list", "scan.start", "scan.stop", "backup.export"}
PARAMS: dict[str, list[Any]] = {
    "lock_id": ["3838e51d71fe", "000000000000", "3838E51D71FE"],
    "address": ["11:22:33:44:55:66", "aa:bb:cc:dd:ee:ff", "11-22-33-44-55-66"],
    "brand": ["ttlock", "nuki", "yale"],
    "name": ["Front door", " ", "x" * 65, "tab\there"],
    "pin": ["4711", "123456", "12", "abcd"],
    "pair_as": ["bridge", "app", "both"],
    "seconds": [5, 300, 4, 301, 60],
    "reset": [True, False],
    "kind": ["pin", "card", "fingerprint", "face"],
    "code": ["1234", "123456789", "123", "12a4"],
    "validity": [
        {"type": "permanent"},
        {"type": "period", "from": "2030-01-01T08:00", "until": "2029-01-01T08:00"},
        {"type": "weekly", "days": ["mon", "mon"], "from_time": "08:00", "until_time": "25:00"},
        {"type": "once", "from": "2030-01-01T08:00+01:00", "until": "2030-01-02T08:00"},
    ],
    "credential_id": ["1", "65536", "", "x" * 65],
    "limit": [1, 500, 0, 501],
    "passphrase": ["correct horse", "short", ""],
    "data": ["{}", '{"format": "ttlock-nuki-backup", "version": 1}', "not json"],
    "auto_lock_seconds": [0, 10, 65536, -1],
    "sound": [True, "yes"],
    "passage_mode": [False, 0],
    "remote_unlock": [True, None],
    "led": [True, []],
    "auto_unlatch": [False, {}],
}
_LOCK = ("lock_id",)
_CREDENTIAL = ("lock_id", "kind", "name", "code", "validity")
_SETTINGS = ("auto_lock_seconds", "sound", "passage_mode", "remote_unlock", "led", "auto_unlatch")
VERB_PARAMS: dict[str, tuple[str, ...]] = {
    "locks.list": (),
    "discovery.list": (),
    "scan.start": ("seconds",),
    "scan.stop": (),
    "lock.pair": ("address", "brand", "name", "pin", "pair_as"),
    "lock.lock": _LOCK,
    "lock.unlock": _LOCK,
    "lock.open": _LOCK,
    "lock.refresh": _LOCK,
    "lock.rename": ("lock_id", "name"),
    "lock.remove": ("lock_id", "reset"),
    "lock.set_pin": ("lock_id", "pin"),
    "credentials.list": ("lock_id", "kind"),
    "credentials.add": _CREDENTIAL,
    "credentials.update": (*_CREDENTIAL, "credential_id"),
    "credentials.delete": ("lock_id", "kind", "credential_id"),
    "credentials.cancel": _LOCK,
    "settings.get": _LOCK,
    "settings.set": ("lock_id", *_SETTINGS),
    "events.list": ("lock_id", "limit"),
    "backup.export": ("passphrase",),
    "backup.import": ("data", "passphrase"),
}
WRONG = [None, True, 0, -1, 1.5, 2**64, "", "x" * 2000, [], {}, [1, 2], {"a": 1}, "\ud800"]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def collect(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` examples of `strategy`, the same ones every run."""
    found: list[T] = []

    @settings(
        max_examples=count, database=None, derandomize=True, deadline=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def gather(value: T) -> None:
        found.append(value)

    gather()
    return found


def requests() -> st.SearchStrategy[dict[str, Any]]:
    """Request-shaped objects: known and unknown verbs, known and random parameters."""
    ids = st.integers(-(2**60), 2**60) | json_values
    kinds = st.sampled_from(sorted(VERBS)) | st.text(max_size=20) | json_values
    values = {
        name: st.sampled_from([*choices, *WRONG]) | scalars for name, choices in PARAMS.items()
    }
    base = st.fixed_dictionaries({"id": ids, "type": kinds}, optional=values)
    extra = st.dictionaries(st.text(max_size=12), scalars, max_size=2)
    return st.tuples(extra, base).map(lambda pair: {**pair[0], **pair[1]})


def wrong_types() -> Iterator[dict[str, Any]]:
    """Every verb with each of its parameters (and an unknown one) wrong in every way in turn."""
    request_id = 100_000
    for verb, names in sorted(VERB_PARAMS.items()):
        good = {name: PARAMS[name][0] for name in names}
        for name in (*names, "bogus"):
            for value in WRONG:
                request_id += 1
                yield {"id": request_id, "type": verb, **good, name: value}


def frames() -> list[Frame]:
    """The whole fuzz corpus: JSON values, requests, wrong types, raw text, bytes, giants."""
    corpus: list[Frame] = [json.dumps(v) for v in collect(json_values, 400)]
    corpus += [json.dumps(r) for r in collect(requests(), 1300)]
    corpus += [json.dumps(r) for r in wrong_types()]
    corpus += collect(st.text(max_size=80), 300)
    corpus += collect(st.binary(max_size=80), 200)
    corpus += [
        "",
        " ",
        "{",
        "[" * 60_000,
        '{"id": 1, "type": "locks.list", "a": ' + "[" * 30_000 + "]" * 30_000 + "}",
        json.dumps({"id": 2, "type": "lock.rename", "lock_id": "0" * 12, "name": "n" * 60_000}),
        json.dumps({"id": 3, "type": "backup.import", "data": "d" * 60_000, "passphrase": "p" * 9}),
        json.dumps({"id": 4, "type": "x" * 60_000}),
        json.dumps({"id": 5, "type": "locks.list", "k" * 60_000: 1}),
        json.dumps({"id": int("9" * 4000), "type": "locks.list"}),
        '{"id": ' + "9" * 5000 + ', "type": "locks.list"}',
        '{"id": NaN, "type": "locks.list"}',
        '{"id": 6, "type": "scan.start", "seconds": Infinity}',
        '{"id": 7, "type": "locks.list", "id": 8}',
        "\ufeff" + json.dumps({"id": 9, "type": "locks.list"}),
        json.dumps([{"id": 10, "type": "locks.list"}] * 1000),
        b"\x00" * 60_000,
    ]
    return corpus


def expected_id(frame: Frame) -> int | None:
    try:
        obj = json.loads(frame) if isinstance(frame, str) else None
    except (ValueError, RecursionError):
        return None
    value = obj.get("id") if isinstance(obj, dict) else None
    usable = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53
    return value if usable else None


def check_reply(frame: Frame, reply: dict[str, Any]) -> None:
    shown = repr(frame)[:120]
    assert reply["id"] == expected_id(frame), (shown, reply)
    if reply["ok"] is True:
        assert set(reply) == {"id", "ok", "result"}, (shown, reply)
        obj = json.loads(frame)
        assert obj["type"] in MAY_SUCCEED, (shown, reply)
        return
    assert set(reply) == {"id", "ok", "error"} and reply["ok"] is False, (shown, reply)
    error = reply["error"]
    assert set(error) == {"code", "message"}, (shown, reply)
    assert error["code"] in KNOWN_CODES and error["code"] != "internal", (shown, reply)
    assert isinstance(error["message"], str) and 0 < len(error["message"]) < 300, (shown, reply)


async def next_reply(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next reply; pushes on the way must be well-formed too."""
    while True:
        message = await ws.receive(timeout=WAIT)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        obj: dict[str, Any] = json.loads(message.data)
        if "event" in obj:
            assert set(obj) == {"event", "data"}, obj
            continue
        return obj


async def lockstep(ws: aiohttp.ClientWebSocketResponse, corpus: list[Frame]) -> int:
    """Send each frame, check its one reply before the next; the number of frames."""
    for frame in corpus:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        check_reply(frame, await next_reply(ws))
    return len(corpus)


@pytest.fixture
async def web(sim_world: SimWorld, tmp_path: Path) -> AsyncIterator[PanelRig]:
    """A panel over a manager with no lock; the rate limit is out of the way for the fuzz."""
    async with panel_rig(sim_world, tmp_path) as rig:
        await rig.start(limits=Limits(rate=1e6, burst=1_000_000))
        yield rig


@pytest.fixture
def logs() -> Iterator[LogCollector]:
    collector = LogCollector()
    logger = logging.getLogger("ttlock_nuki_addon")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


async def test_fuzz_every_reply_is_well_formed(web: PanelRig, logs: LogCollector) -> None:
    corpus = frames()
    assert len(corpus) >= 3000
    assert set(VERB_PARAMS) == set(VERBS)
    random.Random(6).shuffle(corpus)
    sockets = [
        await web.session().ws_connect(f"{web.url}/api/ws", max_msg_size=0) for _ in range(4)
    ]
    for ws in sockets:
        hello = await ws.receive_json(timeout=WAIT)
        assert hello["event"] == "hello"
    shares = [corpus[i :: len(sockets)] for i in range(len(sockets))]
    sent = await asyncio.wait_for(
        asyncio.gather(*(lockstep(ws, share) for ws, share in zip(sockets, shares, strict=True))),
        90,
    )
    assert sum(sent) == len(corpus)
    assert not any(ws.closed for ws in sockets)

    for size in (64 * 1024 + 1, 200_000):
        big = await web.session().ws_connect(f"{web.url}/api/ws")
        await big.receive_json(timeout=WAIT)
        await big.send_str(json.dumps({"id": 1, "type": "locks.list", "pad": "x" * size}))
        closing = await big.receive(timeout=WAIT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing
        assert big.close_code == 1009

    fresh = await web.connect()
    assert await fresh.ok("locks.list") == []
    for ws in sockets:
        await ws.send_str(json.dumps({"id": 42, "type": "locks.list"}))
        assert await next_reply(ws) == {"id": 42, "ok": True, "result": []}
    assert not [line for line in logs.lines if "Traceback" in line or "unexpectedly" in line]
