"""The web panel: aiohttp behind Home Assistant's ingress, the page and its websocket API."""

from .backup import Backups, KdfLimits
from .context import Limits
from .server import WebPanel

__all__ = ["Backups", "KdfLimits", "Limits", "WebPanel"]
