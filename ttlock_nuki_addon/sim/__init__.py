"""Simulated Bluetooth world: fake BlueZ on a private D-Bus and virtual peripherals."""
