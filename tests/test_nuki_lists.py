"""Nuki list messages (spec §4.2, §4.7-§4.9): slice requests and counts, strict client requests,
and the parsers of the authorization, keypad code and log modules under fuzzing."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import auth_cmds as ac
from ttlock_nuki_addon.nuki import keypad_cmds as kp
from ttlock_nuki_addon.nuki import log_cmds as lc
from ttlock_nuki_addon.nuki.codec import Command
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.nuki.lists import SliceRequest
from ttlock_nuki_addon.nuki.pairing_msgs import IdType

H = bytes.fromhex
KEY = bytes(range(0xA0, 0xC0))

# Per list: build request, parse request, build count, parse count, and the names the errors use.
LISTS = [
    pytest.param(
        ac.build_request_authorization_entries,
        ac.parse_request_authorization_entries,
        ac.build_authorization_entry_count,
        ac.parse_authorization_entry_count,
        ("Request Authorization Entries (0x0009)", "Authorization Entry Count (0x0027)"),
        "authorization count",
        id="authorizations",
    ),
    pytest.param(
        kp.build_request_keypad_codes,
        kp.parse_request_keypad_codes,
        kp.build_keypad_code_count,
        kp.parse_keypad_code_count,
        ("Request Keypad Codes (0x0043)", "Keypad Code Count (0x0044)"),
        "keypad code count",
        id="keypad codes",
    ),
]


@pytest.mark.parametrize(
    ("build_request", "parse_request", "build_count", "parse_count", "messages", "count_name"),
    LISTS,
)
def test_slice_request_and_count_layouts_by_hand(
    build_request: Callable[..., bytes],
    parse_request: Callable[[bytes], SliceRequest],
    build_count: Callable[[int], bytes],
    parse_count: Callable[[bytes], int],
    messages: tuple[str, str],
    count_name: str,
) -> None:
    assert build_request(2, 10) == H("0200 0a00")  # offset u16 ‖ count u16, little-endian
    assert build_request() == H("0000 ffff")  # the whole list
    assert parse_request(H("0200 0a00")) == SliceRequest(2, 10)
    assert build_count(300) == H("2c01")
    assert parse_count(H("2c01")) == 300
    assert parse_count(H("2c01 ff")) == 300  # trailing bytes of a lock message are ignored
    with pytest.raises(ProtocolError, match=re.escape(f"Malformed Nuki {messages[0]}:")):
        parse_request(H("0200 0a00 00"))  # a client request must be exact
    with pytest.raises(ProtocolError, match=re.escape(f"Malformed Nuki {messages[1]}:")):
        parse_count(H("2c"))
    with pytest.raises(FieldError, match="count"):
        build_request(0, 0x10000)
    with pytest.raises(FieldError, match=count_name):
        build_count(0x10000)


CLIENT_REQUESTS = [
    (ac.parse_request_authorization_entries, ac.build_request_authorization_entries()),
    (ac.parse_remove_authorization_entry, ac.build_remove_authorization_entry(3)),
    (ac.parse_update_authorization_entry, ac.build_update_authorization_entry(3, "a")),
    (ac.parse_authorization_invite, ac.build_authorization_invite("a", IdType.FOB, KEY)),
    (kp.parse_add_keypad_code, kp.build_add_keypad_code(654321, "a")),
    (kp.parse_request_keypad_codes, kp.build_request_keypad_codes()),
    (kp.parse_update_keypad_code, kp.build_update_keypad_code(1, 654321, "a")),
    (kp.parse_remove_keypad_code, kp.build_remove_keypad_code(1)),
    (lc.parse_request_log_entries, lc.build_request_log_entries()),
    (lc.parse_enable_logging, lc.build_enable_logging(True)),
]


@pytest.mark.parametrize(("parse", "raw"), CLIENT_REQUESTS)
def test_client_requests_with_a_byte_too_many_or_too_few_are_refused(
    parse: Callable[[bytes], object], raw: bytes
) -> None:
    parse(raw)
    with pytest.raises(ProtocolError):
        parse(raw + b"\x00")
    with pytest.raises(ProtocolError):
        parse(raw[:-1])


LIST_PARSERS: dict[Command, Callable[[bytes], object]] = {
    **ac.PARSERS,
    **kp.PARSERS,
    **lc.PARSERS,
}


def test_the_list_modules_parse_different_commands() -> None:
    assert len(LIST_PARSERS) == len(ac.PARSERS) + len(kp.PARSERS) + len(lc.PARSERS)


@settings(max_examples=300)
@given(st.sampled_from(sorted(LIST_PARSERS)), st.binary(max_size=100))
def test_parsers_raise_only_protocol_error(command: Command, data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        LIST_PARSERS[command](data)
