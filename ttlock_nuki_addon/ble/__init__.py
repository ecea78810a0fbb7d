"""Bluetooth LE layer: the only code that talks to bleak."""
