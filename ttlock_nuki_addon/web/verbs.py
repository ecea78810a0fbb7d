"""The websocket API's verbs: strict parameters in, one manager call, JSON out."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ..credentials import Credential, CredentialKind, CredentialSpec
from ..errors import NotSupportedError
from ..manager import LockManager
from ..params import PairingParams, SettingsUpdate
from ..snapshot import Brand, LockSnapshot, lock_id_from_address
from ..validity import (
    JSONValue,
    ValidationError,
    expect_object,
    opt_int,
    parse_enum,
    req_bool,
    req_str,
)
from .backup import Backups
from .pushes import scan_json

_LOCK_ID = re.compile(r"[0-9a-f]{12}")
_SECURITY_PIN = re.compile(r"[0-9]{4,8}")
_MAX_ID = 64
SCAN_SECONDS = (5, 300, 60)  # low, high, default
EVENTS_LIMIT = (1, 500, 100)


@dataclass(frozen=True, slots=True)
class Call:
    """One request: its verb, its parameters (without id and type) and what it may use."""

    verb: str
    params: dict[str, object]
    manager: LockManager
    backups: Backups | None
    now: Callable[[], datetime]

    def fields(
        self, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> dict[str, object]:
        """The parameters, with every required one present and no unknown one."""
        what = f"The {self.verb} request"
        return expect_object(self.params, what, required=required, optional=optional)

    def lock_id(self, *, optional: Iterable[str] = ()) -> str:
        """The `lock_id` parameter of a request that takes only it (and `optional`)."""
        return lock_id_of(self.fields(("lock_id",), optional))


def lock_id_of(obj: dict[str, object]) -> str:
    """The `lock_id` in `obj`: 12 lower-case hex digits."""
    value = obj.get("lock_id")
    if not isinstance(value, str) or not _LOCK_ID.fullmatch(value):
        raise ValidationError("'lock_id' must be a lock id (12 lower-case hex digits).")
    return value


def _credential_id(obj: dict[str, object]) -> str:
    value = obj.get("credential_id")
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID or not value.isprintable():
        raise ValidationError(f"'credential_id' must be a credential's id (1 to {_MAX_ID} chars).")
    return value


Verb = Callable[[Call], Awaitable[JSONValue]]
VERBS: dict[str, Verb] = {}


def verb(name: str) -> Callable[[Verb], Verb]:
    """Register a verb under `name`."""

    def register(handler: Verb) -> Verb:
        VERBS[name] = handler
        return handler

    return register


# --- locks and discovery ---------------------------------------------------------------------


@verb("locks.list")
async def _locks_list(call: Call) -> JSONValue:
    call.fields()
    return [snapshot.to_json() for snapshot in call.manager.locks()]


@verb("discovery.list")
async def _discovery_list(call: Call) -> JSONValue:
    call.fields()
    return [found.to_json() for found in call.manager.discoveries()]


@verb("scan.start")
async def _scan_start(call: Call) -> JSONValue:
    low, high, default = SCAN_SECONDS
    seconds = opt_int(call.fields(optional=("seconds",)), "seconds", low, high)
    return scan_json(await call.manager.discover(float(seconds or default)))


@verb("scan.stop")
async def _scan_stop(call: Call) -> JSONValue:
    call.fields()
    return scan_json(call.manager.end_discovery())


@verb("lock.pair")
async def _lock_pair(call: Call) -> JSONValue:
    obj = call.fields(("address", "brand"), ("name", "pin", "pair_as"))
    address = req_str(obj, "address")
    lock_id_from_address(address)  # checks the form
    brand = parse_enum(Brand, obj["brand"], "brand")
    params = PairingParams.from_json(obj, ignore=("address", "brand"))
    snapshot = await call.manager.pair(address.upper(), brand, params)
    return snapshot.to_json()


def _bolt(name: str, action: Callable[[LockManager, str], Awaitable[LockSnapshot]]) -> None:
    async def handler(call: Call) -> JSONValue:
        return (await action(call.manager, call.lock_id())).to_json()

    verb(name)(handler)


_bolt("lock.lock", LockManager.lock)
_bolt("lock.unlock", LockManager.unlock)
_bolt("lock.open", LockManager.open)
_bolt("lock.refresh", LockManager.refresh)


@verb("lock.rename")
async def _lock_rename(call: Call) -> JSONValue:
    obj = call.fields(("lock_id", "name"))
    snapshot = await call.manager.rename(lock_id_of(obj), req_str(obj, "name"))
    return snapshot.to_json()


@verb("lock.remove")
async def _lock_remove(call: Call) -> JSONValue:
    obj = call.fields(("lock_id",), ("reset",))
    reset = False if obj.get("reset") is None else req_bool(obj, "reset")
    await call.manager.remove(lock_id_of(obj), reset=reset)
    return None


@verb("lock.set_pin")
async def _lock_set_pin(call: Call) -> JSONValue:
    obj = call.fields(("lock_id", "pin"))
    pin = obj.get("pin")
    if not isinstance(pin, str) or not _SECURITY_PIN.fullmatch(pin):
        raise ValidationError("'pin' must be the lock's security PIN: 4 to 8 digits.")
    await call.manager.set_security_pin(lock_id_of(obj), pin)
    return None


# --- credentials -----------------------------------------------------------------------------


@verb("credentials.list")
async def _credentials_list(call: Call) -> JSONValue:
    obj = call.fields(("lock_id",), ("kind",))
    raw = obj.get("kind")
    kind = None if raw is None else parse_enum(CredentialKind, raw, "kind")
    found = await call.manager.list_credentials(lock_id_of(obj), kind)
    return [credential.to_json() for credential in found]


@verb("credentials.add")
async def _credentials_add(call: Call) -> JSONValue:
    lock_id = lock_id_of(call.params)
    spec = CredentialSpec.from_json(call.params, ignore=("lock_id",))
    added = await call.manager.add_credential(lock_id, spec)
    return None if added is None else added.to_json()  # None: the enrolment was cancelled


@verb("credentials.update")
async def _credentials_update(call: Call) -> JSONValue:
    lock_id, credential_id = lock_id_of(call.params), _credential_id(call.params)
    fields = {key: value for key, value in call.params.items() if key != "credential_id"}
    credential = Credential.from_json({**fields, "id": credential_id}, ignore=("lock_id",))
    updated = await call.manager.update_credential(lock_id, credential)
    return updated.to_json()


@verb("credentials.delete")
async def _credentials_delete(call: Call) -> JSONValue:
    obj = call.fields(("lock_id", "kind", "credential_id"))
    kind = parse_enum(CredentialKind, obj["kind"], "kind")
    await call.manager.delete_credential(lock_id_of(obj), kind, _credential_id(obj))
    return None


@verb("credentials.cancel")
async def _credentials_cancel(call: Call) -> JSONValue:
    await call.manager.cancel_enrolment(call.lock_id())
    return None


# --- settings and activity -------------------------------------------------------------------


@verb("settings.get")
async def _settings_get(call: Call) -> JSONValue:
    return (await call.manager.get_settings(call.lock_id())).to_json()


@verb("settings.set")
async def _settings_set(call: Call) -> JSONValue:
    lock_id = lock_id_of(call.params)
    update = SettingsUpdate.from_json(call.params, ignore=("lock_id",))
    return (await call.manager.set_settings(lock_id, update)).to_json()


@verb("events.list")
async def _events_list(call: Call) -> JSONValue:
    obj = call.fields(("lock_id",), ("limit",))
    low, high, default = EVENTS_LIMIT
    limit = opt_int(obj, "limit", low, high) or default
    events = await call.manager.activity(lock_id_of(obj), limit)
    return [event.to_json() for event in events]


# --- backups ---------------------------------------------------------------------------------


def _backups(call: Call) -> Backups:
    if call.backups is None:
        raise NotSupportedError("Backups are not available in this installation.")
    return call.backups


@verb("backup.export")
async def _backup_export(call: Call) -> JSONValue:
    obj = call.fields(("passphrase",))
    return await _backups(call).export(req_str(obj, "passphrase"), call.now())


@verb("backup.import")
async def _backup_import(call: Call) -> JSONValue:
    obj = call.fields(("data", "passphrase"))
    document = await _backups(call).read(obj["data"], obj["passphrase"])
    restored = await call.manager.restore(document)
    return {"added": list(restored.added), "kept": list(restored.kept)}
