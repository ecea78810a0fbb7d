"""Fuzzing the websocket API's request parsing without a network: every `from_json` parser of
the panel's JSON, the field helpers, and every verb's parameter parsing up to the manager call
(a stub manager stops the verb there). Only ValidationError or LockError may come out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.credentials import Credential, CredentialSpec
from ttlock_nuki_addon.errors import LockError
from ttlock_nuki_addon.manager import LockManager
from ttlock_nuki_addon.model import LockEvent
from ttlock_nuki_addon.params import LockSettings, PairingParams, SettingsUpdate
from ttlock_nuki_addon.snapshot import Discovery, LockSnapshot, lock_id_from_address
from ttlock_nuki_addon.store import Store
from ttlock_nuki_addon.validity import (
    ValidationError,
    Validity,
    Weekday,
    check_name,
    expect_object,
    parse_aware,
    parse_hhmm,
    parse_local,
)
from ttlock_nuki_addon.web import api
from ttlock_nuki_addon.web.backup import Backups, KdfLimits
from ttlock_nuki_addon.web.verbs import VERBS, Call

from .json_inputs import (
    FIELDS,
    PASSPHRASE,
    SETTINGS_FIELDS,
    aware_times,
    backup_texts,
    discoveries,
    events,
    fields,
    hhmm,
    local_times,
    snapshots,
    validity_objects,
)
from .support import TYPED, Case, json_objects, json_values, mostly, params, run_case, texts

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_CRED = ("kind", "name", "code", "validity")
credentials = json_objects({**fields("credential_id", *_CRED, "lock_id"), "id": texts})

FROM_JSON = [
    Case("validity.Validity.from_json", Validity.from_json, validity_objects, TYPED, Validity),
    Case("credentials.Credential.from_json",
         lambda v: Credential.from_json(v, ignore=("lock_id",)), credentials, TYPED, Credential),
    Case("credentials.CredentialSpec.from_json",
         lambda v: CredentialSpec.from_json(v, ignore=("lock_id",)), credentials, TYPED,
         CredentialSpec),
    Case("params.SettingsUpdate.from_json", SettingsUpdate.from_json,
         json_objects(SETTINGS_FIELDS), TYPED, SettingsUpdate),
    Case("params.LockSettings.from_json", LockSettings.from_json,
         json_objects({**SETTINGS_FIELDS, "auto_lock_min": FIELDS["seconds"],
                       "auto_lock_max": FIELDS["seconds"]}), TYPED, LockSettings),
    Case("params.PairingParams.from_json", PairingParams.from_json,
         json_objects(fields("name", "pin", "pair_as")), TYPED, PairingParams),
    Case("snapshot.LockSnapshot.from_json", LockSnapshot.from_json, snapshots, TYPED,
         LockSnapshot),
    Case("snapshot.Discovery.from_json", Discovery.from_json, discoveries, TYPED, Discovery),
    Case("model.LockEvent.from_json", lambda v: LockEvent.from_json("aabbcc001122", v), events,
         TYPED, LockEvent),
    Case("snapshot.lock_id_from_address", lock_id_from_address, FIELDS["address"], TYPED, str),
    Case("validity.parse_local", lambda v: parse_local(v, "from"), local_times | json_values),
    Case("validity.parse_aware", lambda v: parse_aware(v, "time"), aware_times | json_values),
    Case("validity.parse_hhmm", lambda v: parse_hhmm(v, "from_time"), hhmm | json_values),
    Case("validity.check_name", check_name, texts | json_values, TYPED, str),
    Case("validity.Weekday.parse", Weekday.parse, json_values, TYPED, Weekday),
    Case("validity.expect_object", lambda v: expect_object(v, "x", required=("a",),
                                                           optional=("b",)),
         json_objects({"a": json_values, "b": json_values})),
]  # fmt: skip

# --- every verb, up to the manager ----------------------------------------------------------


class Reached(Exception):
    """The verb parsed its parameters and went on to the manager (or the store)."""


class _Stub:
    """Any attribute of the manager or the store: the parameters were taken."""

    def __getattr__(self, name: str) -> NoReturn:
        raise Reached(name)


VERB_FIELDS: dict[str, tuple[str, ...]] = {
    "locks.list": (),
    "discovery.list": (),
    "scan.start": ("seconds",),
    "scan.stop": (),
    "lock.pair": ("address", "brand", "name", "pin", "pair_as"),
    "lock.lock": ("lock_id",),
    "lock.unlock": ("lock_id",),
    "lock.open": ("lock_id",),
    "lock.refresh": ("lock_id",),
    "lock.rename": ("lock_id", "name"),
    "lock.remove": ("lock_id", "reset"),
    "lock.set_pin": ("lock_id", "pin"),
    "credentials.list": ("lock_id", "kind"),
    "credentials.add": ("lock_id", *_CRED),
    "credentials.update": ("lock_id", "credential_id", *_CRED),
    "credentials.delete": ("lock_id", "kind", "credential_id"),
    "credentials.cancel": ("lock_id",),
    "settings.get": ("lock_id",),
    "settings.set": ("lock_id", *SETTINGS_FIELDS),
    "events.list": ("lock_id", "limit"),
    "backup.export": ("passphrase",),
    "backup.import": ("data", "passphrase"),
}
_BACKUP_FIELDS = {"passphrase": mostly(st.just(PASSPHRASE), st.just("short") | texts)}
_BACKUP_FIELDS["data"] = backup_texts()


def _verb(verb: str) -> Callable[[Any], object]:
    """The verb run on `params` with the stub manager and store, to its end."""
    handler = VERBS[verb]

    def run(params: Any) -> object:
        """The verb on `params`, driven to its end in a loop of its own."""
        stub = _Stub()
        backups = Backups(cast(Store, stub), KdfLimits(1, 8192))
        call = Call(verb, params, cast(LockManager, stub), backups, lambda: NOW)
        api._enrolment_lock(call)  # runs on the raw parameters before the verb
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(handler(call))
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    return run


def _params(verb: str) -> st.SearchStrategy[Any]:
    typical = {**FIELDS, **_BACKUP_FIELDS}
    return json_objects({name: typical[name] for name in VERB_FIELDS[verb]}).filter(
        lambda v: isinstance(v, dict)  # the API answers non-objects before any verb runs
    )


VERB_CASES = [
    Case(f"verbs.{verb}", _verb(verb), _params(verb), (LockError, ValidationError, Reached))
    for verb in VERB_FIELDS
]
API_CASES = [
    Case("api._request_id", api._request_id, json_values, (), (int, type(None))),
]


@pytest.mark.parametrize("case", params(FROM_JSON + VERB_CASES + API_CASES))
def test_panel_request_parsing_raises_only_typed_errors(case: Case) -> None:
    """The panel's JSON: a typed value, ValidationError or LockError; nothing else."""
    run_case(case)


def test_every_verb_is_fuzzed() -> None:
    """The inventory covers every verb the API registers (a new verb needs its fields here)."""
    assert set(VERB_FIELDS) == set(VERBS)
