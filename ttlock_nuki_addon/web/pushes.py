"""Manager events as the panel's pushes: {"event": NAME, "data": ...}."""

from __future__ import annotations

from ..manager_events import (
    CredentialProgress,
    DiscoveryUpdated,
    LockActivity,
    LockAdded,
    LockRemoved,
    LockUpdated,
    ManagerEvent,
    ScanState,
    SettingsUpdated,
)
from ..validity import JSONObject, JSONValue


def scan_json(state: ScanState) -> JSONObject:
    """The scan state as the panel sees it: {"scanning", "discovering", "until", "error"}."""
    shown = state.to_json()
    shown.pop("type", None)
    return shown


def push_of(event: ManagerEvent) -> tuple[str, JSONValue] | None:
    """The push (event name, data) for a manager event; None for one the panel is not sent."""
    if isinstance(event, SettingsUpdated):
        return None  # the panel reads settings when it shows them
    if isinstance(event, LockUpdated):
        return "lock.updated", event.snapshot.to_json()
    if isinstance(event, LockAdded):
        return "lock.added", event.snapshot.to_json()
    if isinstance(event, LockRemoved):
        return "lock.removed", {"lock_id": event.lock_id}
    if isinstance(event, LockActivity):
        return "lock.event", {"lock_id": event.lock_id, "event": event.event.to_json()}
    if isinstance(event, DiscoveryUpdated):
        return "discovery.updated", [found.to_json() for found in event.discoveries]
    if isinstance(event, ScanState):
        return "scan.state", scan_json(event)
    assert isinstance(event, CredentialProgress)
    return "credential.progress", {"lock_id": event.lock_id, **event.progress.to_json()}
