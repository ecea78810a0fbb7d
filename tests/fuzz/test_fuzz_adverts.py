"""Fuzzing the advert parsers of both brands: any advert gives a typed advert or None (never an
exception), and what the manager makes of it (the discovery a person sees) never fails either."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import strategies as st

from ttlock_nuki_addon.ble.scanner import ParsedAdvert, RawAdvert, Scanner
from ttlock_nuki_addon.manager_brands import PARSERS, brand_of_advert, discovery_of
from ttlock_nuki_addon.nuki import advert as nuki_advert
from ttlock_nuki_addon.nuki.gatt import LAYOUTS, nuki_uuid
from ttlock_nuki_addon.ttlock import advert as ttlock_advert

from .support import Case, params, radio, run_case

u8s = st.integers(0, 255)
_BEACON_UUIDS = [bytes.fromhex(nuki_uuid(s).replace("-", "")) for s in ("a92ee200", "a92ae200")]
_SERVICES = sorted(
    {uuid for layout in LAYOUTS.values() for uuid in (layout.pairing_service, layout.usdio)}
    | {layout.keyturner_service for layout in LAYOUTS.values()}
)


@st.composite
def _beacon(draw: st.DrawFn) -> bytes:
    """An iBeacon as Apple's manufacturer data (type, length, UUID, major, minor, power)."""
    head = draw(
        st.sampled_from([b"\x02\x15", b"\x02\x14", b"\x12\x19"]) | st.binary(min_size=2, max_size=2)
    )
    uuid = draw(st.sampled_from(_BEACON_UUIDS) | st.binary(min_size=16, max_size=16))
    return head + uuid + draw(st.binary(min_size=5, max_size=5)) + draw(st.binary(max_size=3))


_ttlock_data = st.tuples(u8s, u8s, u8s, st.binary(max_size=12), st.binary(min_size=6, max_size=6))
manufacturer = st.dictionaries(
    st.sampled_from([ttlock_advert.COMPANY_ID, nuki_advert.COMPANY_ID]) | st.integers(0, 0xFFFF),
    radio(_ttlock_data.map(lambda t: bytes(t[:3]) + t[3] + t[4]), _beacon(), max_size=40),
    max_size=3,
)
uuids = (st.sampled_from(_SERVICES) | st.text(max_size=40)).map(
    lambda u: u.upper() if len(u) % 3 == 0 else u
)
names = (
    st.none()
    | st.from_regex(r"Nuki_(Opener_)?[0-9A-Fa-f]{0,10}", fullmatch=True)
    | st.text(max_size=30)
)
adverts = st.builds(
    RawAdvert,
    address=st.sampled_from(["AA:BB:CC:DD:EE:FF", "54:d2:72:aa:00:01"]) | st.text(max_size=20),
    name=names,
    rssi=st.integers(-128, 20) | st.integers(),
    manufacturer_data=manufacturer,
    service_data=st.dictionaries(uuids, st.binary(max_size=8), max_size=3),
    service_uuids=st.lists(uuids, max_size=4).map(tuple),
)


def _seen(value: object) -> object:
    """A parsed advert as the manager shows it, both fresh and stale, as JSON."""
    if value is None:
        return None
    assert brand_of_advert(value) is not None
    for fresh in (True, False):
        json.dumps(discovery_of(value, fresh=fresh).to_json())  # type: ignore[arg-type]
    return value


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def _scanned(raw: RawAdvert) -> object:
    """The shared scanner with both brands' parsers: a parser or subscriber failure is a bug."""
    scanner, got = Scanner(), []
    for brand, (predicate, parse) in PARSERS.items():
        scanner.register_parser(brand.value, predicate, parse)

    def seen(parsed: ParsedAdvert[Any]) -> None:
        """A subscriber doing what the manager does with an advert."""
        got.append(_seen(parsed.value))

    scanner.subscribe(seen)
    errors, logger = _Errors(), logging.getLogger("ttlock_nuki_addon.ble.scanner")
    logger.addHandler(errors)
    try:
        scanner.feed(raw)
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
    return got


CASES = [
    Case("ttlock.advert.matches", ttlock_advert.matches, adverts, (), bool),
    Case("ttlock.advert.parse", lambda r: _seen(ttlock_advert.parse(r)), adverts, (),
         (ttlock_advert.TTLockAdvert, type(None))),
    Case("nuki.advert.matches", nuki_advert.matches, adverts, (), bool),
    Case("nuki.advert.parse", lambda r: _seen(nuki_advert.parse(r)), adverts, (),
         (nuki_advert.NukiAdvert, type(None))),
    Case("ble.scanner.Scanner.feed", _scanned, adverts, (), list),
]  # fmt: skip


@pytest.mark.parametrize("case", params(CASES))
def test_advert_parser_never_raises(case: Case) -> None:
    """Adverts: a typed advert or None, whatever the air carries."""
    run_case(case)
