"""The add-on manifest agrees with the code: options, schema, ports, translations, HA version."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

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
