"""Local Bluetooth control of TTLock and Nuki smart locks for Home Assistant."""

__version__ = "0.1.0"
