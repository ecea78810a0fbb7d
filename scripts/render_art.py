"""Render art/icon.svg and art/logo.svg to icon.png (128x128) and logo.png (250x100)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"icon": (128, 128), "logo": (250, 100)}


def main() -> int:
    """Render every target next to config.yaml; the PNGs are what the add-on store shows."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, (width, height) in TARGETS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            svg = (ROOT / "art" / f"{name}.svg").read_text(encoding="utf-8")
            page.set_content(
                "<html><body style='margin:0;background:transparent'>" + svg + "</body></html>"
            )
            page.screenshot(path=str(ROOT / f"{name}.png"), omit_background=True)
            page.close()
            print(f"{name}.png {width}x{height}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
