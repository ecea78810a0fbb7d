"""TTLock V3 protocol: codec, framing, adverts, commands and the driver."""
