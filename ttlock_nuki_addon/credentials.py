"""Credentials (PINs, cards, fingerprints), add requests and enrolment progress."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from .validity import (
    JSONObject,
    Permanent,
    ValidationError,
    Validity,
    check_name,
    expect_object,
    opt_str,
    parse_enum,
    req_str,
)

# Both brands take 4 to 9 ASCII digits (ttlock §5.5.14); Nuki narrows this to 6 (nuki §4.9).
_PIN_CODE = re.compile(r"[0-9]{4,9}")


class CredentialKind(StrEnum):
    """What a person presents to the lock."""

    PIN = "pin"
    CARD = "card"
    FINGERPRINT = "fingerprint"


def _check_code(kind: CredentialKind, code: str | None) -> None:
    if kind is CredentialKind.PIN:
        if not isinstance(code, str) or not _PIN_CODE.fullmatch(code):
            raise ValidationError("'code' must be 4 to 9 digits for a PIN.")
    elif code is not None:
        raise ValidationError("'code' is only for PINs.")


def _credential_parts(obj: dict[str, object]) -> tuple[CredentialKind, str, str | None, Validity]:
    kind = parse_enum(CredentialKind, obj.get("kind"), "kind")
    raw_validity = obj.get("validity")
    validity = Permanent() if raw_validity is None else Validity.from_json(raw_validity)
    return kind, check_name(obj.get("name")), opt_str(obj, "code"), validity


@dataclass(frozen=True, slots=True)
class Credential:
    """A PIN, card or fingerprint on a lock; `id` is an opaque non-secret string per kind."""

    kind: CredentialKind
    id: str
    name: str
    code: str | None = field(default=None, repr=False)
    validity: Validity = field(default_factory=Permanent)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValidationError("'id' must not be empty.")
        _check_code(self.kind, self.code)

    def to_json(self, *, with_code: bool = True) -> JSONObject:
        """The websocket shape; `code` is null for cards, fingerprints and when not wanted."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "code": self.code if with_code else None,
            "validity": self.validity.to_json(),
        }

    @classmethod
    def from_json(cls, value: object, *, ignore: Iterable[str] = ()) -> Credential:
        """Parse the websocket shape (or credentials.update minus `ignore` keys) strictly."""
        obj = expect_object(
            value,
            "credential",
            required=("id", "kind", "name"),
            optional=("code", "validity"),
            ignore=ignore,
        )
        kind, name, code, validity = _credential_parts(obj)
        return cls(kind, req_str(obj, "id"), name, code, validity)


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """A request to add a credential; cards and fingerprints are enrolled at the lock."""

    kind: CredentialKind
    name: str
    code: str | None = field(default=None, repr=False)
    validity: Validity = field(default_factory=Permanent)

    def __post_init__(self) -> None:
        check_name(self.name)
        _check_code(self.kind, self.code)

    @classmethod
    def from_json(cls, value: object, *, ignore: Iterable[str] = ()) -> CredentialSpec:
        """Parse credentials.add parameters (minus `ignore` keys) strictly."""
        obj = expect_object(
            value,
            "credential",
            required=("kind", "name"),
            optional=("code", "validity"),
            ignore=ignore,
        )
        kind, name, code, validity = _credential_parts(obj)
        return cls(kind, name, code, validity)


@dataclass(frozen=True, slots=True)
class EnrolmentProgress:
    """Enrolment progress: step 0 waits for the first touch, step == total is done."""

    step: int
    total: int
    message: str

    def __post_init__(self) -> None:
        if not 0 <= self.step <= self.total or self.total < 1:
            raise ValidationError("Enrolment progress needs 0 <= step <= total and total >= 1.")

    def to_json(self) -> JSONObject:
        """{"step", "total", "message"}; the web layer adds lock_id."""
        return {"step": self.step, "total": self.total, "message": self.message}


ProgressCallback: TypeAlias = Callable[[EnrolmentProgress], None]
