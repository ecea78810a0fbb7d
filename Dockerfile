# The add-on image. It names its base itself; the Supervisor (or `docker build --build-arg
# BUILD_FROM=...`) may still override it. base-python ships Python, s6-overlay v3 and bashio.
ARG BUILD_FROM=ghcr.io/home-assistant/base-python:3.13-alpine3.24
FROM ${BUILD_FROM}

ARG BUILD_ARCH=amd64
ARG BUILD_VERSION=0.1.0

# Wheels exist for every dependency on musl (aarch64, amd64); the build tools are only a fallback
# for a platform without one and are removed in the same layer.
WORKDIR /opt/ttlock-nuki
COPY pyproject.toml README.md LICENSE ./
COPY ttlock_nuki_addon ./ttlock_nuki_addon
RUN apk add --no-cache --virtual .build-deps build-base libffi-dev \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && apk del .build-deps \
    && rm -rf /opt/ttlock-nuki/ttlock_nuki_addon /root/.cache

COPY web /opt/ttlock-nuki/web
COPY rootfs /

ENV TTLOCK_NUKI_WEB_ROOT=/opt/ttlock-nuki/web \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

LABEL \
    io.hass.name="TTLock & Nuki (local Bluetooth)" \
    io.hass.description="Local Bluetooth LE control of TTLock and Nuki smart locks" \
    io.hass.version="${BUILD_VERSION}" \
    io.hass.type="app" \
    io.hass.arch="aarch64|amd64" \
    org.opencontainers.image.title="TTLock & Nuki (local Bluetooth)" \
    org.opencontainers.image.description="Home Assistant add-on: TTLock and Nuki locks over Bluetooth LE, no cloud" \
    org.opencontainers.image.version="${BUILD_VERSION}" \
    org.opencontainers.image.source="https://github.com/ttlock-nuki-addon/ttlock-nuki-addon" \
    org.opencontainers.image.licenses="MIT"
