"""Nuki authorization management messages, both directions (spec §4.8).

Builders return only the command's own fields; `commands` explains the nK and PIN suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .codec import Command
from .fields import (
    FieldError,
    Reader,
    encode_name,
    encode_optional_timestamp,
    enum_or_raw,
    flag,
    u8,
    u16,
    u32,
)
from .lists import ListMessages, build_slice_request
from .pairing_msgs import IdType
from .time_limits import TimeLimit, encode_time_limit, read_time_limit, read_time_limit_lenient

__all__ = [
    "AUTHORIZATION_ENTRY_LEN",
    "AUTH_NAME_LEN",
    "PARSERS",
    "SHARED_KEY_LEN",
    "AuthorizationEntry",
    "AuthorizationIdInvite",
    "AuthorizationInvite",
    "UpdateAuthorizationEntry",
    "build_authorization_entry",
    "build_authorization_entry_count",
    "build_authorization_id_invite",
    "build_authorization_invite",
    "build_remove_authorization_entry",
    "build_request_authorization_entries",
    "build_update_authorization_entry",
    "parse_authorization_entry",
    "parse_authorization_entry_count",
    "parse_authorization_id_invite",
    "parse_authorization_invite",
    "parse_remove_authorization_entry",
    "parse_request_authorization_entries",
    "parse_update_authorization_entry",
]

AUTH_NAME_LEN = 32  # spec §3.3
SHARED_KEY_LEN = 32  # spec §4.8: the invite's client-chosen key
AUTHORIZATION_ENTRY_LEN = 75  # spec §4.8


def _name(name: str) -> bytes:
    return encode_name(name, AUTH_NAME_LEN, "authorization name")


# --- Request Authorization Entries (0x0009) -> Count (0x0027) + N x Entry (0x000A) -----------


_LIST = ListMessages(
    request="Request Authorization Entries (0x0009)",
    count="Authorization Entry Count (0x0027)",
    count_field="The authorization count",
)
build_request_authorization_entries = build_slice_request
parse_request_authorization_entries = _LIST.parse_request
build_authorization_entry_count = _LIST.build_count
parse_authorization_entry_count = _LIST.parse_count


@dataclass(frozen=True, slots=True)
class AuthorizationEntry:
    """One authorization as the lock lists it; `id_type` is an IdType or an unknown number."""

    auth_id: int
    id_type: int
    name: str
    enabled: bool = True
    remote_allowed: bool = False
    date_created: datetime | None = None
    date_last_active: datetime | None = None
    lock_count: int = 0
    time_limit: TimeLimit | None = None


def build_authorization_entry(entry: AuthorizationEntry) -> bytes:
    """Lock side: the full 75-byte Authorization Entry (spec §4.8)."""
    return (
        u32(entry.auth_id, "The authorization id")
        + u8(entry.id_type, "The ID type")
        + _name(entry.name)
        + flag(entry.enabled)
        + flag(entry.remote_allowed)
        + encode_optional_timestamp(entry.date_created)
        + encode_optional_timestamp(entry.date_last_active)
        + u16(entry.lock_count, "The lock count")
        + encode_time_limit(entry.time_limit)
    )


def parse_authorization_entry(payload: bytes) -> AuthorizationEntry:
    """An Authorization Entry, by length: the time-limit block may be missing when unlimited."""
    reader = Reader(payload, "Authorization Entry (0x000A)")
    return AuthorizationEntry(
        auth_id=reader.u32("authorization id"),
        id_type=enum_or_raw(IdType, reader.u8("ID type")),
        name=reader.name(AUTH_NAME_LEN, "name"),
        enabled=reader.flag("enabled"),
        remote_allowed=reader.flag("remote allowed"),
        date_created=reader.timestamp("date created"),
        date_last_active=reader.timestamp("date last active"),
        lock_count=reader.u16("lock count"),
        time_limit=read_time_limit_lenient(reader),
    )


# --- Update (0x0025) and Remove (0x0008) Authorization Entry ---------------------------------


@dataclass(frozen=True, slots=True)
class UpdateAuthorizationEntry:
    """Update Authorization Entry fields: every setting of one authorization is rewritten."""

    auth_id: int
    name: str
    enabled: bool = True
    remote_allowed: bool = False
    time_limit: TimeLimit | None = None


def build_update_authorization_entry(
    auth_id: int,
    name: str,
    enabled: bool = True,
    remote_allowed: bool = False,
    time_limit: TimeLimit | None = None,
) -> bytes:
    """authId u32 ‖ name[32] ‖ enabled u8 ‖ remoteAllowed u8 ‖ time-limit block (spec §4.8)."""
    return (
        u32(auth_id, "The authorization id")
        + _name(name)
        + flag(enabled)
        + flag(remote_allowed)
        + encode_time_limit(time_limit)
    )


def parse_update_authorization_entry(payload: bytes) -> UpdateAuthorizationEntry:
    """Lock side: the fields of an Update Authorization Entry."""
    reader = Reader(payload, "Update Authorization Entry (0x0025)")
    request = UpdateAuthorizationEntry(
        auth_id=reader.u32("authorization id"),
        name=reader.name(AUTH_NAME_LEN, "name"),
        enabled=reader.flag("enabled"),
        remote_allowed=reader.flag("remote allowed"),
        time_limit=read_time_limit(reader),
    )
    reader.done()
    return request


def build_remove_authorization_entry(auth_id: int) -> bytes:
    """authId u32 (spec §4.8)."""
    return u32(auth_id, "The authorization id")


def parse_remove_authorization_entry(payload: bytes) -> int:
    """Lock side: the id of the authorization to remove."""
    reader = Reader(payload, "Remove Authorization Entry (0x0008)")
    auth_id = reader.u32("authorization id")
    reader.done()
    return auth_id


# --- Authorization Data (Invite) (0x000B) -> Authorization-ID (Invite) (0x001F) --------------


@dataclass(frozen=True, slots=True)
class AuthorizationInvite:
    """Authorization Data (Invite): a new authorization with a client-chosen shared key."""

    name: str
    id_type: int
    shared_key: bytes = field(repr=False)
    remote_allowed: bool = False
    time_limit: TimeLimit | None = None


def build_authorization_invite(
    name: str,
    id_type: IdType,
    shared_key: bytes,
    remote_allowed: bool = False,
    time_limit: TimeLimit | None = None,
) -> bytes:
    """name[32] ‖ idType u8 ‖ sharedKey[32] ‖ remoteAllowed u8 ‖ time-limit block (spec §4.8)."""
    if len(shared_key) != SHARED_KEY_LEN:
        raise FieldError(f"An invited authorization needs a {SHARED_KEY_LEN}-byte shared key.")
    return (
        _name(name)
        + u8(id_type, "The ID type")
        + bytes(shared_key)
        + flag(remote_allowed)
        + encode_time_limit(time_limit)
    )


def parse_authorization_invite(payload: bytes) -> AuthorizationInvite:
    """Lock side: the fields of an Authorization Data (Invite)."""
    reader = Reader(payload, "Authorization Data (Invite) (0x000B)")
    request = AuthorizationInvite(
        name=reader.name(AUTH_NAME_LEN, "name"),
        id_type=enum_or_raw(IdType, reader.u8("ID type")),
        shared_key=reader.take(SHARED_KEY_LEN, "shared key"),
        remote_allowed=reader.flag("remote allowed"),
        time_limit=read_time_limit(reader),
    )
    reader.done()
    return request


@dataclass(frozen=True, slots=True)
class AuthorizationIdInvite:
    """Authorization-ID (Invite): the id the lock gave the invited authorization and when."""

    auth_id: int
    date_created: datetime | None


def build_authorization_id_invite(auth_id: int, date_created: datetime | None) -> bytes:
    """Lock side: authId u32 ‖ dateCreated[7] (spec §4.2)."""
    return u32(auth_id, "The authorization id") + encode_optional_timestamp(date_created)


def parse_authorization_id_invite(payload: bytes) -> AuthorizationIdInvite:
    """An Authorization-ID (Invite); extra trailing bytes are ignored."""
    reader = Reader(payload, "Authorization-ID (Invite) (0x001F)")
    return AuthorizationIdInvite(reader.u32("authorization id"), reader.timestamp("date created"))


PARSERS: dict[Command, Callable[[bytes], object]] = {
    Command.REMOVE_AUTHORIZATION_ENTRY: parse_remove_authorization_entry,
    Command.REQUEST_AUTHORIZATION_ENTRIES: parse_request_authorization_entries,
    Command.AUTHORIZATION_ENTRY: parse_authorization_entry,
    Command.AUTHORIZATION_DATA_INVITE: parse_authorization_invite,
    Command.AUTHORIZATION_ID_INVITE: parse_authorization_id_invite,
    Command.UPDATE_AUTHORIZATION_ENTRY: parse_update_authorization_entry,
    Command.AUTHORIZATION_ENTRY_COUNT: parse_authorization_entry_count,
}
