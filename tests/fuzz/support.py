"""The fuzz contract and shared strategies: a parser returns its result or raises a typed error.

`assert_typed` states the contract for one call; a `Case` names one parser with a strategy for
its input, and `run_case` checks the case's known examples, then fuzzes it with the profile
chosen by HYPOTHESIS_PROFILE (see conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttlock_nuki_addon.errors import LockError
from ttlock_nuki_addon.validity import ValidationError

Allowed = tuple[type[BaseException], ...]
# What a parser of browser or MQTT text may raise: a lock error or a validation error.
TYPED: Allowed = (LockError, ValidationError)
# What a parser of radio input may raise: the driver maps LockError (ProtocolError mostly).
RADIO: Allowed = (LockError,)
PROFILE_ENV, DEFAULT_PROFILE = "HYPOTHESIS_PROFILE", "ci"  # profiles: see conftest.py
_SHOWN = 300


def _shown(args: Sequence[object]) -> str:
    text = ", ".join(repr(arg) for arg in args)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def assert_typed(
    fn: Callable[..., object],
    *args: object,
    allowed: Allowed = TYPED,
    returns: type | tuple[type, ...] | None = None,
) -> object:
    """`fn(*args)`'s result (of type `returns`), or None when it raised an `allowed` error.

    Any other exception (IndexError, KeyError, struct.error, UnicodeDecodeError, TypeError, a
    ValueError that is no ValidationError, RecursionError, ...) fails with the input shown.
    """
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        result = fn(*args)
    except allowed:
        return None
    except Exception as exc:
        raise AssertionError(
            f"{name}({_shown(args)}) raised {type(exc).__name__}: {exc}; only "
            f"{', '.join(t.__name__ for t in allowed)} may come out"
        ) from exc
    if returns is not None and not isinstance(result, returns):
        raise AssertionError(f"{name}({_shown(args)}) returned {result!r}, not {returns}")
    return result


@dataclass(frozen=True)
class Case:
    """One parser of untrusted input: how to call it on one drawn value and what may come out.

    `examples` run before the fuzzing (known tricky inputs, minimal failing inputs of bugs);
    `bug` marks a case whose parser has a known bug: xfail(strict=True) until it is fixed.
    """

    name: str
    parse: Callable[[Any], object]
    inputs: st.SearchStrategy[Any]
    allowed: Allowed = TYPED
    returns: type | tuple[type, ...] | None = None
    examples: tuple[Any, ...] = ()
    bug: str | None = None


def fuzz_settings() -> settings:
    """The settings profile chosen by HYPOTHESIS_PROFILE ("ci" when unset)."""
    return settings.get_profile(os.environ.get(PROFILE_ENV, DEFAULT_PROFILE))


def run_case(case: Case) -> None:
    """Check the case's examples, then fuzz it under the chosen profile."""
    for example in case.examples:
        assert_typed(case.parse, example, allowed=case.allowed, returns=case.returns)

    @fuzz_settings()
    @given(case.inputs)
    def fuzz(value: Any) -> None:
        """One drawn input through the parser."""
        assert_typed(case.parse, value, allowed=case.allowed, returns=case.returns)

    fuzz()


def params(cases: Iterable[Case]) -> list[Any]:
    """pytest parameters, one per case, id = the case's name; known bugs are strict xfails."""
    out: list[Any] = []
    for case in cases:
        marks = [] if case.bug is None else [pytest.mark.xfail(strict=True, reason=case.bug)]
        out.append(pytest.param(case, id=case.name, marks=marks))
    names = [p.id for p in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


# --- bytes ----------------------------------------------------------------------------------


def any_bytes(max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Random bytes, with lengths spread evenly too (hypothesis favours short ones)."""
    sized = st.integers(0, max_size).flatmap(lambda n: st.binary(min_size=n, max_size=n))
    return st.binary(max_size=max_size) | sized


@st.composite
def mutated(draw: st.DrawFn, seeds: st.SearchStrategy[bytes], max_ops: int = 3) -> bytes:
    """A seed with a few bit flips, byte changes, truncations, deletions or insertions."""
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("flip", "set", "cut", "drop", "insert", "append")))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(
                st.sampled_from((0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)) | st.integers(0, 255)
            )
        elif op == "cut":
            del data[at:]
        elif op == "drop":
            del data[at : at + draw(st.integers(1, 4))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def radio(*seeds: bytes | st.SearchStrategy[bytes], max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Bytes from the air: random, or valid seeds (bytes or strategies) as is and mutated."""
    if not seeds:
        return any_bytes(max_size)
    pool = st.one_of(*(st.just(s) if isinstance(s, bytes) else s for s in seeds))
    return any_bytes(max_size) | pool | mutated(pool)


# --- JSON -----------------------------------------------------------------------------------

# Strings that sit on the edges of the panel's formats (ISO times, HH:MM, ids, digits).
EDGY_TEXT = (
    "",
    " ",
    "\x00",
    "\u200b",
    "null",
    "permanent",
    "pin",
    "card",
    "mon",
    "MON",
    "1234",
    "123456789",
    "1234567890",
    "٣٤٥٦",
    "00:00",
    "23:59",
    "24:00",
    "7:5",
    "2025-03-01T08:00",
    "2025-03-01T08:00:00+01:00",
    "2025-03-01T08:00Z",
    "2025-13-01T08:00",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59.999999-23:59",
    "2025-03-01",
    "aabbcc001122",
    "AA:BB:CC:00:11:22",
    "x" * 65,
    "9" * 5000,
)
texts = st.sampled_from(EDGY_TEXT) | st.text(max_size=24)
json_scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70) | st.floats() | texts
)
# What json.loads can hand a parser: NaN and Infinity included, keys always strings.
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def mostly(
    valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any] | None = None, odds: int = 9
) -> st.SearchStrategy[Any]:
    """`valid` `odds` times out of `odds` + 1, else `other` (any JSON value by default)."""
    rest = json_values if other is None else other
    # The odd one out is a middle value: hypothesis draws the bounds more often than others.
    return st.integers(0, odds).flatmap(lambda n: rest if n == odds // 2 else valid)


@st.composite
def json_objects(
    draw: st.DrawFn, fields: Mapping[str, st.SearchStrategy[Any]], noise: int = 20
) -> Any:
    """Mostly objects with the parser's own keys, sometimes junk.

    Each key is left out with odds 1/`noise`, holds any JSON value with odds 1/`noise`, and a
    typical value otherwise; 1 object in 20 has an unknown key more, 1 in 20 is any JSON.
    """
    if draw(st.integers(0, 19)) == 10:  # middle values: hypothesis favours the bounds
        return draw(json_values)
    obj: dict[str, Any] = {}
    for key, typical in fields.items():
        roll = draw(st.integers(0, noise - 1))
        if roll == noise // 2:
            continue
        obj[key] = draw(json_values) if roll == noise // 2 + 1 else draw(typical)
    if draw(st.integers(0, 19)) == 11:
        obj[draw(st.sampled_from(("unknown", "")) | texts)] = draw(json_values)
    return obj
