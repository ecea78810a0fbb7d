"""Nuki pairing messages: the official example, the pyNukiBT transcripts, tampering, fuzzing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.secret import SecretBox

from ttlock_nuki_addon.errors import ProtocolError
from ttlock_nuki_addon.nuki import codec
from ttlock_nuki_addon.nuki.codec import AUTH_ID_5G_PAIRING, Command, encode_plain, parse_plain
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.nuki.pairing_msgs import (
    AuthorizationAuthenticator,
    AuthorizationData,
    AuthorizationId,
    AuthorizationIdConfirmation,
    AuthorizationInfo,
    Challenge,
    IdType,
    PublicKey,
    UltraAuthorizationData,
    UltraAuthorizationId,
    authenticator,
    authorization_authenticator,
    build_authorization_data,
    build_authorization_id,
    build_authorization_id_confirmation,
    build_ultra_authorization_data,
    dh,
    generate_keypair,
    keypair_from_private,
    shared_key,
)

ROOT = Path(__file__).resolve().parent.parent
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/data/nuki_vectors.json").read_text())
DOC: dict[str, Any] = VECTORS["official_doc_example_v2_1"]
MSGS: dict[str, str] = DOC["msgs"]
PAIR: dict[str, Any] = VECTORS["pynukibt_pairing"]
ULTRA: dict[str, Any] = VECTORS["pynukibt_pairing_ultra"]
REQUEST_PUBLIC_KEY = encode_plain(Command.REQUEST_DATA, Command.PUBLIC_KEY.to_bytes(2, "little"))
STATUS_COMPLETE = encode_plain(Command.STATUS, b"\x00")

MESSAGE_CLASSES = (
    PublicKey,
    Challenge,
    AuthorizationAuthenticator,
    AuthorizationData,
    AuthorizationId,
    AuthorizationIdConfirmation,
    AuthorizationInfo,
    UltraAuthorizationData,
    UltraAuthorizationId,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def payload_of(message_hex: str, command: Command) -> bytes:
    """The payload of a CRC-correct plain message of the given command."""
    message = parse_plain(h(message_hex)).verified()
    assert message.command == command
    return message.payload


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- official example (spec §7.1, S1 §9) ------------------------------------------------------


def test_doc_keys() -> None:
    client = keypair_from_private(h(DOC["client_private_key"]))
    lock_public = h(DOC["lock_public_key"])
    assert client.public == h(DOC["client_public_key"])
    assert dh(lock_public, client.private) == h(DOC["dh_key_crypto_scalarmult"])
    assert shared_key(lock_public, client.private) == h(DOC["shared_key_hsalsa20"])


def test_doc_messages_rebuilt() -> None:
    key = h(DOC["shared_key_hsalsa20"])
    client_public, lock_public = h(DOC["client_public_key"]), h(DOC["lock_public_key"])
    derived = DOC["derived"]
    challenge_1 = Challenge.parse(payload_of(MSGS["sl_challenge_1"], Command.CHALLENGE)).nonce
    challenge_2 = Challenge.parse(payload_of(MSGS["sl_challenge_2"], Command.CHALLENGE)).nonce
    n_a = h(derived["nA"])
    n_k3 = h(derived["nK_in_authorization_id"])
    auth_id = derived["authorization_id"]
    assert h(MSGS["cl_request_public_key"]) == REQUEST_PUBLIC_KEY
    assert PublicKey(lock_public).to_message() == h(MSGS["sl_public_key"])
    assert PublicKey(client_public).to_message() == h(MSGS["cl_public_key"])
    assert Challenge(challenge_1).to_message() == h(MSGS["sl_challenge_1"])
    step6 = authorization_authenticator(key, client_public, lock_public, challenge_1)
    assert step6.authenticator == h(derived["authenticator_1=HMAC(k, cl_pub||sl_pub||nK1)"])
    assert step6.to_message() == h(MSGS["cl_authorization_authenticator"])
    data = build_authorization_data(
        key,
        IdType(int(derived["auth_data: id_type"], 16)),
        int.from_bytes(h(derived["auth_data: app_id"]), "little"),
        derived["auth_data: name"],
        client_nonce=n_a,
        lock_challenge=challenge_2,
    )
    assert data.to_message() == h(MSGS["cl_authorization_data"])
    lock_uuid = h(derived["lock_uuid"])
    auth_id_msg = build_authorization_id(key, auth_id, lock_uuid, n_k3, n_a)
    assert auth_id_msg.to_message() == h(MSGS["sl_authorization_id"])  # errata-restored "C66"
    confirmation = build_authorization_id_confirmation(key, auth_id, n_k3)
    assert confirmation.to_message() == h(MSGS["cl_authorization_id_confirmation"])
    assert h(MSGS["sl_status_complete"]) == STATUS_COMPLETE


def test_doc_messages_parsed_and_verified() -> None:
    key = h(DOC["shared_key_hsalsa20"])
    client_public, lock_public = h(DOC["client_public_key"]), h(DOC["lock_public_key"])
    challenge_1 = payload_of(MSGS["sl_challenge_1"], Command.CHALLENGE)
    challenge_2 = payload_of(MSGS["sl_challenge_2"], Command.CHALLENGE)
    assert PublicKey.parse(payload_of(MSGS["sl_public_key"], Command.PUBLIC_KEY)).key == lock_public
    step6 = AuthorizationAuthenticator.parse(
        payload_of(MSGS["cl_authorization_authenticator"], Command.AUTHORIZATION_AUTHENTICATOR)
    )
    assert step6.verify(key, client_public, lock_public, challenge_1)
    data = AuthorizationData.parse(
        payload_of(MSGS["cl_authorization_data"], Command.AUTHORIZATION_DATA)
    )
    assert (data.id_type, data.app_id, data.name) == (
        IdType.APP,
        0,
        DOC["derived"]["auth_data: name"],
    )
    assert data.nonce == h(DOC["derived"]["nA"])
    assert data.verify(key, challenge_2)
    assert not data.verify(key, challenge_1)
    auth = AuthorizationId.parse(payload_of(MSGS["sl_authorization_id"], Command.AUTHORIZATION_ID))
    assert auth.auth_id == DOC["derived"]["authorization_id"]
    assert auth.auth_id.to_bytes(4, "little") == h(DOC["derived"]["authorization_id_le"])
    assert auth.lock_uuid == h(DOC["derived"]["lock_uuid"])
    assert auth.verify(key, data.nonce)
    confirmation = AuthorizationIdConfirmation.parse(
        payload_of(MSGS["cl_authorization_id_confirmation"], Command.AUTHORIZATION_ID_CONFIRMATION)
    )
    assert confirmation.auth_id == auth.auth_id
    assert confirmation.verify(key, auth.nonce)


def test_doc_authenticator_is_hmac_over_the_concatenation() -> None:
    key = h(DOC["shared_key_hsalsa20"])
    n_k1 = payload_of(MSGS["sl_challenge_1"], Command.CHALLENGE)
    parts = (h(DOC["client_public_key"]), h(DOC["lock_public_key"]), n_k1)
    assert authenticator(key, *parts) == authenticator(key, b"".join(parts))
    assert authenticator(key, *parts) == payload_of(
        MSGS["cl_authorization_authenticator"], Command.AUTHORIZATION_AUTHENTICATOR
    )


# --- pyNukiBT transcript (spec §7, both directions) ---------------------------------------------


def pair_material() -> dict[str, Any]:
    return {
        "key": shared_key(h(PAIR["lock_public_key"]), h(PAIR["client_private_key"])),
        "client_public": h(PAIR["client_public_key"]),
        "lock_public": h(PAIR["lock_public_key"]),
        "n_k1": h(PAIR["nK1_challenge_after_pubkey"]),
        "n_k2": h(PAIR["nK2_challenge_after_authenticator"]),
        "n_a": h(PAIR["nA_client_nonce_in_auth_data"]),
        "n_k3": h(PAIR["nK3_nonce_in_authorization_id"]),
        "uuid": h(PAIR["lock_uuid"]),
        "auth_id": int.from_bytes(h(PAIR["auth_id_le"]), "little"),
    }


def test_pair_keys_agree_on_both_sides() -> None:
    lock = keypair_from_private(h(PAIR["lock_private_key"]))
    client = keypair_from_private(h(PAIR["client_private_key"]))
    assert lock.public == h(PAIR["lock_public_key"])
    assert client.public == h(PAIR["client_public_key"])
    expected_dh = h(PAIR["dh_shared_secret_crypto_scalarmult"])
    assert dh(lock.public, client.private) == dh(client.public, lock.private) == expected_dh
    expected = h(PAIR["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
    assert shared_key(lock.public, client.private) == expected
    assert shared_key(client.public, lock.private) == expected


def test_pair_transcript_rebuilt() -> None:
    m = pair_material()
    step6 = authorization_authenticator(m["key"], m["client_public"], m["lock_public"], m["n_k1"])
    assert step6.authenticator == h(
        PAIR["authenticator_step3 = HMAC-SHA256(k, client_pub||lock_pub||nK1)"]
    )
    rebuilt = [
        REQUEST_PUBLIC_KEY,
        PublicKey(m["lock_public"]).to_message(),
        PublicKey(m["client_public"]).to_message(),
        Challenge(m["n_k1"]).to_message(),
        step6.to_message(),
        Challenge(m["n_k2"]).to_message(),
        build_authorization_data(
            m["key"],
            IdType(PAIR["id_type"]),
            PAIR["app_id"],
            PAIR["name"],
            client_nonce=m["n_a"],
            lock_challenge=m["n_k2"],
        ).to_message(),
        build_authorization_id(m["key"], m["auth_id"], m["uuid"], m["n_k3"], m["n_a"]).to_message(),
        build_authorization_id_confirmation(m["key"], m["auth_id"], m["n_k3"]).to_message(),
        STATUS_COMPLETE,
    ]
    assert [step["hex"] for step in PAIR["transcript"]] == [msg.hex() for msg in rebuilt]


def test_pair_transcript_verified_by_the_receiver() -> None:
    m = pair_material()
    wire = [h(step["hex"]) for step in PAIR["transcript"]]
    step6 = AuthorizationAuthenticator.parse(parse_plain(wire[4]).verified().payload)
    assert step6.verify(m["key"], m["client_public"], m["lock_public"], m["n_k1"])  # lock side
    data = AuthorizationData.parse(parse_plain(wire[6]).verified().payload)
    assert data.verify(m["key"], m["n_k2"])  # lock side
    assert (data.id_type, data.app_id, data.name) == (IdType.BRIDGE, PAIR["app_id"], PAIR["name"])
    assert data.app_id.to_bytes(4, "little") == h(PAIR["app_id_le_hex"])
    auth = AuthorizationId.parse(parse_plain(wire[7]).verified().payload)
    assert auth.verify(m["key"], m["n_a"])  # client side
    assert (auth.auth_id, auth.lock_uuid, auth.nonce) == (m["auth_id"], m["uuid"], m["n_k3"])
    confirmation = AuthorizationIdConfirmation.parse(parse_plain(wire[8]).verified().payload)
    assert confirmation.verify(m["key"], m["n_k3"])  # lock side
    assert confirmation.auth_id == m["auth_id"]


def test_pair_messages_have_the_codec_lengths() -> None:
    wire = [h(step["hex"]) for step in PAIR["transcript"]]
    for raw in wire:
        command = parse_plain(raw).command
        lengths = codec.CLIENT_PLAIN_LENGTHS if raw in wire[0::2] else codec.LOCK_PLAIN_LENGTHS
        assert lengths[command] == len(raw)


# --- 5th generation (spec §3.4) ---------------------------------------------------------------


def test_ultra_transcript_rebuilt_and_opened() -> None:
    m = pair_material()
    steps = ULTRA["transcript"]
    assert [s["hex"] for s in steps[:5]] == [s["hex"] for s in PAIR["transcript"][:5]]
    assert AuthorizationInfo(1).to_message() == h(steps[5]["hex"])
    assert AuthorizationInfo.parse(parse_plain(h(steps[5]["hex"])).verified().payload).value == 1
    pin = ULTRA["security_pin"]
    data = build_ultra_authorization_data(PAIR["app_id"], PAIR["name"], pin)
    assert data.to_payload()[-4:] == h(ULTRA["security_pin_le_u32"])
    client_nonce = h(ULTRA["client_nonce24_for_encrypted_auth_data"])
    sent = codec.encrypt(
        m["key"], AUTH_ID_5G_PAIRING, Command.AUTHORIZATION_DATA, data.to_payload(), client_nonce
    )
    assert sent == h(steps[6]["hex"])
    opened = codec.open_message(m["key"], sent)
    assert opened.auth_id == AUTH_ID_5G_PAIRING
    message = codec.decrypt(m["key"], sent, expected_auth_id=AUTH_ID_5G_PAIRING)
    assert message.command == Command.AUTHORIZATION_DATA
    assert SecretBox(m["key"]).decrypt(sent[30:], sent[:24]) == h(steps[6]["decrypted_pdata"])
    parsed = UltraAuthorizationData.parse(message.payload)
    assert (parsed.app_id, parsed.name, parsed.security_pin) == (PAIR["app_id"], PAIR["name"], pin)
    assert str(pin) not in repr(parsed)

    reply_payload = UltraAuthorizationId(m["auth_id"], m["uuid"]).to_payload()
    lock_nonce = h(ULTRA["lock_nonce24_for_reply"])
    reply = codec.encrypt(
        m["key"], AUTH_ID_5G_PAIRING, Command.AUTHORIZATION_ID, reply_payload, lock_nonce
    )
    assert reply == h(steps[7]["hex"])
    assert SecretBox(m["key"]).decrypt(reply[30:], reply[:24]) == h(steps[7]["decrypted_pdata"])
    answer = codec.decrypt(m["key"], reply, expected_auth_id=AUTH_ID_5G_PAIRING)
    assert answer.command == Command.AUTHORIZATION_ID
    reply_id = UltraAuthorizationId.parse(answer.payload)
    assert (reply_id.auth_id, reply_id.lock_uuid) == (m["auth_id"], m["uuid"])


# --- negative cases -------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 15, 31])
def test_tampered_authenticators_fail(index: int) -> None:
    m = pair_material()
    step6 = authorization_authenticator(m["key"], m["client_public"], m["lock_public"], m["n_k1"])
    bad6 = AuthorizationAuthenticator(flip(step6.authenticator, index))
    assert not bad6.verify(m["key"], m["client_public"], m["lock_public"], m["n_k1"])
    data = build_authorization_data(
        m["key"], IdType.APP, 1, "x", client_nonce=m["n_a"], lock_challenge=m["n_k2"]
    )
    assert data.verify(m["key"], m["n_k2"])
    bad = AuthorizationData(
        flip(data.authenticator, index), data.id_type, data.app_id, data.name_field, data.nonce
    )
    assert not bad.verify(m["key"], m["n_k2"])
    other_type = AuthorizationData(
        data.authenticator, IdType.BRIDGE, data.app_id, data.name_field, data.nonce
    )
    assert not other_type.verify(m["key"], m["n_k2"])  # the ID type is covered too
    auth = build_authorization_id(m["key"], 9, m["uuid"], m["n_k3"], m["n_a"])
    assert not AuthorizationId(flip(auth.authenticator, index), 9, m["uuid"], m["n_k3"]).verify(
        m["key"], m["n_a"]
    )
    assert not AuthorizationId(auth.authenticator, 10, m["uuid"], m["n_k3"]).verify(
        m["key"], m["n_a"]
    )
    confirmation = build_authorization_id_confirmation(m["key"], 9, m["n_k3"])
    assert not AuthorizationIdConfirmation(flip(confirmation.authenticator, index), 9).verify(
        m["key"], m["n_k3"]
    )


def test_wrong_key_or_nonce_fails() -> None:
    m = pair_material()
    wrong_key = flip(m["key"], 0)
    auth = build_authorization_id(m["key"], 7, m["uuid"], m["n_k3"], m["n_a"])
    assert auth.verify(m["key"], m["n_a"])
    assert not auth.verify(wrong_key, m["n_a"])
    assert not auth.verify(m["key"], m["n_k1"])
    confirmation = build_authorization_id_confirmation(m["key"], 7, m["n_k3"])
    assert confirmation.verify(m["key"], m["n_k3"])
    assert not confirmation.verify(wrong_key, m["n_k3"])
    assert not confirmation.verify(m["key"], m["n_k2"])


def sample_payloads() -> dict[type[Any], bytes]:
    return (
        {
            cls: h(step["hex"])[2:-2]
            for cls, step in zip(
                MESSAGE_CLASSES[:6],  # the classic pairing messages, in transcript order
                (PAIR["transcript"][i] for i in (1, 3, 4, 6, 7, 8)),
                strict=True,
            )
        }
        | {
            AuthorizationInfo: b"\x01",
            UltraAuthorizationData: h(ULTRA["transcript"][6]["decrypted_pdata"])[6:-2],
            UltraAuthorizationId: h(ULTRA["transcript"][7]["decrypted_pdata"])[6:-2],
        }
    )


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.__name__)
def test_wrong_lengths_raise_protocol_error(cls: Any) -> None:
    payload = sample_payloads()[cls]
    assert len(payload) == cls.SIZE
    assert cls.parse(payload).to_payload() == payload
    with pytest.raises(ProtocolError):
        cls.parse(payload[:-1])
    with pytest.raises(ProtocolError):
        cls.parse(payload + b"\x00")
    with pytest.raises(ProtocolError):
        cls.parse(b"")


def test_builders_reject_bad_values() -> None:
    m = pair_material()
    with pytest.raises(FieldError):
        build_authorization_data(
            m["key"], IdType.APP, 0, "n" * 33, client_nonce=m["n_a"], lock_challenge=m["n_k2"]
        )
    with pytest.raises(FieldError):
        build_authorization_data(
            m["key"], IdType.APP, 1 << 32, "n", client_nonce=m["n_a"], lock_challenge=m["n_k2"]
        )
    with pytest.raises(FieldError):
        build_authorization_data(
            m["key"], IdType.APP, 0, "n", client_nonce=m["n_a"][:-1], lock_challenge=m["n_k2"]
        )
    with pytest.raises(FieldError):
        build_authorization_id(m["key"], 1, m["uuid"][:-1], m["n_k3"], m["n_a"])
    with pytest.raises(FieldError):
        build_authorization_id_confirmation(m["key"], -1, m["n_k3"])
    with pytest.raises(FieldError):
        build_ultra_authorization_data(0, "n", 1 << 32)
    with pytest.raises(FieldError):
        keypair_from_private(b"\x00" * 31)
    with pytest.raises(FieldError):
        shared_key(b"\x00" * 31, m["key"])
    with pytest.raises(FieldError):
        PublicKey(b"\x01" * 31).to_payload()


def test_generated_keypairs_agree_and_hide_the_private_key() -> None:
    lock, client = generate_keypair(), generate_keypair()
    assert lock.private != client.private
    assert keypair_from_private(lock.private) == lock
    assert shared_key(lock.public, client.private) == shared_key(client.public, lock.private)
    assert lock.private.hex() not in repr(lock)
    assert repr(lock.private) not in repr(lock)


# --- fuzzing ----------------------------------------------------------------------------------


@given(cls=st.sampled_from(MESSAGE_CLASSES), payload=st.binary(max_size=120))
def test_parse_of_arbitrary_bytes_only_raises_protocol_error(cls: Any, payload: bytes) -> None:
    try:
        parsed = cls.parse(payload)
    except ProtocolError:
        assert len(payload) != cls.SIZE
        return
    assert len(payload) == cls.SIZE
    assert parsed.to_payload() == payload


@given(payload=st.binary(min_size=AuthorizationData.SIZE, max_size=AuthorizationData.SIZE))
def test_random_authorization_data_does_not_verify(payload: bytes) -> None:
    m = pair_material()
    assert not AuthorizationData.parse(payload).verify(m["key"], m["n_k2"])
