"""Virtual TTLock radio: GATT, frames in and out, keys, clock, wake window and adverts."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from ..errors import ProtocolError
from ..ttlock import framing
from ..ttlock.advert import COMPANY_ID, AdvertFlag
from ..ttlock.codec import (
    DEFAULT_KEY,
    Command,
    DecryptError,
    ErrorCode,
    Response,
    decrypt,
    outer_command,
)
from ..ttlock.framing import (
    NOTIFY_UUID,
    SERVICE_UUID,
    TRAILER,
    WRITE_UUID,
    Frame,
    LockVersion,
    TTLockFramer,
    build_frame,
    encode_response,
    parse_frame,
)
from .peripheral import (
    NOTIFY,
    READ,
    WRITE,
    WRITE_NO_RESPONSE,
    CharacteristicDef,
    Peripheral,
    ServiceDef,
)
from .ttlock_state import LockMemory, Reply, Session, Timers

_LOGGER = logging.getLogger(__name__)

CHUNK = 20  # spec §1.2: 20-byte notifications whatever the MTU
# spec §4.1: six vendor bytes of unknown meaning sit between battery and MAC (real sample).
_VENDOR_BYTES = bytes.fromhex("b000f4f95365")
_DEVICE_INFO = "0000180a-0000-1000-8000-00805f9b34fb"
_BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
_BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
_INFO_CHARS = {
    "00002a24-0000-1000-8000-00805f9b34fb": "model_number",
    "00002a26-0000-1000-8000-00805f9b34fb": "firmware_revision",
    "00002a27-0000-1000-8000-00805f9b34fb": "hardware_revision",
    "00002a29-0000-1000-8000-00805f9b34fb": "manufacturer",
}


def default_name(model: str, address: str) -> str:
    """`<model>_<last three MAC bytes reversed>`, e.g. K5_fe711d for ..:1D:71:FE (spec §4.4)."""
    raw = bytes.fromhex(address.replace(":", ""))
    return f"{model}_{raw[5]:02x}{raw[4]:02x}{raw[3]:02x}"


def _decrypts(data: bytes, key: bytes) -> bool:
    try:
        decrypt(data, key)
    except DecryptError:
        return False
    return True


class TTLockRadio(Peripheral):
    """The radio half of a virtual V3 lock; VirtualTTLock adds the commands and the world."""

    def __init__(
        self,
        address: str,
        name: str | None,
        *,
        battery: int,
        wake_seconds: float,
        version: LockVersion | None,
        clock: Callable[[], datetime],
        key_source: Callable[[], bytes],
    ) -> None:
        super().__init__(address, name or default_name("K5", address))
        self.version = version or LockVersion(scene=2)  # spec §2.1: the lock's own header
        self.battery = battery
        self.wake_seconds = wake_seconds
        self.refuse_to_advertise = False
        self.clock, self.key_source = clock, key_source
        self.clock_offset = timedelta(0)
        self.model_number, self.hardware_revision = "SIM-K5_PV53", "1.3"
        self.firmware_revision, self.manufacture_date = "6.4.20.240115", "20240115"
        self.manufacturer = "Sciener"
        self.unlocked = False
        self.memory = LockMemory()
        self.session = Session()
        self.timers = Timers()
        self.service_uuids = [SERVICE_UUID]
        self._framer = TTLockFramer(strict_crc=False)
        self._known_keys = {DEFAULT_KEY}
        self._awake = False
        self._touched = False

    # --- secrets and state (the simulator's own view; never logged) --------------------

    @property
    def aes_key(self) -> bytes | None:
        """The session key handed out by GET_AES_KEY (None in factory state)."""
        return self.memory.aes_key

    @property
    def admin_ps(self) -> int | None:
        """adminPs stored by ADD_ADMIN."""
        return None if self.memory.admin is None else self.memory.admin.admin_ps

    @property
    def unlock_key(self) -> int | None:
        """unlockKey stored by ADD_ADMIN."""
        return None if self.memory.admin is None else self.memory.admin.unlock_key

    @property
    def paired(self) -> bool:
        """Pairing committed by OPERATE_FINISHED (0x57)."""
        return self.memory.paired

    @property
    def setting_mode(self) -> bool:
        """No administrator at all: the lock can be paired (spec §4.2 bit 2)."""
        return self.memory.admin is None

    @property
    def awake(self) -> bool:
        """Inside the wake window after a touch (or after a link in setting mode)."""
        return self._awake

    @property
    def bolt(self) -> str:
        """'unlocked' or 'locked'."""
        return "unlocked" if self.unlocked else "locked"

    def new_session_key(self) -> bytes:
        """Draw and keep a fresh AES session key (one per pairing)."""
        key = self.key_source()
        self.memory.aes_key = key
        self._known_keys.add(key)
        return key

    def note(self, text: str) -> None:
        """Record what the lock did (voice prompts, resets) in the device log; never secrets."""
        self.log.append(text)
        _LOGGER.debug("%s: %s", self.address, text)

    # --- the lock clock ------------------------------------------------------------------

    def lock_time(self) -> datetime:
        """The lock's RTC: host wall time plus the offset set by TIME_CALIBRATE (whole seconds)."""
        return (self.clock() + self.clock_offset).replace(microsecond=0)

    def set_lock_time(self, moment: datetime) -> None:
        """Set the RTC to naive lock-local `moment` (spec §5.5.7)."""
        self.clock_offset = moment - self.clock()

    # --- GATT and frames -----------------------------------------------------------------

    def gatt(self) -> tuple[ServiceDef, ...]:
        """0x1910 with FFF2 (both write kinds, spec §1.2) and FFF4; device info; battery."""
        return (
            ServiceDef(
                SERVICE_UUID,
                (
                    CharacteristicDef(WRITE_UUID, (WRITE_NO_RESPONSE, WRITE)),
                    CharacteristicDef(NOTIFY_UUID, (NOTIFY,)),
                ),
            ),
            ServiceDef(_DEVICE_INFO, tuple(CharacteristicDef(u, (READ,)) for u in _INFO_CHARS)),
            ServiceDef(_BATTERY_SERVICE, (CharacteristicDef(_BATTERY_LEVEL, (READ,)),)),
        )

    def on_read(self, char_uuid: str) -> bytes:
        """Device information strings; the battery characteristic always says 100 (spec §1.1)."""
        if char_uuid == _BATTERY_LEVEL:
            return bytes([100])
        attribute = _INFO_CHARS.get(char_uuid)
        return b"" if attribute is None else str(getattr(self, attribute)).encode()

    def on_connect(self) -> None:
        """A new link starts without a session."""
        self._framer.reset()
        self.session = Session()

    async def on_write(self, char_uuid: str, data: bytes, with_response: bool) -> None:
        """Reassemble 20-byte writes into frames by their length byte (spec §1.3); answer each."""
        if char_uuid != WRITE_UUID:
            return
        try:
            frames = self._framer.feed(data)
        except ProtocolError:
            self._framer.reset()
            self.note("ignored bytes that are not a V3 frame")
            return
        for raw in frames:
            self.handle_frame(raw)

    def decode_request(self, raw: bytes) -> tuple[Frame, bytes]:
        """The lock's reading of one request: frame and plaintext (DecryptError: wrong key)."""
        frame = parse_frame(raw, strict=False)
        return frame, framing.decode_request(frame, self.memory.aes_key)

    def handle_frame(self, raw: bytes) -> None:
        """Answer one complete request frame."""
        frame = parse_frame(raw, strict=False)
        if not frame.crc_ok:
            self.reply(Response.failure(frame.command, ErrorCode.CRC_ERROR))
            return
        if self.memory.aes_key is None and frame.command != Command.GET_AES_KEY:
            # Factory state: without a session key only GET_AES_KEY is understood (spec §3.3),
            # so an app still holding a key from before a reset gets nothing it can decrypt.
            self.send_undecryptable(outer_command(frame.command))
            return
        try:
            _, payload = self.decode_request(raw)
        except DecryptError:
            # Not our key: answer with data the sender cannot read either (spec §3.1: the app
            # maps that to "not in setting mode" during pairing and "key invalid" after).
            self.send_undecryptable(outer_command(frame.command))
            return
        reply = self.dispatch(frame.command, payload)
        for response in (reply,) if isinstance(reply, Response) else reply or ():
            self.reply(response)

    def dispatch(self, command: int, payload: bytes) -> Reply:
        """Answer one decrypted request (VirtualTTLock)."""
        return Response.failure(command, ErrorCode.INVALID_COMMAND)

    # --- sending -------------------------------------------------------------------------

    def _send_wire(self, wire: bytes) -> None:
        self.send(NOTIFY_UUID, wire, CHUNK)

    def reply(self, response: Response) -> None:
        """Send an answer (or an unsolicited frame) under the current key, CRLF-terminated."""
        self._send_wire(encode_response(response, self.memory.aes_key, version=self.version))

    def send_undecryptable(self, outer: int) -> None:
        """A frame whose data no key this lock ever knew decrypts (spec §3.3, §7.2)."""
        while True:
            data = secrets.token_bytes(16)
            if not any(_decrypts(data, key) for key in self._known_keys):
                break
        self._send_wire(build_frame(outer, data, version=self.version) + TRAILER)

    def send_empty(self, outer: int) -> None:
        """A frame with an empty data field (spec §5.5.21)."""
        self._send_wire(build_frame(outer, b"", version=self.version) + TRAILER)

    # --- advertising and the wake window ---------------------------------------------------

    def advert_payload(self) -> bytes:
        """Manufacturer data after the 05 03 company id: scene flags battery … MAC (spec §4.1)."""
        flags = AdvertFlag(0)
        if self.unlocked:
            flags |= AdvertFlag.UNLOCKED
        if self.memory.log.unread:
            flags |= AdvertFlag.NEW_RECORDS
        if self.setting_mode:
            flags |= AdvertFlag.SETTING_MODE
        if self._touched:
            flags |= AdvertFlag.TOUCHED
        mac = bytes.fromhex(self.address.replace(":", ""))
        head = bytes([self.version.scene, int(flags), self.battery])
        return head + _VENDOR_BYTES + mac[::-1]

    def advertises_unprompted(self) -> bool:
        """Whether the lock advertises without a touch: paired locks do (spec §6.2)."""
        return self.memory.paired

    def refresh_advert(self) -> None:
        """Recompute whether and what the lock advertises."""
        wanted = self.advertises_unprompted() or self._awake
        self.advertising = wanted and not self.refuse_to_advertise
        self.update_advert(manufacturer_data={COMPANY_ID: self.advert_payload()})

    def set_advertising(self, enabled: bool) -> None:
        """Fault knob: False makes the lock refuse to advertise even when awake or paired."""
        self.refuse_to_advertise = not enabled
        self.refresh_advert()

    def touch(self) -> None:
        """Touch the keypad: the lock wakes and advertises for wake_seconds, flag bit 3."""
        self._wake(touched=True)

    def _wake(self, *, touched: bool) -> None:
        self._awake = True
        self._touched = self._touched or touched
        self.timers.start("wake", self.wake_seconds, self._sleep)
        self.refresh_advert()

    def _sleep(self) -> None:
        self._awake = self._touched = False
        self.refresh_advert()

    async def close(self) -> None:
        """Stop the timers and the sender."""
        self.timers.cancel_all()
        await super().close()
