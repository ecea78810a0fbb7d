"""Nuki inputs for the fuzzers: payloads shaped like each message (field by field, with real
timestamps and names), golden messages from tests/data, and whole plain or sealed messages."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from nuki_strategies import moments, names_fitting

from ttlock_nuki_addon.nuki.advanced_config import (
    ADVANCED_CONFIG_LAYOUT,
    NEW_ADVANCED_CONFIG_LAYOUT,
)
from ttlock_nuki_addon.nuki.codec import LOCK_PLAIN_LENGTHS, Command, encode_plain, encrypt
from ttlock_nuki_addon.nuki.config_cmds import CONFIG_LAYOUT, NEW_CONFIG_LAYOUT
from ttlock_nuki_addon.nuki.fields import encode_name, encode_timestamp
from ttlock_nuki_addon.nuki.layout import Layout, Name, TimeOfDay, Timestamp
from ttlock_nuki_addon.nuki.opener_config import OPENER_CONFIG_LAYOUT, OPENER_NEW_CONFIG_LAYOUT

from .support import radio

DATA = Path(__file__).resolve().parent.parent / "data"
C = Command
_VECTORS = json.loads((DATA / "nuki_vectors.json").read_text())
_PAIRING = _VECTORS["pynukibt_pairing"]
KEY = bytes.fromhex(_PAIRING["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
AUTH_ID = int.from_bytes(bytes.fromhex(_PAIRING["auth_id_le"]), "little")


def _golden() -> tuple[list[bytes], dict[int, list[bytes]]]:
    """(whole golden messages, golden lock payloads by command) from tests/data."""
    messages = [bytes.fromhex(m["hex"]) for m in _PAIRING["transcript"]]
    messages += [
        bytes.fromhex(m["message_hex"]) for m in _VECTORS["forum_captured_messages_crc_check"]
    ]
    payloads: dict[int, list[bytes]] = {}
    for group in ("lock_responses_parsed_by_pynukibt", "pynukibt_encrypted_commands"):
        for item in _VECTORS[group]:
            messages.append(bytes.fromhex(item["wire_message_hex"]))
            payloads.setdefault(int(item["command_id"], 16), []).append(
                bytes.fromhex(item["payload_hex"])
            )
    return messages, payloads


GOLDEN_MESSAGES, GOLDEN_PAYLOADS = _golden()


def b(low: int, high: int | None = None) -> st.SearchStrategy[bytes]:
    """Random bytes of `low` (to `high`) length."""
    return st.binary(min_size=low, max_size=low if high is None else high)


timestamps = moments.map(encode_timestamp) | st.just(bytes(7)) | b(7)
clocks = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(bytes) | b(2)


def name(size: int) -> st.SearchStrategy[bytes]:
    """A zero-padded UTF-8 name field, or junk of its size."""
    return names_fitting(size).map(lambda text: encode_name(text, size)) | b(size)


def concat(*parts: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """The parts drawn and joined."""
    return st.tuples(*parts).map(b"".join)


def of_layout(layout: Layout) -> st.SearchStrategy[bytes]:
    """The required fields and a random number of the optional ones, each shaped by its kind."""

    def field(kind: Any) -> st.SearchStrategy[bytes]:
        """Bytes for one field of this kind."""
        if isinstance(kind, Timestamp):
            return timestamps
        if isinstance(kind, Name):
            return name(kind.size)
        if isinstance(kind, TimeOfDay):
            return clocks
        return b(kind.size)

    head = [field(kind) for _, kind in layout.required]
    tail = [field(kind) for _, kind in layout.optional]
    return st.integers(0, len(tail)).flatmap(lambda n: concat(*head, *tail[:n]))


# spec §4.8/§4.9: timeLimited, allowedFrom, allowedUntil, weekdays, fromTime, untilTime.
time_limit = concat(b(1), timestamps, timestamps, b(1), clocks, clocks) | b(0, 20) | st.just(b"")
u8s = st.integers(0, 255).map(lambda n: bytes([n]))
_log_types = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 10]).map(lambda n: bytes([n])) | u8s
_small = st.integers(0, 8).map(lambda n: bytes([n])) | u8s  # enum-sized bytes, mostly known
_log_data = concat(_small, _small, _small, _small, b(0, 4)) | b(0, 8)
_code = st.integers(100_000, 999_999).map(lambda n: n.to_bytes(4, "little")) | b(4)

# Payloads the lock sends, by command (shaped, random lengths around them and golden ones).
_LOCK: dict[int, st.SearchStrategy[bytes]] = {
    C.KEYTURNER_STATES: concat(b(3), timestamps, b(3), b(0, 16)),
    C.CONFIG: of_layout(CONFIG_LAYOUT) | of_layout(OPENER_CONFIG_LAYOUT),
    C.ADVANCED_CONFIG: of_layout(ADVANCED_CONFIG_LAYOUT),
    C.LOG_ENTRY: concat(b(4), timestamps, b(4), name(32), _log_types, _log_data),
    C.AUTHORIZATION_ENTRY: concat(
        b(4), u8s, name(32), b(2), timestamps, timestamps, b(2), time_limit
    ),
    C.KEYPAD_CODE: concat(b(2), _code, name(20), b(1), timestamps, timestamps, b(2), time_limit),
    C.KEYPAD_CODE_ID: concat(b(2), timestamps),
    C.AUTHORIZATION_ID_INVITE: concat(b(4), timestamps),
    C.TIME_CONTROL_ENTRY: concat(b(3), clocks, b(0, 2)),
}
# ... and the client sends (parsed by the simulated lock).
_CLIENT: dict[int, st.SearchStrategy[bytes]] = {
    C.SET_CONFIG: of_layout(NEW_CONFIG_LAYOUT) | of_layout(OPENER_NEW_CONFIG_LAYOUT),
    C.SET_ADVANCED_CONFIG: of_layout(NEW_ADVANCED_CONFIG_LAYOUT),
    C.UPDATE_TIME: timestamps,
    C.LOCK_ACTION: concat(b(6), name(20)) | b(0, 30),
    C.ADD_KEYPAD_CODE: concat(_code, name(20), time_limit),
    C.UPDATE_KEYPAD_CODE: concat(b(2), _code, name(20), b(1), time_limit),
    C.AUTHORIZATION_DATA_INVITE: concat(name(32), u8s, b(32), b(1, 2), time_limit),
    C.UPDATE_AUTHORIZATION_ENTRY: concat(b(4), name(32), b(2), time_limit),
    C.ADD_TIME_CONTROL_ENTRY: concat(b(1), clocks, b(1)),
    C.UPDATE_TIME_CONTROL_ENTRY: concat(b(3), clocks, b(1)),
}


def payload(command: int, max_size: int = 100) -> st.SearchStrategy[bytes]:
    """A payload for `command`: shaped like it, golden, mutated, or random."""
    seeds = [*GOLDEN_PAYLOADS.get(command, [])]
    shaped = _LOCK.get(command, _CLIENT.get(command))
    return radio(*seeds, *([] if shaped is None else [shaped]), max_size=max_size)


commands = st.sampled_from(sorted({*_LOCK, *_CLIENT, *LOCK_PLAIN_LENGTHS, *Command})) | st.integers(
    0, 0xFFFF
)


@st.composite
def plain_messages(draw: st.DrawFn) -> bytes:
    """An unencrypted message (command, payload, CRC), as the pairing and keyturner GDIO carry."""
    command = draw(commands)
    return encode_plain(command, draw(payload(command, max_size=90)))


@st.composite
def sealed_messages(draw: st.DrawFn) -> bytes:
    """An encrypted message under KEY (mostly with our auth id) around any command's payload."""
    command = draw(commands)
    auth_id = draw(st.sampled_from([AUTH_ID, 0]) | st.integers(0, 0xFFFFFFFF))
    nonce = draw(b(24))
    return encrypt(KEY, auth_id, command, draw(payload(command, max_size=90)), nonce)


messages = radio(plain_messages(), sealed_messages(), *GOLDEN_MESSAGES, max_size=140)


@st.composite
def indications(draw: st.DrawFn) -> list[bytes]:
    """Messages (and junk) cut into indications at random points."""
    stream = b"".join(draw(st.lists(messages | b(0, 8), min_size=1, max_size=3)))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    bounds = [0, *cuts, len(stream)]
    return [stream[x:y] for x, y in itertools.pairwise(bounds)]
