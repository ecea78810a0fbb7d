"""TTLock codec and framing against the golden vectors and the real-lock captures."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.ble.link import Framer
from ttlock_nuki_addon.errors import CommandRejectedError, ProtocolError
from ttlock_nuki_addon.ttlock.codec import (
    CRC_TABLE,
    DEFAULT_KEY,
    ERROR_TEXTS,
    Command,
    DecryptError,
    ErrorCode,
    LockType,
    Response,
    crc8,
    decrypt,
    encrypt,
    key_for,
    lock_type_of,
    outer_command,
    parse_response,
)
from ttlock_nuki_addon.ttlock.framing import (
    APP_VERSION,
    LINK_PROFILE,
    NOTIFY_UUID,
    WRITE_UUID,
    LockVersion,
    TTLockFramer,
    build_frame,
    decode_request,
    decode_response,
    echoed_command,
    encode_request,
    encode_response,
    parse_frame,
    reply_matcher,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "ttlock_vectors.json").read_text()
)
FRAMES = [f for f in VECTORS["frames"] if "error" not in f]
CAPTURES = VECTORS["real_lock_captures"]
SESSION_KEY = bytes.fromhex(CAPTURES["session_aes_key"])
SAMPLE_KEY = bytes.fromhex(VECTORS["sample_aes_key"])
LOCK_VERSION = LockVersion(5, 3, 2, 1, 1)


def chunks(data: bytes, size: int = 20) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def feed_all(framer: TTLockFramer, parts: list[bytes]) -> list[bytes]:
    return [frame for part in parts for frame in framer.feed(part)]


def wire(capture: dict[str, Any]) -> bytes:
    return bytes.fromhex(capture["wire"])


def standard_maxim_crc(data: bytes) -> int:
    table = list(CRC_TABLE)
    table[33] = 0x7D
    crc = 0
    for byte in data:
        crc = table[crc ^ byte]
    return crc


# --- CRC and AES -------------------------------------------------------------------------


def test_crc_table_is_the_ttlock_table() -> None:
    assert list(CRC_TABLE) == VECTORS["crc_ttlock_table"]
    diff = VECTORS["crc_table_difference"]
    assert CRC_TABLE[diff["index"]] == diff["ttlock_value"] == 0x07


@pytest.mark.parametrize("vector", VECTORS["crc"], ids=lambda v: v["name"])
def test_crc_vectors(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["input_hex"])
    assert crc8(data) == vector["crc_ttlock_table"]
    assert standard_maxim_crc(data) == vector["crc_sdkjs_standard_maxim_table"]


@pytest.mark.parametrize("vector", VECTORS["aes"], ids=lambda v: f"{v['label']}-{v['key']}")
def test_aes_vectors(vector: dict[str, Any]) -> None:
    key, plain = bytes.fromhex(vector["key_hex"]), bytes.fromhex(vector["plaintext_hex"])
    assert encrypt(plain, key).hex() == vector["ciphertext_hex"]
    assert decrypt(bytes.fromhex(vector["ciphertext_hex"]), key) == plain


def test_default_key_and_padding_only_block() -> None:
    assert DEFAULT_KEY.hex() == VECTORS["default_aes_key"]
    block = encrypt(b"", SAMPLE_KEY, pad_empty=True)
    assert len(block) == 16
    assert decrypt(block, SAMPLE_KEY) == b""


def test_decrypt_with_wrong_key_or_broken_blocks() -> None:
    ciphertext = encrypt(b"SCIENER", SAMPLE_KEY)
    with pytest.raises(DecryptError):
        decrypt(ciphertext, DEFAULT_KEY)
    with pytest.raises(DecryptError):
        decrypt(ciphertext[:15], SAMPLE_KEY)
    with pytest.raises(ValueError, match="16 bytes"):
        encrypt(b"x", b"short")


def test_key_for_picks_default_key_for_get_aes_key_and_before_pairing() -> None:
    assert key_for(Command.GET_AES_KEY, SESSION_KEY) == DEFAULT_KEY
    assert key_for(Command.RESPONSE, None) == DEFAULT_KEY
    assert key_for(Command.RESPONSE, SESSION_KEY) == SESSION_KEY


# --- frames ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["name"])
def test_frame_vectors_round_trip(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["aes_key_hex"])
    command = int(vector["command_hex"], 16)
    plain = bytes.fromhex(vector["plaintext_payload_hex"])
    correct = bytes.fromhex(vector["frame_correct_hex"])
    assert encrypt(plain, key).hex() == vector["encrypted_payload_hex"]
    assert build_frame(command, encrypt(plain, key)) == correct
    session = None if command == Command.GET_AES_KEY else key
    wire_bytes = encode_request(command, plain, session)
    assert wire_bytes.hex() == vector["wire_bytes_with_crlf_hex"]
    assert [c.hex() for c in chunks(wire_bytes)] == vector["wire_chunks_20"]

    frame = parse_frame(correct)
    assert (frame.command, frame.encrypt, frame.crc, frame.crc_ok) == (
        command,
        0xAA,
        vector["crc_ttlock"],
        True,
    )
    assert frame.version == APP_VERSION
    assert frame.length == len(frame.data) == len(bytes.fromhex(vector["encrypted_payload_hex"]))
    assert frame.to_bytes() == correct
    assert parse_frame(wire_bytes) == frame
    assert decode_request(frame, session) == plain
    assert feed_all(TTLockFramer(), [bytes.fromhex(c) for c in vector["wire_chunks_20"]]) == [
        correct
    ]


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["name"])
def test_sdkjs_frames_with_the_wrong_crc_are_rejected(vector: dict[str, Any]) -> None:
    sdkjs = bytes.fromhex(vector["frame_sdkjs_hex"])
    if not vector["crc_differs"]:
        assert parse_frame(sdkjs).crc_ok
        return
    with pytest.raises(ProtocolError, match="bad CRC"):
        parse_frame(sdkjs)
    lenient = parse_frame(sdkjs, strict=False)
    assert not lenient.crc_ok
    assert lenient.crc == vector["crc_sdkjs"]
    assert lenient.to_bytes() == sdkjs


def test_synthetic_feature_answer_decodes() -> None:
    vector = VECTORS["synthetic_response_decode"]
    frame = parse_frame(bytes.fromhex(vector["frame_hex"]))
    assert frame.version == LockVersion(5, 3, 2, 0x000A, 0x0022)
    assert frame.command == Command.RESPONSE
    response = decode_response(frame, SAMPLE_KEY)
    assert (response.command, response.status) == (Command.SEARCH_DEVICE_FEATURE, 1)
    assert response.ok and response.data[0] == vector["sdkjs_battery"]
    features = int.from_bytes(response.data[1:5], "big")
    assert [bit for bit in range(32) if features >> bit & 1] == vector["sdkjs_features"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "too short"),
        (b"\x7f", "too short"),
        (bytes.fromhex("7f5a0503010001000145aa"), "too short"),
        (bytes.fromhex("7e5a0503010001000145aa00b3"), "7F 5A"),
        (bytes.fromhex("7f5a0503010001000145aa01b3"), "length mismatch"),
        (bytes.fromhex("7f5a0503010001000145aa00b30d"), "length mismatch"),
        (bytes.fromhex("7f5a0503010001000145aa00b4"), "bad CRC"),
        (bytes.fromhex("7f5a0345aa01" + "11" + "00"), "V2 protocol"),
    ],
)
def test_parse_frame_rejects_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_frame(raw)


@given(st.binary(max_size=300))
def test_parse_frame_raises_only_protocol_error(raw: bytes) -> None:
    for strict in (True, False):
        with contextlib.suppress(ProtocolError):
            parse_frame(raw, strict=strict)


@given(
    version=st.builds(
        LockVersion,
        st.integers(5, 255),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
    ),
    command=st.integers(0, 255),
    encrypt_byte=st.integers(0, 255),
    data=st.binary(max_size=255),
)
def test_build_parse_round_trip(
    version: LockVersion, command: int, encrypt_byte: int, data: bytes
) -> None:
    raw = build_frame(command, data, version=version, encrypt_byte=encrypt_byte)
    frame = parse_frame(raw)
    assert (frame.version, frame.command, frame.encrypt, frame.data) == (
        version,
        command,
        encrypt_byte,
        data,
    )
    assert frame.crc_ok and frame.to_bytes() == raw
    assert feed_all(TTLockFramer(), chunks(raw + b"\r\n")) == [raw]


# --- answers -----------------------------------------------------------------------------


def test_response_envelope() -> None:
    ok = parse_response(bytes.fromhex("430164"))
    assert ok == Response(Command.TIME_CALIBRATE, 1, b"\x64")
    assert ok.ok and ok.error_code is None and ok.raise_for_status() is ok
    failed = parse_response(bytes([Command.CHECK_ADMIN, 0, ErrorCode.WRONG_ADMIN_PASSWORD]))
    assert not failed.ok and failed.error_code == ErrorCode.WRONG_ADMIN_PASSWORD
    with pytest.raises(CommandRejectedError) as info:
        failed.raise_for_status()
    assert info.value.lock_code == 0x03
    assert info.value.text == "wrong administrator password"
    no_code = Response(Command.ADD_ADMIN, 0)
    with pytest.raises(CommandRejectedError) as info:
        no_code.raise_for_status()
    assert info.value.lock_code == ErrorCode.FAILED
    assert Response.failure(0x03, 0x14).to_bytes() == bytes([0x03, 0x00, 0x14])
    assert Response.success(0x01, b"\x64").to_bytes() == bytes.fromhex("010164")
    assert "unknown error 0x99" in Response(1, 0, b"\x99").error_text
    with pytest.raises(ProtocolError, match="too short"):
        parse_response(b"\x14")


def test_every_error_code_has_a_text() -> None:
    assert set(ErrorCode) == {ErrorCode(code) for code in ERROR_TEXTS}


def test_command_table_and_lock_types() -> None:
    expected = {
        "FUNCTION_LOCK": 0x58,
        "LOCK": 0x4C,
        "UNLOCK": 0x47,
        "SEARCH_BICYCLE_STATUS": 0x14,
        "SEARCHE_DEVICE_FEATURE": 0x01,
        "SEARCH_DEVICE_FEATURE": 0x01,
        "GET_ALARM_ERRCORD_OR_OPERATION_FINISHED": 0x57,
        "OPERATE_FINISHED": 0x57,
        "RESPONSE": 0x54,
        "READ_DEVICE_INFO": 0x90,
        "AT_COMMAND": 0xFF,
    }
    assert {name: int(Command[name]) for name in expected} == expected
    assert len(Command) == 57  # every row of spec §5.2 (F2-F6 as five), aliases not counted
    assert int(outer_command(Command.GET_AES_KEY)) == 0x19
    assert int(outer_command(Command.UNLOCK)) == 0x54
    assert lock_type_of(5, 3, 2) is LockType.V3
    assert lock_type_of(5, 3, 7) is LockType.V3_CAR
    assert lock_type_of(5, 4, 1) is LockType.V2S_PLUS
    assert lock_type_of(5, 1, 1) is LockType.V2S
    assert lock_type_of(0x0A, 1, 1) is LockType.CAR
    assert lock_type_of(0x0B, 1, 1) is LockType.MOBI
    assert lock_type_of(3, 1, 1) is LockType.V2
    assert lock_type_of(9, 9, 9) is None
    assert LockVersion(5, 3, 7, 1, 1).lock_type is LockType.V3_CAR


# --- the real lock -----------------------------------------------------------------------


def test_real_lock_captures_decode_with_the_captured_keys() -> None:
    checked = 0
    for capture in CAPTURES["frames"]:
        frame = parse_frame(wire(capture))
        assert frame.crc_ok
        if "plaintext" not in capture:
            continue
        key = bytes.fromhex(capture["key"])
        expected = bytes.fromhex(capture["plaintext"].split()[0])
        assert decrypt(frame.data, key) == expected
        session = None if key == DEFAULT_KEY else key
        if capture["step"].endswith("response"):
            response = decode_response(frame, session)
            assert response.ok and response.to_bytes() == expected
            assert encode_response(response, session, version=frame.version) == wire(capture)
        else:
            assert decode_request(frame, session) == expected
            again = encode_request(frame.command, expected, session, version=frame.version)
            assert again == wire(capture)
        checked += 1
    assert checked == 6


def test_real_aes_key_answer_proves_the_ttlock_crc_table() -> None:
    capture = next(c for c in CAPTURES["frames"] if c["step"] == "COMM_GET_AES_KEY response")
    raw = wire(capture)[:-2]
    assert raw[-1] == crc8(raw[:-1]) == int(capture["crc_ttlock"], 16)
    assert standard_maxim_crc(raw[:-1]) == int(capture["crc_standard"], 16)
    response = decode_response(parse_frame(raw), None)
    assert response.data == SESSION_KEY


def test_real_initialization_answer_decrypts_with_no_key() -> None:
    capture = next(c for c in CAPTURES["frames"] if c["step"] == "COMM_INITIALIZATION response")
    frame = parse_frame(wire(capture))
    for session in (None, SESSION_KEY):
        with pytest.raises(DecryptError):
            decode_response(frame, session)
    assert reply_matcher(Command.INITIALIZATION, None)(wire(capture)[:-2])


# --- reassembly --------------------------------------------------------------------------


def test_framer_reassembles_the_whole_real_session_in_one_stream() -> None:
    frames = [wire(c)[:-2] for c in CAPTURES["frames"]]
    stream = b"".join(wire(c) for c in CAPTURES["frames"])
    framer = TTLockFramer()
    assert feed_all(framer, chunks(stream)) == frames
    assert framer.discarded == 0
    assert feed_all(TTLockFramer(), [b"".join(frames)]) == frames  # no CRLF at all


@given(st.lists(st.integers(1, 40), min_size=1, max_size=60))
def test_framer_is_indifferent_to_chunk_sizes(sizes: list[int]) -> None:
    stream = b"".join(wire(c) for c in CAPTURES["frames"])
    parts: list[bytes] = []
    start = 0
    for size in sizes * (len(stream) // sum(sizes) + 1):
        parts.append(stream[start : start + size])
        start += size
    framer = TTLockFramer()
    assert feed_all(framer, parts) == [wire(c)[:-2] for c in CAPTURES["frames"]]
    assert framer.discarded == 0


def test_chunk_ending_in_crlf_inside_the_ciphertext() -> None:
    # Found by search: with the sample key this answer's ciphertext has 0d 0a at bytes 6-7,
    # so the first 20-byte notification ends in CRLF although the frame is not complete.
    answer = Response(Command.GET_OPERATE_LOG, 1, bytes.fromhex("00006b5b"))
    message = encode_response(answer, SAMPLE_KEY, version=LOCK_VERSION)
    parts = chunks(message)
    assert parts[0].endswith(b"\r\n") and len(parts) == 2
    framer = TTLockFramer()
    assert framer.feed(parts[0]) == []
    (frame,) = framer.feed(parts[1])
    assert decode_response(parse_frame(frame), SAMPLE_KEY) == answer


def test_bad_crc_is_a_protocol_error_unless_lenient() -> None:
    lock = next(f for f in FRAMES if f["crc_differs"])
    sdkjs = bytes.fromhex(lock["frame_sdkjs_hex"]) + b"\r\n"
    with pytest.raises(ProtocolError, match="bad CRC"):
        feed_all(TTLockFramer(), chunks(sdkjs))
    lenient = TTLockFramer(strict_crc=False)
    (frame,) = feed_all(lenient, chunks(sdkjs))
    assert not parse_frame(frame, strict=False).crc_ok


def test_framer_skips_garbage_and_resyncs() -> None:
    good = bytes.fromhex(FRAMES[1]["wire_bytes_with_crlf_hex"])
    framer = TTLockFramer()
    assert framer.feed(b"\x00\x0d\x0a\xff") == []
    assert framer.discarded == 4
    assert framer.feed(b"junk\x7f") == []  # a trailing 7F may begin a header
    assert framer.discarded == 8
    rest = feed_all(framer, [good[1:20], good[20:], b"noise", good])
    assert rest == [good[:-2], good[:-2]]
    assert framer.discarded == 8 + len(b"noise")


def test_stale_partial_frame_gives_way_to_a_new_one() -> None:
    first = bytes.fromhex(FRAMES[2]["wire_bytes_with_crlf_hex"])
    second = bytes.fromhex(FRAMES[3]["wire_bytes_with_crlf_hex"])
    framer = TTLockFramer()
    assert framer.feed(first[:20]) == []  # the rest of this frame is lost on the air
    assert feed_all(framer, chunks(second)) == [second[:-2]]
    assert framer.discarded == 20


def test_old_protocol_frame_is_rejected_and_reset_clears() -> None:
    old = bytes.fromhex("7f5a0345aa0111")
    old += bytes([crc8(old)]) + b"\r\n"
    with pytest.raises(ProtocolError, match="V2"):
        TTLockFramer().feed(old)
    framer = TTLockFramer()
    framer.feed(bytes.fromhex(FRAMES[2]["wire_chunks_20"][0]))
    framer.reset()
    good = bytes.fromhex(FRAMES[0]["wire_bytes_with_crlf_hex"])
    assert framer.feed(good) == [good[:-2]]


@given(st.lists(st.binary(max_size=40), max_size=30))
def test_framer_raises_only_protocol_error(parts: list[bytes]) -> None:
    framer = TTLockFramer()
    for part in parts:
        try:
            for frame in framer.feed(part):
                parse_frame(frame)
        except ProtocolError:
            framer.reset()


# --- matching replies --------------------------------------------------------------------


def test_reply_matching_by_echo_leaves_status_pushes_unsolicited() -> None:
    unlock = encode_response(
        Response.success(Command.UNLOCK, b"\x64"), SAMPLE_KEY, version=LOCK_VERSION
    )[:-2]
    push = encode_response(
        Response.success(Command.SEARCH_BICYCLE_STATUS, b"\x64\x01\x00"),
        SAMPLE_KEY,
        version=LOCK_VERSION,
    )[:-2]
    match = reply_matcher(Command.UNLOCK, SAMPLE_KEY)
    assert match(unlock) and not match(push)
    assert echoed_command(push, SAMPLE_KEY) == Command.SEARCH_BICYCLE_STATUS
    assert echoed_command(b"garbage", SAMPLE_KEY) is None
    foreign = encode_response(Response.success(1), DEFAULT_KEY, version=LOCK_VERSION)[:-2]
    with pytest.raises(DecryptError):
        decode_response(parse_frame(foreign), SAMPLE_KEY)
    assert match(foreign)  # a wrong key is news for the waiting request (spec §3.1)
    assert not match(b"not a frame")
    empty = build_frame(Command.RESPONSE, version=LOCK_VERSION)
    assert reply_matcher(Command.RESET_LOCK, SAMPLE_KEY)(empty)
    assert echoed_command(empty, SAMPLE_KEY) is None


def test_get_aes_key_answer_matches_under_the_default_key() -> None:
    capture = next(c for c in CAPTURES["frames"] if c["step"] == "COMM_GET_AES_KEY response")
    raw = wire(capture)[:-2]
    assert reply_matcher(Command.GET_AES_KEY, None)(raw)
    assert reply_matcher(Command.GET_AES_KEY, SESSION_KEY)(raw)  # outer 0x19: default key
    assert echoed_command(raw, None) == Command.GET_AES_KEY


def test_link_profile() -> None:
    factory: Callable[[], Framer] = TTLockFramer  # mypy checks the Framer protocol
    assert factory().feed(b"") == []
    assert LINK_PROFILE.write_char == WRITE_UUID == "0000fff2-0000-1000-8000-00805f9b34fb"
    assert LINK_PROFILE.notify_chars == (NOTIFY_UUID,)
    assert NOTIFY_UUID == "0000fff4-0000-1000-8000-00805f9b34fb"
    assert LINK_PROFILE.chunk_size == 20 and not LINK_PROFILE.write_with_response


def test_codec_and_advert_import_neither_asyncio_nor_bleak() -> None:
    code = (
        "import sys, ttlock_nuki_addon.ttlock.codec, ttlock_nuki_addon.ttlock.advert; "
        "print(sorted({'asyncio', 'bleak'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
