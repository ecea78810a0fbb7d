"""TTLock V3 frames on the wire: build/parse, reassembly of notifications, reply matching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..ble.link import LinkProfile
from ..errors import ProtocolError
from .codec import (
    V3_PROTOCOL_TYPE,
    Command,
    DecryptError,
    LockType,
    Response,
    crc8,
    decrypt,
    encrypt,
    key_for,
    lock_type_of,
    outer_command,
    parse_response,
)

SERVICE_UUID = "00001910-0000-1000-8000-00805f9b34fb"  # spec §1.1
WRITE_UUID = "0000fff2-0000-1000-8000-00805f9b34fb"  # spec §1.1: app -> lock
NOTIFY_UUID = "0000fff4-0000-1000-8000-00805f9b34fb"  # spec §1.1: lock -> app, notifications
# spec §1.2: 20-byte chunks whatever the MTU; every working port writes without response.
LINK_PROFILE = LinkProfile(
    write_char=WRITE_UUID, notify_chars=(NOTIFY_UUID,), write_with_response=False, chunk_size=20
)

HEADER = b"\x7f\x5a"
TRAILER = b"\r\n"  # spec §1.2: after the CRC, not counted in length or CRC
HEADER_LEN = 12  # spec §2.1
MIN_FRAME_LEN = HEADER_LEN + 1
ENCRYPT_APP = 0xAA  # spec §2.1: APP_COMMAND; locks answer with AA too


@dataclass(frozen=True, slots=True)
class LockVersion:
    """The five header bytes after 7F 5A that name a lock's protocol (spec §2.1)."""

    protocol_type: int = V3_PROTOCOL_TYPE
    sub_version: int = 3
    scene: int = 1
    organization: int = 1
    sub_organization: int = 1

    @property
    def lock_type(self) -> LockType | None:
        """The SDK lock type for these numbers (spec §2.3), None when unknown."""
        return lock_type_of(self.protocol_type, self.sub_version, self.scene)


APP_VERSION = LockVersion()  # spec §2.1: requests send 05 03 01 0001 0001


@dataclass(frozen=True, slots=True)
class Frame:
    """One V3 frame; crc is the byte received, crc_ok whether it matches the TTLock CRC."""

    protocol_type: int
    sub_version: int
    scene: int
    organization: int
    sub_organization: int
    command: int
    encrypt: int
    data: bytes
    crc: int
    crc_ok: bool

    @property
    def length(self) -> int:
        """The length byte (number of data bytes)."""
        return len(self.data)

    @property
    def version(self) -> LockVersion:
        """The sender's protocol numbers."""
        return LockVersion(
            self.protocol_type,
            self.sub_version,
            self.scene,
            self.organization,
            self.sub_organization,
        )

    def to_bytes(self) -> bytes:
        """The frame as received or built (no CRLF), with its own CRC byte."""
        return _header(self.version, self.command, self.encrypt, len(self.data)) + (
            self.data + bytes([self.crc])
        )


def _header(version: LockVersion, command: int, encrypt: int, length: int) -> bytes:
    return HEADER + bytes(
        [
            version.protocol_type,
            version.sub_version,
            version.scene,
            *version.organization.to_bytes(2, "big"),
            *version.sub_organization.to_bytes(2, "big"),
            command,
            encrypt,
            length,
        ]
    )


def build_frame(
    command: int,
    data: bytes = b"",
    *,
    version: LockVersion = APP_VERSION,
    encrypt_byte: int = ENCRYPT_APP,
) -> bytes:
    """A V3 frame (no CRLF) with the TTLock CRC; data is already encrypted (spec §2.1)."""
    if len(data) > 255:
        raise ValueError(f"a frame carries at most 255 data bytes, not {len(data)}")
    body = _header(version, command, encrypt_byte, len(data)) + data
    return body + bytes([crc8(body)])


def frame_length(header: bytes | bytearray) -> int | None:
    """Total frame length (no CRLF) from its first 12 bytes; None before they are there."""
    if len(header) < 3:
        return None
    if header[2] < V3_PROTOCOL_TYPE:
        return header[5] + 7 if len(header) >= 6 else None  # spec §2.2: 6-byte old header
    return header[11] + MIN_FRAME_LEN if len(header) >= HEADER_LEN else None


def parse_frame(raw: bytes, *, strict: bool = True) -> Frame:
    """Parse one frame (an exact CRLF trailer is allowed); strict makes a bad CRC an error."""
    raw = bytes(raw)
    if len(raw) < 2:
        raise ProtocolError(f"TTLock frame too short: {len(raw)} bytes, at least 13 expected.")
    if raw[:2] != HEADER:
        raise ProtocolError("Not a TTLock frame: it does not start with 7F 5A.")
    if len(raw) >= 3 and raw[2] < V3_PROTOCOL_TYPE:
        raise ProtocolError(
            f"The lock speaks the old TTLock V2 protocol (protocol type {raw[2]}); "
            "only V3 locks (protocol type 5) are supported."
        )
    if len(raw) < MIN_FRAME_LEN:
        raise ProtocolError(f"TTLock frame too short: {len(raw)} bytes, at least 13 expected.")
    expected = raw[11] + MIN_FRAME_LEN
    if len(raw) == expected + len(TRAILER) and raw.endswith(TRAILER):
        raw = raw[:-2]
    if len(raw) != expected:
        raise ProtocolError(
            f"TTLock frame length mismatch: the header announces {raw[11]} data bytes "
            f"({expected} bytes in all) but the frame has {len(raw)}."
        )
    computed = crc8(raw[:-1])
    if strict and computed != raw[-1]:
        raise ProtocolError(
            f"TTLock frame with a bad CRC: it carries 0x{raw[-1]:02x}, "
            f"the content gives 0x{computed:02x}."
        )
    return Frame(
        protocol_type=raw[2],
        sub_version=raw[3],
        scene=raw[4],
        organization=int.from_bytes(raw[5:7], "big"),
        sub_organization=int.from_bytes(raw[7:9], "big"),
        command=raw[9],
        encrypt=raw[10],
        data=raw[HEADER_LEN:-1],
        crc=raw[-1],
        crc_ok=computed == raw[-1],
    )


def encode_request(
    command: int, payload: bytes, session_key: bytes | None, *, version: LockVersion = APP_VERSION
) -> bytes:
    """Wire bytes (frame + CRLF) of a request; the key is chosen with key_for."""
    data = encrypt(payload, key_for(command, session_key))
    return build_frame(command, data, version=version) + TRAILER


def encode_response(
    response: Response, session_key: bytes | None, *, version: LockVersion
) -> bytes:
    """Wire bytes (frame + CRLF) of a lock's answer, under the right outer command and key."""
    outer = outer_command(response.command)
    data = encrypt(response.to_bytes(), key_for(outer, session_key))
    return build_frame(outer, data, version=version) + TRAILER


def decode_request(frame: Frame, session_key: bytes | None) -> bytes:
    """The plaintext payload of a request (lock side); DecryptError on a wrong key."""
    return decrypt(frame.data, key_for(frame.command, session_key))


def decode_response(frame: Frame, session_key: bytes | None) -> Response:
    """The envelope of an answer; DecryptError on a wrong key, ProtocolError if too short."""
    return parse_response(decrypt(frame.data, key_for(frame.command, session_key)))


class TTLockFramer:
    """Reassembles notifications into frames by the header's length field (spec §1.3)."""

    def __init__(self, *, strict_crc: bool = True) -> None:
        self.strict_crc = strict_crc
        self.discarded = 0
        self._buf = bytearray()
        self._trailer = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add one notification; return the frames (no CRLF) it completed."""
        if self._buf[:2] == HEADER and chunk[:3] == _V3_START:
            # A new V3 frame starts at a notification boundary while an earlier one is still
            # short of its length (a lost notification): give up the stale one.
            self.discarded += len(self._buf)
            self._buf.clear()
        self._buf.extend(chunk)
        frames: list[bytes] = []
        while True:
            self._skip_to_header()
            size = frame_length(self._buf)
            if size is None or len(self._buf) < size:
                return frames
            raw = bytes(self._buf[:size])
            del self._buf[:size]
            self._trailer = len(TRAILER)
            # spec §6.1: with the TTLock table a bad CRC is real damage, so by default it is a
            # ProtocolError (the link fails the waiting request; nothing is re-sent blindly).
            # strict_crc=False passes it on so the driver may accept it if it decrypts cleanly.
            parse_frame(raw, strict=self.strict_crc)
            frames.append(raw)

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buf.clear()
        self._trailer = 0

    def _skip_to_header(self) -> None:
        while self._trailer and self._buf:
            if self._buf[0] == TRAILER[len(TRAILER) - self._trailer]:
                del self._buf[0]
                self._trailer -= 1
            else:
                self._trailer = 0
        start = self._buf.find(HEADER)
        if start < 0:
            start = len(self._buf) - 1 if self._buf.endswith(HEADER[:1]) else len(self._buf)
        self.discarded += start
        del self._buf[:start]


_V3_START = HEADER + bytes([V3_PROTOCOL_TYPE])


def echoed_command(message: bytes, session_key: bytes | None) -> int | None:
    """The echoed command inside an answer frame; None if it does not parse or decrypt."""
    try:
        frame = parse_frame(message, strict=False)
        plaintext = decrypt(frame.data, key_for(frame.command, session_key))
    except ProtocolError:
        return None
    return plaintext[0] if plaintext else None


def reply_matcher(command: int, session_key: bytes | None) -> Callable[[bytes], bool]:
    """A Link match for the answer to command; frames that decrypt to another echo are not it."""

    def match(message: bytes) -> bool:
        if command == Command.INITIALIZATION:
            return True  # spec §5.4: its answer decrypts with no known key
        try:
            frame = parse_frame(message, strict=False)
        except ProtocolError:
            return False
        try:
            plaintext = decrypt(frame.data, key_for(frame.command, session_key))
        except DecryptError:
            return True  # spec §3.1: a wrong key is the answer's news, not someone else's frame
        # An empty data field carries no echo; RESET_LOCK is answered that way (spec §5.5.21).
        return not plaintext or plaintext[0] == command

    return match
