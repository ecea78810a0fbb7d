"""The fewest requests each operation needs by the protocol specs (shared/specs/*.md sections).

`cold`: on a new connection; `warm`: on a connection that already did an operation (a TTLock
admin session lasts as long as the connection; every Nuki command needs a fresh challenge).
Counted are requests the lock must answer; connecting itself is not counted. Lists are counted
as one page (a PIN list of a few entries is one); a whole TTLock log needs one request per page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ttlock_nuki_addon.snapshot import Brand


@dataclass(frozen=True, slots=True)
class Minimum:
    """The protocol's minimum request count for one operation, and why."""

    cold: int
    warm: int
    why: str
    per_page: bool = False  # the lock decides how many records one answer holds


_ADMIN = "CHECK_ADMIN -> CHECK_RANDOM opens the admin session, kept per connection (ttlock.md §5.3)"
_NONCE = "every challenge nK is single-use, so each command needs its own (nuki.md §4.1)"

TTLOCK: dict[str, Minimum] = {
    "unlock": Minimum(2, 2, "CHECK_USER_TIME (or CHECK_ADMIN) -> UNLOCK, whose key is "
                      "psFromLock of that check (ttlock.md §5.3, §5.5.4, §5.5.5)"),
    "lock": Minimum(2, 2, "CHECK_USER_TIME (or CHECK_ADMIN) -> FUNCTION_LOCK "
                    "(ttlock.md §5.3, §5.5.5)"),
    "credentials.list pin": Minimum(3, 1, f"{_ADMIN}; PWD_LIST, one page (§5.5.15)"),
    "credentials.list card": Minimum(3, 1, f"{_ADMIN}; IC_MANAGE search, one page (§5.5.16)"),
    "credentials.list fingerprint": Minimum(
        3, 1, f"{_ADMIN}; FR_MANAGE search, one page (§5.5.17)"
    ),
    "credentials.add pin": Minimum(3, 1, f"{_ADMIN}; MANAGE_KEYBOARD_PASSWORD add (§5.5.14)"),
    "credentials.delete pin": Minimum(
        3, 1, f"{_ADMIN}; MANAGE_KEYBOARD_PASSWORD remove one (§5.5.14)"
    ),
    "settings.get": Minimum(6, 4, f"{_ADMIN}; one query each: AUTO_LOCK_MANAGE, AUDIO_MANAGE, "
                            "CONFIGURE_PASSAGE_MODE, CONTROL_REMOTE_UNLOCK "
                            "(§5.5.8, §5.5.9, §5.5.19, §5.5.10)"),
    "settings.set": Minimum(3, 1, f"{_ADMIN}; AUDIO_MANAGE set (§5.5.9)"),
    "events.list": Minimum(1, 1, "GET_OPERATE_LOG from 0xFFFF (new records), no login "
                           "(ttlock.md §5.5.20)", per_page=True),
    "events.list first": Minimum(1, 1, "GET_OPERATE_LOG from 0, one request per page of "
                                 "records, no login (ttlock.md §5.5.20)", per_page=True),
}  # fmt: skip

NUKI: dict[str, Minimum] = {
    "unlock": Minimum(2, 2, "Request Data(Challenge) -> Lock Action; the lock answers ACCEPTED, "
                      f"states, COMPLETE (nuki.md §4.1 pattern D); {_NONCE}"),
    "lock": Minimum(2, 2, "Request Data(Challenge) -> Lock Action (nuki.md §4.1 pattern D)"),
    "open": Minimum(2, 2, "Request Data(Challenge) -> Lock Action unlatch "
                    "(nuki.md §4.1 pattern D)"),
    "credentials.list pin": Minimum(2, 2, "Challenge -> Request Keypad Codes; count and "
                                    f"entries come as a burst (nuki.md §4.9, §4.1); {_NONCE}"),
    "credentials.add pin": Minimum(2, 2, "Challenge -> Add Keypad Code (nuki.md §4.9)"),
    "credentials.delete pin": Minimum(2, 2, "Challenge -> Remove Keypad Code (nuki.md §4.9)"),
    "settings.get": Minimum(4, 4, "Challenge -> Request Config, Challenge -> Request Advanced "
                            "Config (nuki.md §4.4, §4.5)"),
    "settings.set": Minimum(4, 4, "Set Config has no partial update: Challenge -> Request "
                            "Config, Challenge -> Set Config (nuki.md §4.4); 2 with a Config "
                            "read just before"),
    "events.list": Minimum(2, 2, "Challenge -> Request Log Entries; entries come as a burst "
                           "(nuki.md §4.2 0x0031, §4.1)"),
    "events.list first": Minimum(2, 2, "Challenge -> Request Log Entries with a count covering "
                                 "the log (nuki.md §4.2 0x0031, §4.7)"),
}  # fmt: skip

BY_BRAND = {Brand.TTLOCK: TTLOCK, Brand.NUKI: NUKI}


def minimum(brand: Brand, label: str) -> dict[str, Any] | None:
    """The minimum for one operation as JSON, None if the table has none."""
    found = BY_BRAND[brand].get(label)
    return None if found is None else asdict(found)
