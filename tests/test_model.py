"""Brand-neutral model: JSON shapes, strict parsing, validity windows, the driver protocol."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import LockError, NotSupportedError
from ttlock_nuki_addon.model import (
    LINK_ERRORS,
    SETTING_CAPABILITIES,
    AdvertResult,
    Brand,
    Capability,
    Credential,
    CredentialKind,
    CredentialSpec,
    Discovery,
    DoorState,
    EnrolmentProgress,
    EventKind,
    EventSource,
    JSONValue,
    LockDriver,
    LockEvent,
    LockSettings,
    LockSnapshot,
    LockStatus,
    Once,
    PairAs,
    PairingHint,
    PairingParams,
    Period,
    Permanent,
    ProgressCallback,
    SettingsUpdate,
    ValidationError,
    Validity,
    ValidityType,
    Weekday,
    Weekly,
    capability_for,
    check_name,
    lock_id_from_address,
)

D = datetime
NOW = D(2025, 3, 5, 12, 0, tzinfo=UTC)  # a Wednesday


def wire(value: JSONValue) -> Any:
    """Send a value through real JSON text, as the websocket does."""
    return json.loads(json.dumps(value))


# --- Validity: JSON ------------------------------------------------------------------------

VALIDITIES: list[Validity] = [
    Permanent(),
    Period(D(2025, 1, 1, 8, 0), D(2025, 12, 31, 18, 30)),
    Period(D(2025, 1, 1, 8, 0, 15), D(2025, 1, 1, 8, 0, 16, 500)),
    Once(D(2025, 6, 1, 10, 0), D(2025, 6, 1, 16, 0)),
    Weekly(frozenset({Weekday.MON, Weekday.FRI}), time(8, 0), time(17, 0)),
    Weekly(frozenset(Weekday), time(22, 0), time(6, 0), D(2025, 1, 1), D(2026, 1, 1)),
    Weekly(frozenset({Weekday.SUN}), time(0, 0), time(0, 0), None, D(2026, 1, 1)),
]


@pytest.mark.parametrize("validity", VALIDITIES, ids=repr)
def test_validity_round_trips_through_json(validity: Validity) -> None:
    data = wire(validity.to_json())
    assert data["type"] == validity.kind.value
    assert Validity.from_json(data) == validity


def test_validity_json_shapes_match_the_panel_contract() -> None:
    assert Permanent().to_json() == {"type": "permanent"}
    assert Period(D(2025, 1, 1, 8, 0), D(2025, 2, 1, 9, 5)).to_json() == {
        "type": "period",
        "from": "2025-01-01T08:00",
        "until": "2025-02-01T09:05",
    }
    assert Once(D(2025, 1, 1), D(2025, 1, 2)).to_json()["type"] == "once"
    weekly = Weekly(frozenset({Weekday.SUN, Weekday.MON}), time(7, 5), time(19, 0))
    assert weekly.to_json() == {
        "type": "weekly",
        "days": ["mon", "sun"],
        "from_time": "07:05",
        "until_time": "19:00",
        "from": None,
        "until": None,
    }


def test_validity_accepts_seconds_and_omitted_weekly_range() -> None:
    period = Validity.from_json(
        {"type": "period", "from": "2025-01-01T08:00:00", "until": "2025-01-02"}
    )
    assert period == Period(D(2025, 1, 1, 8), D(2025, 1, 2))
    weekly = Validity.from_json(
        {"type": "weekly", "days": ["tue"], "from_time": "09:00", "until_time": "10:00"}
    )
    assert weekly == Weekly(frozenset({Weekday.TUE}), time(9), time(10))


def test_once_and_period_are_distinct() -> None:
    start, end = D(2025, 1, 1), D(2025, 1, 2)
    once: Validity = Once(start, end)
    period: Validity = Period(start, end)
    assert once != period
    assert not isinstance(Once(start, end), Period)


WEEK = {"type": "weekly", "days": ["mon"], "from_time": "08:00", "until_time": "09:00"}
BAD_VALIDITY: list[object] = [
    None,
    "permanent",
    ["permanent"],
    42,
    {},
    {"type": "forever"},
    {"type": 1},
    {"type": None},
    {"type": "permanent", "from": "2025-01-01T00:00"},
    {"type": "period", "from": "2025-01-01T00:00"},
    {"type": "period", "until": "2025-01-01T00:00"},
    {"type": "period", "from": "2025-01-02T00:00", "until": "2025-01-01T00:00"},
    {"type": "period", "from": "2025-01-01T00:00", "until": "2025-01-01T00:00"},
    {"type": "once", "from": "2025-01-02T00:00", "until": "2025-01-01T00:00"},
    {"type": "period", "from": "yesterday", "until": "2025-01-01T00:00"},
    {"type": "period", "from": 1735689600, "until": "2025-01-01T00:00"},
    {"type": "period", "from": "2025-01-01T00:00Z", "until": "2025-01-02T00:00Z"},
    {"type": "period", "from": "2025-01-01T00:00+01:00", "until": "2025-01-02T00:00"},
    {"type": "period", "from": "2025-02-30T00:00", "until": "2025-03-02T00:00"},
    {**WEEK, "days": []},
    {**WEEK, "days": "mon"},
    {**WEEK, "days": ["monday"]},
    {**WEEK, "days": ["Mon"]},
    {**WEEK, "days": [0]},
    {**WEEK, "days": ["mon", "mon"]},
    {**WEEK, "from_time": "24:00"},
    {**WEEK, "from_time": "8:00"},
    {**WEEK, "from_time": "08:60"},
    {**WEEK, "from_time": "08:00:00"},
    {**WEEK, "until_time": 900},
    {**WEEK, "from": "2025-02-01T00:00", "until": "2025-01-01T00:00"},
    {**WEEK, "from": "2025-01-01T00:00+00:00"},
    {**WEEK, "extra": True},
    {"type": "weekly", "days": ["mon"], "from_time": "08:00"},
]


@pytest.mark.parametrize("data", BAD_VALIDITY, ids=repr)
def test_bad_validity_json_gives_a_clear_error(data: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Validity.from_json(data)
    assert isinstance(caught.value, ValueError)
    assert 10 < len(str(caught.value)) < 200


def test_validity_constructors_check_their_input() -> None:
    with pytest.raises(ValidationError):
        Period(D(2025, 1, 2), D(2025, 1, 1))
    with pytest.raises(ValidationError):
        Once(NOW, NOW + timedelta(hours=1))
    with pytest.raises(ValidationError):
        Weekly(frozenset(), time(8), time(9))
    with pytest.raises(ValidationError):
        Weekly(frozenset({Weekday.MON}), time(8, 0, 30), time(9))
    with pytest.raises(ValidationError):
        Weekly(frozenset({7}), time(8), time(9))  # type: ignore[arg-type]
    assert Weekly(frozenset({0, 6}), time(8), time(9)).days == {  # type: ignore[arg-type]
        Weekday.MON,
        Weekday.SUN,
    }


JSONish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
TEXTS = st.sampled_from(
    ["mon", "sun", "xyz", "08:00", "23:59", "24:00", "2025-01-01T00:00", "2025-01-01", "", "Z"]
)
FIELD_VALUES = JSONish | TEXTS | st.lists(TEXTS, max_size=8)
NEAR_VALIDITY = st.fixed_dictionaries(
    {"type": st.sampled_from([t.value for t in ValidityType])},
    optional={
        key: FIELD_VALUES for key in ("from", "until", "days", "from_time", "until_time", "x")
    },
)


@given(JSONish | NEAR_VALIDITY)
def test_validity_from_json_raises_only_validation_error(data: object) -> None:
    try:
        validity = Validity.from_json(data)
    except ValidationError:
        return
    assert Validity.from_json(wire(validity.to_json())) == validity


MOMENTS = st.datetimes(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))
HHMM = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@given(
    st.frozensets(st.sampled_from(Weekday), min_size=1),
    HHMM,
    HHMM,
    st.none() | MOMENTS,
    MOMENTS,
)
def test_weekly_round_trip_and_allows_match_an_independent_definition(
    days: frozenset[Weekday], start: time, end: time, valid_from: datetime | None, probe: datetime
) -> None:
    weekly = Weekly(days, start, end, valid_from, None)
    assert Validity.from_json(wire(weekly.to_json())) == weekly
    # Independent definition: the window starts on a listed day at `start` and lasts until
    # the next `end` (24 h when start == end).
    length = (D.combine(probe.date(), end) - D.combine(probe.date(), start)) % timedelta(days=1)
    length = length or timedelta(days=1)
    expected = False
    for back in (0, 1):
        day = probe.date() - timedelta(days=back)
        opened = D.combine(day, start)
        if Weekday(day.weekday()) in days and opened <= probe < opened + length:
            expected = True
    if valid_from is not None and probe < valid_from:
        expected = False
    assert weekly.allows(probe) is expected


# --- Validity: allows ----------------------------------------------------------------------


def test_period_and_once_edges_are_inclusive_start_exclusive_end() -> None:
    start, end = D(2025, 1, 1, 8, 0), D(2025, 1, 1, 18, 0)
    for validity in (Period(start, end), Once(start, end)):
        assert not validity.allows(start - timedelta(microseconds=1))
        assert validity.allows(start)
        assert validity.allows(end - timedelta(microseconds=1))
        assert not validity.allows(end)


def test_permanent_allows_anything() -> None:
    assert Permanent().allows(D(1970, 1, 1))
    assert Permanent().allows(D(2099, 12, 31, 23, 59))


def test_weekly_daytime_window() -> None:
    weekly = Weekly(frozenset({Weekday.WED}), time(8, 0), time(17, 0))
    assert D(2025, 3, 5).weekday() == Weekday.WED
    assert not weekly.allows(D(2025, 3, 5, 7, 59, 59))
    assert weekly.allows(D(2025, 3, 5, 8, 0))
    assert weekly.allows(D(2025, 3, 5, 16, 59, 59))
    assert not weekly.allows(D(2025, 3, 5, 17, 0))
    assert not weekly.allows(D(2025, 3, 6, 9, 0))  # Thursday
    assert weekly.allows(D(2025, 3, 12, 9, 0))  # next Wednesday


def test_weekly_window_crossing_midnight_belongs_to_its_start_day() -> None:
    weekly = Weekly(frozenset({Weekday.FRI}), time(22, 0), time(2, 0))
    assert not weekly.allows(D(2025, 3, 7, 21, 59))  # Friday
    assert weekly.allows(D(2025, 3, 7, 22, 0))
    assert weekly.allows(D(2025, 3, 7, 23, 59, 59))
    assert weekly.allows(D(2025, 3, 8, 0, 0))  # Saturday, not listed, still Friday's window
    assert weekly.allows(D(2025, 3, 8, 1, 59))
    assert not weekly.allows(D(2025, 3, 8, 2, 0))
    assert not weekly.allows(D(2025, 3, 8, 22, 30))  # Saturday evening
    assert not weekly.allows(D(2025, 3, 7, 1, 0))  # Friday early: Thursday's window, unlisted


def test_weekly_sunday_to_monday_wraps_the_week() -> None:
    weekly = Weekly(frozenset({Weekday.SUN}), time(23, 0), time(1, 0))
    assert weekly.allows(D(2025, 3, 10, 0, 30))  # Monday 00:30
    assert not weekly.allows(D(2025, 3, 9, 0, 30))  # Sunday 00:30: Saturday's window


def test_weekly_equal_times_mean_24_hours() -> None:
    weekly = Weekly(frozenset({Weekday.SAT}), time(0, 0), time(0, 0))
    assert not weekly.allows(D(2025, 3, 7, 23, 59, 59))
    assert weekly.allows(D(2025, 3, 8, 0, 0))
    assert weekly.allows(D(2025, 3, 8, 23, 59, 59))
    assert not weekly.allows(D(2025, 3, 9, 0, 0))
    noon = Weekly(frozenset({Weekday.SAT}), time(12, 0), time(12, 0))
    assert not noon.allows(D(2025, 3, 8, 11, 59))
    assert noon.allows(D(2025, 3, 9, 11, 59))
    assert not noon.allows(D(2025, 3, 9, 12, 0))


def test_weekly_allows_at_the_ends_of_the_calendar() -> None:
    weekly = Weekly(frozenset(Weekday), time(22, 0), time(6, 0))
    assert weekly.allows(D.min)  # no date arithmetic, so no overflow
    assert weekly.allows(D.max)


def test_weekly_overall_range_bounds_the_schedule() -> None:
    weekly = Weekly(
        frozenset(Weekday), time(0, 0), time(0, 0), D(2025, 3, 1, 12, 0), D(2025, 3, 31)
    )
    assert not weekly.allows(D(2025, 3, 1, 11, 59))
    assert weekly.allows(D(2025, 3, 1, 12, 0))
    assert weekly.allows(D(2025, 3, 30, 23, 59))
    assert not weekly.allows(D(2025, 3, 31, 0, 0))
    overnight = Weekly(frozenset({Weekday.SUN}), time(22, 0), time(6, 0), None, D(2025, 3, 10))
    assert overnight.allows(D(2025, 3, 9, 23, 0))
    assert not overnight.allows(D(2025, 3, 10, 1, 0))  # inside the window, past the range


def test_allows_refuses_aware_moments() -> None:
    for validity in VALIDITIES:
        with pytest.raises(ValidationError):
            validity.allows(NOW)


def test_weekday_numbering_matches_python_and_json_names() -> None:
    assert [day.abbr for day in Weekday] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert Weekday.of(D(2025, 3, 9)) is Weekday.SUN  # a Sunday
    assert Weekday.parse("thu") is Weekday.THU
    with pytest.raises(ValidationError):
        Weekday.parse("THU")


# --- Credentials -----------------------------------------------------------------------------


def test_credential_round_trip_and_shape() -> None:
    weekly = Weekly(frozenset({Weekday.MON}), time(8), time(9))
    pin = Credential(CredentialKind.PIN, "7", "Cleaner", "123456", weekly)
    data = wire(pin.to_json())
    assert data == {
        "id": "7",
        "kind": "pin",
        "name": "Cleaner",
        "code": "123456",
        "validity": weekly.to_json(),
    }
    assert Credential.from_json(data) == pin
    card = Credential(CredentialKind.CARD, "18446744073709551615", "Blue tag")
    assert card.to_json()["code"] is None
    assert Credential.from_json(wire(card.to_json())) == card
    assert pin.to_json(with_code=False)["code"] is None


def test_credential_code_never_shows_in_repr() -> None:
    assert "123456" not in repr(Credential(CredentialKind.PIN, "1", "A", "123456"))
    assert "654321" not in repr(CredentialSpec(CredentialKind.PIN, "A", "654321"))
    assert "4321" not in repr(PairingParams(pin="4321"))


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "pin", "name": "A"},
        {"kind": "pin", "name": "A", "code": "12a4"},
        {"kind": "pin", "name": "A", "code": "123"},
        {"kind": "pin", "name": "A", "code": "1234567890"},
        {"kind": "pin", "name": "A", "code": 1234},
        {"kind": "card", "name": "A", "code": "1234"},
        {"kind": "face", "name": "A"},
        {"kind": "card", "name": "   "},
        {"kind": "card", "name": "x" * 65},
        {"kind": "card", "name": "tab\there"},
        {"kind": "card", "name": "A", "validity": {"type": "never"}},
        {"kind": "card", "name": "A", "lock_id": "x"},
        [],
    ],
    ids=repr,
)
def test_bad_credential_spec_is_refused(data: object) -> None:
    with pytest.raises(ValidationError):
        CredentialSpec.from_json(data)


def test_credential_spec_parses_add_requests() -> None:
    request = {
        "id": 3,
        "type": "credentials.add",
        "lock_id": "aabbccddeeff",
        "kind": "pin",
        "name": "  Guest ",
        "code": "0815",
        "validity": {"type": "once", "from": "2025-05-01T10:00", "until": "2025-05-01T16:00"},
    }
    spec = CredentialSpec.from_json(request, ignore=("id", "type", "lock_id"))
    assert spec == CredentialSpec(
        CredentialKind.PIN, "Guest", "0815", Once(D(2025, 5, 1, 10), D(2025, 5, 1, 16))
    )
    card = CredentialSpec.from_json({"kind": "card", "name": "Tag"})
    assert card.validity == Permanent()
    assert card.code is None


def test_enrolment_progress() -> None:
    assert EnrolmentProgress(2, 4, "Place your finger").to_json() == {
        "step": 2,
        "total": 4,
        "message": "Place your finger",
    }
    for step, total in ((5, 4), (-1, 4), (0, 0)):
        with pytest.raises(ValidationError):
            EnrolmentProgress(step, total, "x")


# --- Events, snapshots, discoveries -----------------------------------------------------------


def test_lock_event_round_trip_and_shape() -> None:
    event = LockEvent(
        "aabbccddeeff",
        EventKind.UNLOCKED,
        EventSource.KEYPAD,
        D(2025, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        credential_id="7",
        credential_name="Cleaner",
    )
    data = wire(event.to_json())
    assert data == {
        "kind": "unlocked",
        "source": "keypad",
        "credential_id": "7",
        "credential_name": "Cleaner",
        "user": None,
        "time": "2025-03-05T09:30:00+01:00",
    }
    assert LockEvent.from_json("aabbccddeeff", data) == event
    with pytest.raises(ValidationError):
        LockEvent("x", EventKind.LOCKED, EventSource.AUTO, D(2025, 3, 5))
    with pytest.raises(ValidationError):
        LockEvent.from_json("x", {**data, "time": "2025-03-05T09:30"})
    with pytest.raises(ValidationError):
        LockEvent.from_json("x", {**data, "source": "magic"})


SNAPSHOT = LockSnapshot(
    id="aabbccddeeff",
    brand=Brand.NUKI,
    name="Front door",
    model="Smart Lock 2.0",
    address="AA:BB:CC:DD:EE:FF",
    status=LockStatus.UNLOCKED,
    battery=80,
    rssi=-67,
    door=DoorState.CLOSED,
    available=True,
    last_seen=NOW,
    capabilities=frozenset({Capability.UNLOCK, Capability.LOCK, Capability.OPEN}),
)


def test_snapshot_has_exactly_the_websocket_shape() -> None:
    data = wire(SNAPSHOT.to_json())
    assert data == {
        "id": "aabbccddeeff",
        "brand": "nuki",
        "name": "Front door",
        "model": "Smart Lock 2.0",
        "address": "AA:BB:CC:DD:EE:FF",
        "status": "unlocked",
        "battery": 80,
        "rssi": -67,
        "door": "closed",
        "available": True,
        "last_seen": "2025-03-05T12:00:00+00:00",
        "capabilities": ["lock", "open", "unlock"],
    }
    assert LockSnapshot.from_json(data) == SNAPSHOT


def test_sparse_snapshot_round_trips() -> None:
    bare = LockSnapshot("112233445566", Brand.TTLOCK, "Gate", "", "11:22:33:44:55:66")
    data = wire(bare.to_json())
    assert data["door"] is None
    assert data["last_seen"] is None
    assert data["status"] == "unknown"
    assert LockSnapshot.from_json(data) == bare


def test_snapshot_checks_values() -> None:
    with pytest.raises(ValidationError):
        LockSnapshot("a", Brand.NUKI, "n", "m", "addr", battery=101)
    with pytest.raises(ValidationError):
        LockSnapshot("a", Brand.NUKI, "n", "m", "addr", last_seen=D(2025, 1, 1))
    data = wire(SNAPSHOT.to_json())
    for key, bad in (("status", "open-ish"), ("capabilities", ["teleport"]), ("battery", True)):
        with pytest.raises(ValidationError):
            LockSnapshot.from_json({**data, key: bad})


def test_discovery_round_trip_and_shape() -> None:
    found = Discovery(
        "AA:BB:CC:DD:EE:01", Brand.TTLOCK, "M201_ee01", "", -80, False, PairingHint.TOUCH_KEYPAD
    )
    data = wire(found.to_json())
    assert data == {
        "address": "AA:BB:CC:DD:EE:01",
        "brand": "ttlock",
        "name": "M201_ee01",
        "model": "",
        "rssi": -80,
        "pairable": False,
        "hint": "touch_keypad",
    }
    assert Discovery.from_json(data) == found
    with pytest.raises(ValidationError):
        Discovery.from_json({**data, "hint": "pray"})


def test_lock_ids_and_names() -> None:
    assert lock_id_from_address("AA:bb:0C:DD:EE:FF") == "aabb0cddeeff"
    for bad in ("AA:BB:CC:DD:EE", "AABBCCDDEEFF", "GG:BB:CC:DD:EE:FF", ""):
        with pytest.raises(ValidationError):
            lock_id_from_address(bad)
    assert check_name("  Front door ") == "Front door"
    assert capability_for(CredentialKind.FINGERPRINT) is Capability.FINGERPRINT


# --- Settings and pairing --------------------------------------------------------------------


def test_settings_json_and_apply() -> None:
    settings = LockSettings(auto_lock_seconds=0, sound=True, auto_lock_min=5, auto_lock_max=900)
    data = wire(settings.to_json())
    assert data["passage_mode"] is None
    assert data["auto_lock_seconds"] == 0
    assert LockSettings.from_json(data) == settings
    update = SettingsUpdate.from_json(
        {"lock_id": "x", "auto_lock_seconds": 30, "sound": None}, ignore=("lock_id",)
    )
    assert update == SettingsUpdate(auto_lock_seconds=30)
    assert update.to_json() == {"auto_lock_seconds": 30}
    assert settings.apply(update) == LockSettings(30, True, auto_lock_min=5, auto_lock_max=900)
    assert settings.apply(SettingsUpdate()) == settings
    with pytest.raises(NotSupportedError):
        settings.apply(SettingsUpdate(passage_mode=True))
    with pytest.raises(ValidationError):
        settings.apply(SettingsUpdate(auto_lock_seconds=2))
    assert set(SETTING_CAPABILITIES) < set(LockSettings.__dataclass_fields__)
    assert set(SETTING_CAPABILITIES) == set(SettingsUpdate.__dataclass_fields__)


@pytest.mark.parametrize(
    "data",
    [
        {"auto_lock": 10},
        {"auto_lock_seconds": -1},
        {"auto_lock_seconds": 70000},
        {"auto_lock_seconds": "10"},
        {"auto_lock_seconds": 1.5},
        {"sound": 1},
        {"auto_lock_min": 3},
        "sound=on",
    ],
    ids=repr,
)
def test_bad_settings_update_is_refused(data: object) -> None:
    with pytest.raises(ValidationError):
        SettingsUpdate.from_json(data)


def test_pairing_params() -> None:
    request = {"address": "AA:BB:CC:DD:EE:FF", "brand": "nuki", "pin": "123456", "pair_as": "app"}
    params = PairingParams.from_json(request, ignore=("address", "brand"))
    assert params == PairingParams(None, "123456", PairAs.APP)
    assert PairingParams.from_json({"name": " "}) == PairingParams()
    assert PairingParams.from_json({"name": "Back"}).pair_as is PairAs.BRIDGE
    for bad in ({"pin": "12"}, {"pin": 1234}, {"pair_as": "hub"}, {"name": 5}):
        with pytest.raises(ValidationError):
            PairingParams.from_json(bad)


# --- The driver protocol ---------------------------------------------------------------------


class FakeDriver:
    """The smallest thing that satisfies LockDriver."""

    def __init__(self) -> None:
        self._snapshot = SNAPSHOT
        self._credentials: dict[str, Credential] = {}

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self._snapshot.capabilities

    @property
    def snapshot(self) -> LockSnapshot:
        return self._snapshot

    def rename(self, name: str) -> None:
        self._snapshot = replace(self._snapshot, name=name)

    async def _set(self, status: LockStatus) -> LockSnapshot:
        self._snapshot = replace(self._snapshot, status=status)
        return self._snapshot

    async def lock(self) -> LockSnapshot:
        return await self._set(LockStatus.LOCKED)

    async def unlock(self) -> LockSnapshot:
        return await self._set(LockStatus.UNLOCKED)

    async def open(self) -> LockSnapshot:
        return await self._set(LockStatus.OPEN)

    async def lock_n_go(self) -> LockSnapshot:
        raise NotSupportedError

    async def refresh(self) -> LockSnapshot:
        return self._snapshot

    async def list_credentials(self, kind: CredentialKind | None = None) -> list[Credential]:
        return [c for c in self._credentials.values() if kind in (None, c.kind)]

    async def add_credential(
        self, spec: CredentialSpec, progress: ProgressCallback | None = None
    ) -> Credential | None:
        if progress is not None:
            progress(EnrolmentProgress(1, 1, "done"))
        credential = Credential(spec.kind, str(len(self._credentials) + 1), spec.name, spec.code)
        self._credentials[credential.id] = credential
        return credential

    async def update_credential(self, credential: Credential) -> Credential:
        self._credentials[credential.id] = credential
        return credential

    async def delete_credential(self, kind: CredentialKind, credential_id: str) -> None:
        self._credentials.pop(credential_id, None)

    async def cancel_enrolment(self) -> None:
        return None

    async def get_settings(self) -> LockSettings:
        return LockSettings(auto_lock_seconds=0)

    async def set_settings(self, update: SettingsUpdate) -> LockSettings:
        return (await self.get_settings()).apply(update)

    async def read_events(self, new_only: bool = True) -> list[LockEvent]:
        return [LockEvent(self._snapshot.id, EventKind.LOCKED, EventSource.AUTO, NOW)]

    async def reset(self) -> None:
        raise NotSupportedError

    async def unpair(self) -> None:
        return None

    def on_advert(self, advert: object) -> AdvertResult:
        return AdvertResult(fetch=advert == b"new")

    async def close(self) -> None:
        return None


async def drive(driver: LockDriver) -> list[str]:
    """Use a driver only through the protocol, as the manager will."""
    seen: list[EnrolmentProgress] = []
    await driver.unlock()
    added = await driver.add_credential(CredentialSpec(CredentialKind.CARD, "Tag"), seen.append)
    assert added is not None
    assert await driver.list_credentials(CredentialKind.CARD) == [added]
    settings = await driver.set_settings(SettingsUpdate(auto_lock_seconds=10))
    events = await driver.read_events()
    assert driver.on_advert(b"new").fetch
    assert not driver.on_advert(object()).fetch
    driver.rename("Back door")
    assert driver.snapshot.name == "Back door"
    await driver.close()
    assert [p.step for p in seen] == [1]
    return [driver.snapshot.status.value, str(settings.auto_lock_seconds), events[0].kind]


async def test_a_fake_driver_satisfies_the_protocol() -> None:
    driver = FakeDriver()
    assert isinstance(driver, LockDriver)
    result = await drive(driver)
    assert result == ["unlocked", "10", "locked"]
    with pytest.raises(LockError):
        await driver.lock_n_go()


def test_link_errors_are_lock_errors() -> None:
    assert all(issubclass(error, LockError) for error in LINK_ERRORS)
