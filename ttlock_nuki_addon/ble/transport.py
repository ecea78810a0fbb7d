"""The GATT transport contract: what a link needs from a radio backend (bleak today)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

NotifyCallback = Callable[[str, bytes], None]
"""Called with (characteristic UUID, value) for every notification or indication."""


class GattTransport(Protocol):
    """One GATT connection to one device; a second backend (ESPHome proxy) implements this."""

    @property
    def is_connected(self) -> bool:
        """Whether the connection is up."""
        ...

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect and discover services; raises a LockError subclass on failure."""
        ...

    def has_characteristic(self, uuid: str) -> bool:
        """Whether the connected device offers this characteristic (found by UUID)."""
        ...

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Enable notifications or indications on a characteristic."""
        ...

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Write one chunk, with or without response."""
        ...

    async def disconnect(self) -> None:
        """Disconnect; never raises."""
        ...


TransportFactory = Callable[[str], GattTransport]
"""Makes a transport for a device address."""
