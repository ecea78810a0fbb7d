"""`python -m ttlock_nuki_addon decode BRAND HEX [--key HEX]`: a pasted frame as one JSON object."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import json
import pkgutil
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import date, time
from enum import Enum
from typing import NoReturn, Protocol, TypeAlias, runtime_checkable

from .errors import LockError

# Brands plug in without touching this module: every module `ttlock_nuki_addon/decode_<brand>.py`
# that defines `DECODER` (a BrandDecoder) becomes `decode <brand>`. A decoder returns a dict of
# plain values, dataclasses, enums, bytes and datetimes; to_json makes it JSON-native (bytes as
# hex, datetimes ISO, enums by name). Exit codes: 0 decoded; 1 decoded, but the JSON carries
# `error` (the data did not decrypt); 2 malformed input, reported as one line on stderr.
# Nothing here logs: the output is only what the person pasted, decoded.

PROG = "python -m ttlock_nuki_addon decode"
MODULE_PREFIX = "decode_"
EXIT_OK, EXIT_UNDECRYPTED, EXIT_BAD_INPUT = 0, 1, 2
_SEPARATORS = re.compile(r"[\s:,;]+")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")
_SHOWN = 16  # characters of a bad token quoted in an error

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


class InputError(Exception):
    """Malformed input: printed as one line on stderr, exit code 2."""


@runtime_checkable
class BrandDecoder(Protocol):
    """What a `decode_<brand>` module's DECODER provides."""

    brand: str
    summary: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the brand's arguments (HEX, --key, ...) to its subcommand."""

    def decode(self, args: argparse.Namespace) -> dict[str, object]:
        """The decoded fields; InputError or LockError for malformed input."""


_REGISTRY: dict[str, BrandDecoder] = {}


def register(decoder: BrandDecoder) -> None:
    """Offer `decoder` as `decode <decoder.brand>` (discovered modules call this for you)."""
    _REGISTRY[decoder.brand] = decoder


@functools.cache
def _discover() -> None:
    package = importlib.import_module(__package__ or "ttlock_nuki_addon")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith(MODULE_PREFIX):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            decoder = getattr(module, "DECODER", None)
            if not isinstance(decoder, BrandDecoder):
                raise TypeError(f"{module.__name__} defines no DECODER (a BrandDecoder)")
            _REGISTRY.setdefault(decoder.brand, decoder)


def decoders() -> dict[str, BrandDecoder]:
    """Every decoder by brand, sorted: discovered modules plus any registered by hand."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def parse_hex(parts: Sequence[str], what: str) -> bytes:
    """Bytes of pasted hex (what: "frame"): separators (space, colon, comma), 0x prefixes."""
    tokens = [t for part in parts for t in _SEPARATORS.split(part) if t]
    tokens = [t[2:] if t[:2] in ("0x", "0X") else t for t in tokens]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise InputError(f"no {what} given (hex digits expected)")
    for token in tokens:
        if not _HEX_DIGITS.fullmatch(token):
            shown = token if len(token) <= _SHOWN else token[:_SHOWN] + "..."
            raise InputError(f"the {what} is not hex: {shown!r}")
    if len(tokens) > 1 and all(len(t) <= 2 for t in tokens):
        text = "".join(t.zfill(2) for t in tokens)  # one byte per token, e.g. JS `5` for `05`
    else:
        text = "".join(tokens)
    if len(text) % 2:
        raise InputError(f"the {what} has an odd number of hex digits ({len(text)})")
    return bytes.fromhex(text)


def to_json(value: object) -> JSONValue:
    """A JSON-native copy of a decoded value (bytes hex, datetimes ISO, enums by name)."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, Enum):
        return value.name if value.name is not None else to_json(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, date | time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((to_json(v) for v in value), key=json.dumps)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return str(value)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become InputError (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block."""
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    """The `decode` parser with one subcommand per brand."""
    parser = _Parser(
        prog=PROG,
        description="Decode a frame pasted from a log into one JSON object (nothing is logged).",
        epilog="Exit codes: 0 decoded, 1 decoded but it did not decrypt, 2 malformed input.",
    )
    brands = parser.add_subparsers(dest="brand", metavar="BRAND", required=True)
    for brand, decoder in decoders().items():
        sub = brands.add_parser(brand, help=decoder.summary, description=decoder.summary)
        decoder.add_arguments(sub)
        sub.set_defaults(decoder=decoder)
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"decode: error: {' '.join(message.split())}\n")
    return EXIT_BAD_INPUT


def main(argv: Sequence[str]) -> int:
    """Run `decode` with the arguments after the word `decode`; returns the exit code."""
    try:
        args = build_parser().parse_args(list(argv))
        decoder: BrandDecoder = args.decoder
        result = decoder.decode(args)
    except InputError as exc:
        return _fail(str(exc))
    except LockError as exc:  # a frame that does not parse (ProtocolError) is malformed input
        return _fail(exc.message)
    sys.stdout.write(json.dumps(to_json(result), indent=2) + "\n")
    return EXIT_UNDECRYPTED if "error" in result else EXIT_OK
