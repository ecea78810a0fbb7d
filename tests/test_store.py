"""Tests for the store: atomic versioned writes, 0600 files, .bak fallback, migrations, crashes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ttlock_nuki_addon import store as store_mod
from ttlock_nuki_addon.errors import StoreError
from ttlock_nuki_addon.store import SCHEMA_VERSION, Document, Store, empty_document

ROOT = Path(__file__).resolve().parents[1]
SECRET = "c0ffee00deadbeef5ec2e7aa11223344"


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Return name -> (bytes, mtime_ns) of every file in ``directory``."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def mode(path: Path) -> int:
    """Return the permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def doc_with(counter: int, schema: int = SCHEMA_VERSION) -> dict[str, Any]:
    """Return a small valid document whose installation counter is ``counter``."""
    return {"schema": schema, "installation": {"counter": counter}, "locks": {}}


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """A data dir whose main holds counter 2 and whose .bak holds counter 1."""
    store = Store(tmp_path)
    store.set_installation("counter", 1)
    store.put_lock("aa:bb", {"brand": "ttlock", "aes_key": SECRET})
    store.set_installation("counter", 2)
    return tmp_path


# ---- basics ---------------------------------------------------------------------------------


def test_empty_start_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    assert store.load() == empty_document() == {"schema": 1, "installation": {}, "locks": {}}
    assert store.lock_ids() == []
    assert not data.exists()


def test_lock_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    record = {"brand": "nuki", "address": "AA:BB", "complete": False, "names": {"1": "Ann"}}
    store.put_lock("aa:bb", record)
    store.put_lock("cc:dd", {"brand": "ttlock", "complete": True, "tz_offset": 3600})
    assert store.get_lock("aa:bb") == record
    assert store.lock_ids() == ["aa:bb", "cc:dd"]

    fresh = Store(tmp_path)
    assert fresh.get_lock("aa:bb") == record
    got = fresh.get_lock("aa:bb")
    assert got is not None
    got["brand"] = "changed"  # callers get copies, never the cached document
    assert fresh.get_lock("aa:bb") == record

    assert fresh.remove_lock("aa:bb") is True
    assert fresh.remove_lock("aa:bb") is False
    assert fresh.get_lock("aa:bb") is None
    assert Store(tmp_path).lock_ids() == ["cc:dd"]
    on_disk = json.loads((tmp_path / "store.json").read_text())
    assert on_disk["schema"] == SCHEMA_VERSION
    assert set(on_disk) == {"schema", "installation", "locks"}


def test_installation_setdefault_generates_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def factory() -> int:
        calls.append(1)
        return 0x1234ABCD

    assert Store(tmp_path).installation_setdefault("nuki_app_id", factory) == 0x1234ABCD
    again = Store(tmp_path)
    assert again.installation_setdefault("nuki_app_id", factory) == 0x1234ABCD
    assert again.installation() == {"nuki_app_id": 0x1234ABCD}
    assert calls == [1]


def test_update_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.set_installation("counter", 1)
    before = snapshot(tmp_path)

    def boom(doc: Document) -> None:
        doc["installation"]["counter"] = 99
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        store.update(boom)
    with pytest.raises(ValueError, match="locks"):
        store.update(lambda doc: doc.__setitem__("locks", []))
    with pytest.raises(TypeError):
        store.put_lock("aa:bb", {"key": b"\x00"})
    with pytest.raises(ValueError):
        store.put_lock("aa:bb", {"value": float("nan")})
    assert snapshot(tmp_path) == before
    assert store.installation() == {"counter": 1}
    assert store.update(lambda doc: doc["installation"].pop("counter")) == 1
    assert Store(tmp_path).installation() == {}


def test_bak_holds_previous_version(two_versions: Path) -> None:
    main = json.loads((two_versions / "store.json").read_text())
    bak = json.loads((two_versions / "store.json.bak").read_text())
    assert main["installation"] == {"counter": 2}
    assert bak["installation"] == {"counter": 1}
    assert bak["locks"] == main["locks"]


@pytest.mark.parametrize("hard_links", [True, False])
def test_modes_with_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    if not hard_links:

        def no_link(*_args: object, **_kwargs: object) -> None:
            raise PermissionError("no hard links on this filesystem")

        monkeypatch.setattr(os, "link", no_link)
    data = tmp_path / "deep" / "data"
    old = os.umask(0)
    try:
        store = Store(data)
        store.put_lock("aa:bb", {"aes_key": SECRET})
        store.put_lock("aa:bb", {"aes_key": SECRET, "complete": True})
        store.put_lock("cc:dd", {"aes_key": SECRET})
    finally:
        os.umask(old)
    assert mode(data) == 0o700
    assert mode(data / "store.json") == 0o600
    assert mode(data / "store.json.bak") == 0o600
    assert sorted(p.name for p in data.iterdir()) == ["store.json", "store.json.bak"]
    bak = json.loads((data / "store.json.bak").read_text())
    assert bak["locks"] == {"aa:bb": {"aes_key": SECRET, "complete": True}}


def test_existing_data_dir_mode_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    Store(tmp_path).set_installation("x", 1)
    assert mode(tmp_path) == 0o755


# ---- corruption -----------------------------------------------------------------------------

CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda _b: b"",
    "garbage": lambda _b: b"\x00\x01garbage\xff",
    "bad-utf8": lambda _b: b'{"schema": 1, "installation": {"x": "\xff"}, "locks": {}}',
    "deep": lambda _b: b"[" * 200_000,
    "not-object": lambda _b: b"[1, 2, 3]\n",
    "no-schema": lambda _b: b'{"installation": {}, "locks": {}}\n',
    "bad-schema": lambda _b: b'{"schema": "1", "installation": {}, "locks": {}}\n',
    "bad-shape": lambda _b: b'{"schema": 1, "installation": {}, "locks": []}\n',
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_main_falls_back_to_bak(
    two_versions: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    main = two_versions / "store.json"
    bad = CORRUPTIONS[kind](main.read_bytes())
    main.write_bytes(bad)
    caplog.set_level(logging.DEBUG, logger="ttlock_nuki_addon.store")

    store = Store(two_versions)
    assert store.load()["installation"] == {"counter": 1}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings
    assert str(main) in warnings[0].getMessage()
    assert "store.json.bak" in warnings[0].getMessage()
    assert SECRET not in caplog.text
    kept = [p for p in two_versions.iterdir() if p.name.startswith("store.json.corrupt-")]
    assert len(kept) == 1
    assert kept[0].read_bytes() == bad
    assert kept[0].name in caplog.text

    store.set_installation("counter", 3)
    assert Store(two_versions).installation() == {"counter": 3}
    assert json.loads((two_versions / "store.json.bak").read_text())["installation"] == {
        "counter": 1
    }
    assert kept[0].read_bytes() == bad


def test_missing_main_with_bak_loads_bak(
    two_versions: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (two_versions / "store.json").unlink()
    assert Store(two_versions).installation() == {"counter": 1}
    assert "missing" in caplog.text


@pytest.mark.parametrize("bak_state", ["corrupt", "absent"])
def test_unusable_main_and_bak_raise_and_touch_nothing(two_versions: Path, bak_state: str) -> None:
    (two_versions / "store.json").write_bytes(b'{"schema": 1, "loc')
    bak = two_versions / "store.json.bak"
    if bak_state == "corrupt":
        bak.write_bytes(b"")
    else:
        bak.unlink()
    (two_versions / "store.json.tmp-0123").write_bytes(b"partial")
    before = snapshot(two_versions)
    with pytest.raises(StoreError, match="unusable") as info:
        Store(two_versions).load()
    assert "store.json" in info.value.message
    assert snapshot(two_versions) == before


def test_newer_schema_refuses_and_touches_nothing(two_versions: Path) -> None:
    (two_versions / "store.json").write_text(json.dumps(doc_with(7, schema=SCHEMA_VERSION + 1)))
    (two_versions / "store.json.tmp-0123").write_bytes(b"partial")
    before = snapshot(two_versions)
    store = Store(two_versions)
    with pytest.raises(StoreError) as info:
        store.load()
    assert "newer version of the add-on" in info.value.message
    assert f"schema {SCHEMA_VERSION + 1}, this version knows up to {SCHEMA_VERSION}" in (
        info.value.message
    )
    assert "update the add-on or restore a backup" in info.value.message
    with pytest.raises(StoreError):
        store.put_lock("aa:bb", {})
    assert snapshot(two_versions) == before


def test_newer_schema_in_bak_refuses(two_versions: Path) -> None:
    (two_versions / "store.json").write_bytes(b"garbage")
    (two_versions / "store.json.bak").write_text(json.dumps(doc_with(7, schema=99)))
    before = snapshot(two_versions)
    with pytest.raises(StoreError, match="schema 99"):
        Store(two_versions).load()
    assert snapshot(two_versions) == before


def test_stale_temps_are_removed_on_load(two_versions: Path) -> None:
    for name in ("store.json.tmp-abc", "store.json.bak.tmp-def"):
        (two_versions / name).write_bytes(b'{"schema": 1, "partial')
    (two_versions / "notes.tmp-1").write_text("not ours")
    assert Store(two_versions).installation() == {"counter": 2}
    assert sorted(p.name for p in two_versions.iterdir()) == [
        "notes.tmp-1",
        "store.json",
        "store.json.bak",
    ]


def test_no_secrets_in_logs(two_versions: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    main = two_versions / "store.json"
    main.write_bytes(main.read_bytes()[:-20])
    store = Store(two_versions)
    store.put_lock("ee:ff", {"aes_key": SECRET})
    assert SECRET in (two_versions / "store.json").read_text()
    assert caplog.records
    assert SECRET not in caplog.text


# ---- migrations -----------------------------------------------------------------------------


def test_migrations_chain_and_write_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        for record in doc["locks"].values():
            record["complete"] = True
        return doc

    def v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
        calls.append(2)
        assert doc["schema"] == 2
        doc["installation"]["nuki_app_id"] = 42
        return doc

    v1 = {"schema": 1, "installation": {}, "locks": {"aa:bb": {"brand": "ttlock"}}}
    main = tmp_path / "store.json"
    main.write_text(json.dumps(v1))
    main.chmod(0o600)
    original = main.read_bytes()
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(store_mod, "MIGRATIONS", {1: v1_to_v2, 2: v2_to_v3})

    loaded = Store(tmp_path).load()
    assert calls == [1, 2]
    expected = {
        "schema": 3,
        "installation": {"nuki_app_id": 42},
        "locks": {"aa:bb": {"brand": "ttlock", "complete": True}},
    }
    assert loaded == expected
    assert json.loads(main.read_text()) == expected
    assert (tmp_path / "store.json.bak").read_bytes() == original
    assert mode(main) == mode(tmp_path / "store.json.bak") == 0o600

    calls.clear()
    assert Store(tmp_path).load() == expected
    assert calls == []


def test_broken_migration_is_an_error_not_data_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(doc: dict[str, Any]) -> dict[str, Any]:
        raise KeyError(SECRET)

    (tmp_path / "store.json").write_text(json.dumps(doc_with(1)))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(store_mod, "MIGRATIONS", {1: broken})
    before = snapshot(tmp_path)
    with pytest.raises(StoreError, match="migration from schema 1 failed") as info:
        Store(tmp_path).load()
    assert SECRET not in info.value.message
    assert snapshot(tmp_path) == before


# ---- crashes --------------------------------------------------------------------------------


@contextlib.contextmanager
def recording(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Iterator[list[dict[str, bytes]]]:
    """Snapshot ``directory`` before and after every file-system call made inside the block."""
    shots: list[dict[str, bytes]] = []
    active = [True]

    def take() -> None:
        if active[0] and directory.is_dir():
            shots.append({p.name: p.read_bytes() for p in directory.iterdir()})

    with monkeypatch.context() as patch:
        for name in ("open", "write", "fsync", "close", "replace", "link", "chmod", "unlink"):
            real = getattr(os, name)

            def wrapped(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
                result = _real(*args, **kwargs)
                take()
                return result

            patch.setattr(os, name, wrapped)
        take()
        yield shots
        active[0] = False


@pytest.mark.parametrize("scenario", ["normal", "first-write", "no-hard-links"])
def test_every_crash_point_leaves_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    data = tmp_path / "data"
    store = Store(data)
    old: int | None = None
    if scenario != "first-write":
        store.set_installation("counter", 1)
        store.set_installation("counter", old := 2)
    if scenario == "no-hard-links":

        def no_link(*_args: object, **_kwargs: object) -> None:
            raise PermissionError("no hard links on this filesystem")

        monkeypatch.setattr(os, "link", no_link)
    with recording(monkeypatch, data) as shots:
        store.set_installation("counter", 3)
    assert len(shots) > 5

    seen = set()
    for i, files in enumerate(shots):
        replay = tmp_path / f"replay{i}"
        replay.mkdir()
        for name, content in files.items():
            (replay / name).write_bytes(content)
        counter = Store(replay).installation().get("counter")
        assert counter in (old, 3), (i, sorted(files))
        seen.add(counter)
        assert [p.name for p in replay.iterdir() if ".tmp-" in p.name] == []
    assert seen == {old, 3}


WRITER = r"""
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from ttlock_nuki_addon.store import Store

def payload(n):  # keep in step with expected_payload() in the test
    return hashlib.sha256(str(n).encode()).hexdigest() * (1 + n % 23)

store = Store(Path(sys.argv[2]))
n = store.installation().get("counter", 0)
while True:
    n += 1
    def change(doc):
        doc["installation"] = {"counter": n, "payload": payload(n)}
        doc["locks"] = {f"lock-{n % 3}": {"n": n, "key": payload(n)[:32]}}
    store.update(change)
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
"""


def expected_payload(n: int) -> str:
    """Return the payload the writer stores with counter ``n``."""
    return hashlib.sha256(str(n).encode()).hexdigest() * (1 + n % 23)


def check_complete(doc: Mapping[str, Any]) -> int:
    """Assert ``doc`` is exactly what the writer wrote for its counter; return the counter."""
    n = doc["installation"]["counter"]
    p = expected_payload(n)
    assert doc == {
        "schema": SCHEMA_VERSION,
        "installation": {"counter": n, "payload": p},
        "locks": {f"lock-{n % 3}": {"n": n, "key": p[:32]}},
    }
    return int(n)


@pytest.mark.slow
def test_sigkill_writer_200_times(tmp_path: Path) -> None:
    rng = random.Random(20240501)
    data = tmp_path / "data"
    durable = 0  # the newest counter a load has ever returned or the writer acknowledged
    mid_write = 0
    started = time.monotonic()
    for _ in range(200):
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", WRITER, str(ROOT), str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first write is done: from here on, kill anywhere
        if not first:
            pytest.fail(f"writer died: {proc.communicate()[1].decode()}")
        time.sleep(rng.uniform(0.002, 0.05))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        acked = [int(line) for line in (first + out).split()]
        mid_write += any(".tmp-" in name for name in os.listdir(data))

        n = check_complete(Store(data).load())
        assert acked[-1] <= n <= acked[-1] + 1  # every acknowledged write survived
        assert n >= durable  # never backwards
        bak = json.loads((data / "store.json.bak").read_bytes())
        assert check_complete(bak) <= n  # == when killed between the .bak link and the replace
        durable = n
    elapsed = time.monotonic() - started
    assert mid_write > 0, "no kill landed inside a write; the test is not exercising anything"
    print(f"200 kills in {elapsed:.1f}s, {mid_write} mid-write, final counter {durable}")  # noqa: T201
