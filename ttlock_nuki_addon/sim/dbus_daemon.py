"""A private dbus-daemon in a temp directory, so the fake BlueZ never touches the host's bus."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import tempfile
from pathlib import Path
from types import TracebackType

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
  <limit name="max_replies_per_connection">100000</limit>
  <limit name="max_match_rules_per_connection">100000</limit>
</busconfig>
"""

START_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1


def _detach() -> None:
    """In the child: own process group (a terminal's Ctrl-C is ours to handle, in order),
    and SIGTERM when the parent dies so a killed test run leaves no daemon behind."""
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DBusDaemonError(RuntimeError):
    """The private dbus-daemon could not be started."""


class PrivateBus:
    """Start and stop a dbus-daemon listening on a socket in a fresh temp directory."""

    def __init__(self, binary: str | None = None) -> None:
        self._binary = binary or shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
        self._dir: Path | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.address = ""

    async def start(self) -> str:
        """Start the daemon and return its address (for DBUS_SYSTEM_BUS_ADDRESS)."""
        if shutil.which(self._binary) is None:
            raise DBusDaemonError(
                f"dbus-daemon not found at {self._binary}; install Debian's 'dbus' package"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="sim-dbus-"))
        socket = self._dir / "system_bus_socket"
        config = self._dir / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket), encoding="utf-8")
        self._proc = await asyncio.create_subprocess_exec(
            self._binary,
            f"--config-file={config}",
            "--nofork",
            "--nopidfile",
            "--print-address=1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_detach,
        )
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), START_TIMEOUT)
        except TimeoutError as exc:
            await self.stop()
            raise DBusDaemonError("dbus-daemon did not start within 10 s") from exc
        if not line:
            err = b""
            if self._proc.stderr is not None:
                err = await self._proc.stderr.read()
            await self.stop()
            raise DBusDaemonError(f"dbus-daemon failed: {err.decode(errors='replace').strip()}")
        self.address = line.decode().strip()
        return self.address

    async def stop(self) -> None:
        """Stop the daemon and remove its directory."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(ProcessLookupError):
            await self.stop()
