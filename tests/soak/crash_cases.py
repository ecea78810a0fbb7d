"""The operations the crash test kills the add-on in: pairings and credential changes.

Each case prepares its operation (a fresh lock to pair, a credential to delete ...), reads how
far the lock and the store got at the kill, judges the state after the restart (asserting the
invariants of test_crash_keys) and tidies up. Keys are compared as the lock holds them: TTLock
PINs by code (their ids live in the store only), everything else by id.
"""

from __future__ import annotations

import asyncio
import functools

from ttlock_nuki_addon.sim.nuki import VirtualNuki, create_nuki
from ttlock_nuki_addon.sim.peripheral import Peripheral
from ttlock_nuki_addon.sim.ttlock import VirtualTTLock

from .crash_rig import (
    Case,
    Json,
    Prepared,
    Run,
    lock_id_of,
    nuki_orphans,
    nuki_phase,
    ttlock_keys_held,
    ttlock_phase,
    until,
)

TT_ADDRESS, NUKI_ADDRESS = "38:38:E5:1D:71:FE", "54:D2:72:33:C3:35"
NUKI_PIN = 4711
TOLD = "told the user to pair again; that replaced the stray key"
LOCK_UNDID = "the lock rolled back (link lost)"
TOLD_UNSURE = "told the user to pair again (the lock had not stored it yet)"


def stored_as(record: Json) -> str:
    """A store record's state in words."""
    if record is None:
        return "no record"
    if record.get("pending_authorization") is True:
        return "pairing note (no keys)"
    return "complete record" if record.get("complete") is True else "incomplete record"


class Pairing:
    """Pairing a fresh lock of one kind (ttlock, nuki-2, nuki-5) through `lock.pair`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def prepare(self, run: Run) -> Prepared:
        """A new lock in range, in setting/pairing mode, listed as pairable."""
        address = run.new_address()
        params: dict[str, Json] = {"address": address, "name": f"Door {address[-5:]}"}
        lock: VirtualTTLock | VirtualNuki
        if self.kind == "ttlock":
            lock = tt = run.add(VirtualTTLock(address))
            tt.touch()
            params["brand"] = "ttlock"
        else:
            lock = nuki = run.add(create_nuki(self.kind, address, {"motor_ms": 300}))
            nuki.press_button(6)
            pin = nuki.core.memory.security_pin
            params |= {"brand": "nuki", "pin": f"{pin:06d}" if self.kind == "nuki-5" else str(pin)}
        await run.pairable(address)
        return Prepared("lock.pair", params, lock, address)

    def landed(self, run: Run, op: Prepared) -> bool:
        """The store holds the lock's complete record."""
        record = run.record(op.key)
        return record is not None and record.get("complete") is True

    def moment(self, run: Run, op: Prepared) -> str:
        """The lock's pairing step and the store record, right after the kill."""
        lock = op.lock
        if isinstance(lock, VirtualTTLock):
            where = ttlock_phase(lock)
        else:
            assert isinstance(lock, VirtualNuki)
            where = nuki_phase(lock, op.crash["installation"].get("nuki_app_id"))
        return f"{where} / {stored_as(op.crash['locks'].get(lock_id_of(op.key)))}"

    async def verify(self, run: Run, op: Prepared) -> str:
        """Wait for the resume to settle; the keys check; what happened."""
        address, lock = op.key, op.lock
        before = op.crash["locks"].get(lock_id_of(address))
        record = await run.settled(address)
        if record is not None:
            await run.listed(address)
        if before is None:
            done, undone = "finished", "nothing to undo"
        else:
            done = "finished" if before.get("complete") is True else "finished by resume"
            undone = "rolled back by resume"
        if isinstance(lock, VirtualTTLock):
            if lock.memory.admin is not None:
                assert ttlock_keys_held(lock, record), f"{address}: keys not in the store"
                return done
            assert record is None
            if "admin" not in op.phase:  # the lock never had our keys
                return undone
            return f"{LOCK_UNDID}; {'resume removed the record' if before else 'nothing stored'}"
        assert isinstance(lock, VirtualNuki)
        app_id = run.app_id()
        stray = nuki_orphans(lock, app_id, record)
        if stray or (before is not None and before.get("pending_authorization") is True):
            told = run.told_to_pair_again(address)
            assert told, f"{address}: a key the store may lack, and no word on it:\n{run.tail()}"
            if not stray:
                return TOLD_UNSURE
            lock.press_button(6)
            await run.pairable(address)
            await run.client.ok("lock.pair", **op.params)
            assert not nuki_orphans(lock, app_id, run.record(address))
            return TOLD
        return undone if record is None else done

    async def cleanup(self, run: Run, op: Prepared) -> None:
        """Forget the lock (without reset) and take it out of the world."""
        lock_id = lock_id_of(op.key)
        if lock_id in await run.lock_ids():
            await run.client.ok("lock.remove", lock_id=lock_id, reset=False)
        await run.world.remove_device(op.key)


class Credentials:
    """Adding or deleting a credential on one of the kept locks."""

    def __init__(self, role: str, kind: str, *, delete: bool = False) -> None:
        self.role, self.kind, self.delete = role, kind, delete

    # What is compared: TTLock PINs by code (their ids live in the store only), the rest by id.

    def lock_keys(self, lock: Peripheral) -> set[str]:
        """The credentials of this kind the lock holds."""
        if isinstance(lock, VirtualNuki):
            return {str(code_id) for code_id in lock.core.memory.keypad_codes}
        assert isinstance(lock, VirtualTTLock)
        memory = lock.memory
        if self.kind == "pin":
            return set(memory.passcodes)
        numbers = memory.cards if self.kind == "card" else memory.fingerprints
        return {str(number) for number in numbers}

    def api_key(self, credential: Json) -> str:
        """A listed credential's key."""
        is_code = self.kind == "pin" and self.role == "tt"
        return str(credential["code"] if is_code else credential["id"])

    def store_keys(self, document: dict[str, Json], lock_id: str) -> set[str]:
        """The credentials of this kind in a store document."""
        record = document["locks"].get(lock_id) or {}
        if self.role == "nk":
            return set(record.get("keypad") or {})
        section = (record.get("credentials") or {}).get(self.kind) or {}
        return {entry["code"] for entry in section.values()} if self.kind == "pin" else set(section)

    def target(self, op: Prepared) -> str | None:
        """The key of the credential this operation is about, if the lock holds it."""
        lock = op.lock
        if isinstance(lock, VirtualNuki):
            found = [c for c in lock.core.memory.keypad_codes.values() if c.code == int(op.key)]
            return str(found[0].code_id) if found else None
        assert isinstance(lock, VirtualTTLock)
        if self.kind == "fingerprint":
            print_ = lock.memory.finger_of(op.key)
            return None if print_ is None else str(print_.fp_id)
        return op.key if op.key in self.lock_keys(lock) else None

    def stored_key(self, op: Prepared) -> str | None:
        """This operation's credential as the store keys it (known even once the lock lost it)."""
        if self.role == "nk" and self.delete:
            return str(op.params["credential_id"])
        return op.key if self.role == "tt" and self.kind != "fingerprint" else self.target(op)

    async def prepare(self, run: Run) -> Prepared:
        """A credential to add (or one added now, to delete)."""
        lock = run.kept[self.role]
        rng = run.rng
        params: dict[str, Json] = {
            "lock_id": lock_id_of(lock.address), "kind": self.kind,
            "name": f"{self.kind} {rng.randrange(1000)}", "validity": {"type": "permanent"},
        }  # fmt: skip
        helper = None
        if self.role == "nk":
            key = rng.choice("3456789") + "".join(rng.choice("123456789") for _ in range(5))
            params["code"] = key
        elif self.kind == "pin":
            params["code"] = key = str(rng.randrange(10**6, 10**7))
        elif self.kind == "card":
            key = str(rng.randrange(1, 1 << 32))
            helper = functools.partial(present, lock, card=int(key))
        else:
            key = f"finger {rng.randrange(1000)}"
            helper = functools.partial(present, lock, finger=key)
        if not self.delete:
            return Prepared("credentials.add", params, lock, key, helper)
        added = await run.client.ok("credentials.add", **params)
        delete = {"lock_id": params["lock_id"], "kind": self.kind, "credential_id": added["id"]}
        return Prepared("credentials.delete", delete, lock, key)

    def landed(self, run: Run, op: Prepared) -> bool:
        """Never early: a credential change is short, every moment of it counts."""
        return False

    def moment(self, run: Run, op: Prepared) -> str:
        """Whether the lock and the store had the credential, right after the kill."""
        on_lock = "lock has it" if self.target(op) is not None else "lock lacks it"
        if isinstance(op.lock, VirtualTTLock) and op.lock.enrolment is not None:
            on_lock = "lock in add mode"
        return f"{on_lock} / store {'has' if self.was_stored(op) else 'lacks'} it"

    def was_stored(self, op: Prepared) -> bool:
        """Whether the store file held the credential right after the kill."""
        key = self.stored_key(op)
        return key is not None and key in self.store_keys(op.crash, lock_id_of(op.lock.address))

    async def verify(self, run: Run, op: Prepared) -> str:
        """After `credentials.list`: lock, panel and store agree, no duplicates; what happened."""
        lock_id = lock_id_of(op.lock.address)
        listed = await run.client.ok("credentials.list", lock_id=lock_id, kind=self.kind)
        ids, keys = [c["id"] for c in listed], [self.api_key(c) for c in listed]
        assert len(set(ids)) == len(ids) and len(set(keys)) == len(keys), listed
        codes = [c["code"] for c in listed if c["code"] is not None]
        assert len(set(codes)) == len(codes), listed
        on_lock = self.lock_keys(op.lock)
        assert set(keys) == on_lock == self.store_keys(run.store(), lock_id), listed
        target, was_stored = self.target(op), self.was_stored(op)
        name = next((c["name"] for c in listed if self.api_key(c) == target), None)
        if target is None and was_stored:
            return "reconciled on list: the stale entry dropped"
        if target is None:
            return "finished" if self.delete else "not done: the lock never got it"
        if was_stored:
            assert self.delete or name == op.params["name"], listed
            return "not done: still listed" if self.delete else "finished"
        return f"reconciled on list: adopted as {name!r}"

    async def cleanup(self, run: Run, op: Prepared) -> None:
        """Delete the credential if the lock has it."""
        lock_id = lock_id_of(op.lock.address)
        target = self.target(op)
        for credential in await run.client.ok("credentials.list", lock_id=lock_id):
            if credential["kind"] == self.kind and self.api_key(credential) == target:
                await run.client.ok(
                    "credentials.delete",
                    lock_id=lock_id,
                    kind=self.kind,
                    credential_id=credential["id"],
                )


async def present(lock: Peripheral, *, card: int = 0, finger: str = "") -> None:
    """The person at the lock: a card, or a finger as often as asked, once it is in add mode."""
    assert isinstance(lock, VirtualTTLock)
    await until(lambda: lock.enrolment is not None, "add mode")
    touches = 1 if card else lock.fingerprint_touches
    for _ in range(touches):
        await asyncio.sleep(0.05)
        if card:
            lock.present_card(card)
        else:
            lock.place_finger(finger)


CASES: dict[str, Case] = {
    "ttlock pairing": Pairing("ttlock"),
    "nuki-2 pairing": Pairing("nuki-2"),
    "nuki-5 pairing": Pairing("nuki-5"),
    "ttlock pin add": Credentials("tt", "pin"),
    "ttlock pin delete": Credentials("tt", "pin", delete=True),
    "card enrolment": Credentials("tt", "card"),
    "fingerprint enrolment": Credentials("tt", "fingerprint"),
    "keypad code add": Credentials("nk", "pin"),
    "keypad code delete": Credentials("nk", "pin", delete=True),
}


async def keep_two_locks(run: Run) -> None:
    """Start the add-on; pair the TTLock and the Nuki the credential cases work on."""
    tt = run.add(VirtualTTLock(TT_ADDRESS))
    nk = run.add(create_nuki("nuki-2", NUKI_ADDRESS, {"security_pin": NUKI_PIN, "motor_ms": 300}))
    run.kept = {"tt": tt, "nk": nk}
    await run.restart()
    tt.touch()
    await run.pairable(TT_ADDRESS)
    await run.client.ok("lock.pair", address=TT_ADDRESS, brand="ttlock", name="Front")
    nk.press_button(6)
    await run.pairable(NUKI_ADDRESS)
    pair: dict[str, Json] = {
        "address": NUKI_ADDRESS,
        "brand": "nuki",
        "name": "Back",
        "pin": str(NUKI_PIN),
    }
    await run.client.ok("lock.pair", **pair)
