"""The add-on manifest agrees with the code: options, schema, ports, translations, HA version."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

import ttlock_nuki_addon
from ttlock_nuki_addon.options import ADDON_DEFAULTS, ADDON_SCHEMA, load_options

ROOT = Path(__file__).resolve().parent.parent
SERVICE = re.compile(r"^(mqtt|mysql):(provide|want|need)$")  # ha-addon.md §1.3


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_options_and_schema_are_the_ones_the_code_reads() -> None:
    config = load(ROOT / "config.yaml")
    assert config["options"] == ADDON_DEFAULTS
    assert config["schema"] == ADDON_SCHEMA
    assert set(config["options"]) <= set(config["schema"])


def test_defaults_load_cleanly_through_the_options_loader(tmp_path: Path) -> None:
    options_file = tmp_path / "options.json"
    options_file.write_text(__import__("json").dumps(load(ROOT / "config.yaml")["options"]))
    options = load_options(["--options-file", str(options_file), "--data-dir", str(tmp_path)], {})
    assert options.warnings == ()


def test_ingress_port_matches_the_server_default(tmp_path: Path) -> None:
    config = load(ROOT / "config.yaml")
    assert config["ingress"] is True
    options = load_options(["--data-dir", str(tmp_path)], {})
    assert config["ingress_port"] == options.port


def test_device_based_discovery_needs_ha_2024_11() -> None:
    config = load(ROOT / "config.yaml")
    assert version_tuple(config["homeassistant"]) >= (2024, 11, 0)
    assert all(SERVICE.match(service) for service in config["services"])
    assert "mqtt:need" in config["services"]
    assert config["host_dbus"] is True
    assert "host_network" not in config and "privileged" not in config


def test_every_option_has_a_name_and_description_in_every_translation() -> None:
    schema = load(ROOT / "config.yaml")["schema"]
    for path in sorted((ROOT / "translations").glob("*.yaml")):
        entries = load(path)["configuration"]
        assert set(entries) == set(schema), path.name
        for key, entry in entries.items():
            assert entry["name"].strip() and entry["description"].strip(), (path.name, key)


def test_only_the_manifest_is_called_config_yaml() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert [name for name in tracked if Path(name).name == "config.yaml"] == ["config.yaml"]


# --- the manifest against the Supervisor's documented rules (ha-addon.md §1.3, §1.4) ---------

REQUIRED: dict[str, type] = {
    "name": str,
    "version": str,
    "slug": str,
    "description": str,
    "arch": list,
}
TYPED: dict[str, type] = {
    "url": str, "init": bool, "startup": str, "boot": str, "stage": str, "host_dbus": bool,
    "ingress": bool, "ingress_port": int, "panel_icon": str, "panel_title": str,
    "panel_admin": bool, "services": list, "homeassistant": str, "backup": str, "timeout": int,
    "watchdog": str, "options": dict, "schema": dict,
}  # fmt: skip
CHOICES = {
    "startup": {"initialize", "system", "services", "application", "once"},
    "boot": {"auto", "manual", "manual_only"},
    "stage": {"stable", "experimental", "deprecated"},
    "backup": {"hot", "cold"},
}
SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")  # the Supervisor's RE_SLUG
SCHEMA_TYPE = re.compile(
    r"^(str|bool|int|float|email|url|password|port|device)(\([^)]*\))?\??$"
    r"|^match\(.+\)\??$|^list\([^|()]+(\|[^|()]+)*\)\??$"
)
WATCHDOG = re.compile(r"^(https?|tcp)://\[HOST\]:\[PORT:(\d+)\](/\S*)?$")


def test_required_keys_and_every_known_key_has_its_documented_type() -> None:
    config = load(ROOT / "config.yaml")
    for key, kind in REQUIRED.items():
        assert isinstance(config.get(key), kind), key
    for key, typed in TYPED.items():
        if key in config:
            assert isinstance(config[key], typed) and not (
                typed is int and isinstance(config[key], bool)
            ), key
    for key, allowed in CHOICES.items():
        assert config.get(key, next(iter(allowed))) in allowed, key
    assert SLUG.match(config["slug"])
    assert set(config["arch"]) == {"aarch64", "amd64"}
    assert config["init"] is False  # the base image's s6-overlay must be pid 1
    assert config["panel_admin"] is True and config["panel_icon"].startswith("mdi:")


def test_schema_entries_use_documented_types_and_options_match_them() -> None:
    config = load(ROOT / "config.yaml")
    schema, options = config["schema"], config["options"]
    for key, kind in schema.items():
        assert isinstance(kind, str) and SCHEMA_TYPE.match(kind), (key, kind)
    assert set(options) <= set(schema)
    for key, kind in schema.items():  # a required option needs a default, an optional one none
        assert (key in options) != kind.endswith("?"), key


def test_the_watchdog_asks_the_panels_health_endpoint_on_the_ingress_port() -> None:
    config = load(ROOT / "config.yaml")
    match = WATCHDOG.match(config["watchdog"])
    assert match, config["watchdog"]
    assert int(match.group(2)) == config["ingress_port"]
    assert match.group(3) == "/health"


def test_the_version_is_the_same_everywhere() -> None:
    config = load(ROOT / "config.yaml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert config["version"] == project["version"] == ttlock_nuki_addon.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## \[?(\d+\.\d+\.\d+)", changelog, re.MULTILINE)
    assert first and first.group(1) == config["version"]


def test_the_repository_file_names_the_repository() -> None:
    repository = load(ROOT / "repository.yaml")
    assert repository["name"].strip() and repository["url"].startswith("https://")
    assert repository["maintainer"].strip()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path.name
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_icon_and_logo_have_the_store_sizes() -> None:
    assert png_size(ROOT / "icon.png") == (128, 128)
    assert png_size(ROOT / "logo.png") == (250, 100)
    for name in ("icon", "logo"):  # rendered from these by scripts/render_art.py
        assert (ROOT / "art" / f"{name}.svg").is_file()
