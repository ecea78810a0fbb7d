"""TTLock inputs for the fuzzers: valid answers built by the lock-side builders, golden frames
from tests/data, and whole encrypted frames around them (all mutated by `support.radio`)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from nuki_strategies import moments

from ttlock_nuki_addon.ttlock import auth_cmds as auth
from ttlock_nuki_addon.ttlock import card_cmds as card
from ttlock_nuki_addon.ttlock import commands as cmds
from ttlock_nuki_addon.ttlock import features as feat
from ttlock_nuki_addon.ttlock import fingerprint_cmds as fp
from ttlock_nuki_addon.ttlock import oplog
from ttlock_nuki_addon.ttlock import oplog_tails as tails
from ttlock_nuki_addon.ttlock import passcode_cmds as pwd
from ttlock_nuki_addon.ttlock import settings_cmds as sets
from ttlock_nuki_addon.ttlock.codec import Command, Response
from ttlock_nuki_addon.ttlock.framing import TRAILER, LockVersion, build_frame, encode_response
from ttlock_nuki_addon.validity import ValidationError

from .support import radio

DATA = Path(__file__).resolve().parent.parent / "data"
SESSION_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
C = Command

u8s, u16s, u32s = st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
# Passcodes are 4 to 9 digits, but a lock may list anything: other lengths come up too.
digits = st.text("0123456789", min_size=4, max_size=9) | st.text("0123456789", max_size=12)
maybe_moments = st.none() | moments


def built(builder: Callable[..., bytes], *args: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """What `builder` makes of drawn arguments (draws it refuses are discarded)."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        """Draw the arguments and build."""
        try:
            return builder(*(draw(arg) for arg in args))
        except ValidationError:
            assume(False)
            raise  # unreachable: assume(False) ends the draw

    return build()


def _vectors() -> tuple[list[bytes], dict[int, list[bytes]]]:
    """(golden frames, golden request plaintexts by command) from tests/data."""
    vectors = json.loads((DATA / "ttlock_vectors.json").read_text())
    frames = [bytes.fromhex(f["frame_correct_hex"]) for f in vectors["frames"] if "error" not in f]
    frames += [bytes.fromhex(f["wire"]) for f in vectors["real_lock_captures"]["frames"]]
    frames.append(bytes.fromhex(vectors["synthetic_response_decode"]["frame_hex"]))
    commands = json.loads((DATA / "ttlock_commands.json").read_text())
    plain: dict[int, list[bytes]] = {}
    for p in commands["request_plaintexts"]:
        plain.setdefault(int(p["command"], 16), []).append(bytes.fromhex(p["plaintext"]))
    return frames, plain


GOLDEN_FRAMES, GOLDEN_REQUESTS = _vectors()

# --- answers (lock -> add-on), by the command they answer -------------------------------------

_tail_objects: st.SearchStrategy[tails.LogTail] = st.one_of(
    st.builds(tails.AppTail, u32s, u32s),
    st.builds(tails.RemoteKeyTail, u32s, u32s, u8s),
    st.builds(tails.PasscodeTail, digits, digits),
    st.builds(tails.PasscodeChangeTail, digits, digits),
    st.builds(tails.WrongPasscodeTail, digits),
    st.builds(tails.PasscodesClearedTail, maybe_moments, st.none() | digits),
    st.builds(tails.CardTail, u32s, st.just(4)),
    st.builds(tails.FingerprintTail, st.integers(0, 2**48 - 1), st.none() | digits),
    st.builds(tails.KeypadTail, st.just("AA:BB:CC:DD:EE:FF"), u8s),
    st.builds(tails.RawTail, st.binary(max_size=16)),
)
_log_records = st.builds(
    oplog.LogRecord,
    st.sampled_from(sorted(tails.KNOWN_TAIL_TYPES)) | u8s,
    maybe_moments,
    u8s,
    _tail_objects,
)
_passcode_records = st.builds(
    pwd.PasscodeRecord,
    st.sampled_from(list(pwd.PasscodeType)) | u8s,
    digits,
    digits,
    maybe_moments,
    maybe_moments,
    st.none() | u16s,
)
_card_records = st.builds(card.CardRecord, u32s, maybe_moments, maybe_moments, st.just(4))
_fp_records = st.builds(
    fp.FingerprintRecord, st.integers(0, 2**48 - 1), maybe_moments, maybe_moments
)
_passage = st.builds(
    sets.PassageEntry,
    st.sampled_from([1, 2]) | u8s,
    u8s,
    u8s,
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
_fp_events = st.builds(
    fp.FingerprintEnrolEvent,
    u8s,
    st.sampled_from(list(card.EnrolStatus)),
    st.integers(0, 2**48 - 1),
    u8s,
    u8s,
    u16s,
    u16s,
)
_ops = u8s


def lists_of(items: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A short list (pages hold a few records)."""
    return st.lists(items, max_size=5)


ANSWERS: dict[int, st.SearchStrategy[bytes]] = {
    C.SEARCH_DEVICE_FEATURE: built(
        feat.build_features_response,
        u8s,
        st.integers(0, 2**128 - 1).map(feat.FeatureMask),
        st.integers(4, 6),
    ),
    C.GET_AES_KEY: built(cmds.build_aes_key_response, st.binary(min_size=16, max_size=16)),
    C.GET_LOCK_TIME: built(cmds.build_lock_time_response, moments),
    C.CHECK_ADMIN: built(auth.build_ps_from_lock_response, u32s),
    C.UNLOCK: built(auth.build_operate_response, u8s, u32s, u32s, maybe_moments),
    C.SEARCH_BICYCLE_STATUS: built(auth.build_status_response, u8s, u8s, st.none() | u8s)
    | built(auth.build_operation_push, u8s, u32s, u32s, moments),
    C.MANAGE_KEYBOARD_PASSWORD: built(cmds.build_op_ack, u8s, _ops),
    C.PWD_LIST: built(pwd.build_passcode_page, lists_of(_passcode_records), u16s),
    C.IC_MANAGE: built(card.build_card_page, u8s, lists_of(_card_records), u16s)
    | built(
        card.build_card_enrol_event, u8s, st.none() | u32s, st.none() | st.sampled_from([4, 8])
    ),
    C.FR_MANAGE: built(fp.build_fingerprint_page, u8s, lists_of(_fp_records), u16s)
    | built(fp.build_fingerprint_enrol_event, _fp_events),
    C.AUTO_LOCK_MANAGE: built(sets.build_auto_lock_state, u8s, u16s, u16s, u16s),
    C.AUDIO_MANAGE: built(sets.build_audio_state, u8s, st.booleans(), st.none() | u8s),
    C.CONTROL_REMOTE_UNLOCK: built(sets.build_on_off_state, u8s, st.booleans()),
    C.SWITCH: built(sets.build_switch_state, u8s, st.builds(sets.SwitchState, u32s, u32s)),
    C.CONFIGURE_PASSAGE_MODE: built(sets.build_passage_page, u8s, lists_of(_passage), u8s),
    C.GET_OPERATE_LOG: built(oplog.build_log_page, lists_of(_log_records), u16s),
    C.READ_DEVICE_INFO: built(cmds.build_device_info_response, st.text(max_size=16)),
    C.GET_ADMIN_CODE: built(cmds.build_admin_code_response, u8s, st.none() | digits),
    C.CHECK_RANDOM: built(cmds.build_battery, u8s),
}
ANSWERS[C.FUNCTION_LOCK] = ANSWERS[C.DEAD_LOCK] = ANSWERS[C.UNLOCK]
ANSWERS[C.CHECK_USER_TIME] = ANSWERS[C.CHECK_ADMIN]
ANSWERS[C.SHOW_PASSWORD] = ANSWERS[C.CONTROL_REMOTE_UNLOCK]
ANSWERS[C.CYCLIC_CMD] = ANSWERS[C.MANAGE_KEYBOARD_PASSWORD]
for _command in (
    C.TIME_CALIBRATE,
    C.OPERATE_FINISHED,
    C.RESET_LOCK,
    C.SET_ADMIN_KEYBOARD_PWD,
    C.INIT_PASSWORDS,
):
    ANSWERS[_command] = ANSWERS[C.CHECK_RANDOM]


def answer(command: int, max_size: int = 96) -> st.SearchStrategy[bytes]:
    """The data of an answer to `command`: valid, mutated or random."""
    seeds = ANSWERS.get(command)
    return radio(max_size=max_size) if seeds is None else radio(seeds, max_size=max_size)


# --- requests (add-on -> lock; parsed by the simulated lock) -----------------------------------


def request(command: int) -> st.SearchStrategy[bytes]:
    """The plaintext of a request for `command`: golden ones as is and mutated, or random."""
    return radio(*GOLDEN_REQUESTS.get(command, []), max_size=48)


# --- whole frames ------------------------------------------------------------------------------

versions = st.builds(LockVersion, u8s, u8s, u8s, u16s, u16s) | st.just(LockVersion())
commands = st.sampled_from(sorted(ANSWERS)) | u8s


@st.composite
def answer_frames(draw: st.DrawFn) -> bytes:
    """A whole encrypted answer frame (any echo, status and data) under SESSION_KEY."""
    echo = draw(commands)
    data = draw(answer(echo))
    status = draw(st.sampled_from([0, 1]) | u8s)
    if len(data) > 200:
        data = data[:200]
    key = draw(st.sampled_from([SESSION_KEY, None]))
    wire = encode_response(Response(echo, status, data), key, version=draw(versions))
    return wire if draw(st.booleans()) else wire[: -len(TRAILER)]


plain_frames = st.builds(
    lambda command, data, version: build_frame(command, data, version=version),
    u8s,
    st.binary(max_size=48),
    versions,
)
frames = radio(answer_frames(), plain_frames, *GOLDEN_FRAMES, max_size=96)


@st.composite
def notifications(draw: st.DrawFn) -> list[bytes]:
    """Frames (and junk) cut into notifications at random points, like the radio does."""
    stream = b"".join(draw(st.lists(frames | st.binary(max_size=8), min_size=1, max_size=4)))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]
