"""Home Assistant over MQTT: pure topic/payload code (topics, discovery) and the aiomqtt bridge."""
