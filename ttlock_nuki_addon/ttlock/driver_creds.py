"""TTLock credentials for the driver: PINs, cards, fingerprints; names and PIN ids in the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from ..credentials import (
    Credential,
    CredentialKind,
    CredentialSpec,
    EnrolmentProgress,
    ProgressCallback,
)
from ..errors import CommandRejectedError, DisconnectedError, LockTimeoutError, NotSupportedError
from ..store import JsonObject
from ..validity import ValidationError, Validity, Weekly
from . import card_cmds as cc
from . import fingerprint_cmds as fc
from . import passcode_cmds as pc
from .codec import Command, ErrorCode, error_text
from .credential_book import (
    CredentialBook,
    name_of,
    new_pin_id,
    number_of,
    pin_matches,
    pin_type,
    stored_validity,
)
from .features import Feature, FeatureMask
from .framing import encode_request, reply_matcher
from .session import TTLockSession, check
from .validity_map import (
    card_window,
    cyclic_entries,
    passcode_validity,
    validity_of_passcode,
    validity_of_window,
)

_LOGGER = logging.getLogger(__name__)
C, K = Command, CredentialKind
MAX_PAGES = 64  # bounds every list loop; far above any lock's capacity
_FEATURE = {K.PIN: Feature.PASSCODE, K.CARD: Feature.IC, K.FINGERPRINT: Feature.FINGER_PRINT}
_COMMAND = {K.PIN: C.MANAGE_KEYBOARD_PASSWORD, K.CARD: C.IC_MANAGE, K.FINGERPRINT: C.FR_MANAGE}
_GONE = {
    K.PIN: ErrorCode.PASSCODE_NOT_FOUND,
    K.CARD: ErrorCode.CARD_NOT_FOUND,
    K.FINGERPRINT: ErrorCode.FINGERPRINT_NOT_FOUND,
}
_ADOPTED = {K.PIN: "PIN", K.CARD: "Card", K.FINGERPRINT: "Fingerprint"}


class _Page(Protocol):
    @property
    def next_seq(self) -> int: ...
    @property
    def is_last(self) -> bool: ...


P = TypeVar("P", bound=_Page)
Window = tuple[int, datetime | None, datetime | None]  # a listed card/fingerprint and its window


def _not_found(kind: CredentialKind) -> CommandRejectedError:
    return CommandRejectedError(_GONE[kind], error_text(_GONE[kind]))


class TTLockCredentials:
    """List, add, enrol, change and delete one lock's credentials through its session."""

    def __init__(
        self,
        session: TTLockSession,
        book: CredentialBook,
        features: FeatureMask,
        *,
        enrol_timeout: float,
    ) -> None:
        self._session, self.book, self._features = session, book, features
        self._enrol_timeout = enrol_timeout
        self._enrolling = self._cancelled = False

    def kinds(self) -> list[CredentialKind]:
        """The credential kinds this lock has (by its feature mask)."""
        return [kind for kind, feature in _FEATURE.items() if self._features.has(feature)]

    def require(self, kind: CredentialKind, validity: Validity | None = None) -> None:
        """NotSupportedError unless the lock has `kind` (and weekly schedules if asked)."""
        if not self._features.has(_FEATURE[kind]):
            raise NotSupportedError(f"This lock has no {kind.value} credentials.")
        if isinstance(validity, Weekly):
            weekly = Feature.CYCLIC_PASSWORD if kind is K.PIN else Feature.CYCLIC_IC_OR_FINGER_PRINT
            if not self._features.has(weekly):
                raise NotSupportedError(f"This lock has no weekly schedules for {kind.value}s.")

    # --- reading the lock --------------------------------------------------------------

    async def _paged(
        self, command: int, build: Callable[[int], bytes], parse: Callable[[bytes], P]
    ) -> list[P]:
        """Every page of a list command, from seq 0 until the lock says it was the last."""
        pages: list[P] = []
        seq = 0
        for _ in range(MAX_PAGES):
            page = parse(await self._session.call(command, build(seq)))
            pages.append(page)
            if page.is_last or page.next_seq == seq:
                break
            seq = page.next_seq
        return pages

    async def pin_records(self) -> list[pc.PasscodeRecord]:
        """The passcodes on the lock (0x07, spec §5.5.15)."""
        pages = await self._paged(
            C.PWD_LIST, pc.build_passcode_list_request, pc.parse_passcode_page
        )
        return [record for page in pages for record in page.records]

    async def _windows(self, kind: CredentialKind) -> list[Window]:
        """Cards (0x05 op 1) or fingerprints (0x06 op 6) with their windows (spec §5.5.16-17)."""
        if kind is K.CARD:
            cards = await self._paged(C.IC_MANAGE, cc.build_card_list, cc.parse_card_page)
            return [(r.number, r.start, r.end) for page in cards for r in page.records]
        fps = await self._paged(C.FR_MANAGE, fc.build_fingerprint_list, fc.parse_fingerprint_page)
        return [(r.fp_id, r.start, r.end) for page in fps for r in page.records]

    async def read(self, kind: CredentialKind) -> list[Credential]:
        """The credentials of `kind` on the lock, named from the store (unknown ones adopted)."""
        self.require(kind)
        if kind is K.PIN:
            return self._sync_pins(await self._session.run(self.pin_records))
        return self._sync_windows(kind, await self._session.run(lambda: self._windows(kind)))

    def _sync_pins(self, records: list[pc.PasscodeRecord]) -> list[Credential]:
        stored = self.book.entries(K.PIN)
        by_code = {entry.get("code"): (cred_id, entry) for cred_id, entry in stored.items()}
        entries: dict[str, JsonObject] = {}
        found: list[Credential] = []
        for record in records:
            if not pc.is_pin_code(record.code):
                _LOGGER.warning("A passcode the lock lists is not 4 to 9 digits; it is left out")
                continue
            cred_id, entry = by_code.get(record.code) or (
                new_pin_id(),
                {"original": record.original},
            )
            validity = stored_validity(entry)
            if validity is None or not pin_matches(record, validity):
                validity = validity_of_passcode(
                    record.type, record.start, record.end, record.cycle_type
                )
            name = name_of(entry) or _ADOPTED[K.PIN]
            entries[cred_id] = {
                **entry,
                "name": name,
                "code": record.code,
                "validity": validity.to_json(),
            }
            found.append(Credential(K.PIN, cred_id, name, record.code, validity))
        self.book.replace(K.PIN, entries)
        return found

    def _sync_windows(self, kind: CredentialKind, windows: list[Window]) -> list[Credential]:
        stored = self.book.entries(kind)
        entries: dict[str, JsonObject] = {}
        found: list[Credential] = []
        for number, start, end in windows:
            cred_id = str(number)
            entry = stored.get(cred_id, {})
            validity = stored_validity(entry)
            if validity is None or _window_of(validity) != (start, end):
                validity = validity_of_window(start, end)
            name = name_of(entry) or f"{_ADOPTED[kind]} {cred_id}"
            entries[cred_id] = {"name": name, "validity": validity.to_json()}
            found.append(Credential(kind, cred_id, name, None, validity))
        self.book.replace(kind, entries)
        return found

    # --- adding ----------------------------------------------------------------------------

    async def add(
        self, spec: CredentialSpec, progress: ProgressCallback | None
    ) -> Credential | None:
        """Add a PIN, or enrol a card or fingerprint at the lock; None if cancelled."""
        self.require(spec.kind, spec.validity)
        if spec.kind is K.PIN:
            return await self._add_pin(spec)
        card_window(spec.validity)  # ValidationError now for what cards cannot do (once)
        self._enrolling, self._cancelled = True, False
        try:
            await self._session.run(_nothing)  # log in, retrying transient failures
            number = None if self._cancelled else await self._enrol(spec.kind, progress)
        finally:
            self._enrolling = False
        if number is None:
            return None
        try:
            await self._session.run(lambda: self._apply_window(spec.kind, number, spec.validity))
        except CommandRejectedError:
            # AND failNeedDelete (spec §5.5.16): a credential whose validity failed must go.
            await self._session.run(lambda: self._delete_on_lock(spec.kind, number))
            raise
        cred_id = str(number)
        self.book.put(spec.kind, cred_id, {"name": spec.name, "validity": spec.validity.to_json()})
        return Credential(spec.kind, cred_id, spec.name, None, spec.validity)

    async def _add_pin(self, spec: CredentialSpec) -> Credential:
        code = spec.code
        assert code is not None  # CredentialSpec requires a code for PINs
        fields = passcode_validity(spec.validity)
        payload = pc.build_passcode_add(
            fields.type, code, fields.start, fields.end, cycle_type=fields.cycle_type
        )

        async def send() -> bool:
            await self._session.call(C.MANAGE_KEYBOARD_PASSWORD, payload)
            return True

        async def took_effect() -> bool | None:
            return True if any(r.code == code for r in await self.pin_records()) else None

        # Adding is not idempotent: after a lost answer the list says whether it is there.
        await self._session.run_checked(send, took_effect)
        cred_id = new_pin_id()
        entry: JsonObject = {"name": spec.name, "code": code, "original": code}
        self.book.put(K.PIN, cred_id, {**entry, "validity": spec.validity.to_json()})
        return Credential(K.PIN, cred_id, spec.name, code, spec.validity)

    async def _enrol(self, kind: CredentialKind, progress: ProgressCallback | None) -> int | None:
        """Run one enrolment exchange (spec §5.5.16-17); the new number/id, None if cancelled."""
        session, link = self._session, self._session.link
        command = _COMMAND[kind]
        payload = cc.build_card_enrol() if kind is K.CARD else fc.build_fingerprint_enrol()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._enrol_timeout
        total: int | None = None
        shown: tuple[int, int] | None = None
        try:
            async with link.exchange(reply_matcher(command, session.key)) as replies:
                await link.write(encode_request(command, payload, session.key))
                while True:
                    raw = await replies.get(max(deadline - loop.time(), 0.001))
                    response = session.decode(raw, command)
                    if response.error_code == ErrorCode.FAILED:
                        raise LockTimeoutError("The lock stopped waiting")  # its own time-out
                    data = check(response)
                    step: EnrolmentProgress | None
                    if kind is K.CARD:
                        card = cc.parse_card_enrol(data)
                        step, done = card.progress(), card.number
                    else:
                        finger = fc.parse_fingerprint_enrol(data)
                        total = finger.total if finger.status == cc.EnrolStatus.WAITING else total
                        step, done = finger.progress(total or finger.total), finger.fp_id
                    if step is not None and (step.step, step.total) != shown:
                        shown = (step.step, step.total)
                        _report(progress, step)
                    if done is not None:
                        return done
        except DisconnectedError:
            if self._cancelled:
                _LOGGER.debug("%s: enrolment cancelled", session.name)
                return None
            raise
        except LockTimeoutError:
            # The lock has no cancel command: dropping the link ends its add mode (spec §5.5.16).
            await session.disconnect()
            what = "card" if kind is K.CARD else "finger"
            raise LockTimeoutError(
                f"No {what} was presented in time ({self._enrol_timeout:g} s); enrolment stopped."
            ) from None

    async def cancel(self) -> None:
        """Stop a running enrolment by dropping the link; no-op if none runs."""
        if self._enrolling:
            self._cancelled = True
            await self._session.disconnect()

    async def _apply_window(
        self, kind: CredentialKind, number: int, validity: Validity, *, clear: bool = False
    ) -> None:
        """Set a card's/fingerprint's window (op 05) and weekly schedule (0x70, spec §5.5.18)."""
        start, end = card_window(validity)
        if kind is K.CARD:
            await self._session.call(C.IC_MANAGE, cc.build_card_modify(number, start, end))
            user_type, user = cc.CyclicUserType.CARD, cc.card_bytes(number)
        else:
            await self._session.call(C.FR_MANAGE, fc.build_fingerprint_modify(number, start, end))
            user_type, user = cc.CyclicUserType.FINGERPRINT, fc.fingerprint_bytes(number)
        weekly = isinstance(validity, Weekly)
        if not (weekly or clear) or not self._features.has(Feature.CYCLIC_IC_OR_FINGER_PRINT):
            return
        try:
            await self._session.call(C.CYCLIC_CMD, cc.build_cyclic_clear(user_type, user))
        except CommandRejectedError as exc:
            if exc.lock_code != ErrorCode.RECORD_NOT_FOUND:  # 1F counts as cleared (§5.5.18)
                raise
        if isinstance(validity, Weekly):
            for entry in cyclic_entries(validity):
                await self._session.call(C.CYCLIC_CMD, cc.build_cyclic_add(user_type, user, entry))

    # --- changing and deleting -------------------------------------------------------------

    async def update(self, credential: Credential) -> Credential:
        """Apply name, code and validity for (kind, id); CommandRejectedError if unknown."""
        kind = credential.kind
        self.require(kind, credential.validity)
        if kind is K.PIN:
            return await self._update_pin(credential)
        number = number_of(kind, credential.id)
        if number is None:
            raise _not_found(kind)
        old = self.book.entries(kind).get(credential.id)
        before = None if old is None else stored_validity(old)
        if before != credential.validity:
            clear = isinstance(before, Weekly)
            await self._session.run(
                lambda: self._apply_window(kind, number, credential.validity, clear=clear)
            )
        entry: JsonObject = {"name": credential.name, "validity": credential.validity.to_json()}
        self.book.put(kind, credential.id, entry)
        return Credential(kind, credential.id, credential.name, None, credential.validity)

    async def _update_pin(self, credential: Credential) -> Credential:
        entry = self.book.entries(K.PIN).get(credential.id)
        old_code = None if entry is None else entry.get("code")
        if entry is None or not isinstance(old_code, str):
            raise _not_found(K.PIN)
        code = credential.code or old_code
        if code != old_code or credential.validity != stored_validity(entry):
            if not self._features.has(Feature.MODIFY_PASSCODE_FUNCTION):
                raise NotSupportedError("This lock cannot change a PIN; delete it and add it anew.")
            fields = passcode_validity(credential.validity)
            payload = pc.build_passcode_modify(
                fields.type, old_code, code, start=fields.start, end=fields.end,
                cycle_type=fields.cycle_type,
            )  # fmt: skip

            async def send() -> bool:
                await self._session.call(C.MANAGE_KEYBOARD_PASSWORD, payload)
                return True

            async def took_effect() -> bool | None:
                records = await self.pin_records()
                new = any(r.code == code and pin_matches(r, credential.validity) for r in records)
                old = code != old_code and any(r.code == old_code for r in records)
                return True if new and not old else None

            await self._session.run_checked(send, took_effect)
        original = entry.get("original", old_code)
        self.book.put(K.PIN, credential.id, {
            "name": credential.name, "code": code, "original": original,
            "validity": credential.validity.to_json(),
        })  # fmt: skip
        return Credential(K.PIN, credential.id, credential.name, code, credential.validity)

    async def delete(self, kind: CredentialKind, cred_id: str) -> None:
        """Delete from the lock and the store; a credential already gone counts as deleted."""
        self.require(kind)
        if kind is K.PIN:
            entry = self.book.entries(K.PIN).get(cred_id)
            code = None if entry is None else entry.get("code")
            if entry is not None and isinstance(code, str):
                payload = pc.build_passcode_delete(pin_type(stored_validity(entry)), code)
                await self._session.run(lambda: self._call_gone_ok(kind, payload))
        else:
            number = number_of(kind, cred_id)
            if number is not None:
                await self._session.run(lambda: self._delete_on_lock(kind, number))
        self.book.remove(kind, cred_id)

    async def _delete_on_lock(self, kind: CredentialKind, number: int) -> None:
        if kind is K.CARD:
            await self._call_gone_ok(kind, cc.build_card_delete(number))
        else:
            await self._call_gone_ok(kind, fc.build_fingerprint_delete(number))

    async def _call_gone_ok(self, kind: CredentialKind, payload: bytes) -> None:
        try:
            await self._session.call(_COMMAND[kind], payload)
        except CommandRejectedError as exc:
            if exc.lock_code != _GONE[kind]:
                raise


def _window_of(validity: Validity) -> tuple[datetime, datetime] | None:
    try:
        return card_window(validity)
    except ValidationError:
        return None


def _report(progress: ProgressCallback | None, step: EnrolmentProgress) -> None:
    if progress is None:
        return
    try:
        progress(step)
    except Exception:
        _LOGGER.exception("enrolment progress callback failed")


async def _nothing() -> None:
    return None
