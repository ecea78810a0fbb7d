"""The only writer of the data directory: one versioned JSON document, atomic, 0600, with .bak.

Files in ``data_dir`` (``name`` defaults to ``store.json``):

- ``store.json``: the newest complete document, always replaced atomically.
- ``store.json.bak``: the previous complete document (a hard link to, or copy of, the old main).
- ``store.json.tmp-*`` / ``store.json.bak.tmp-*``: in-flight temp files; stale ones are removed
  on load.
- ``store.json.corrupt-<UTC time>``: an unreadable main file, set aside (never deleted) when the
  store fell back to the backup.

A save writes and fsyncs a temp file, hard-links (or copies) the current main to ``.bak`` via a
temp name and a rename, fsyncs the directory, renames the temp onto main and fsyncs again: at
every instant main is a complete old or new document and ``.bak`` the one before it (or equal).

All calls are synchronous and blocking for a few milliseconds (tiny files plus fsync); they are
safe to call from the asyncio loop, and one ``Store`` per data directory per process must be the
only writer.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias, TypedDict, TypeVar, cast

from .errors import StoreError

_LOGGER = logging.getLogger(__name__)

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]
_T = TypeVar("_T")

SCHEMA_VERSION = 1
"""The document schema this code writes; older documents are migrated up to it on load."""

MIGRATIONS: dict[int, Callable[[JsonObject], JsonObject]] = {}
"""``MIGRATIONS[n]`` turns a schema-n document into a schema-(n+1) one (the store sets "schema")."""


class Document(TypedDict):
    """The whole store at the current schema: per-installation data and lock records by id."""

    schema: int
    installation: JsonObject
    locks: dict[str, JsonObject]


class _CorruptError(Exception):
    """A candidate file is not a usable document; the message says why (never its contents)."""


def empty_document() -> Document:
    """Return a new empty document at the current schema."""
    return {"schema": SCHEMA_VERSION, "installation": {}, "locks": {}}


def _to_json(value: object) -> str:
    """Serialise strictly (no NaN, str keys only by type contract); raises TypeError/ValueError."""
    return json.dumps(value, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _parse(data: bytes) -> tuple[JsonObject, int]:
    """Parse raw bytes into (document, schema); raise _CorruptError saying what is wrong."""
    if not data:
        raise _CorruptError("the file is empty")
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:  # exc.msg never quotes the document
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise _CorruptError(f"invalid or truncated JSON: {where}") from None
    except (ValueError, RecursionError) as exc:  # bad UTF-8, absurd nesting
        raise _CorruptError(f"not readable as JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise _CorruptError("the top level is not a JSON object")
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise _CorruptError("the schema version is missing or not a positive integer")
    return cast(JsonObject, doc), schema


def _check_shape(doc: Mapping[str, object]) -> Document:
    """Return ``doc`` as a Document, or raise _CorruptError unless it has the current shape."""
    if doc.get("schema") != SCHEMA_VERSION:
        raise _CorruptError(f"the schema version is not {SCHEMA_VERSION}")
    for key in ("installation", "locks"):
        if not isinstance(doc.get(key), dict):
            raise _CorruptError(f'"{key}" is missing or not an object')
    locks = doc["locks"]
    assert isinstance(locks, dict)
    if not all(isinstance(rec, dict) for rec in locks.values()):
        raise _CorruptError("a lock record is not an object")
    return cast(Document, doc)


def _migrate(doc: JsonObject, schema: int) -> Document:
    """Apply MIGRATIONS in order from ``schema`` up to SCHEMA_VERSION."""
    for version in range(schema, SCHEMA_VERSION):
        step = MIGRATIONS.get(version)
        if step is None:
            raise _CorruptError(f"no migration from schema {version} to {version + 1}")
        try:
            doc = step(doc)
        except Exception as exc:  # a broken old document must not crash the add-on
            raise _CorruptError(
                f"migration from schema {version} failed ({type(exc).__name__})"
            ) from None
        doc["schema"] = version + 1
    return _check_shape(doc)


def parse_document(data: bytes) -> Document:
    """A whole store document from bytes (a backup's inside), migrated; StoreError if unusable."""
    try:
        doc, schema = _parse(data)
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"The data was written by a newer version of the add-on (schema {schema}, this "
                f"version knows up to {SCHEMA_VERSION}); update the add-on first."
            )
        return _migrate(doc, schema)
    except _CorruptError as exc:
        raise StoreError(f"The data is not a usable add-on store: {exc}.") from None


def _fsync_dir(path: Path) -> None:
    """Make renames and links in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some filesystems cannot fsync a directory
            raise
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from the first instant (whatever the umask), write, fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """Versioned JSON document in ``data_dir``: ``installation`` data and ``locks`` by id."""

    def __init__(self, data_dir: Path, name: str = "store.json") -> None:
        """Remember where the data lives; nothing is read until first use."""
        self.data_dir = data_dir
        self.path = data_dir / name
        self.backup_path = data_dir / f"{name}.bak"
        self._doc: Document | None = None

    def load(self) -> Document:
        """(Re)read the document from disk, falling back to .bak and migrating; return a copy."""
        main = self._read(self.path)
        chosen: tuple[Document, int] | None = None
        main_problem: str | None = None
        if main is not None:
            try:
                chosen = self._usable(self.path, main)
            except _CorruptError as exc:
                main_problem = str(exc)
        if chosen is None:
            backup = self._read(self.backup_path)
            if backup is None:
                if main_problem is not None:
                    raise StoreError(
                        f"The saved data in {self.path} is unusable ({main_problem}) and there "
                        f"is no backup {self.backup_path.name}; nothing was changed."
                    )
                chosen = (empty_document(), SCHEMA_VERSION)
            else:
                try:
                    chosen = self._usable(self.backup_path, backup)
                except _CorruptError as exc:
                    raise StoreError(
                        f"The saved data is unusable: {self.path} "
                        f"({main_problem or 'missing'}) and {self.backup_path} ({exc}); "
                        "nothing was changed. Restore a backup of the data directory."
                    ) from None
                _LOGGER.warning(
                    "Store file %s is unusable (%s); loaded the previous version from %s",
                    self.path,
                    main_problem or "missing",
                    self.backup_path,
                )
        # Every check passed: only now touch the directory.
        try:
            self._remove_stale_temps()
            if main_problem is not None:
                self._set_aside(main_problem)
        except OSError as exc:
            raise StoreError(f"Cannot tidy {self.data_dir}: {exc.strerror or exc}.") from exc
        doc, schema = chosen
        if schema != SCHEMA_VERSION:
            _LOGGER.info("Migrated store from schema %d to %d", schema, SCHEMA_VERSION)
            self._save(doc)
        else:
            self._doc = doc
        return copy.deepcopy(doc)

    def _read(self, path: Path) -> bytes | None:
        """Return the bytes of ``path`` or None if it does not exist."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from exc

    def _usable(self, path: Path, data: bytes) -> tuple[Document, int]:
        """Parse, refuse a newer schema, migrate; return (current-schema doc, schema on disk)."""
        doc, schema = _parse(data)
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"The data in {path} was written by a newer version of the add-on (schema "
                f"{schema}, this version knows up to {SCHEMA_VERSION}); update the add-on or "
                "restore a backup."
            )
        return _migrate(doc, schema), schema

    def _remove_stale_temps(self) -> None:
        """Delete temp files a crashed writer left behind."""
        prefixes = (f"{self.path.name}.tmp-", f"{self.backup_path.name}.tmp-")
        if not self.data_dir.is_dir():
            return
        for entry in list(self.data_dir.iterdir()):
            if entry.name.startswith(prefixes):
                _LOGGER.info("Removing stale temp file %s left by an interrupted write", entry)
                entry.unlink(missing_ok=True)

    def _set_aside(self, problem: str) -> None:
        """Rename an unusable main file to ``<name>.corrupt-<time>`` so nothing is lost."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.data_dir / f"{self.path.name}.corrupt-{stamp}"
        count = 1
        while target.exists():
            count += 1
            target = self.data_dir / f"{self.path.name}.corrupt-{stamp}-{count}"
        os.replace(self.path, target)
        _fsync_dir(self.data_dir)
        _LOGGER.error("Kept the unusable store file (%s) as %s for inspection", problem, target)

    def _current(self) -> Document:
        """Return the cached document, loading it on first use."""
        if self._doc is None:
            self.load()
        assert self._doc is not None
        return self._doc

    def update(self, fn: Callable[[Document], _T]) -> _T:
        """Let ``fn`` change a copy of the document, write it atomically, return fn's result."""
        doc = copy.deepcopy(self._current())
        result = fn(doc)
        try:
            _check_shape(doc)
        except _CorruptError as exc:
            raise ValueError(f"update would break the store document: {exc}") from None
        self._save(doc)
        return result

    def _save(self, doc: Document) -> None:
        """Write ``doc`` as the new main file, keeping the previous good main as .bak."""
        data = _to_json(doc).encode("utf-8")
        self._ensure_dir()
        tmp = self.data_dir / f"{self.path.name}.tmp-{secrets.token_hex(6)}"
        try:
            _write_new(tmp, data)
            self._refresh_backup()
            os.replace(tmp, self.path)
            _fsync_dir(self.data_dir)
        except OSError as exc:
            raise StoreError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
        finally:
            tmp.unlink(missing_ok=True)
        self._doc = cast(Document, json.loads(data))

    def _refresh_backup(self) -> None:
        """Make .bak a copy of the current main file, if main is a complete document."""
        current = self._read(self.path)
        if current is None:
            return
        try:
            _parse(current)
        except _CorruptError as exc:
            self._set_aside(str(exc))
            return
        tmp = self.data_dir / f"{self.backup_path.name}.tmp-{secrets.token_hex(6)}"
        try:
            try:
                os.link(self.path, tmp)
                os.chmod(tmp, 0o600)
            except OSError:  # no hard links here (some FUSE/vfat mounts): copy the bytes
                tmp.unlink(missing_ok=True)
                _write_new(tmp, current)
            os.replace(tmp, self.backup_path)
        finally:
            tmp.unlink(missing_ok=True)
        # Durable before main is replaced, so a power cut never loses both versions.
        _fsync_dir(self.data_dir)

    def _ensure_dir(self) -> None:
        """Create the data directory with mode 0700 if it is missing."""
        if self.data_dir.is_dir():
            return
        try:
            self.data_dir.mkdir(mode=0o700, parents=True)
            os.chmod(self.data_dir, 0o700)  # mkdir's mode is masked by the umask
        except OSError as exc:
            raise StoreError(f"Cannot create {self.data_dir}: {exc.strerror or exc}.") from exc

    def export_document(self) -> Document:
        """A deep copy of the whole document (for backups)."""
        return copy.deepcopy(self._current())

    def installation(self) -> JsonObject:
        """Return a copy of the per-installation data."""
        return copy.deepcopy(self._current()["installation"])

    def set_installation(self, key: str, value: object) -> None:
        """Set one per-installation value (JSON-compatible) and write."""
        clean = cast(JsonValue, json.loads(_to_json(value)))

        def change(doc: Document) -> None:
            doc["installation"][key] = clean

        self.update(change)

    def installation_setdefault(self, key: str, factory: Callable[[], JsonValue]) -> JsonValue:
        """Return the installation value ``key``, creating and writing it once if missing."""
        if key not in self._current()["installation"]:
            self.set_installation(key, factory())
        return copy.deepcopy(self._current()["installation"][key])

    def lock_ids(self) -> list[str]:
        """Return the ids of all stored locks, sorted."""
        return sorted(self._current()["locks"])

    def get_lock(self, lock_id: str) -> JsonObject | None:
        """Return a copy of the lock's record, or None if unknown."""
        return copy.deepcopy(self._current()["locks"].get(lock_id))

    def put_lock(self, lock_id: str, record: Mapping[str, object]) -> None:
        """Create or replace the lock's record (JSON-compatible values) and write."""
        if not lock_id:
            raise ValueError("lock_id must not be empty")
        clean = cast(JsonObject, json.loads(_to_json(dict(record))))

        def change(doc: Document) -> None:
            doc["locks"][lock_id] = clean

        self.update(change)

    def remove_lock(self, lock_id: str) -> bool:
        """Delete the lock's record and write; return whether it existed."""
        if lock_id not in self._current()["locks"]:
            return False

        def change(doc: Document) -> None:
            del doc["locks"][lock_id]

        self.update(change)
        return True
