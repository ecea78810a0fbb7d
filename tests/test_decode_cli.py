"""`python -m ttlock_nuki_addon decode ttlock`: vectors, real-lock captures, inputs, garbage."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, time
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ttlock_nuki_addon.__main__ as entry
from ttlock_nuki_addon import cli
from ttlock_nuki_addon.decode_ttlock import decode_frame
from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.ttlock import (
    auth_cmds,
    card_cmds,
    commands,
    fingerprint_cmds,
    oplog,
    passcode_cmds,
    settings_cmds,
)
from ttlock_nuki_addon.ttlock.codec import DEFAULT_KEY, Command, Response, encrypt
from ttlock_nuki_addon.ttlock.framing import LockVersion, build_frame, encode_response
from ttlock_nuki_addon.ttlock.oplog_tails import AppTail

ROOT = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/data/ttlock_vectors.json").read_text())
FRAMES: list[dict[str, Any]] = [f for f in VECTORS["frames"] if "frame_correct_hex" in f]
SDKJS_BAD_CRC = [f for f in FRAMES if f["crc_differs"]]
CAPTURES: list[dict[str, Any]] = VECTORS["real_lock_captures"]["frames"]
SESSION_KEY: str = VECTORS["real_lock_captures"]["session_aes_key"]
SAMPLE_KEY: str = VECTORS["sample_aes_key"]
LOCK_VERSION = LockVersion(scene=7)
INIT_RESPONSE = next(c for c in CAPTURES if c["step"] == "COMM_INITIALIZATION response")
HEADER_FIELDS = ("protocol_type", "sub_version", "scene", "organization", "sub_organization")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Call `decode ttlock ARGS` in-process; the exit code and the printed JSON."""
    code = cli.main(["ttlock", *args])
    out, err = capsys.readouterr()
    assert err == ""  # nothing logged, nothing warned
    return code, json.loads(out)


def header(hex_frame: str) -> dict[str, int]:
    """The header fields as the wire bytes give them."""
    raw = bytes.fromhex(hex_frame)
    return {
        "protocol_type": raw[2],
        "sub_version": raw[3],
        "scene": raw[4],
        "organization": int.from_bytes(raw[5:7], "big"),
        "sub_organization": int.from_bytes(raw[7:9], "big"),
        "command": raw[9],
        "encrypt": raw[10],
        "length": raw[11],
    }


def check_header(result: dict[str, Any], hex_frame: str) -> None:
    """Header fields, data and CRC of the JSON agree with the frame's bytes."""
    wire = hex_frame.removesuffix("0d0a") if len(hex_frame) % 2 == 0 else hex_frame
    expected = header(wire)
    for name, value in expected.items():
        assert result[name] == value, name
    assert result["data"] == wire[24 : 24 + 2 * expected["length"]]
    assert result["crc"] == int(wire[-2:], 16)
    assert result["command_name"] is not None


# --- the golden frames ---------------------------------------------------------------------


@pytest.mark.parametrize("vector", FRAMES, ids=[f["name"] for f in FRAMES])
def test_frame_vector_with_key(capsys: pytest.CaptureFixture[str], vector: dict[str, Any]) -> None:
    code, result = run(capsys, vector["wire_bytes_with_crlf_hex"], "--key", vector["aes_key_hex"])
    assert code == 0
    check_header(result, vector["frame_correct_hex"])
    assert result["command"] == int(vector["command_hex"], 16)
    assert result["data"] == vector["encrypted_payload_hex"]
    assert result["crc"] == result["crc_computed"] == vector["crc_ttlock"]
    assert result["crc_ok"] is True
    assert result["direction"] == "request"
    assert result["key"] == ("default" if vector["aes_key_hex"] == DEFAULT_KEY.hex() else "given")
    assert result["plaintext"] == vector["plaintext_payload_hex"]
    assert result["echo"] is None
    assert result["status"] is None
    assert isinstance(result["parsed"], dict)
    assert "parse_error" not in result
    assert "error" not in result


@pytest.mark.parametrize("vector", FRAMES, ids=[f["name"] for f in FRAMES])
def test_frame_vector_without_key(
    capsys: pytest.CaptureFixture[str], vector: dict[str, Any]
) -> None:
    code, result = run(capsys, vector["frame_correct_hex"])
    assert code == 0
    check_header(result, vector["frame_correct_hex"])
    assert result["crc_ok"] is True
    assert result["direction"] == "request"
    if vector["command_hex"] == "19":
        assert result["key"] == "default"
        assert result["plaintext"] == vector["plaintext_payload_hex"]
        assert result["parsed"] == {"vendor": "SCIENER", "vendor_ok": True}
    elif not vector["encrypted_payload_hex"]:
        assert result["key"] == "none"
        assert result["plaintext"] == ""
        assert result["parsed"] == {}
    else:
        assert "plaintext" not in result
        assert "key" not in result
        assert "--key" in result["note"]


@pytest.mark.parametrize("vector", SDKJS_BAD_CRC, ids=[f["name"] for f in SDKJS_BAD_CRC])
def test_wrong_crc_shows_crc_ok_false(
    capsys: pytest.CaptureFixture[str], vector: dict[str, Any]
) -> None:
    code, result = run(capsys, vector["frame_sdkjs_hex"], "--key", vector["aes_key_hex"])
    assert code == 0
    assert result["crc"] == vector["crc_sdkjs"]
    assert result["crc_computed"] == vector["crc_ttlock"]
    assert result["crc_ok"] is False
    assert result["plaintext"] == vector["plaintext_payload_hex"]  # still decoded


PARSED: dict[str, dict[str, Any]] = {
    "add_admin adminPs=12345678 unlockKey=87654321": {
        "admin_ps": 12345678,
        "unlock_key": 87654321,
        "vendor_ok": True,
    },
    "time_calibrate (fixed clock)": {"time": "2024-01-15T10:30:45"},
    "check_admin adminPs=12345678 uid=0 lockFlagPos=0": {"admin_ps": 12345678, "uid": 0},
    "check_random psFromLock=0x11223344 unlockKey=87654321": {
        "check_sum": (0x11223344 + 87654321) % 2**32
    },
    "check_user_time uid=0 start=0001311400 end=9911301400 lockFlagPos=0": {
        "start": "2000-01-31T14:00:00",
        "end": "2099-11-30T14:00:00",
    },
    "unlock psFromLock=0x11223344 unlockKey=87654321 (fixed clock)": {
        "timestamp": 1705314645,
        "timestamp_utc": "2024-01-15T10:30:45+00:00",
    },
    "add_passcode permanent 123456 202001010000..202212312359": {
        "op_name": "ADD",
        "type_name": "PERMANENT",
        "code": "123456",
        "start": "2020-01-01T00:00:00",
    },
    "delete_passcode permanent 123456": {"op_name": "DELETE", "code": "123456"},
    "modify_passcode 123456->654321": {"code": "123456", "new_code": "654321"},
    "list_passcodes seq=0": {"sequence": 0},
    "auto_lock query": {"op_name": "QUERY"},
    "auto_lock set 5s": {"op_name": "SET", "seconds": 5},
    "audio set off": {"op_name": "SET", "on": False, "volume": None},
    "operation_log new (seq=0xffff)": {"sequence": 0xFFFF, "new_only": True},
    "ic_card modify 4-byte card 3735928559 200001010000..209912012359": {
        "op_name": "MODIFY",
        "number": 3735928559,
        "width": 4,
        "end": "2099-12-01T23:59:00",
    },
    "ic_card delete 4-byte 3735928559": {"op_name": "DELETE", "number": 3735928559},
    "fingerprint delete fp=123456789012": {"op_name": "DELETE", "fp_id": 123456789012},
    "passage_mode add weekly friday all day": {
        "op_name": "ADD",
        "entry": {"type": 1, "week_or_day": 5, "month": 0, "start": "00:00:00", "end": "00:00:00"},
    },
    "read_device_info model(1)": {"info_type": 1, "info_type_name": "MODEL"},
    "set_admin_keyboard_pwd 1234567": {"admin_passcode": "1234567"},
    "get_lock_status (search bicycle status)": {"vendor": "SCIENER", "vendor_ok": True},
}


@pytest.mark.parametrize("name", sorted(PARSED))
def test_request_parsed_fields(capsys: pytest.CaptureFixture[str], name: str) -> None:
    vector = next(f for f in FRAMES if f["name"] == name)
    _, result = run(capsys, vector["frame_correct_hex"], "--key", vector["aes_key_hex"])
    assert result["parsed"].items() >= PARSED[name].items()


# --- the real-lock captures ------------------------------------------------------------------


def expected_plaintext(capture: dict[str, Any]) -> str | None:
    """The capture's plaintext hex (its text may carry a comment after a space)."""
    text = capture.get("plaintext")
    return None if text is None else str(text).split()[0]


@pytest.mark.parametrize("capture", CAPTURES, ids=[c["step"] for c in CAPTURES])
def test_real_lock_capture_with_key(
    capsys: pytest.CaptureFixture[str], capture: dict[str, Any]
) -> None:
    code, result = run(capsys, capture["wire"], "--key", SESSION_KEY)
    check_header(result, capture["wire"])
    assert result["crc_ok"] is True
    assert result["direction"] == ("response" if "response" in capture["step"] else "request")
    plaintext = expected_plaintext(capture)
    if capture is INIT_RESPONSE:
        assert code == 1
        assert "does not decrypt" in result["error"]
        assert "plaintext" not in result
        return
    assert code == 0
    assert result["plaintext"] == (plaintext or "")
    if result["direction"] == "response":
        assert result["echo"] == int(capture["plaintext"][:2], 16)
        assert result["status"] == 1
        assert result["status_name"] == "SUCCESS"
    else:
        assert result["echo"] is None


@pytest.mark.parametrize("capture", CAPTURES, ids=[c["step"] for c in CAPTURES])
def test_real_lock_capture_without_key(
    capsys: pytest.CaptureFixture[str], capture: dict[str, Any]
) -> None:
    code, result = run(capsys, capture["wire"])
    assert code == 0
    check_header(result, capture["wire"])
    assert result["crc_ok"] is True
    assert result["direction"] == ("response" if "response" in capture["step"] else "request")
    if result["command"] == Command.GET_AES_KEY:
        assert result["key"] == "default"
        assert result["plaintext"] == expected_plaintext(capture)
    elif result["length"] == 0:
        assert result["plaintext"] == ""
    else:
        assert "plaintext" not in result
        assert "error" not in result


CAPTURE_PARSED: dict[str, dict[str, Any]] = {
    "COMM_GET_AES_KEY response": {"key": SESSION_KEY},
    "COMM_ADD_ADMIN request": {"admin_ps": 970456745, "unlock_key": 344382141, "vendor_ok": True},
    "COMM_ADD_ADMIN response": {"vendor_ok": True},
    "COMM_TIME_CALIBRATE request": {"time": "2020-11-11T19:52:39"},
    "COMM_TIME_CALIBRATE response": {"battery": 100},
}


@pytest.mark.parametrize("step", sorted(CAPTURE_PARSED))
def test_real_lock_capture_parsed(capsys: pytest.CaptureFixture[str], step: str) -> None:
    capture = next(c for c in CAPTURES if c["step"] == step)
    _, result = run(capsys, capture["wire"], "--key", SESSION_KEY)
    assert result["parsed"] == CAPTURE_PARSED[step]
    assert result["scene"] == 7


def test_aes_key_answer_proves_the_ttlock_crc_table(capsys: pytest.CaptureFixture[str]) -> None:
    capture = next(c for c in CAPTURES if c["step"] == "COMM_GET_AES_KEY response")
    _, result = run(capsys, capture["wire"])
    assert result["crc"] == int(capture["crc_ttlock"], 16)
    assert result["crc_ok"] is True
    assert result["echo_name"] == "GET_AES_KEY"


def test_synthetic_feature_answer(capsys: pytest.CaptureFixture[str]) -> None:
    vector = VECTORS["synthetic_response_decode"]
    code, result = run(capsys, vector["frame_hex"], "--key", SAMPLE_KEY)
    assert code == 0
    assert (result["sub_version"], result["scene"]) == (3, 2)
    assert (result["organization"], result["sub_organization"]) == (0x0A, 0x22)
    assert result["crc_ok"] is vector["sdkjs_crc_ok"]
    assert result["status"] == vector["sdkjs_response_status"]
    assert result["echo_name"] == "SEARCH_DEVICE_FEATURE"
    assert result["parsed"]["battery"] == vector["sdkjs_battery"]
    assert result["parsed"]["features"]["bits"] == vector["sdkjs_features"]
    assert "PASSAGE_MODE" in result["parsed"]["features"]["names"]


# --- answers built with the codec: every answer parser is reachable ---------------------------

WHEN = datetime(2024, 1, 15, 10, 30, 45)
CARD = card_cmds.CardRecord(3735928559, datetime(2000, 1, 1), datetime(2099, 12, 1, 23, 59))
LOG = oplog.LogRecord(oplog.LogType.APP_UNLOCK, WHEN, 90, AppTail(7, 1705314645))
PASSCODE = passcode_cmds.PasscodeRecord(1, "123456", "123456", datetime(2020, 1, 1))
PROGRESS = fingerprint_cmds.FingerprintEnrolEvent(
    80, card_cmds.EnrolStatus.PROGRESS, current=1, total=4
)
ANSWERS: dict[str, tuple[int, bytes, dict[str, Any]]] = {
    "status": (
        0x14,
        auth_cmds.build_status_response(80, auth_cmds.LockState.UNLOCKED, 1),
        {"kind": "status", "battery": 80, "state": "UNLOCKED", "door": 1},
    ),
    "unlock long": (
        0x47,
        auth_cmds.build_operate_response(77, 5, 9, WHEN),
        {"battery": 77, "uid": 5, "unique_id": 9, "time": "2024-01-15T10:30:45"},
    ),
    "check admin": (
        0x41,
        auth_cmds.build_ps_from_lock_response(0x11223344),
        {"ps_from_lock": 0x11223344},
    ),
    "auto-lock query": (
        0x36,
        settings_cmds.build_auto_lock_state(60, 5, 1, 900),
        {"battery": 60, "seconds": 5, "minimum": 1, "maximum": 900},
    ),
    "auto-lock set ack": (0x36, commands.build_op_ack(60, 2), {"battery": 60, "op_name": "SET"}),
    "audio query": (0x62, settings_cmds.build_audio_state(60, True, 3), {"on": True, "volume": 3}),
    "passcode add ack": (0x03, commands.build_op_ack(50, 2), {"op": 2, "op_name": "ADD"}),
    "passcode page": (
        0x07,
        passcode_cmds.build_passcode_page([PASSCODE], 0xFFFF),
        {"next_seq": 0xFFFF, "is_last": True},
    ),
    "card page": (0x05, card_cmds.build_card_page(40, [CARD], 0xFFFF), {"battery": 40}),
    "card enrolled": (
        0x05,
        card_cmds.build_card_enrol_event(40, 3735928559),
        {"status": "DONE", "number": 3735928559, "width": 4},
    ),
    "fingerprint progress": (
        0x06,
        fingerprint_cmds.build_fingerprint_enrol_event(PROGRESS),
        {"status": "PROGRESS", "current": 1, "total": 4},
    ),
    "log page": (0x25, oplog.build_log_page([LOG], 0), {"next_seq": 0}),
    "lock time": (0x34, commands.build_lock_time_response(WHEN), {"time": "2024-01-15T10:30:45"}),
    "admin code": (
        0x65,
        commands.build_admin_code_response(90, "1234567"),
        {"admin_code": "1234567"},
    ),
    "device info": (0x90, commands.build_device_info_response("M201"), {"text": "M201"}),
    "operate finished": (0x57, commands.build_battery(90), {"battery": 90}),
    "card added, no number": (0x05, bytes([40, 2, 1]), {"op_name": "ADD", "rest": "01"}),
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_answers(capsys: pytest.CaptureFixture[str], name: str) -> None:
    echo, data, expected = ANSWERS[name]
    wire = encode_response(
        Response.success(echo, data), bytes.fromhex(SAMPLE_KEY), version=LOCK_VERSION
    )
    code, result = run(capsys, wire.hex(), "--key", SAMPLE_KEY)
    assert code == 0
    assert result["direction"] == "response"
    assert (result["echo"], result["status_name"]) == (echo, "SUCCESS")
    assert "parse_error" not in result
    assert result["parsed"].items() >= expected.items()


def test_log_record_fields(capsys: pytest.CaptureFixture[str]) -> None:
    _, data, _ = ANSWERS["log page"]
    wire = encode_response(
        Response.success(0x25, data), bytes.fromhex(SAMPLE_KEY), version=LOCK_VERSION
    )
    _, result = run(capsys, wire.hex(), "--key", SAMPLE_KEY)
    (record,) = result["parsed"]["records"]
    assert record["type_name"] == "APP_UNLOCK"
    assert record["time"] == "2024-01-15T10:30:45"
    assert record["tail"] == {"uid": 7, "record_id": 1705314645}
    assert record["tail_kind"] == "AppTail"


def test_failure_answer_names_the_lock_error(capsys: pytest.CaptureFixture[str]) -> None:
    wire = encode_response(
        Response.failure(0x41, 0x03), bytes.fromhex(SAMPLE_KEY), version=LOCK_VERSION
    )
    code, result = run(capsys, wire.hex(), "--key", SAMPLE_KEY)
    assert code == 0
    assert (result["status"], result["status_name"]) == (0, "FAILURE")
    assert result["lock_error"] == {
        "code": 3,
        "name": "WRONG_ADMIN_PASSWORD",
        "text": "wrong administrator password",
    }
    assert "parsed" not in result


def test_aes_key_refusal_is_an_answer_without_key(capsys: pytest.CaptureFixture[str]) -> None:
    wire = encode_response(Response.failure(0x19, 0x07), None, version=LOCK_VERSION)
    code, result = run(capsys, wire.hex())
    assert code == 0
    assert (result["command"], result["key"], result["direction"]) == (0x19, "default", "response")
    assert result["lock_error"]["name"] == "NOT_IN_SETTING_MODE"


def test_empty_answer_and_malformed_payload(capsys: pytest.CaptureFixture[str]) -> None:
    _, result = run(capsys, build_frame(Command.RESPONSE, b"", version=LOCK_VERSION).hex())
    assert (result["direction"], result["plaintext"], result["echo"]) == ("response", "", None)
    data = encrypt(bytes([0x47, 0x01]), bytes.fromhex(SAMPLE_KEY))  # unlock answer, no battery
    _, result = run(capsys, build_frame(Command.RESPONSE, data).hex(), "--key", SAMPLE_KEY)
    assert result["parsed"] is None
    assert "battery" in result["parse_error"]


def test_unknown_command_has_null_parsed(capsys: pytest.CaptureFixture[str]) -> None:
    data = encrypt(b"\x01\x02", bytes.fromhex(SAMPLE_KEY))
    _, result = run(capsys, build_frame(0xEE, data).hex(), "--key", SAMPLE_KEY)
    assert (result["command_name"], result["parsed"], result["plaintext"]) == (None, None, "0102")


# --- input forms and garbage -------------------------------------------------------------------

AES_ANSWER = next(c for c in CAPTURES if c["step"] == "COMM_GET_AES_KEY response")["wire"]
COMPACT = AES_ANSWER.removesuffix("0d0a")
PAIRS = [COMPACT[i : i + 2] for i in range(0, len(COMPACT), 2)]
VARIANTS = {
    "crlf": [AES_ANSWER],
    "spaced args": PAIRS,
    "spaced string": [" ".join(PAIRS) + " 0d 0a"],
    "colons": [":".join(PAIRS)],
    "0x prefixes": [" ".join("0x" + p for p in PAIRS)],
    "upper case": [COMPACT.upper()],
    "commas": [", ".join("0x" + p.upper() for p in PAIRS)],
    "single digits": [p.lstrip("0") or "0" for p in PAIRS],
    "chunks": [COMPACT[:40], COMPACT[40:]],
}


@pytest.mark.parametrize("parts", VARIANTS.values(), ids=list(VARIANTS))
def test_input_variants(capsys: pytest.CaptureFixture[str], parts: list[str]) -> None:
    _, reference = run(capsys, COMPACT)
    code, result = run(capsys, *parts)
    assert code == 0
    assert result == reference


def test_key_variants(capsys: pytest.CaptureFixture[str]) -> None:
    wire = CAPTURES[-1]["wire"]
    _, reference = run(capsys, wire, "--key", SESSION_KEY)
    spaced = " ".join(SESSION_KEY[i : i + 2] for i in range(0, 32, 2))
    assert run(capsys, wire, "--key", spaced.upper())[1] == reference
    assert run(capsys, "--key", "0x" + SESSION_KEY, wire)[1] == reference
    _, default = run(capsys, FRAMES[0]["frame_correct_hex"], "--key", "default")
    assert default["key"] == "default"


GARBAGE = {
    "non-hex": ["7f5a05zz"],
    "odd length": ["7f5a050"],
    "empty": [""],
    "only separators": [" : , "],
    "too short": ["7f5a05"],
    "not a frame": ["00" * 13],
    "length mismatch": [COMPACT + "00"],
    "old protocol": ["7f5a0203010001000145aa00b3"],
    "short key": [COMPACT, "--key", "0011"],
    "non-hex key": [COMPACT, "--key", "zz" * 16],
    "no hex": [],
    "unknown option": [COMPACT, "--bogus"],
}


@pytest.mark.parametrize("args", GARBAGE.values(), ids=list(GARBAGE))
def test_garbage_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert cli.main(["ttlock", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("decode: error: ")


@pytest.mark.parametrize("argv", [[], ["nosuchbrand", "00"]], ids=["no brand", "unknown brand"])
def test_brand_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1


@given(
    command=st.integers(0, 255),
    plaintext=st.binary(max_size=80),
    scene=st.integers(0, 255),
    corrupt=st.booleans(),
)
def test_decode_never_raises(command: int, plaintext: bytes, scene: int, corrupt: bool) -> None:
    data = encrypt(plaintext, bytes.fromhex(SAMPLE_KEY))
    raw = bytearray(build_frame(command, data, version=LockVersion(scene=scene)))
    if corrupt and data:
        raw[12] ^= 0xFF
    result = decode_frame(bytes(raw), bytes.fromhex(SAMPLE_KEY))
    json.dumps(cli.to_json(result))
    assert ("plaintext" in result) != ("error" in result)


@given(raw=st.binary(max_size=60))
def test_decode_of_random_bytes_raises_only_protocol_error(raw: bytes) -> None:
    try:
        result = decode_frame(b"\x7f\x5a\x05" + raw, None)
    except ProtocolError:
        return
    json.dumps(cli.to_json(result))


# --- the registry and JSON conversion ----------------------------------------------------------


class EchoDecoder:
    """A stand-in brand, as `decode_nuki` will plug in."""

    brand = "echo"
    summary = "echo the bytes"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """One HEX argument."""
        parser.add_argument("hex", nargs="+")

    def decode(self, args: argparse.Namespace) -> dict[str, object]:
        """Echo the bytes; `error` when they are 00."""
        raw = cli.parse_hex(args.hex, "message")
        return {"raw": raw, "error": "zero"} if raw == b"\x00" else {"raw": raw}


def test_another_brand_plugs_in(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(cli._REGISTRY, "echo", EchoDecoder())
    assert isinstance(EchoDecoder(), cli.BrandDecoder)
    assert list(cli.decoders()) == ["echo", "nuki", "ttlock"]
    assert cli.main(["echo", "01", "02"]) == 0
    assert json.loads(capsys.readouterr().out) == {"raw": "0102"}
    assert cli.main(["echo", "00"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "zero"


class Colour(IntEnum):
    """A test enum."""

    RED = 1


@dataclass
class Sample:
    """A test dataclass."""

    when: datetime
    at: time
    colour: Colour
    raw: bytes
    items: frozenset[int]
    nested: tuple[int, ...]


def test_to_json_is_json_native() -> None:
    value = Sample(WHEN, time(7, 5), Colour.RED, b"\x01\xff", frozenset({3, 1}), (1, 2))
    assert cli.to_json({"x": value, "flag": True, "none": None}) == {
        "x": {
            "when": "2024-01-15T10:30:45",
            "at": "07:05:00",
            "colour": "RED",
            "raw": "01ff",
            "items": [1, 3],
            "nested": [1, 2],
        },
        "flag": True,
        "none": None,
    }


def test_main_dispatches_decode_and_keeps_the_addon(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def fake_addon(argv: list[str]) -> int:
        seen.append(list(argv))
        return 0

    monkeypatch.setattr(entry, "run_addon", fake_addon)
    assert entry.main(["--data-dir", "/tmp/x", "--log-level", "debug"]) == 0
    assert seen == [["--data-dir", "/tmp/x", "--log-level", "debug"]]
    assert entry.main(["decode", "ttlock", FRAMES[0]["frame_correct_hex"]]) == 0
    assert json.loads(capsys.readouterr().out)["command_name"] == "INITIALIZATION"
    assert len(seen) == 1


# --- the real command, as a few subprocesses ----------------------------------------------------


def python_m(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m ttlock_nuki_addon ARGS`."""
    return subprocess.run(
        [sys.executable, "-m", "ttlock_nuki_addon", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_subprocess_decodes_unquoted_bytes_with_key() -> None:
    capture = next(c for c in CAPTURES if c["step"] == "COMM_ADD_ADMIN request")
    wire = capture["wire"]
    done = python_m(
        "decode", "ttlock", *(wire[i : i + 2] for i in range(0, len(wire), 2)), "--key", SESSION_KEY
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result["plaintext"] == expected_plaintext(capture)
    assert result["parsed"]["vendor_ok"] is True


def test_subprocess_garbage_exit_2_one_line() -> None:
    done = python_m("decode", "ttlock", "7f5a0g")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert "not hex" in done.stderr


def test_subprocess_undecryptable_exit_1() -> None:
    done = python_m("decode", "ttlock", INIT_RESPONSE["wire"], "--key", SESSION_KEY)
    assert done.returncode == 1
    assert "does not decrypt" in json.loads(done.stdout)["error"]


def test_subprocess_help_mentions_decode() -> None:
    done = python_m("--help")
    assert done.returncode == 0
    assert "--data-dir" in done.stdout
    assert "decode BRAND HEX" in done.stdout
    assert "ttlock" in done.stdout
