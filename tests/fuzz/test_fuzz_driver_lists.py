"""Fuzzing the last step of the credential lists: what the drivers make of the passcodes, cards,
fingerprints and keypad codes a lock lists. The data comes from the radio, so only a LockError
may come out (a ValidationError would tell the panel user that *their* request was bad)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.credentials import CredentialKind
from ttlock_nuki_addon.nuki import keypad_cmds as kc
from ttlock_nuki_addon.nuki.codec import Command as NukiCommand
from ttlock_nuki_addon.nuki.driver_creds import NukiKeypad
from ttlock_nuki_addon.store import Store
from ttlock_nuki_addon.ttlock import card_cmds as card
from ttlock_nuki_addon.ttlock import fingerprint_cmds as fp
from ttlock_nuki_addon.ttlock import passcode_cmds as pwd
from ttlock_nuki_addon.ttlock.codec import Command
from ttlock_nuki_addon.ttlock.credential_book import CredentialBook
from ttlock_nuki_addon.ttlock.driver_creds import TTLockCredentials
from ttlock_nuki_addon.ttlock.features import FeatureMask

from . import nuki_inputs
from .support import RADIO, Case, run_case
from .ttlock_inputs import answer

K = CredentialKind
Factory = Callable[[Store], Callable[[Any], object]]


def _ttlock(store: Store) -> TTLockCredentials:
    book = CredentialBook(store, "aabbcc001122")
    return TTLockCredentials(None, book, FeatureMask(), enrol_timeout=1.0)  # type: ignore[arg-type]


def _pins(store: Store) -> Callable[[Any], object]:
    creds = _ttlock(store)
    return lambda data: creds._sync_pins(list(pwd.parse_passcode_page(data).records))


def _cards(store: Store) -> Callable[[Any], object]:
    creds = _ttlock(store)

    def sync(data: bytes) -> object:
        """A card list page through the driver."""
        page = card.parse_card_page(data)
        return creds._sync_windows(K.CARD, [(r.number, r.start, r.end) for r in page.records])

    return sync


def _fingerprints(store: Store) -> Callable[[Any], object]:
    creds = _ttlock(store)

    def sync(data: bytes) -> object:
        """A fingerprint list page through the driver."""
        page = fp.parse_fingerprint_page(data)
        windows = [(r.fp_id, r.start, r.end) for r in page.records]
        return creds._sync_windows(K.FINGERPRINT, windows)

    return sync


def _keypad(store: Store) -> Callable[[Any], object]:
    keypad = NukiKeypad(None, store, "54d272aa0001", None, None)  # type: ignore[arg-type]
    return lambda raw: keypad._credentials([kc.parse_keypad_code_entry(p) for p in raw])


def _page(*codes: str) -> bytes:
    return pwd.build_passcode_page([pwd.PasscodeRecord(1, code, code) for code in codes], 0xFFFF)


# Minimal inputs that once failed (fixed in issue 8); kept as examples.
TEN_DIGIT_PASSCODE = _page("1234", "1234567890")
THREE_DIGIT_PASSCODE = _page("123")
TEN_DIGIT_KEYPAD_CODE = [kc.build_keypad_code_entry(kc.KeypadCodeEntry(1, 4_294_967_295, "A"))]

LISTS: list[tuple[str, Factory, st.SearchStrategy[Any], tuple[Any, ...], str | None]] = [
    ("ttlock.driver_creds._sync_pins", _pins, answer(Command.PWD_LIST),
     (TEN_DIGIT_PASSCODE, THREE_DIGIT_PASSCODE), None),
    ("ttlock.driver_creds._sync_windows(card)", _cards, answer(Command.IC_MANAGE), (), None),
    ("ttlock.driver_creds._sync_windows(fingerprint)", _fingerprints,
     answer(Command.FR_MANAGE), (), None),
    ("nuki.driver_creds.NukiKeypad._credentials", _keypad,
     st.lists(nuki_inputs.payload(NukiCommand.KEYPAD_CODE), max_size=3), (TEN_DIGIT_KEYPAD_CODE,),
     None),
]  # fmt: skip


def _params() -> list[Any]:
    out = []
    for name, factory, inputs, examples, bug in LISTS:
        marks = [] if bug is None else [pytest.mark.xfail(strict=True, reason=bug)]
        out.append(pytest.param(name, factory, inputs, examples, id=name, marks=marks))
    return out


@pytest.mark.parametrize(("name", "factory", "inputs", "examples"), _params())
def test_listed_credentials_raise_only_lock_errors(
    tmp_path: Path,
    name: str,
    factory: Factory,
    inputs: st.SearchStrategy[Any],
    examples: tuple[Any, ...],
) -> None:
    """A lock's list, parsed and turned into credentials: a list, or a LockError."""
    run_case(Case(name, factory(Store(tmp_path)), inputs, RADIO, list, examples))
