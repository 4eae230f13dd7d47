"""Regenerate the README picture of `vnuma show`.

Usage:

    python docs/generate_picture.py

Writes docs/images/host-2s-xeon-db-auto.svg: samples/hosts/2s-xeon.xml with the guest of
samples/intents/auto-dedicated.yaml placed on it. When Chromium is on PATH (chromium,
chromium-browser or google-chrome) it also writes docs/images/host-2s-xeon-db-auto.png,
a 1400x1000 screenshot of the HTML page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vnuma.libvirt.capabilities import load_host  # noqa: E402
from vnuma.load.intent import load_intent  # noqa: E402
from vnuma.place import place  # noqa: E402
from vnuma.runner import intent_from_raw  # noqa: E402
from vnuma.view.html import render_html  # noqa: E402
from vnuma.view.model import HostView, build_view  # noqa: E402
from vnuma.view.svg import render_svg  # noqa: E402

HOST = "samples/hosts/2s-xeon.xml"
INTENT = "samples/intents/auto-dedicated.yaml"
IMAGES = REPO / "docs" / "images"
NAME = "host-2s-xeon-db-auto"
WINDOW = (1400, 1000)


def build() -> HostView:
    host, diagnostics = load_host(REPO / HOST, HOST)
    if host is None:
        raise SystemExit(f"cannot load {HOST}: {diagnostics}")
    intent, diagnostics = intent_from_raw(load_intent(REPO / INTENT, INTENT))
    if intent is None:
        raise SystemExit(f"cannot load {INTENT}: {diagnostics}")
    result = place(intent, host)
    if result.guest is None:
        raise SystemExit(f"cannot place {INTENT}: {result.diagnostics}")
    return build_view(host, [result.guest], diagnostics=[])


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(browser: str, html: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / f"{NAME}.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
                f"--screenshot={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    view = build()
    IMAGES.mkdir(parents=True, exist_ok=True)
    svg = IMAGES / f"{NAME}.svg"
    svg.write_text(render_svg(view), encoding="utf-8")
    print(f"wrote {svg.relative_to(REPO)}")
    browser = find_chromium()
    if browser is None:
        print("no Chromium on PATH: PNG not regenerated")
        return 0
    png = IMAGES / f"{NAME}.png"
    screenshot(browser, render_html(view), png)
    print(f"wrote {png.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
