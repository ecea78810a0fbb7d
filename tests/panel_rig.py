"""The panel end to end: the simulated world and the add-on as subprocesses, the fake ingress
in front of the add-on, and Debian's Chromium driven by Playwright (sync API).

Start order: `python -m ttlock_nuki_addon.sim --control-port 0 --no-demo` (its stdout names the
bus and the control API), then `python -m ttlock_nuki_addon --dev --port 0 --data-dir DIR` on
that bus without a broker (its log names the panel port), then the ingress proxy on a loop in
a background thread, then Chromium. Everything the page sends or receives on a websocket is
kept in `frames`.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from app_rig import ROOT, AddonProcess, LoopThread, addon_env, wait_until
from ingress_proxy import IngressProxy
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    WebSocket,
    sync_playwright,
)

from ttlock_nuki_addon.app import record_secrets

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
START = 30.0  # bound for a process to come up
STOP = 15.0  # bound for a process to go away after SIGTERM
TAIL = 6000  # characters of add-on output put into a failure message
ARTIFACTS = ROOT / "artifacts" / "panel"
_PANEL_LINE = re.compile(r"Panel listening on http://127\.0\.0\.1:(\d+)/")
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Frame:
    """One websocket frame the page sent or received."""

    sent: bool
    url: str
    payload: str | bytes


class SimProcess:
    """`python -m ttlock_nuki_addon.sim` without the demo set, and its control API over HTTP."""

    def __init__(self, log_dir: Path) -> None:
        self.out_path, self.err_path = log_dir / "sim.out", log_dir / "sim.err"
        self.process: subprocess.Popen[bytes] | None = None
        self.bus_address = ""
        self.control_url = ""

    def start(self) -> None:
        """Start the world and wait until it printed its bus and control API address."""
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ttlock_nuki_addon.sim", "--control-port", "0", "--no-demo"],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

        def announced() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the sim exited early:\n{self.output()}")
            text = self.out_path.read_text(errors="replace")
            bus = re.search(r"^DBUS_SYSTEM_BUS_ADDRESS=(\S+)$", text, re.M)
            api = re.search(r"^Control API: (\S+)$", text, re.M)
            if bus and api:
                self.bus_address, self.control_url = bus[1], api[1]
            return bool(bus and api)

        wait_until(announced, START, "the sim's bus and control API")

    def output(self) -> str:
        """What the sim wrote so far."""
        return "".join(p.read_text(errors="replace") for p in (self.out_path, self.err_path))

    def stop(self) -> None:
        """SIGTERM, wait; killed if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP)

    # --- control API -----------------------------------------------------------------------

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control API call; its JSON answer (AssertionError with the reason on 4xx/5xx)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.control_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"control API {method} {path}: {exc.code} {exc.read()!r}") from exc

    def add_device(self, kind: str, **options: Any) -> dict[str, Any]:
        """Put a new virtual device in range; its description."""
        found: dict[str, Any] = self.control("POST", "devices", {"kind": kind, **options})
        return found

    def device(self, address: str) -> dict[str, Any]:
        """A device's current description."""
        found: dict[str, Any] = self.control("GET", f"devices/{address}")
        return found

    def act(self, address: str, action: str, **params: Any) -> dict[str, Any]:
        """Play one physical action on a device (touch, enter_pin, place_finger, ...)."""
        found: dict[str, Any] = self.control("POST", f"devices/{address}/{action}", params)
        return found


class Watch:
    """Poll one field of a device's description in a thread; keeps every distinct value seen."""

    def __init__(self, sim: SimProcess, address: str, key: str, period: float = 0.02) -> None:
        self.seen: list[object] = []
        self._sim, self._address, self._key, self._period = sim, address, key, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {key}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._sim.device(self._address).get(self._key)
            if not self.seen or self.seen[-1] != value:
                self.seen.append(value)
            self._stop.wait(self._period)

    def stop(self) -> list[object]:
        """Stop polling; the values seen, in order."""
        self._stop.set()
        self._thread.join(STOP)
        return self.seen


def start_addon(
    base: Path, bus_address: str, *, dev: bool, name: str = "addon"
) -> tuple[AddonProcess, int]:
    """Start `python -m ttlock_nuki_addon --port 0` (no broker); the process and its panel port."""
    log_dir = base / name
    data_dir = log_dir / "data"
    data_dir.mkdir(parents=True)
    args = ["--port", "0", "--data-dir", str(data_dir), "--log-level", "debug"]
    addon = AddonProcess([*(["--dev"] if dev else []), *args], addon_env(bus_address), log_dir)
    addon.start()

    def port() -> int:
        found = _PANEL_LINE.search(addon.output())
        if found is None and not addon.running:
            raise AssertionError(f"the add-on exited before serving:\n{addon.output()[-TAIL:]}")
        return int(found[1]) if found else 0

    return addon, wait_until(port, START, "the add-on's 'Panel listening on' line")


def stop_addon(addon: AddonProcess) -> int | None:
    """SIGTERM and wait (killed after a bound); the exit code if it stopped by itself."""
    if not addon.running:
        return None if addon.process is None else addon.process.returncode
    try:
        return addon.terminate(STOP)
    except subprocess.TimeoutExpired:
        addon.kill()
        return None


class PanelRig:
    """The sim, the add-on (--dev), the ingress proxy and Chromium with one page."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.sim = SimProcess(base)
        self.thread = LoopThread()
        self.addon: AddonProcess | None = None
        self.addon_port = 0
        self.proxy: IngressProxy | None = None
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self._page: Page | None = None
        self.frames: list[Frame] = []
        self.socket_urls: list[str] = []
        self.page_errors: list[str] = []

    @property
    def data_dir(self) -> Path:
        """The add-on's data directory."""
        return self.base / "addon" / "data"

    @property
    def url(self) -> str:
        """The panel's address through the fake ingress."""
        assert self.proxy is not None
        return self.proxy.url

    @property
    def page(self) -> Page:
        """The one page the scenarios share."""
        assert self._page is not None
        return self._page

    def setup(self) -> None:
        """Start everything, in order; raises with the add-on's output if something fails."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.sim.start()
        self.addon, self.addon_port = start_addon(self.base, self.sim.bus_address, dev=True)
        self.proxy = IngressProxy(self.addon_port)
        self.thread.run(self.proxy.start())
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        self.context = self.new_context()
        self._page = self.new_page(self.context)

    def new_context(self) -> BrowserContext:
        """A fresh browser context (English, desktop size, downloads allowed)."""
        assert self.browser is not None
        context = self.browser.new_context(
            locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(20_000)
        return context

    def new_page(self, context: BrowserContext) -> Page:
        """A page whose websocket frames, websocket URLs and uncaught errors are recorded."""
        page = context.new_page()
        page.on("websocket", self._on_socket)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    def _on_socket(self, socket: WebSocket) -> None:
        url = socket.url
        self.socket_urls.append(url)
        socket.on("framesent", lambda payload: self.frames.append(Frame(True, url, payload)))
        socket.on("framereceived", lambda payload: self.frames.append(Frame(False, url, payload)))

    def addon_tail(self) -> str:
        """The end of what the add-on wrote (for failure messages)."""
        return "" if self.addon is None else self.addon.output()[-TAIL:]

    def close(self) -> None:
        """Close the browser, stop the proxy, SIGTERM the add-on, stop the sim."""
        try:
            if self.context is not None:
                self.context.close()
            if self.browser is not None:
                self.browser.close()
            if self.playwright is not None:
                self.playwright.stop()
        finally:
            try:
                if self.proxy is not None:
                    self.thread.run(self.proxy.stop())
            finally:
                self.thread.close()
                if self.addon is not None:
                    stop_addon(self.addon)
                self.sim.stop()


def explained(test: Callable[P, T]) -> Callable[P, T]:
    """Decorate a test taking `rig`: a failure carries the tail of the add-on's output."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return test(*args, **kwargs)
        except Exception as exc:
            rig = kwargs.get("rig")
            tail = rig.addon_tail() if isinstance(rig, PanelRig) else ""
            errors = rig.page_errors if isinstance(rig, PanelRig) else []
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\n--- page errors: {errors}\n"
                f"--- add-on output (tail) ---\n{tail}"
            ) from exc

    return run


def panel_rig(base: Path) -> Iterator[PanelRig]:
    """Set up a rig in `base`, yield it, always tear it down (for a fixture)."""
    rig = PanelRig(base)
    try:
        try:
            rig.setup()
        except Exception as exc:
            raise AssertionError(
                f"panel rig setup failed: {exc}\n--- add-on output (tail) ---\n{rig.addon_tail()}"
                f"\n--- sim output ---\n{rig.sim.output()[-TAIL:]}"
            ) from exc
        yield rig
    finally:
        rig.close()


# --- secrets, and where they must not show up ------------------------------------------------


def secret_forms(value: object, width: int | None) -> set[str]:
    """The ways a secret could be written: hex (both cases), decimal, base64, a byte list, text."""
    if isinstance(value, bytes):
        raw = [value]
    elif isinstance(value, int):
        sizes = [width] if width else [max(1, (value.bit_length() + 7) // 8)]
        raw = [value.to_bytes(n, order) for n in sizes for order in ("big", "little")]
    else:
        return {str(value)}
    forms = {str(value)} if isinstance(value, int) else set()
    for data in raw:
        forms |= {data.hex(), data.hex().upper()}
        if len(data) >= 4:
            forms.add(base64.b64encode(data).decode().rstrip("="))
            forms.add(base64.urlsafe_b64encode(data).decode().rstrip("="))
        if len(data) >= 8:
            forms.add(json.dumps(list(data)).replace(" ", ""))
    return forms


def store_secrets(data_dir: Path, *, with_pins: bool) -> dict[str, set[str]]:
    """Every secret of every lock in `<data_dir>/store.json`, by name, in all its forms."""
    document = json.loads((data_dir / "store.json").read_text())
    found: dict[str, set[str]] = {}
    for lock_id, record in document["locks"].items():
        books = record.get("credentials") or {}
        entries = (books.get("pin") or {}).values()
        pins = {entry.get(key) for entry in entries for key in ("code", "original")}
        for index, (value, width) in enumerate(record_secrets(record)):
            if with_pins or not (isinstance(value, str) and value in pins):
                found[f"{lock_id} secret #{index}"] = secret_forms(value, width)
    return found


def occurs(form: str, text: str) -> bool:
    """`form` in `text`, not as part of a longer run of digits (or hex digits)."""
    edge = "0-9" if form.isdecimal() else "0-9a-fA-F"
    return re.search(rf"(?<![{edge}]){re.escape(form)}(?![{edge}])", text) is not None


def frame_text(frame: Frame, typed_pin_verbs: Sequence[str] = ()) -> str:
    """A frame as text; from requests of `typed_pin_verbs`, the PIN the user typed is dropped."""
    text = frame.payload if isinstance(frame.payload, str) else frame.payload.decode("latin-1")
    if not frame.sent or not typed_pin_verbs:
        return text
    try:
        message = json.loads(text)
    except ValueError:
        return text
    if isinstance(message, dict) and message.get("type") in typed_pin_verbs:
        message.pop("pin", None)
    return json.dumps(message)
