"""`decode ttlock HEX [--key HEX]`: one TTLock V3 frame, decrypted and parsed when possible."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .cli import InputError, parse_hex
from .errors import ProtocolError
from .ttlock.codec import (
    DEFAULT_KEY,
    KEY_LEN,
    Command,
    DecryptError,
    ErrorCode,
    ResponseStatus,
    crc8,
    decrypt,
    parse_response,
)
from .ttlock.framing import Frame, parse_frame

if TYPE_CHECKING:
    pass

# Direction (spec §2.1): the lock answers every command under outer command 0x54 (RESPONSE)
# except GET_AES_KEY, whose answer keeps 0x19. So outer 0x54 is an answer, 0x19 is decided after
# decryption (a plaintext `19 00|01 ...` is the answer, anything else - "SCIENER" - the request),
# and every other outer command is a request from the app. Answers are parsed as echo, status and
# the echoed command's answer; requests by the outer command's request parser.
# Keys: 0x19 frames always use the default key (spec §3.2), so they decode without --key;
# others need --key (the lock's session key); empty data needs no key at all.

from .ttlock.describe import (
    REQUEST_PARSERS,
    RESPONSE_PARSERS,
    Parsed,
    command_name,
    describe,
    enum_name,
)


def _header(frame: Frame) -> Parsed:
    lock_type = frame.version.lock_type
    return {
        "protocol_type": frame.protocol_type,
        "sub_version": frame.sub_version,
        "scene": frame.scene,
        "organization": frame.organization,
        "sub_organization": frame.sub_organization,
        "lock_type": lock_type,
        "command": frame.command,
        "command_name": command_name(frame.command),
        "encrypt": frame.encrypt,
        "length": frame.length,
        "data": frame.data,
        "crc": frame.crc,
        "crc_computed": crc8(frame.to_bytes()[:-1]),
        "crc_ok": frame.crc_ok,
    }


_NO_ECHO: Parsed = {"echo": None, "echo_name": None, "status": None, "status_name": None}


def _request(command: int, plaintext: bytes) -> Parsed:
    return {**_NO_ECHO, **describe(REQUEST_PARSERS, command, plaintext)}


def _answer(plaintext: bytes) -> Parsed:
    if not plaintext:  # spec §5.5.21: RESET_LOCK may be confirmed by an empty answer
        return dict(_NO_ECHO)
    try:
        answer = parse_response(plaintext)
    except ProtocolError as exc:
        echo = {"echo": plaintext[0], "echo_name": command_name(plaintext[0])}
        return {**_NO_ECHO, **echo, "parse_error": exc.message}
    out: Parsed = {
        "echo": answer.command,
        "echo_name": command_name(answer.command),
        "status": answer.status,
        "status_name": enum_name(ResponseStatus, answer.status),
    }
    if not answer.ok:
        code = answer.error_code
        name = enum_name(ErrorCode, code)
        out["lock_error"] = {"code": code, "name": name, "text": answer.error_text}
        return out
    return {**out, **describe(RESPONSE_PARSERS, answer.command, answer.data)}


def _is_answer(outer: int, plaintext: bytes) -> bool:
    if outer == Command.RESPONSE:
        return True
    return (  # 0x19 is both directions: its answer is `19 00|01 key`, its request "SCIENER"
        outer == Command.GET_AES_KEY
        and len(plaintext) >= 2
        and plaintext[0] == outer
        and plaintext[1] in (ResponseStatus.FAILURE, ResponseStatus.SUCCESS)
    )


def decode_frame(raw: bytes, key: bytes | None) -> Parsed:
    """The documented fields of one frame; ProtocolError when it is not a V3 frame."""
    frame = parse_frame(raw, strict=False)
    out = {**_header(frame), "direction": None}
    if frame.command == Command.GET_AES_KEY:
        use, label = DEFAULT_KEY, "default"
    elif key is not None:
        use, label = key, "default" if key == DEFAULT_KEY else "given"
    elif not frame.data:
        use, label = DEFAULT_KEY, "none"  # nothing is encrypted: no key needed
    else:
        out["direction"] = "response" if frame.command == Command.RESPONSE else "request"
        out["note"] = "The data is encrypted with the lock's session key: pass --key to decrypt it."
        return out
    out["key"] = label
    try:
        plaintext = decrypt(frame.data, use)
    except DecryptError:
        guess: dict[int, str | None] = {Command.RESPONSE: "response", Command.GET_AES_KEY: None}
        out["direction"] = guess.get(frame.command, "request")  # 0x19: undecided (null)
        shape = "it is not whole AES blocks" if len(frame.data) % 16 else "wrong key or damaged"
        out["error"] = f"The data does not decrypt with the {label} key ({shape})."
        return out
    answer = _is_answer(frame.command, plaintext)
    out["direction"] = "response" if answer else "request"
    out["plaintext"] = plaintext
    out.update(_answer(plaintext) if answer else _request(frame.command, plaintext))
    return out


def parse_key(text: str) -> bytes:
    """A 16-byte AES key from hex (separators allowed) or the word `default`."""
    if text.strip().lower() == "default":
        return DEFAULT_KEY
    key = parse_hex([text], "key")
    if len(key) != KEY_LEN:
        raise InputError(f"a TTLock key has {KEY_LEN} bytes (32 hex digits), not {len(key)}")
    return key


class TTLockDecoder:
    """The `decode ttlock` subcommand."""

    brand = "ttlock"
    summary = "decode one TTLock V3 frame (requests and answers; 0x19 needs no key)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """HEX (one or more parts, joined) and --key."""
        parser.add_argument(
            "hex",
            nargs="+",
            metavar="HEX",
            help="the frame: 7f5a..., spaces, colons, 0x prefixes and a 0d0a trailer allowed",
        )
        parser.add_argument(
            "--key",
            metavar="HEX",
            help="the lock's 16-byte AES session key (or 'default'); 0x19 frames need none",
        )

    def decode(self, args: argparse.Namespace) -> dict[str, object]:
        """Decode the pasted frame."""
        key = None if args.key is None else parse_key(args.key)
        return decode_frame(parse_hex(args.hex, "frame"), key)


DECODER = TTLockDecoder()
