"""A virtual Nuki Smart Lock (1.0, 2.0, 4th gen, 5th gen) for the simulated world (spec §1-§4)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from ..nuki.advert import COMPANY_ID, IBEACON_LEN, IBEACON_TYPE, NEW_STATE_BIT
from ..nuki.commands import DoorSensorState, LockState
from ..nuki.gatt import nuki_uuid
from . import nuki_admin, nuki_keypad, nuki_motor, nuki_physical
from .nuki_core import NukiCore
from .nuki_io import Drop, Handler, Injected, Out, Send
from .nuki_state import VARIANTS, Variant
from .peripheral import (
    INDICATE,
    READ,
    WRITE,
    ActionError,
    CharacteristicDef,
    Peripheral,
    ServiceDef,
)

HANDLERS: Mapping[int, Handler] = {
    **nuki_admin.HANDLERS,
    **nuki_keypad.HANDLERS,
    **nuki_motor.HANDLERS,
}
DROP_GRACE = 0.2  # seconds: let queued indications go out before a deliberate drop
PAIRING_SERVICE_DATA = b"\x01"  # spec §1.5: clients only test that the element is there


def _hap(short: str) -> str:
    return f"{short}-0000-1000-8000-0026bb765291"


# spec §1.6 / DESIGN: SL 2.0 exposes HomeKit services before the Nuki ones, so handles differ
# from a 1.0 and only discovery by UUID finds the Nuki characteristics.
HOMEKIT_SERVICES = (
    ServiceDef(
        _hap("0000003e"),
        tuple(
            CharacteristicDef(_hap(short), flags)
            for short, flags in (
                ("00000014", (WRITE,)),
                ("00000020", (READ,)),
                ("00000021", (READ,)),
                ("00000023", (READ,)),
                ("00000030", (READ,)),
                ("00000052", (READ,)),
            )
        ),
    ),
    ServiceDef(_hap("000000a2"), (CharacteristicDef(_hap("00000037"), (READ,)),)),
    ServiceDef(
        _hap("00000045"),
        (
            CharacteristicDef(_hap("0000001d"), (READ, INDICATE)),
            CharacteristicDef(_hap("0000001e"), (READ, WRITE, INDICATE)),
        ),
    ),
)
_BEACON_UUID = bytes.fromhex(nuki_uuid("a92ee200").replace("-", ""))  # spec §1.5


def nuki_id_for(address: str) -> int:
    """A stable Nuki ID from the address (the last four bytes)."""
    return int(address.replace(":", "")[-8:], 16)


class VirtualNuki(Peripheral):
    """A Nuki Smart Lock: the radio around a NukiCore, plus its physical world."""

    kind: ClassVar[str] = "nuki"

    def __init__(
        self,
        address: str,
        variant: Variant,
        *,
        name: str | None = None,
        nuki_id: int | None = None,
        security_pin: int | None = None,
        battery: int = 80,
        motor_ms: int = 800,
        pairing_seconds: float = 300.0,
        pairing_enabled: bool = True,
        injected: Injected | None = None,
    ) -> None:
        nuki_id = nuki_id_for(address) if nuki_id is None else nuki_id
        super().__init__(address, name or f"Nuki_{nuki_id:08X}")  # spec §1.5
        self.variant = variant
        self.link.mtu = variant.mtu
        self.core = NukiCore(
            variant,
            HANDLERS,
            nuki_id=nuki_id,
            name="Nuki Smart Lock",
            security_pin=variant.default_pin if security_pin is None else security_pin,
            battery=battery,
            motor_ms=motor_ms,
            pairing_seconds=pairing_seconds,
            injected=injected,
        )
        if not pairing_enabled:
            settings = self.core.settings
            config = replace(settings.config, pairing_enabled=False)
            self.core.settings = replace(settings, config=config)
        self.core.notes = self.log
        self.core.sink = self._deliver
        self.core.on_change = self.refresh_advert
        self.dropped_outputs = 0
        self.refresh_advert()

    # --- GATT (spec §1.1) ------------------------------------------------------------------

    def gatt(self) -> tuple[ServiceDef, ...]:
        """Pairing and keyturner services; every characteristic write + indicate (spec §1.1)."""
        layout = self.variant.layout
        flags = (WRITE, INDICATE)
        nuki = (
            ServiceDef(layout.pairing_service, (CharacteristicDef(layout.pairing_gdio, flags),)),
            ServiceDef(
                layout.keyturner_service,
                (
                    CharacteristicDef(layout.keyturner_gdio, flags),
                    CharacteristicDef(layout.usdio, flags),
                ),
            ),
        )
        return (*HOMEKIT_SERVICES, *nuki) if self.variant.homekit_services else nuki

    def on_connect(self) -> None:
        """A new link: nothing subscribed, nothing known."""
        self.core.link_up()

    def on_disconnect(self) -> None:
        """Challenges and an unfinished pairing are gone."""
        self.core.link_down()

    async def on_write(self, char_uuid: str, data: bytes, with_response: bool) -> None:
        """Each write must be one whole message (spec §1.2: long writes, never pieces)."""
        self._deliver(self.core.handle(char_uuid, data))

    def _deliver(self, outputs: list[Out]) -> None:
        """Send what the core produced; never on a characteristic nobody subscribed."""
        sent = False
        for out in outputs:
            if isinstance(out, Drop):
                if sent:
                    asyncio.get_running_loop().call_later(DROP_GRACE, self.drop_link)
                else:
                    self.drop_link()
            elif isinstance(out, Send) and out.char in self.subscribed:
                self.send(out.char, out.data)
                sent = True
            else:
                self.dropped_outputs += 1
                self.log.append(f"not subscribed to {out.char}: reply not sent")

    # --- advertising (spec §1.5) -------------------------------------------------------------

    def beacon(self) -> bytes:
        """iBeacon: type, length, keyturner UUID, Nuki ID as major/minor, power with bit 0."""
        power = 0xC4 if self.variant.generation <= 2 else 0xC8  # spec §1.5: SL2 / SL3 values
        if self.core.new_state:
            power |= NEW_STATE_BIT
        head = bytes([IBEACON_TYPE, IBEACON_LEN]) + _BEACON_UUID
        return head + self.core.nuki_id.to_bytes(4, "big") + bytes([power])

    def refresh_advert(self) -> None:
        """Beacon always; service data keyed by the pairing service while in pairing mode."""
        service_data = {}
        if self.core.pairing_mode:
            service_data[self.variant.layout.pairing_service] = PAIRING_SERVICE_DATA
        self.update_advert(manufacturer_data={COMPANY_ID: self.beacon()}, service_data=service_data)

    # --- the physical world ------------------------------------------------------------------

    def press_button(self, seconds: float) -> dict[str, Any]:
        """Hold the button: >= 5 s pairing mode, shorter the single-press action."""
        return nuki_physical.press_button(self.core, seconds)

    def enter_code(self, code: str) -> dict[str, Any]:
        """Type a code on the keypad."""
        return nuki_physical.enter_code(self.core, code)

    def turn_knob(self) -> dict[str, Any]:
        """Turn the thumbturn by hand."""
        return nuki_physical.turn_knob(self.core)

    def open_door(self) -> dict[str, Any]:
        """Open the door (door sensor)."""
        return nuki_physical.set_door(self.core, opened=True)

    def close_door(self) -> dict[str, Any]:
        """Close the door (door sensor)."""
        return nuki_physical.set_door(self.core, opened=False)

    def set_battery(self, percent: int) -> dict[str, Any]:
        """Change the charge level."""
        return nuki_physical.set_battery(self.core, percent)

    # --- control API ---------------------------------------------------------------------------

    def actions(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """The base actions plus the physical world and the Nuki fault knobs."""
        return {**super().actions(), **nuki_physical.control_actions(self.core)}

    def describe(self) -> dict[str, Any]:
        """Lock state, door, battery, pairing, beacon bit, authorizations and masked codes."""
        core = self.core
        return {
            **super().describe(),
            "variant": self.variant.kind,
            "nuki_id": f"{core.nuki_id:08X}",
            "lock_state": LockState(core.lock_state).name.lower(),
            "door": DoorSensorState(core.door).name.lower(),
            "battery": core.battery,
            "pairing_mode": core.pairing_mode,
            "new_state": core.new_state,
            "config_update_count": core.memory.config_update_count,
            "settings": core.settings.describe(),
            **core.memory.describe(),
            "log_length": len(core.memory.log.entries),
            "knobs": {
                "busy": core.knobs.busy,
                "stale_challenge": core.knobs.stale_challenge,
                "jam": core.knobs.jam,
                "motor_ms": core.motor_ms,
                "pairing_seconds": core.pairing_seconds,
            },
        }

    async def close(self) -> None:
        """Stop the timers and the sender."""
        self.core.timers.cancel_all()
        await super().close()


# --- world factories ----------------------------------------------------------------------------

_OPTIONS = frozenset(
    {"battery", "pairing_enabled", "security_pin", "motor_ms", "pairing_seconds", "nuki_id", "name"}
)
_KINDS: dict[str, type[VirtualNuki]] = {
    kind: type(f"VirtualNuki{kind[-1]}", (VirtualNuki,), {"kind": kind}) for kind in VARIANTS
}


def _int_option(options: dict[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(f"'{key}' must be an integer from {low} to {high}")
    return value


def create_nuki(kind: str, address: str, options: dict[str, Any]) -> VirtualNuki:
    """Build a virtual Nuki of `kind` ('nuki-1', 'nuki-2', 'nuki-4', 'nuki-5'); ActionError."""
    variant = VARIANTS.get(kind)
    if variant is None:
        raise ActionError(f"unknown Nuki variant {kind!r} (known: {', '.join(VARIANTS)})")
    for key in sorted(options):
        if key not in _OPTIONS:
            known = ", ".join(sorted({*_OPTIONS, "address", "rssi"}))
            raise ActionError(f"unknown option '{key}' for {kind} (known: {known})")
    pairing_enabled = options.get("pairing_enabled", True)
    if not isinstance(pairing_enabled, bool):
        raise ActionError("'pairing_enabled' must be true or false")
    seconds = options.get("pairing_seconds", 300.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
        raise ActionError("'pairing_seconds' must be a number of seconds above 0, at most 3600")
    name = options.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ActionError("'name' must be a non-empty text")
    pin = _int_option(options, "security_pin", 0, variant.layout.max_pin, variant.default_pin)
    return _KINDS[kind](
        address,
        variant,
        name=name,
        nuki_id=_int_option(options, "nuki_id", 0, 0xFFFFFFFF, nuki_id_for(address)),
        security_pin=pin,
        battery=_int_option(options, "battery", 0, 100, 80),
        motor_ms=_int_option(options, "motor_ms", 0, 60_000, 800),
        pairing_seconds=float(seconds),
        pairing_enabled=pairing_enabled,
    )


def nuki_factory(kind: str) -> Callable[[str, dict[str, Any]], VirtualNuki]:
    """The world factory for one Nuki kind."""
    return functools.partial(create_nuki, kind)


def new_core(kind: str, injected: Injected | None = None, **options: Any) -> NukiCore:
    """A radio-free engine of one variant with every command handler (tests, tools)."""
    options.setdefault("nuki_id", 0x33C335C5)
    options.setdefault("security_pin", VARIANTS[kind].default_pin)
    return NukiCore(VARIANTS[kind], HANDLERS, name="Nuki Smart Lock", injected=injected, **options)
