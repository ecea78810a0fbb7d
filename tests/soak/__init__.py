"""The fault-injected soak: five virtual locks on a lossy radio, driven via the panel and MQTT."""
