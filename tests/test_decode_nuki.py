"""`python -m ttlock_nuki_addon decode nuki`: plain and encrypted vectors, keys, garbage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_decode_cli import python_m

from ttlock_nuki_addon import cli
from ttlock_nuki_addon.decode_nuki import View, decode_message
from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki.codec import Command, crc16

ROOT = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/data/nuki_vectors.json").read_text())
DOC: dict[str, Any] = VECTORS["official_doc_example_v2_1"]
DOC_KEY: str = DOC["shared_key_hsalsa20"]
DOC_STATES: str = DOC["encrypted"]["sl_keyturner_states_wire"]
PAIR: dict[str, Any] = VECTORS["pynukibt_pairing"]
PAIR_KEY: str = PAIR["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"]
PLAIN: list[str] = [
    *(DOC["msgs"].values()),
    *(step["hex"] for step in PAIR["transcript"]),
    *(v["message_hex"] for v in VECTORS["forum_captured_messages_crc_check"]),
]
ENCRYPTED: list[tuple[str, str, str]] = [  # (key, wire, pdata)
    (DOC_KEY, DOC["encrypted"][f"{n}_wire"], DOC["encrypted"][f"{n}_pdata"])
    for n in (
        "cl_request_keyturner_states",
        "sl_keyturner_states",
        "cl_request_challenge",
        "sl_challenge",
        "cl_lock_action_unlock",
    )
] + [
    (PAIR_KEY, v["wire_message_hex"], v["pdata_plaintext_hex"])
    for v in VECTORS["pynukibt_encrypted_commands"]
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Call `decode nuki ARGS` in-process; the exit code and the printed JSON."""
    code = cli.main(["nuki", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def mentions(value: object, word: str) -> bool:
    """Whether the JSON text of value contains word (case-insensitive)."""
    return word.lower() in json.dumps(value).lower()


def test_request_public_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "01 00 03 00 27 A7")
    assert code == 0
    assert result["kind"] == "plain"
    assert (result["command"], result["command_name"]) == (1, "REQUEST_DATA")
    assert (result["payload"], result["crc"], result["crc_ok"]) == ("0300", 0xA727, True)
    assert mentions(result["parsed"], "PUBLIC_KEY")


@pytest.mark.parametrize("message", PLAIN)
def test_plain_vectors(capsys: pytest.CaptureFixture[str], message: str) -> None:
    code, result = run(capsys, message)
    assert code == 0
    raw = bytes.fromhex(message)
    assert result["kind"] == "plain"
    assert result["command"] == int.from_bytes(raw[:2], "little")
    assert result["payload"] == raw[2:-2].hex()
    assert result["crc_ok"] is True
    assert result["crc"] == crc16(raw[:-2])
    assert "parsed" in result


def test_plain_with_a_wrong_crc(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "0e00f1a329")
    assert code == 0
    assert result["kind"] == "plain"
    assert (result["command_name"], result["crc_ok"]) == ("STATUS", False)
    assert result["crc_computed"] == 0x28A3


def test_encrypted_keyturner_states_with_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, DOC_STATES, "--key", DOC_KEY)
    assert code == 0
    assert result["kind"] == "encrypted"
    assert (result["command"], result["command_name"]) == (0x0C, "KEYTURNER_STATES")
    assert (result["auth_id"], result["pdata_auth_id"], result["auth_id_ok"]) == (2, 2, True)
    assert result["crc_ok"] is True
    pdata = DOC["encrypted"]["sl_keyturner_states_pdata"]
    assert result["payload"] == pdata[12:-4]
    assert result["parsed"]["lock_state"] == "LOCKED"  # spec §7.1: payload byte 1 = 0x01


def test_view_options_reach_describe(capsys: pytest.CaptureFixture[str]) -> None:
    _, as_lock = run(capsys, "0100030027a7", "--from", "lock")
    assert mentions(as_lock["parsed"], "only sent by the client")
    _, as_client = run(capsys, "0100030027a7", "--from", "client")
    assert as_client["parsed"] == run(capsys, "0100030027a7")[1]["parsed"]
    _, opener = run(capsys, DOC_STATES, "--key", DOC_KEY, "--opener")
    assert opener["parsed"]["lock_state"] != "LOCKED"  # spec §4.12: 0x01 means online there


def test_encrypted_without_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, DOC_STATES)
    assert code == 0
    raw = bytes.fromhex(DOC_STATES)
    assert result["nonce"] == raw[:24].hex()
    assert result["auth_id"] == 2
    assert result["length"] == len(raw) - 30
    assert not {"command", "payload", "parsed", "error"} & set(result)


def test_encrypted_with_a_wrong_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, DOC_STATES, "--key", PAIR_KEY)
    assert code == 1
    assert result["error"]["reason"] == "mac"
    assert result["error"]["message"]
    assert "command" not in result


@pytest.mark.parametrize(("key", "wire", "pdata"), ENCRYPTED)
def test_encrypted_vectors(
    capsys: pytest.CaptureFixture[str], key: str, wire: str, pdata: str
) -> None:
    code, result = run(capsys, wire, "--key", key)
    assert code == 0
    raw = bytes.fromhex(pdata)
    assert result["command"] == int.from_bytes(raw[4:6], "little")
    assert result["payload"] == raw[6:-2].hex()
    assert result["crc_ok"] is True
    assert "parsed" in result


def test_5g_pairing_message_with_key(capsys: pytest.CaptureFixture[str]) -> None:
    step = VECTORS["pynukibt_pairing_ultra"]["transcript"][6]
    code, result = run(capsys, step["hex"], "--key", PAIR_KEY, "--pin-width", "4")
    assert code == 0
    assert result["command"] == Command.AUTHORIZATION_DATA
    assert result["payload"] == step["decrypted_pdata"][12:-4]


GARBAGE = {
    "non-hex": ["0100zz"],
    "odd length": ["0100030027a"],
    "empty": [""],
    "too short": ["010003"],
    "short key": [DOC_STATES, "--key", "0011"],
    "16-byte key": [DOC_STATES, "--key", "00" * 16],
    "non-hex key": [DOC_STATES, "--key", "zz" * 32],
    "no hex": [],
    "bad pin width": ["0100030027a7", "--pin-width", "3"],
    "unknown option": ["0100030027a7", "--bogus"],
}


@pytest.mark.parametrize("args", GARBAGE.values(), ids=list(GARBAGE))
def test_garbage_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert cli.main(["nuki", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("decode: error: ")


@given(
    raw=st.one_of(
        st.binary(max_size=120),
        st.binary(max_size=90).map(
            lambda b: bytes(24) + (7).to_bytes(4, "little") + len(b).to_bytes(2, "little") + b
        ),
    ),
    key=st.one_of(st.none(), st.just(bytes.fromhex(PAIR_KEY))),
    from_lock=st.sampled_from([None, True, False]),
    pin_width=st.sampled_from([2, 4]),
    opener=st.booleans(),
)
def test_random_bytes_only_raise_protocol_error(
    raw: bytes, key: bytes | None, from_lock: bool | None, pin_width: int, opener: bool
) -> None:
    try:
        result = decode_message(raw, key, View(from_lock, pin_width, opener))
    except ProtocolError:
        assert len(raw) < 4
        return
    json.dumps(cli.to_json(result))
    assert result["kind"] in ("plain", "encrypted")


# --- the real command, as a few subprocesses ----------------------------------------------------


def test_subprocess_decodes_with_key() -> None:
    done = python_m("decode", "nuki", DOC_STATES, "--key", DOC_KEY)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["command_name"] == "KEYTURNER_STATES"


def test_subprocess_garbage_exit_2_one_line() -> None:
    done = python_m("decode", "nuki", "01000g")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_subprocess_wrong_key_exit_1() -> None:
    done = python_m("decode", "nuki", DOC_STATES, "--key", PAIR_KEY)
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["reason"] == "mac"
