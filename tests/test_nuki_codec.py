"""Nuki codec: CRC vectors, every encrypted vector both ways, verification failures, reassembly."""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.secret import SecretBox

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki.codec import (
    ADATA_LEN,
    AUTH_ID_5G_PAIRING,
    CLIENT_PLAIN_LENGTHS,
    LOCK_PLAIN_LENGTHS,
    MAX_MESSAGE_LEN,
    NONCE_LEN,
    CodecError,
    Command,
    EncryptedFramer,
    Message,
    PlainFramer,
    crc16,
    decrypt,
    encode_plain,
    encrypt,
    open_message,
    parse_header,
    parse_plain,
)

ROOT = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/data/nuki_vectors.json").read_text())
DOC: dict[str, Any] = VECTORS["official_doc_example_v2_1"]
DOC_KEY = bytes.fromhex(DOC["shared_key_hsalsa20"])
PAIR: dict[str, Any] = VECTORS["pynukibt_pairing"]
PAIR_KEY = bytes.fromhex(PAIR["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
ULTRA_STEPS: list[dict[str, Any]] = VECTORS["pynukibt_pairing_ultra"]["transcript"]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def _doc_encrypted() -> list[tuple[str, bytes, bytes, bytes]]:
    enc = DOC["encrypted"]
    names = [key.removesuffix("_wire") for key in enc if key.endswith("_wire")]
    return [(f"doc {n}", DOC_KEY, h(enc[f"{n}_wire"]), h(enc[f"{n}_pdata"])) for n in names]


# (label, key, wire message, PDATA) for every encrypted vector
ENCRYPTED: list[tuple[str, bytes, bytes, bytes]] = [
    *_doc_encrypted(),
    *(
        (v["label"], PAIR_KEY, h(v["wire_message_hex"]), h(v["pdata_plaintext_hex"]))
        for v in VECTORS["pynukibt_encrypted_commands"]
    ),
    *(
        (
            f"ultra step {i}",
            PAIR_KEY,
            h(ULTRA_STEPS[i]["hex"]),
            h(ULTRA_STEPS[i]["decrypted_pdata"]),
        )
        for i in (6, 7)
    ),
]
LOCK_RESPONSES: list[dict[str, Any]] = VECTORS["lock_responses_parsed_by_pynukibt"]
ENCRYPTED_FROM_LOCK: list[bytes] = [
    h(DOC["encrypted"]["sl_keyturner_states_wire"]),
    h(DOC["encrypted"]["sl_challenge_wire"]),
    *(h(v["wire_message_hex"]) for v in LOCK_RESPONSES),
]
PLAIN_FROM_LOCK: list[bytes] = [
    *(h(DOC["msgs"][k]) for k in DOC["msgs"] if k.startswith("sl_")),
    *(h(step["hex"]) for step in PAIR["transcript"] if step["dir"] == "lock->client"),
    *(h(v["message_hex"]) for v in VECTORS["forum_captured_messages_crc_check"][1:]),
    h(ULTRA_STEPS[5]["hex"]),
]
PLAIN_FROM_CLIENT: list[bytes] = [
    *(h(DOC["msgs"][k]) for k in DOC["msgs"] if k.startswith("cl_")),
    *(h(step["hex"]) for step in PAIR["transcript"] if step["dir"] == "client->lock"),
]


def chunks(data: bytes, size: int = 20) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def feed_all(framer: EncryptedFramer | PlainFramer, pieces: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for piece in pieces:
        out.extend(framer.feed(piece))
    return out


def seal(key: bytes, adata_auth_id: int, pdata: bytes, nonce: bytes = bytes(NONCE_LEN)) -> bytes:
    """An encrypted message built by hand around any PDATA (independent of codec.encrypt)."""
    sealed = SecretBox(key).encrypt(pdata, nonce).ciphertext
    return nonce + struct.pack("<IH", adata_auth_id, len(sealed)) + sealed


# --- CRC ------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["crc"], ids=lambda v: v["label"])
def test_crc_vectors(vector: dict[str, str]) -> None:
    value = crc16(h(vector["data_hex"]))
    assert value == int(vector["crc_value"], 16)
    assert value.to_bytes(2, "little") == h(vector["crc_bytes_on_wire_le"])


@pytest.mark.parametrize(
    "vector", VECTORS["forum_captured_messages_crc_check"], ids=lambda v: v["label"][:40]
)
def test_forum_captures(vector: dict[str, Any]) -> None:
    raw = h(vector["message_hex"])
    assert crc16(h(vector["crc_over"])) == int(vector["crc_value"], 16)
    plain = parse_plain(raw)
    assert plain.crc_ok is vector["crc_matches"]
    assert plain.crc == int(vector["crc_value"], 16)
    assert encode_plain(plain.command, plain.payload) == raw
    assert plain.verified() == Message(plain.command, plain.payload)


def test_plain_crc_failure_and_short_message() -> None:
    bad = parse_plain(h("0e00f1a329"))
    assert not bad.crc_ok
    with pytest.raises(CodecError) as err:
        bad.verified()
    assert err.value.reason == "crc"
    with pytest.raises(CodecError) as err:
        parse_plain(b"\x0e\x00\x00")
    assert err.value.reason == "length"


# --- encrypted messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key", "wire", "pdata"), ENCRYPTED, ids=[e[0] for e in ENCRYPTED]
)
def test_encrypted_vectors_decrypt_and_reencrypt(
    label: str, key: bytes, wire: bytes, pdata: bytes
) -> None:
    auth_id, command = struct.unpack_from("<IH", pdata)
    payload = pdata[6:-2]
    assert crc16(pdata[:-2]) == int.from_bytes(pdata[-2:], "little"), label
    header = parse_header(wire)
    assert (header.nonce, header.auth_id, header.length) == (wire[:24], auth_id, len(pdata) + 16)
    opened = open_message(key, wire)
    assert (opened.auth_id, opened.command, opened.payload, opened.crc_ok) == (
        auth_id,
        command,
        payload,
        True,
    )
    assert decrypt(key, wire, expected_auth_id=auth_id) == Message(command, payload)
    assert encrypt(key, auth_id, command, payload, nonce=wire[:NONCE_LEN]) == wire


@pytest.mark.parametrize("vector", LOCK_RESPONSES, ids=lambda v: v["label"][:40])
def test_lock_responses(vector: dict[str, Any]) -> None:
    wire = h(vector["wire_message_hex"])
    message = decrypt(
        PAIR_KEY, wire, expected_auth_id=int.from_bytes(h(PAIR["auth_id_le"]), "little")
    )
    assert message.command == int(vector["command_id"], 16)
    assert message.payload == h(vector["payload_hex"])
    nonce = h(vector["nonce24"])
    assert encrypt(PAIR_KEY, 7, message.command, message.payload, nonce) == wire


@pytest.mark.parametrize("name", ["sl_status_accepted_pdata", "sl_status_complete_pdata"])
def test_doc_status_pdata_crc(name: str) -> None:
    pdata = h(DOC["encrypted"][name])
    assert crc16(pdata[:-2]).to_bytes(2, "little") == pdata[-2:]
    assert pdata[4:6] == Command.STATUS.to_bytes(2, "little")


def test_ultra_pairing_auth_id_bytes() -> None:
    wire = h(ULTRA_STEPS[6]["hex"])
    assert wire[24:28] == b"\x7f\xff\xff\xff"  # spec §3.4, as pyNukiBT and nuki-cli send it
    assert parse_header(wire).auth_id == AUTH_ID_5G_PAIRING
    assert encrypt(PAIR_KEY, AUTH_ID_5G_PAIRING, Command.AUTHORIZATION_DATA)[24:28] == wire[24:28]


def test_fresh_random_nonce_per_call() -> None:
    one = encrypt(DOC_KEY, 2, Command.REQUEST_DATA, b"\x0c\x00")
    two = encrypt(DOC_KEY, 2, Command.REQUEST_DATA, b"\x0c\x00")
    assert one[:NONCE_LEN] != two[:NONCE_LEN]
    assert one != two
    assert decrypt(DOC_KEY, one) == decrypt(DOC_KEY, two) == Message(1, b"\x0c\x00")


def test_encrypt_rejects_bad_key_or_nonce() -> None:
    with pytest.raises(ValueError, match="24-byte nonce"):
        encrypt(DOC_KEY, 2, Command.REQUEST_DATA, b"", nonce=bytes(23))
    with pytest.raises(ValueError, match="32-byte key"):
        encrypt(DOC_KEY[:16], 2, Command.REQUEST_DATA)


# --- verification failures ------------------------------------------------------------------

DOC_STATES = h(DOC["encrypted"]["sl_keyturner_states_wire"])


def reason_of(key: bytes, wire: bytes, expected_auth_id: int | None = None) -> str:
    with pytest.raises(CodecError) as err:
        decrypt(key, wire, expected_auth_id)
    assert isinstance(err.value, ProtocolError)
    assert err.value.message  # a sentence for a person
    return err.value.reason


@pytest.mark.parametrize("delta", [-1, 1, 100])
def test_length_field_off(delta: int) -> None:
    length = int.from_bytes(DOC_STATES[28:30], "little") + delta
    wire = DOC_STATES[:28] + length.to_bytes(2, "little") + DOC_STATES[30:]
    assert reason_of(DOC_KEY, wire) == "length"
    assert reason_of(DOC_KEY, DOC_STATES[:-1]) == "length"
    assert reason_of(DOC_KEY, DOC_STATES + b"\x00") == "length"


def test_too_short_for_header_or_command() -> None:
    assert reason_of(DOC_KEY, DOC_STATES[: ADATA_LEN - 1]) == "length"
    tiny = bytes(24) + struct.pack("<IH", 2, 23) + bytes(23)  # MAC + 7: no room for a command
    assert reason_of(DOC_KEY, tiny) == "length"


@pytest.mark.parametrize("index", [ADATA_LEN, ADATA_LEN + 15, ADATA_LEN + 16, -1])
def test_flipped_byte_fails_the_mac(index: int) -> None:
    wire = bytearray(DOC_STATES)
    wire[index] ^= 0x01
    assert reason_of(DOC_KEY, bytes(wire)) == "mac"


def test_flipped_nonce_fails_the_mac() -> None:
    wire = bytearray(DOC_STATES)
    wire[0] ^= 0x80
    assert reason_of(DOC_KEY, bytes(wire)) == "mac"


def test_wrong_key() -> None:
    assert reason_of(PAIR_KEY, DOC_STATES) == "mac"


def test_crc_wrong_inside_a_valid_seal() -> None:
    pdata = h(DOC["encrypted"]["sl_keyturner_states_pdata"])
    bad = pdata[:-1] + bytes([pdata[-1] ^ 0xFF])
    wire = seal(DOC_KEY, 2, bad)
    assert not open_message(DOC_KEY, wire).crc_ok
    assert reason_of(DOC_KEY, wire) == "crc"


def test_pdata_auth_id_differs_from_adata() -> None:
    pdata = h(DOC["encrypted"]["sl_keyturner_states_pdata"])  # PDATA auth id 2
    assert decrypt(DOC_KEY, seal(DOC_KEY, 2, pdata)).command == Command.KEYTURNER_STATES
    assert reason_of(DOC_KEY, seal(DOC_KEY, 3, pdata)) == "auth_id"
    swapped = DOC_STATES[:24] + struct.pack("<I", 9) + DOC_STATES[28:]  # ADATA is not sealed
    assert reason_of(DOC_KEY, swapped) == "auth_id"


def test_expected_auth_id_mismatch() -> None:
    assert decrypt(DOC_KEY, DOC_STATES, expected_auth_id=2).command == Command.KEYTURNER_STATES
    assert reason_of(DOC_KEY, DOC_STATES, expected_auth_id=7) == "auth_id"


# --- reassembly -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 20, 1000])
def test_encrypted_framer_reassembles_every_lock_message(size: int) -> None:
    framer = EncryptedFramer()
    for wire in ENCRYPTED_FROM_LOCK:
        assert feed_all(framer, chunks(wire, size)) == [wire]


def test_encrypted_framer_two_messages_back_to_back() -> None:
    framer = EncryptedFramer()
    first, second = ENCRYPTED_FROM_LOCK[0], ENCRYPTED_FROM_LOCK[1]
    assert framer.feed(first + second) == [first, second]
    assert feed_all(framer, chunks(first + second)) == [first, second]
    assert feed_all(framer, chunks(first + second + first[:10])) == [first, second]
    assert framer.feed(first[10:]) == [first]


def test_encrypted_framer_reset_drops_partial() -> None:
    framer = EncryptedFramer()
    wire = ENCRYPTED_FROM_LOCK[0]
    assert framer.feed(wire[:40]) == []
    framer.reset()
    assert feed_all(framer, chunks(wire)) == [wire]


def test_encrypted_framer_rejects_an_over_long_announcement() -> None:
    framer = EncryptedFramer()
    header = bytes(24) + struct.pack("<IH", 2, MAX_MESSAGE_LEN)
    with pytest.raises(CodecError) as err:
        framer.feed(header)
    assert err.value.reason == "length"
    wire = ENCRYPTED_FROM_LOCK[0]
    assert framer.feed(wire) == [wire]  # the bad buffer was dropped


@pytest.mark.parametrize("size", [1, 3, 20, 1000])
def test_plain_framer_reassembles_every_lock_message(size: int) -> None:
    framer = PlainFramer()
    for raw in PLAIN_FROM_LOCK:
        assert feed_all(framer, chunks(raw, size)) == [raw]


@pytest.mark.parametrize("size", [1, 20, 1000])
def test_plain_framer_reassembles_every_client_message(size: int) -> None:
    framer = PlainFramer(CLIENT_PLAIN_LENGTHS)
    for raw in PLAIN_FROM_CLIENT:
        assert feed_all(framer, chunks(raw, size)) == [raw]


def test_plain_framer_two_messages_back_to_back() -> None:
    framer = PlainFramer()
    auth_id, status = h(PAIR["transcript"][7]["hex"]), h(PAIR["transcript"][9]["hex"])
    assert framer.feed(auth_id + status) == [auth_id, status]
    assert feed_all(framer, chunks(auth_id + status)) == [auth_id, status]


def test_plain_framer_reset_drops_partial() -> None:
    framer = PlainFramer()
    challenge = h(PAIR["transcript"][3]["hex"])
    assert framer.feed(challenge[:20]) == []
    framer.reset()
    assert framer.feed(challenge) == [challenge]


def test_plain_framer_known_length_with_bad_crc() -> None:
    framer = PlainFramer()
    with pytest.raises(CodecError) as err:
        framer.feed(h("0e00f1a329"))
    assert err.value.reason == "crc"
    assert framer.feed(h("0e00f1a328")) == [h("0e00f1a328")]


def test_plain_framer_never_completing_buffer() -> None:
    framer = PlainFramer()
    junk = b"\x99\x99" + bytes(18)  # unknown command, CRC never matches
    with pytest.raises(CodecError) as err:
        for _ in range(MAX_MESSAGE_LEN // len(junk) + 2):
            assert framer.feed(junk) == []
    assert err.value.reason == "length"


def test_plain_framer_passes_the_5g_encrypted_reply() -> None:
    framer = PlainFramer(allow_encrypted=True)
    info, reply = h(ULTRA_STEPS[5]["hex"]), h(ULTRA_STEPS[7]["hex"])
    assert feed_all(framer, chunks(info)) == [info]
    assert feed_all(framer, chunks(reply)) == [reply]
    assert framer.feed(info + reply) == [info, reply]
    assert decrypt(PAIR_KEY, reply).command == Command.AUTHORIZATION_ID
    client = PlainFramer(CLIENT_PLAIN_LENGTHS, allow_encrypted=True)
    sent = h(ULTRA_STEPS[6]["hex"])
    assert feed_all(client, chunks(sent)) == [sent]


def test_plain_lengths_agree_with_the_vectors() -> None:
    for raw in PLAIN_FROM_LOCK:
        assert LOCK_PLAIN_LENGTHS[parse_plain(raw).command] == len(raw)
    for raw in PLAIN_FROM_CLIENT:
        assert CLIENT_PLAIN_LENGTHS[parse_plain(raw).command] == len(raw)


framer_kinds = st.sampled_from(["encrypted", "plain", "plain5g", "client"])


def make_framer(kind: str) -> EncryptedFramer | PlainFramer:
    if kind == "encrypted":
        return EncryptedFramer()
    if kind == "client":
        return PlainFramer(CLIENT_PLAIN_LENGTHS, allow_encrypted=True)
    return PlainFramer(allow_encrypted=kind == "plain5g")


@given(
    kind=framer_kinds,
    pieces=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(ENCRYPTED_FROM_LOCK + PLAIN_FROM_LOCK).map(lambda b: b[:20]),
        ),
        max_size=40,
    ),
)
def test_arbitrary_chunks_only_raise_codec_error(kind: str, pieces: list[bytes]) -> None:
    framer = make_framer(kind)
    for piece in pieces:
        try:
            out = framer.feed(piece)
        except CodecError:
            continue
        assert all(out)
        assert all(len(message) <= MAX_MESSAGE_LEN for message in out)


def framed(body: bytes) -> bytes:
    return bytes(24) + struct.pack("<IH", 2, len(body)) + body


@given(
    data=st.one_of(st.binary(max_size=200), st.binary(max_size=120).map(framed)),
    key=st.binary(min_size=32, max_size=32),
)
def test_decoding_arbitrary_bytes_only_raises_codec_error(data: bytes, key: bytes) -> None:
    for call in (parse_plain, parse_header):
        with contextlib.suppress(CodecError):
            call(data)
    with contextlib.suppress(CodecError):
        decrypt(key, data)
