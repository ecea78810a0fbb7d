"""The brand-specific glue under LockManager: parsers, discovery facts, resume and pairing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from .ble.scanner import RawAdvert
from .ble.transport import TransportFactory
from .model import AdvertResult, LockDriver
from .nuki import advert as nuki_advert
from .nuki.advert import NukiAdvert
from .nuki.driver import NukiDriver
from .params import PairingParams
from .snapshot import Brand, Discovery, LockSnapshot, PairingHint
from .store import JsonObject, Store
from .ttlock import advert as ttlock_advert
from .ttlock.advert import TTLockAdvert
from .ttlock.driver import TTLockDriver

BrandAdvert: TypeAlias = TTLockAdvert | NukiAdvert
DriverOptions: TypeAlias = Mapping[str, Any]

# Scanner parser name -> (predicate, parser); the names are the brands' values.
PARSERS: dict[Brand, tuple[Callable[[RawAdvert], bool], Callable[[RawAdvert], object]]] = {
    Brand.TTLOCK: (ttlock_advert.matches, ttlock_advert.parse),
    Brand.NUKI: (nuki_advert.matches, nuki_advert.parse),
}


@runtime_checkable
class PinDriver(Protocol):
    """A driver whose lock needs a security PIN for some commands (Nuki)."""

    @property
    def pin_known(self) -> bool:
        """Whether a PIN the lock accepted is stored."""
        ...

    async def set_security_pin(self, pin: str) -> None:
        """Check a PIN once on the lock and store it if accepted."""
        ...


@dataclass(frozen=True, slots=True)
class Hooks:
    """The manager's listeners a driver calls while it works."""

    on_push: Callable[[AdvertResult], None]
    on_state: Callable[[LockSnapshot], None]


def brand_of_record(record: JsonObject) -> Brand | None:
    """The brand a stored lock record belongs to; None if unknown."""
    value = record.get("brand")
    return Brand(value) if value in {b.value for b in Brand} else None


def brand_of_advert(value: object) -> Brand | None:
    """The brand of a parsed advert value; None for anything else."""
    if isinstance(value, TTLockAdvert):
        return Brand.TTLOCK
    if isinstance(value, NukiAdvert):
        return Brand.NUKI
    return None


def ready_to_pair(value: BrandAdvert) -> bool:
    """Whether the advert says the lock is in setting (TTLock) or pairing (Nuki) mode."""
    return value.setting_mode if isinstance(value, TTLockAdvert) else value.pairing_mode


def discovery_of(value: BrandAdvert, *, fresh: bool) -> Discovery:
    """What a person sees of an unpaired lock; `fresh`: a ready advert came just now."""
    ready = ready_to_pair(value)
    pairable = ready and fresh
    if isinstance(value, TTLockAdvert):
        brand, model = Brand.TTLOCK, value.model_family.value
        # A setting-mode lock that fell silent went to sleep; one that is not in setting
        # mode belongs to someone else and must be reset first.
        waiting = PairingHint.TOUCH_KEYPAD if ready else PairingHint.RESET_LOCK
        default = "TTLock"
    else:
        brand = Brand.NUKI
        model = value.family.value if value.family is not None else value.device.value
        waiting, default = PairingHint.HOLD_BUTTON, "Nuki"
    return Discovery(
        address=value.address.upper(),
        brand=brand,
        name=value.name or f"{default} {value.address.upper()}",
        model=model,
        rssi=value.rssi,
        pairable=pairable,
        hint=PairingHint.READY if pairable else waiting,
    )


async def resume_driver(
    brand: Brand,
    lock_id: str,
    store: Store,
    transport_factory: TransportFactory,
    *,
    hooks: Hooks,
    options: DriverOptions,
) -> LockDriver | None:
    """The stored lock's driver (an unfinished pairing settled first; None: it was undone)."""
    if brand is Brand.TTLOCK:
        return await TTLockDriver.resume(
            lock_id, store, transport_factory, on_push=hooks.on_push, **options
        )
    return await NukiDriver.resume(
        lock_id, store, transport_factory, on_push=hooks.on_push, on_state=hooks.on_state,
        **options,
    )  # fmt: skip


async def pair_driver(
    value: BrandAdvert,
    store: Store,
    params: PairingParams,
    transport_factory: TransportFactory,
    *,
    hooks: Hooks,
    options: DriverOptions,
) -> LockDriver:
    """Pair the lock that sent `value` with its brand's driver; PairingError and link errors."""
    if isinstance(value, TTLockAdvert):
        return await TTLockDriver.pair(
            value, store, params, transport_factory, on_push=hooks.on_push, **options
        )
    return await NukiDriver.pair(
        value, store, params, transport_factory, on_push=hooks.on_push,
        on_state=hooks.on_state, **options,
    )  # fmt: skip
