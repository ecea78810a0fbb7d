"""The virtual Nuki's engine replays the golden vectors byte for byte (lock side), no radio."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, cast

import pytest
from nacl.secret import SecretBox
from nuki_sim_support import (
    REQUEST_PUBLIC_KEY,
    VECTORS,
    Clock,
    ManualTimers,
    PairingClient,
    PairingError,
    Rig,
    dropped,
    error_of,
    h,
    sequence,
)

from ttlock_nuki_addon.nuki.codec import Command, ErrorCode, StatusCode, decrypt, encode_plain
from ttlock_nuki_addon.nuki.commands import (
    KeyturnerStates,
    LockState,
    parse_keyturner_states,
    request_data,
)
from ttlock_nuki_addon.nuki.fields import FieldError
from ttlock_nuki_addon.nuki.log_cmds import parse_log_entry_count
from ttlock_nuki_addon.nuki.pairing_msgs import IdType, keypair_from_private
from ttlock_nuki_addon.sim.nuki import HANDLERS, new_core
from ttlock_nuki_addon.sim.nuki_core import NukiCore
from ttlock_nuki_addon.sim.nuki_io import Drop, Injected, Send, X25519Agreement
from ttlock_nuki_addon.sim.nuki_state import VARIANTS

DOC: dict[str, Any] = VECTORS["official_doc_example_v2_1"]
PAIR: dict[str, Any] = VECTORS["pynukibt_pairing"]
ULTRA: dict[str, Any] = VECTORS["pynukibt_pairing_ultra"]
COMMANDS = {c["label"]: c for c in VECTORS["pynukibt_encrypted_commands"]}


def opened_pdata(key: bytes, wire: bytes) -> str:
    """The decrypted PDATA of a lock message (auth id, command, payload, CRC) as hex."""
    return SecretBox(key).decrypt(wire[30:], wire[:24]).hex()


class ExampleAgreement:
    """The example gives no lock private key: answer its shared key for its client key only."""

    public_key = h(DOC["lock_public_key"])

    def shared_key(self, client_public: bytes) -> bytes:
        if client_public != h(DOC["client_public_key"]):
            raise FieldError("not the example's client")
        return h(DOC["shared_key_hsalsa20"])


class ExampleCore(NukiCore):
    """The example's 2016 lock reports a 15-byte state with battery byte 0 and timer byte 10."""

    def keyturner_states(self) -> KeyturnerStates:
        now = super().keyturner_states()
        newer: dict[str, Any] = dict.fromkeys(
            (
                "last_lock_action",
                "last_lock_action_trigger",
                "last_lock_action_completion_status",
                "door_sensor_state",
                "night_mode_active",
                "accessory_battery_state",
                "remote_access_status",
                "ble_strength",
                "wifi_strength",
                "wifi_status",
                "mqtt_status",
                "thread_status",
            )
        )
        return replace(now, battery=0x00, lock_n_go_timer=0x0A, **newer)


def test_official_example_lock_side_byte_for_byte() -> None:
    msgs, enc = DOC["msgs"], DOC["encrypted"]
    timers = ManualTimers()
    injected = Injected(
        agreement=ExampleAgreement(),
        challenge_source=sequence(
            [
                h(msgs["sl_challenge_1"])[2:34],
                h(msgs["sl_challenge_2"])[2:34],
                h(DOC["derived"]["nK_in_authorization_id"]),
                h(enc["sl_challenge_pdata"])[6:38],
            ]
        ),
        nonce_source=sequence(
            [h(enc["sl_keyturner_states_wire"])[:24], h(enc["sl_challenge_wire"])[:24]]
            + [bytes(24)] * 4
        ),
        lock_uuid=h(DOC["derived"]["lock_uuid"]),
        auth_ids=lambda: DOC["derived"]["authorization_id"],
        clock=Clock(datetime(2016, 3, 7, 8, 15, 30)),  # the time in the example's states
        timers=timers,
    )
    core = ExampleCore(
        VARIANTS["nuki-2"],
        HANDLERS,
        nuki_id=1,
        name="Nuki",
        security_pin=1234,
        injected=injected,
    )
    core.memory.config_update_count = 0x20
    layout = core.variant.layout
    core.link_up()
    core.start_pairing_mode()
    for client, lock in (
        ("cl_request_public_key", "sl_public_key"),
        ("cl_public_key", "sl_challenge_1"),
        ("cl_authorization_authenticator", "sl_challenge_2"),
        ("cl_authorization_data", "sl_authorization_id"),  # errata-restored 'C66'
        ("cl_authorization_id_confirmation", "sl_status_complete"),
    ):
        assert core.handle(layout.pairing_gdio, h(msgs[client])) == [
            Send(layout.pairing_gdio, h(msgs[lock]))
        ], client
    (auth,) = core.memory.authorizations.values()
    assert (auth.auth_id, auth.name, auth.id_type, auth.app_id) == (2, "Marc (Test)", 0, 0)
    assert not core.pairing_mode

    usdio = layout.usdio
    out = core.handle(usdio, h(enc["cl_request_keyturner_states_wire"]))
    assert out == [Send(usdio, h(enc["sl_keyturner_states_wire"]))]
    out = core.handle(usdio, h(enc["cl_request_challenge_wire"]))
    assert out == [Send(usdio, h(enc["sl_challenge_wire"]))]

    key = h(DOC["shared_key_hsalsa20"])
    accepted, moving = core.handle(usdio, h(enc["cl_lock_action_unlock_wire"]))
    assert isinstance(accepted, Send) and isinstance(moving, Send)
    assert opened_pdata(key, accepted.data) == enc["sl_status_accepted_pdata"]
    unlocking = parse_keyturner_states(decrypt(key, moving.data, 2).payload)
    assert unlocking.lock_state == LockState.UNLOCKING
    timers.fire("motor")
    final, complete = core.take_output()
    assert isinstance(final, Send) and isinstance(complete, Send)
    assert parse_keyturner_states(decrypt(key, final.data, 2).payload).lock_state == (
        LockState.UNLOCKED
    )
    assert opened_pdata(key, complete.data) == enc["sl_status_complete_pdata"]


def _pynukibt_core(kind: str, lock_nonce: bytes | None = None) -> tuple[NukiCore, ManualTimers]:
    timers = ManualTimers()
    pair = keypair_from_private(h(PAIR["lock_private_key"]))
    assert pair.public == h(PAIR["lock_public_key"])
    nonce_32 = h(COMMANDS["Lock Action UNLOCK, app_id, flags 0, no name suffix"]["payload_hex"])[6:]
    pairing_nonces = [  # spec §3.4: the 5G flow uses nK1 only
        h(PAIR["nK2_challenge_after_authenticator"]),
        h(PAIR["nK3_nonce_in_authorization_id"]),
    ]
    if VARIANTS[kind].ultra:
        pairing_nonces = []
    injected = Injected(
        agreement=X25519Agreement(pair),
        challenge_source=sequence(
            [h(PAIR["nK1_challenge_after_pubkey"])]
            + pairing_nonces
            + [nonce_32] * 20  # the vectors reuse one nK for every protected command
        ),
        nonce_source=lambda: lock_nonce or bytes(24),
        lock_uuid=h(PAIR["lock_uuid"]),
        auth_ids=lambda: int.from_bytes(h(PAIR["auth_id_le"]), "little"),
        clock=Clock(datetime(2024, 5, 6, 7, 0, 0)),
        timers=timers,
    )
    core = new_core(kind, injected, motor_ms=5)
    core.link_up()
    core.start_pairing_mode()
    return core, timers


def _replay(core: NukiCore, transcript: list[dict[str, Any]]) -> None:
    char = core.variant.layout.pairing_gdio
    for sent, expected in zip(transcript[::2], transcript[1::2], strict=True):
        assert sent["char"] == char
        assert core.handle(char, h(sent["hex"])) == [Send(char, h(expected["hex"]))], sent


def test_pynukibt_pairing_transcript_then_its_commands() -> None:
    core, timers = _pynukibt_core("nuki-2")
    _replay(core, PAIR["transcript"])
    (auth,) = core.memory.authorizations.values()
    assert (auth.auth_id, auth.name, auth.id_type, auth.app_id) == (
        7,
        PAIR["name"],
        IdType.BRIDGE,
        PAIR["app_id"],
    )
    key = h(PAIR["long_term_key_hsalsa20_zero_nonce (== crypto_box_beforenm)"])
    assert auth.shared_key == key

    usdio, gdio = core.variant.layout.usdio, core.variant.layout.keyturner_gdio
    notices: list[bytes] = []

    def run(label: str) -> list[tuple[int, bytes]]:
        out = core.handle(usdio, h(COMMANDS[label]["wire_message_hex"]))
        assert all(isinstance(o, Send) and o.char in (usdio, gdio) for o in out)
        notices.extend(o.data for o in out if isinstance(o, Send) and o.char == gdio)
        messages = [decrypt(key, o.data, 7) for o in out if isinstance(o, Send) and o.char == usdio]
        return [(m.command, m.payload) for m in messages]

    states = run("Request Data -> Keyturner States (no challenge)")
    assert [c for c, _ in states] == [Command.KEYTURNER_STATES]
    assert len(states[0][1]) == 21  # spec §4.3: an SL2 on API 2.2
    assert [c for c, _ in run("Request Data -> Battery Report")] == [Command.BATTERY_REPORT]
    for label, final in (
        ("Lock Action UNLOCK, app_id, flags 0, no name suffix", LockState.UNLOCKED),
        ("Lock Action LOCK, flags 0, name suffix 'HA'", LockState.LOCKED),
    ):
        assert run("Request Data -> Challenge")[0][0] == Command.CHALLENGE
        replies = run(label)
        assert replies[0] == (Command.STATUS, bytes([StatusCode.ACCEPTED]))
        timers.fire("motor")
        out = [o for o in core.take_output() if isinstance(o, Send) and o.char == usdio]
        done = [decrypt(key, o.data, 7) for o in out]
        assert done[-1].payload == bytes([StatusCode.COMPLETE])
        assert core.lock_state == final
    assert core.memory.log.entries[-1].name == PAIR["name"] + "HA"  # spec §4.10 suffix
    # spec §1.4: a connected bridge hears of every state change on the keyturner GDIO.
    assert notices and set(notices) == {h("0e00f1a328")}
    run("Request Data -> Challenge")
    assert run("Request Config (nonce only)")[0][0] == Command.CONFIG
    run("Request Data -> Challenge")
    assert run("Verify Security PIN 1234 (uint16)") == [(Command.STATUS, b"\x00")]
    run("Request Data -> Challenge")
    log = run("Request Log Entries start 0, count 5, descending, total_count 1, PIN 1234")
    assert log[0][0] == Command.LOG_ENTRY_COUNT and log[-1] == (Command.STATUS, b"\x00")
    assert parse_log_entry_count(log[0][1]).count == 2
    assert [c for c, _ in log[1:-1]] == [Command.LOG_ENTRY] * 2
    run("Request Data -> Challenge")
    assert run("Update Time 2024-05-06 07:08:09, PIN 1234") == [(Command.STATUS, b"\x00")]
    assert core.lock_time() == datetime(2024, 5, 6, 7, 8, 9)


def test_pynukibt_ultra_transcript_and_u32_pin() -> None:
    core, _timers = _pynukibt_core("nuki-5", h(ULTRA["lock_nonce24_for_reply"]))
    assert core.memory.security_pin == ULTRA["security_pin"]
    _replay(core, ULTRA["transcript"])
    (auth,) = core.memory.authorizations.values()
    assert (auth.auth_id, auth.name, auth.app_id) == (7, PAIR["name"], PAIR["app_id"])
    assert not core.pairing_mode
    key = auth.shared_key
    usdio = core.variant.layout.usdio
    core.handle(usdio, h(COMMANDS["Request Data -> Challenge"]["wire_message_hex"]))
    wire = h(COMMANDS["ULTRA Verify Security PIN 123456 (uint32)"]["wire_message_hex"])
    (out,) = core.handle(usdio, wire)
    assert isinstance(out, Send)
    assert decrypt(key, out.data, 7).payload == b"\x00"


@pytest.mark.parametrize("kind", ["nuki-1", "nuki-2", "nuki-4"])
def test_the_doc_request_public_key_message_gets_the_configured_public_key(kind: str) -> None:
    core, _timers = _pynukibt_core(kind)
    char = core.variant.layout.pairing_gdio
    out = core.handle(char, encode_plain(Command.REQUEST_DATA, b"\x03\x00"))
    assert out == [Send(char, h(PAIR["transcript"][1]["hex"]))]


# --- pairing rules (spec §3) with a client written from pairing_msgs ---------------------------


def test_outside_pairing_mode_nuki_1_answers_0x10_the_others_hang_up() -> None:
    for kind in VARIANTS:
        rig = Rig(kind)
        out = rig.core.handle(rig.layout.pairing_gdio, REQUEST_PUBLIC_KEY)
        if kind == "nuki-1":
            (report,) = rig.plain(out, rig.layout.pairing_gdio)
            assert error_of(report) == (ErrorCode.P_ERROR_NOT_PAIRING, Command.REQUEST_DATA)
            assert not dropped(out)
        else:
            assert out == [Drop("pairing attempt outside pairing mode")], kind


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_pairing_with_fresh_keys_ends_pairing_mode(kind: str) -> None:
    rig = Rig(kind)
    client = rig.pair()
    assert not rig.core.pairing_mode
    (auth,) = rig.core.memory.authorizations.values()
    assert auth.auth_id == client.auth_id and auth.shared_key == client.key
    assert len(rig.states()) == VARIANTS[kind].states_length


def _pairing_error(rig: Rig, client: PairingClient) -> int:
    with pytest.raises(PairingError) as caught:
        rig.pair(client)
    return caught.value.code


def test_bad_authenticators_parameters_and_the_user_limit() -> None:
    rig = Rig("nuki-2")

    class Tampered(PairingClient):
        def _challenge(self, reply: Any) -> bytes:
            super()._challenge(reply)
            return encode_plain(Command.AUTHORIZATION_AUTHENTICATOR, bytes(32))

    assert _pairing_error(rig, Tampered()) == ErrorCode.P_ERROR_BAD_AUTHENTICATOR
    assert rig.core.pairing is None  # the session is gone: steps cannot be skipped
    skipped = encode_plain(Command.AUTHORIZATION_DATA, bytes(101))
    gdio = rig.layout.pairing_gdio
    (report,) = rig.plain(rig.core.handle(gdio, skipped), gdio)
    assert error_of(report)[0] == ErrorCode.P_ERROR_BAD_PARAMETER
    odd_type = PairingClient(id_type=cast(IdType, 7))
    assert _pairing_error(rig, odd_type) == ErrorCode.P_ERROR_BAD_PARAMETER
    rig.core.memory.max_authorizations = 1
    first = rig.pair(PairingClient(id_type=IdType.APP, app_id=1))
    other = PairingClient(id_type=IdType.APP, app_id=2)
    assert _pairing_error(rig, other) == ErrorCode.P_ERROR_MAX_USER
    # spec §3.3: the same app id replaces its entry
    again = rig.pair(PairingClient(id_type=IdType.APP, app_id=1))
    assert list(rig.core.memory.authorizations) == [again.auth_id] != [first.auth_id]
    out = rig.usdio(first.wire(Command.REQUEST_DATA, request_data(Command.KEYTURNER_STATES)))
    assert out == [Send(rig.layout.keyturner_gdio, h("120020000013d7"))]  # spec §1.4 capture


def test_a_new_bridge_replaces_the_old_one_apps_stay() -> None:
    rig = Rig("nuki-4")
    rig.pair(PairingClient(id_type=IdType.APP, app_id=5))
    old_bridge = rig.pair(PairingClient(id_type=IdType.BRIDGE, app_id=6))
    new_bridge = rig.pair(PairingClient(id_type=IdType.BRIDGE, app_id=7))
    kinds = {a.auth_id: (a.id_type, a.app_id) for a in rig.core.memory.authorizations.values()}
    assert old_bridge.auth_id not in kinds
    assert sorted(kinds.values()) == [(IdType.APP, 5), (IdType.BRIDGE, 7)]
    assert new_bridge.auth_id in kinds


def test_every_write_must_be_one_whole_message() -> None:
    rig = Rig("nuki-1")
    rig.core.start_pairing_mode()
    gdio = rig.layout.pairing_gdio

    def answer(data: bytes) -> tuple[int, int]:
        (report,) = rig.plain(rig.core.handle(gdio, data), gdio)
        return error_of(report)

    # The forum capture `12 00 FD 01 00 E7 C3`: bad CRC on a Request Data (spec §4.11).
    broken = REQUEST_PUBLIC_KEY[:-1] + bytes([REQUEST_PUBLIC_KEY[-1] ^ 1])
    out = rig.core.handle(gdio, broken)
    assert out == [Send(gdio, h("1200fd0100e7c3"))]
    assert answer(REQUEST_PUBLIC_KEY[:3]) == (ErrorCode.ERROR_BAD_LENGTH, 0)
    client = PairingClient()
    (key_msg,) = rig.plain(rig.core.handle(gdio, client.first()), gdio)
    public = client.answer(encode_plain(key_msg.command, key_msg.payload))
    assert public is not None and len(public) == 36
    assert answer(public[:20]) == (ErrorCode.ERROR_BAD_LENGTH, Command.PUBLIC_KEY)
    assert answer(public[20:])[0] in (ErrorCode.ERROR_BAD_CRC, ErrorCode.ERROR_BAD_LENGTH)
    (challenge,) = rig.plain(rig.core.handle(gdio, public), gdio)  # whole: accepted
    assert challenge.command == Command.CHALLENGE

    keys = rig.pair()
    wire = keys.wire(Command.REQUEST_DATA, request_data(Command.KEYTURNER_STATES))
    for piece in (wire[:20], wire[20:]):
        (report,) = rig.plain(rig.usdio(piece), rig.layout.usdio)
        assert error_of(report) == (ErrorCode.ERROR_BAD_LENGTH, 0)
    assert len(rig.send(Command.REQUEST_DATA, request_data(Command.KEYTURNER_STATES))) == 1


def test_ultra_pin_lockout_and_the_app_id_fallback() -> None:
    rig = Rig("nuki-5")
    for attempt in range(3):
        code = _pairing_error(rig, PairingClient(ultra=True, pin=111111 + attempt))
        assert code == ErrorCode.K_ERROR_BAD_PIN
    assert _pairing_error(rig, PairingClient(ultra=True, pin=123456)) == (
        ErrorCode.K_ERROR_TOO_MANY_PIN_ATTEMPTS
    )
    rig.clock.advance(rig.core.pin_guard.lockout.total_seconds() + 1)
    strange = PairingClient(ultra=True, pin=123456, ultra_auth_id=0x01020304)
    assert _pairing_error(rig, strange) == ErrorCode.P_ERROR_BAD_PARAMETER
    client = PairingClient(ultra=True, pin=123456, app_id=0x0A0B0C0D, ultra_auth_id=0x0A0B0C0D)
    keys = rig.pair(client)
    assert rig.core.memory.authorizations[keys.auth_id].app_id == 0x0A0B0C0D
    assert rig.core.memory.authorizations[keys.auth_id].id_type == IdType.APP
