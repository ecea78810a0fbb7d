"""Nuki keypad codes as PIN credentials (spec §4.9): names and codes live on the lock.

Credential id = the lock's code id (decimal). Validity <-> time limit: Permanent = not time
limited; Period = allowed from/until; Weekly = weekdays + daily window + overall from/until;
Once has no Nuki equivalent. The store keeps, per code id, the validity last written and the
enabled flag, so a Weekly that the wire cannot tell from a Period reads back as written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import time

from ..credentials import Credential, CredentialKind, CredentialSpec
from ..errors import CommandRejectedError, DisconnectedError, LockTimeoutError, NotSupportedError
from ..store import JsonObject, Store
from ..validity import (
    Once,
    Period,
    Permanent,
    ValidationError,
    Validity,
    Weekday,
    Weekly,
)
from . import commands as cmds
from . import keypad_cmds as kc
from .channels import completed, listed
from .codec import Command, ErrorCode
from .record import keypad_cache, set_keypad_cache
from .session import NukiSession
from .time_limits import TimeLimit

_LOGGER = logging.getLogger(__name__)
MAX_SHOWN_CODE = 999_999_999  # a PIN credential holds 4 to 9 digits (credentials._PIN_CODE)
K = CredentialKind
MIDNIGHT = time(0, 0)
ONCE = (
    "Nuki keypad codes cannot be limited to a single use. Use a period (from/until) instead "
    "and delete the code afterwards."
)
NO_KEYPAD = "This lock has no Nuki Keypad paired, so it has no PIN codes."
OTHER_KINDS = "Nuki locks manage only keypad PIN codes here; cards and fingerprints are not "
OTHER_KINDS += "supported over Bluetooth."
PinSource = Callable[[], int]
Pinned = Callable[[Callable[[], Awaitable[object]]], Awaitable[object]]


def time_limit_of(validity: Validity) -> TimeLimit | None:
    """The keypad time limit for a validity; NotSupportedError for Once (spec §4.9)."""
    if isinstance(validity, Permanent):
        return None
    if isinstance(validity, Once):
        raise NotSupportedError(ONCE)
    if isinstance(validity, Period):
        return TimeLimit(allowed_from=validity.valid_from, allowed_until=validity.valid_until)
    if isinstance(validity, Weekly):
        return TimeLimit(
            allowed_from=validity.valid_from,
            allowed_until=validity.valid_until,
            weekdays=validity.days,
            from_time=validity.from_time,
            until_time=validity.until_time,
        )
    raise ValidationError("Unknown validity.")


def validity_of(limit: TimeLimit | None) -> Validity:
    """The validity a keypad time limit stands for."""
    if limit is None:
        return Permanent()
    every_day = limit.weekdays == frozenset(Weekday)
    start, end = limit.allowed_from, limit.allowed_until
    if every_day and limit.from_time is None:
        if start is None and end is None:
            return Permanent()
        if start is not None and end is not None and start < end:
            return Period(start, end)
    try:
        return Weekly(
            limit.weekdays,
            limit.from_time or MIDNIGHT,
            limit.until_time or MIDNIGHT,
            start,
            end if start is None or end is None or start < end else None,
        )
    except ValidationError:
        return Permanent()  # a limit this add-on cannot express; shown as always valid


def _same(validity: Validity, limit: TimeLimit | None) -> bool:
    try:
        return time_limit_of(validity) == limit
    except (NotSupportedError, ValidationError):
        return False


def code_id_of(credential_id: str) -> int | None:
    """The lock's code id from a credential id; None if it cannot be one."""
    if not (credential_id.isascii() and credential_id.isdigit()) or len(credential_id) > 5:
        return None
    value = int(credential_id)
    return value if 0 < value <= 0xFFFF else None


class NukiKeypad:
    """List, add, change and delete one lock's keypad codes through its session."""

    def __init__(
        self, session: NukiSession, store: Store, lock_id: str, pin: PinSource, pinned: Pinned
    ) -> None:
        self._session, self._store, self._lock_id = session, store, lock_id
        self._pin, self._pinned = pin, pinned
        self.names: dict[int, str] = {}  # code id -> name, for naming log events

    def require(self, kind: CredentialKind, has_keypad: bool) -> None:
        """NotSupportedError unless `kind` is PIN and the lock has a keypad."""
        if kind is not K.PIN:
            raise NotSupportedError(OTHER_KINDS)
        if not has_keypad:
            raise NotSupportedError(NO_KEYPAD)

    async def entries(self) -> list[kc.KeypadCodeEntry]:
        """Request Keypad Codes: the count, then each code, then Status COMPLETE (spec §4.9)."""
        messages = await self._session.transact(
            Command.REQUEST_KEYPAD_CODES, kc.build_request_keypad_codes(), pin=self._pin(),
            until=completed,
            enough=listed(Command.KEYPAD_CODE_COUNT, Command.KEYPAD_CODE,
                          kc.parse_keypad_code_count),
        )  # fmt: skip
        found = [
            kc.parse_keypad_code_entry(m.payload)
            for m in messages
            if m.command == Command.KEYPAD_CODE
        ]
        self.names = {entry.code_id: entry.name for entry in found}
        return found

    def _credentials(self, entries: list[kc.KeypadCodeEntry]) -> list[Credential]:
        cache = keypad_cache(self._store, self._lock_id)
        fresh: dict[str, JsonObject] = {}
        found: list[Credential] = []
        for entry in entries:
            if entry.code > MAX_SHOWN_CODE:
                _LOGGER.warning("Keypad entry %d holds no usable code; left out", entry.code_id)
                continue
            cred_id = str(entry.code_id)
            stored = cache.get(cred_id, {})
            try:
                validity = Validity.from_json(stored.get("validity"))
            except ValidationError:
                validity = validity_of(entry.time_limit)
            if not _same(validity, entry.time_limit):
                validity = validity_of(entry.time_limit)
            fresh[cred_id] = {"validity": validity.to_json(), "enabled": entry.enabled}
            code = f"{entry.code:06d}"
            name = entry.name or f"Code {cred_id}"
            found.append(Credential(K.PIN, cred_id, name, code, validity))
        set_keypad_cache(self._store, self._lock_id, fresh)
        return found

    async def read(self) -> list[Credential]:
        """Every keypad code on the lock."""
        entries = await self._pinned(lambda: self._session.run(self.entries))
        assert isinstance(entries, list)
        return self._credentials(entries)

    def _remember(self, cred_id: str, validity: Validity, enabled: bool = True) -> None:
        cache = keypad_cache(self._store, self._lock_id)
        cache[cred_id] = {"validity": validity.to_json(), "enabled": enabled}
        set_keypad_cache(self._store, self._lock_id, cache)

    async def add(self, spec: CredentialSpec) -> Credential:
        """Add Keypad Code (0x0041) -> Keypad Code ID; never sent twice blindly."""
        assert spec.code is not None  # CredentialSpec requires a code for PINs
        code = kc.validate_keypad_code(spec.code)
        fields = kc.build_add_keypad_code(code, spec.name, time_limit_of(spec.validity))

        async def send() -> int:
            message = await self._session.call(
                Command.ADD_KEYPAD_CODE, fields, reply=Command.KEYPAD_CODE_ID, pin=self._pin()
            )
            return kc.parse_keypad_code_id(message.payload).code_id

        async def attempt() -> object:
            try:
                return await self._session.run(send, retry_transient=False)
            except (LockTimeoutError, DisconnectedError):
                # The answer was lost: the list says whether the lock added it (spec §4.9).
                listed_now = await self._session.run(self.entries)
                for entry in listed_now:
                    if entry.code == code:
                        return entry.code_id
                raise

        code_id = await self._pinned(attempt)
        assert isinstance(code_id, int)
        self.names[code_id] = spec.name
        self._remember(str(code_id), spec.validity)
        return Credential(K.PIN, str(code_id), spec.name, spec.code, spec.validity)

    async def update(self, credential: Credential) -> Credential:
        """Update Keypad Code (0x0046): every field rewritten, so a retry is safe."""
        code_id = code_id_of(credential.id)
        if code_id is None or credential.code is None:
            raise CommandRejectedError(
                ErrorCode.K_ERROR_BAD_PARAMETER, "No keypad code with that id exists."
            )
        enabled = keypad_cache(self._store, self._lock_id).get(credential.id, {}).get("enabled")
        fields = kc.build_update_keypad_code(
            code_id, credential.code, credential.name, enabled is not False,
            time_limit_of(credential.validity),
        )  # fmt: skip

        async def send() -> object:
            return await self._session.call(Command.UPDATE_KEYPAD_CODE, fields, pin=self._pin())

        await self._pinned(lambda: self._session.run(send))
        self.names[code_id] = credential.name
        self._remember(credential.id, credential.validity, enabled is not False)
        return credential

    async def delete(self, credential_id: str) -> None:
        """Remove Keypad Code (0x0047); a code that is already gone counts as deleted."""
        code_id = code_id_of(credential_id)
        if code_id is not None:
            fields = kc.build_remove_keypad_code(code_id)

            async def send() -> object:
                try:
                    return await self._session.call(
                        Command.REMOVE_KEYPAD_CODE, fields, pin=self._pin()
                    )
                except (cmds.BadPinError, cmds.PinLockoutError):
                    raise  # never a second PIN attempt after a refused one
                except CommandRejectedError:
                    if any(e.code_id == code_id for e in await self.entries()):
                        raise
                    return None  # not on the lock (any more)

            await self._pinned(lambda: self._session.run(send))
            self.names.pop(code_id, None)
        cache = keypad_cache(self._store, self._lock_id)
        cache.pop(credential_id, None)
        set_keypad_cache(self._store, self._lock_id, cache)
