"""Typed reads of a stored lock record's JSON fields; a wrong type raises TypeError(key)."""

from __future__ import annotations

from .store import JsonObject

__all__ = ["int_field", "opt_int_field", "opt_text_field", "text_field"]


def text_field(obj: JsonObject, key: str) -> str:
    """`obj[key]` as a string (KeyError when missing, TypeError when not a string)."""
    value = obj[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def opt_text_field(obj: JsonObject, key: str) -> str | None:
    """`obj[key]` when it is a string, else None."""
    value = obj.get(key)
    return value if isinstance(value, str) else None


def int_field(obj: JsonObject, key: str) -> int:
    """`obj[key]` as an int, not a bool (KeyError when missing, TypeError for other types)."""
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(key)
    return value


def opt_int_field(obj: JsonObject, key: str) -> int | None:
    """`obj[key]` as an int, None when missing or null (TypeError for other types)."""
    value = obj.get(key)
    return None if value is None else int_field(obj, key)
