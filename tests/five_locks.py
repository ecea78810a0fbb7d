"""The five virtual locks the soak and the benchmark both run: 2 TTLock, 3 Nuki generations."""

from __future__ import annotations

from dataclasses import dataclass

from ttlock_nuki_addon.snapshot import Brand, lock_id_from_address


@dataclass(frozen=True, slots=True)
class LockSpec:
    """One virtual lock: kind, address, name and (Nuki) security PIN."""

    kind: str
    address: str
    name: str
    pin: str | None = None

    @property
    def brand(self) -> Brand:
        """TTLock or Nuki."""
        return Brand.TTLOCK if self.kind == "ttlock" else Brand.NUKI

    @property
    def lock_id(self) -> str:
        """The add-on's id of this lock."""
        return lock_id_from_address(self.address)


SPECS = (
    LockSpec("ttlock", "38:38:E5:1D:71:A1", "Front door"),
    LockSpec("ttlock", "38:38:E5:1D:71:B2", "Garage"),
    LockSpec("nuki-2", "54:D2:72:33:C3:A1", "Back door", "4711"),
    LockSpec("nuki-4", "54:D2:72:33:C3:B2", "Cellar", "2580"),
    LockSpec("nuki-5", "54:D2:72:33:C3:C3", "Shed", "246813"),
)
