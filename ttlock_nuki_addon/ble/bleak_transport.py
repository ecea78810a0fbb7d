"""GattTransport over bleak and bleak-retry-connector (BlueZ on the host, over D-Bus)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection, get_device

from ..errors import NotReachableError
from .bleak_errors import WRAPPED, wrap
from .transport import NotifyCallback

_LOGGER = logging.getLogger(__name__)

DeviceResolver = Callable[[str], BLEDevice | None]
"""Looks up the last BLEDevice seen for an address (the shared scanner provides it)."""

FIND_TIMEOUT = 10.0


class BleakTransport:
    """One device's GATT connection through bleak; found by UUID, never by fixed handle."""

    def __init__(
        self,
        address: str,
        *,
        name: str | None = None,
        resolver: DeviceResolver | None = None,
        adapter: str | None = None,
        connect_attempts: int = 3,
        find_timeout: float = FIND_TIMEOUT,
    ) -> None:
        self.address = address.upper()
        self.name = name or self.address
        self._resolver = resolver
        self._adapter = adapter
        self._attempts = connect_attempts
        self._find_timeout = find_timeout
        self._client: BleakClient | None = None

    @property
    def is_connected(self) -> bool:
        """Whether bleak reports the connection up."""
        return self._client is not None and self._client.is_connected

    async def _device(self) -> BLEDevice:
        device = self._resolver(self.address) if self._resolver is not None else None
        if device is None:
            device = await get_device(self.address)
        if device is None:
            if self._adapter:
                device = await BleakScanner.find_device_by_address(
                    self.address, timeout=self._find_timeout, adapter=self._adapter
                )
            else:
                device = await BleakScanner.find_device_by_address(
                    self.address, timeout=self._find_timeout
                )
        if device is None:
            raise NotReachableError(
                f"{self.name} has not been seen by the Bluetooth adapter. Touch its keypad to "
                "wake it, check that it is in range, and try again."
            )
        return device

    async def connect(self, on_disconnect: Callable[[], None]) -> None:
        """Connect with bounded retries (bleak-retry-connector) and discover services."""
        try:
            device = await self._device()

            def disconnected(_client: BleakClient) -> None:
                on_disconnect()

            self._client = await establish_connection(
                BleakClientWithServiceCache,
                device,
                self.name,
                disconnected_callback=disconnected,
                max_attempts=self._attempts,
            )
        except WRAPPED as exc:
            raise wrap(exc, f"connecting to {self.name}") from exc

    def _char(self, uuid: str) -> BleakGATTCharacteristic | None:
        if self._client is None or not self._client.is_connected:
            return None
        return self._client.services.get_characteristic(uuid)

    def has_characteristic(self, uuid: str) -> bool:
        """Whether the device offers this characteristic."""
        return self._char(uuid) is not None

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Subscribe to notifications or indications (BlueZ picks which from the flags)."""
        client, char = self._client, self._char(uuid)
        if client is None or char is None:
            raise wrap(ConnectionResetError(), f"subscribing on {self.name}")

        def handler(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            callback(uuid, bytes(data))

        try:
            await client.start_notify(char, handler)
        except WRAPPED as exc:
            raise wrap(exc, f"subscribing on {self.name}") from exc

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """Write one chunk."""
        client, char = self._client, self._char(uuid)
        if client is None or char is None:
            raise wrap(ConnectionResetError(), f"writing to {self.name}")
        try:
            await client.write_gatt_char(char, data, response=response)
        except WRAPPED as exc:
            raise wrap(exc, f"writing to {self.name}") from exc

    async def disconnect(self) -> None:
        """Disconnect; errors are logged, not raised."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(*WRAPPED):
            await client.disconnect()
