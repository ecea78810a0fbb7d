"""TTLock capabilities and settings: auto-lock 0x36, sound 0x62, passage 0x66, remote 0x37."""

from __future__ import annotations

from datetime import time

from ..params import LockSettings, SettingsUpdate
from ..snapshot import Capability
from . import settings_cmds as st
from .codec import Command
from .features import Feature, FeatureMask
from .session import TTLockSession

C, F = Command, Feature
MAX_PASSAGE_PAGES = 32  # bounds the 0x66 query loop
# spec §5.5.19: weekly type, every day (0), all day (00:00-00:00) = passage mode on.
ALWAYS_OPEN = st.PassageEntry(st.PassageType.WEEKLY, 0, 0, time(0, 0), time(0, 0))
_CAPABILITIES: dict[Capability, tuple[Feature, ...]] = {
    Capability.LOCK: (F.MANUAL_LOCK,),
    Capability.PIN: (F.PASSCODE,),
    Capability.CARD: (F.IC,),
    Capability.FINGERPRINT: (F.FINGER_PRINT,),
    Capability.VALIDITY_PERIOD: (F.PASSCODE, F.IC, F.FINGER_PRINT),
    Capability.VALIDITY_ONCE: (F.PASSCODE,),
    Capability.VALIDITY_WEEKLY: (F.CYCLIC_PASSWORD, F.CYCLIC_IC_OR_FINGER_PRINT),
    Capability.AUTO_LOCK: (F.AUTO_LOCK,),
    Capability.SOUND: (F.AUDIO_MANAGEMENT,),
    Capability.PASSAGE_MODE: (F.PASSAGE_MODE,),
    Capability.REMOTE_UNLOCK: (F.CONFIG_GATEWAY_UNLOCK,),
    Capability.DOOR_SENSOR: (F.MAGNETOMETER, F.DOOR_SENSOR),
}


def capabilities_of(features: FeatureMask) -> frozenset[Capability]:
    """What a lock with these feature bits can do (spec §5.5.1)."""
    found = {Capability.UNLOCK, Capability.BATTERY, Capability.EVENTS, Capability.RESET}
    found |= {cap for cap, bits in _CAPABILITIES.items() if any(features.has(b) for b in bits)}
    return frozenset(found)


class TTLockSettings:
    """Reads and writes the settings a lock's feature mask says it has (admin session)."""

    def __init__(self, session: TTLockSession, features: FeatureMask) -> None:
        self._session, self._has = session, features.has
        self._volume: int | None = None  # volume locks (feature 43) keep theirs on "sound on"

    async def read(self) -> LockSettings:
        """Query each supported setting; those the lock lacks are None."""
        call, query = self._session.call, st.build_query()
        auto = None
        if self._has(F.AUTO_LOCK):
            auto = st.parse_auto_lock_state(await call(C.AUTO_LOCK_MANAGE, query))  # §5.5.8
        sound: bool | None = None
        if self._has(F.AUDIO_MANAGEMENT):
            audio = st.parse_audio_state(await call(C.AUDIO_MANAGE, query))  # §5.5.9
            sound, self._volume = audio.on, audio.volume
        passage = bool(await self._passage()) if self._has(F.PASSAGE_MODE) else None
        remote: bool | None = None
        if self._has(F.CONFIG_GATEWAY_UNLOCK):
            answer = await call(C.CONTROL_REMOTE_UNLOCK, query)  # §5.5.10
            remote = st.parse_on_off_state(answer, "remote unlock answer (0x37)").on
        return LockSettings(
            auto_lock_seconds=None if auto is None else auto.seconds,
            sound=sound,
            passage_mode=passage,
            remote_unlock=remote,
            auto_lock_min=None if auto is None else auto.minimum,
            auto_lock_max=None if auto is None else auto.maximum,
        )

    async def _passage(self) -> list[st.PassageEntry]:
        """Every passage-mode window, paged by seq until FF (spec §5.5.19)."""
        entries: list[st.PassageEntry] = []
        seq = 0
        for _ in range(MAX_PASSAGE_PAGES):
            answer = await self._session.call(C.CONFIGURE_PASSAGE_MODE, st.build_passage_query(seq))
            page = st.parse_passage_page(answer)
            entries += page.entries
            if page.is_last or page.next_seq == seq:
                break
            seq = page.next_seq
        return entries

    async def apply(self, update: SettingsUpdate) -> None:
        """Write the changed settings; each write is idempotent, so a retry is safe."""
        call = self._session.call
        if update.auto_lock_seconds is not None:
            await call(C.AUTO_LOCK_MANAGE, st.build_auto_lock_set(update.auto_lock_seconds))
        if update.sound is not None:
            with_volume = update.sound and self._has(F.SOUND_VOLUME_AND_LANGUAGE_SETTING)
            volume = self._volume if with_volume else None
            await call(C.AUDIO_MANAGE, st.build_audio_set(update.sound, volume))
        if update.passage_mode is not None:
            await call(C.CONFIGURE_PASSAGE_MODE, st.build_passage_clear())
            if update.passage_mode:
                change = st.build_passage_change(st.PassageOp.ADD, ALWAYS_OPEN)
                await call(C.CONFIGURE_PASSAGE_MODE, change)
        if update.remote_unlock is not None:
            await call(C.CONTROL_REMOTE_UNLOCK, st.build_on_off_set(update.remote_unlock))
