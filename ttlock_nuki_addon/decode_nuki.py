"""`decode nuki HEX [--key HEX]`: one Nuki message, plain or encrypted, decrypted when possible."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from .cli import InputError, parse_hex
from .errors import ProtocolError
from .nuki.codec import (
    KEY_LEN,
    CodecError,
    command_name,
    crc16,
    open_message,
    parse_header,
    parse_plain,
)
from .nuki.describe import describe

# Which kind (spec §2.2, §2.3): a plain message has no length field, so a buffer whose CRC checks
# out is taken as plain; otherwise, when the ADATA length field adds up, it is encrypted; anything
# else is shown as a plain message with a failed CRC. Encrypted ones need the 32-byte shared key.

Parsed = dict[str, object]


@dataclass(frozen=True, slots=True)
class View:
    """How to read payloads: sender (None = guess from the command), PIN width, Opener layouts."""

    from_lock: bool | None = None
    pin_width: int = 2
    opener: bool = False

    def parsed(self, command: int, payload: bytes) -> object:
        """describe()'s named fields (it never raises; malformed payloads give an error entry)."""
        return describe(
            command,
            payload,
            from_lock=self.from_lock,
            pin_width=self.pin_width,
            opener=self.opener,
        )


def _plain(raw: bytes, view: View) -> Parsed:
    plain = parse_plain(raw)
    return {
        "kind": "plain",
        "command": plain.command,
        "command_name": command_name(plain.command),
        "payload": plain.payload,
        "crc": plain.crc,
        "crc_computed": crc16(raw[:-2]),
        "crc_ok": plain.crc_ok,
        "parsed": view.parsed(plain.command, plain.payload),
    }


def decode_message(raw: bytes, key: bytes | None, view: View = View()) -> Parsed:
    """The documented fields of one message; ProtocolError when it is too short for any kind."""
    if len(raw) < 4:
        raise ProtocolError(f"A {len(raw)}-byte message is too short to be a Nuki one.")
    if parse_plain(raw).crc_ok:
        return _plain(raw, view)
    try:
        header = parse_header(raw)
    except CodecError:
        return _plain(raw, view)
    out: Parsed = {
        "kind": "encrypted",
        "nonce": header.nonce,
        "auth_id": header.auth_id,
        "length": header.length,
    }
    if key is None:
        out["note"] = "The message is encrypted: pass --key (the 32-byte shared key) to read it."
        return out
    try:
        opened = open_message(key, raw)
    except CodecError as exc:
        out["error"] = {"reason": exc.reason, "message": exc.message}
        return out
    out.update(
        {
            "pdata_auth_id": opened.auth_id,
            "auth_id_ok": opened.auth_id == header.auth_id,
            "command": opened.command,
            "command_name": command_name(opened.command),
            "payload": opened.payload,
            "crc": opened.crc,
            "crc_ok": opened.crc_ok,
            "parsed": view.parsed(opened.command, opened.payload),
        }
    )
    return out


def parse_key(text: str) -> bytes:
    """A 32-byte shared key from hex (separators allowed)."""
    key = parse_hex([text], "key")
    if len(key) != KEY_LEN:
        raise InputError(f"a Nuki key has {KEY_LEN} bytes (64 hex digits), not {len(key)}")
    return key


_DIRECTIONS = {"lock": True, "client": False}


class NukiDecoder:
    """The `decode nuki` subcommand."""

    brand = "nuki"
    summary = "decode one Nuki message (plain pairing/status messages; encrypted ones with --key)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """HEX (one or more parts, joined), --key, --from, --pin-width and --opener."""
        parser.add_argument(
            "hex",
            nargs="+",
            metavar="HEX",
            help="the message: 0100030027a7, spaces, colons and 0x prefixes allowed",
        )
        parser.add_argument(
            "--key", metavar="HEX", help="the 32-byte shared key, for encrypted messages"
        )
        parser.add_argument(
            "--from",
            dest="sender",
            choices=sorted(_DIRECTIONS),
            help="who sent it (guessed from the command when left out)",
        )
        parser.add_argument(
            "--pin-width",
            type=int,
            choices=(2, 4),
            default=2,
            help="bytes of the security PIN: 2, or 4 on 5th-generation locks",
        )
        parser.add_argument(
            "--opener", action="store_true", help="read states, config and actions as an Opener's"
        )

    def decode(self, args: argparse.Namespace) -> dict[str, object]:
        """Decode the pasted message."""
        key = None if args.key is None else parse_key(args.key)
        from_lock = None if args.sender is None else _DIRECTIONS[args.sender]
        raw = parse_hex(args.hex, "message")
        view = View(from_lock, args.pin_width, args.opener)
        return decode_message(raw, key, view)


DECODER = NukiDecoder()
