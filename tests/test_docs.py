"""The user documentation covers what the add-on issue asks, and every picture it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")

# Topics DOCS.md must cover, each with words a reader would look for.
TOPICS = {
    "install from the repository URL": ["Repositories", "https://github.com/"],
    "hardware near the door": ["Bluetooth adapter", "door"],
    "TTLock reset": ["Reset the lock", "reset"],
    "TTLock wake by touching the keypad": ["Touch the keypad"],
    "Nuki pairing mode": ["pairing mode", "hold the lock's button"],
    "Nuki Bluetooth pairing switch": ["Bluetooth pairing"],
    "bridge vs app": ["Bridge", "App"],
    "5th-gen PIN": ["5th-generation", "6-digit"],
    "entities": ["Home Assistant entities", "Battery", "Activity"],
    "backups": ["Backups", "passphrase"],
    "troubleshooting range": ["Troubleshooting", "range"],
    "a phone app hides the lock": ["connected to a phone"],
    "battery drain": ["Battery drains"],
    "decode command": ["decode ttlock", "decode nuki"],
}


def images(markdown: str) -> list[str]:
    return [target for target in IMAGE.findall(markdown) if not target.startswith("http")]


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_docs_cover(topic: str) -> None:
    text = (ROOT / "DOCS.md").read_text(encoding="utf-8")
    for words in TOPICS[topic]:
        assert words.lower() in text.lower(), f"DOCS.md does not mention {words!r} ({topic})"


@pytest.mark.parametrize("name", ["DOCS.md", "README.md"])
def test_every_picture_exists_and_is_a_png_made_by_the_script(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    shown = images(text)
    assert shown, f"{name} shows no screenshot"
    for target in shown:
        path = ROOT / target
        assert path.is_file(), f"{name} shows {target}, which does not exist"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if target.startswith("docs/screenshots/"):
            script = (ROOT / "scripts/screenshots.py").read_text(encoding="utf-8")
            assert path.stem in script, f"{target} is not made by scripts/screenshots.py"


def test_the_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [c for c in commands if c] == ["scripts/demo", "scripts/test"]
    assert (ROOT / "scripts/demo").stat().st_mode & 0o111
    assert (ROOT / "scripts/test").stat().st_mode & 0o111
