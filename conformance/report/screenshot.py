"""Render the HTML matrix in headless Chromium: a screenshot for the README, the DOM for tests.

    python -m conformance.report.screenshot RESULTS.jsonl [more.jsonl ...] reports/matrix.png
        [--view "status=failed&open=op:conv2d@torch/torch-script/opset17/onnxruntime"]

The page takes its filters and the open cell from the URL fragment, so no browser automation
library is needed: Chromium's ``--dump-dom`` and ``--screenshot`` do the rest.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from ..errors import ConformanceError
from ..results import merge, read
from . import build_matrix, write_reports

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(ConformanceError):
    """Chromium is missing or failed to render the page."""


def find_chromium() -> str | None:
    env = os.environ.get("CONFORMANCE_CHROMIUM")
    if env:
        return env if shutil.which(env) or Path(env).exists() else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run_chromium(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    browser = find_chromium()
    if browser is None:
        raise BrowserError("Chromium not found", fix="apt-get install -y chromium (or set CONFORMANCE_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="conformance-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish within {timeout:.0f}s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [""]
        raise BrowserError(f"Chromium exited with {proc.returncode}: {tail[0]}")
    return proc


def page_url(html_path, view: str = "") -> str:
    url = Path(html_path).resolve().as_uri()
    return f"{url}#{view.lstrip('#')}" if view else url


def dump_dom(html_path, view: str = "", timeout: float = 60) -> str:
    """The DOM after the page's script ran, with ``view`` applied as the URL fragment."""
    return _run_chromium(["--virtual-time-budget=2000", "--dump-dom", page_url(html_path, view)], timeout).stdout


def screenshot(html_path, png_path, view: str = "", size: tuple[int, int] = (1600, 1000),
               timeout: float = 60) -> Path:
    png = Path(png_path).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    _run_chromium([f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
                   "--virtual-time-budget=2000", page_url(html_path, view)], timeout)
    if not png.exists() or png.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no screenshot to {png}")
    return png


def default_view(matrix) -> str:
    """Open the worst failing cell if there is one, so the screenshot shows the detail panel."""
    worst = None
    for (row_key, col_key), cell in matrix.cells.items():
        if cell.failing and (worst is None or cell.failing > worst[0]):
            worst = (cell.failing, row_key, col_key)
    return f"open={quote(worst[1] + '@' + worst[2], safe='')}" if worst else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.report.screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="RESULTS.jsonl [more.jsonl ...] OUT.png")
    parser.add_argument("--view", default=None, help="URL fragment: filters and open cell (default: open the worst cell)")
    parser.add_argument("--size", default="1600x1000", help="window size WxH")
    args = parser.parse_args(argv)
    if len(args.paths) < 2 or not args.paths[-1].lower().endswith(".png"):
        parser.error("give one or more results files and then the .png to write")
    try:
        records = merge(read(p) for p in args.paths[:-1])
        with tempfile.TemporaryDirectory(prefix="conformance-matrix-") as tmp:
            html_path = write_reports(records, tmp)["html"]
            view = args.view if args.view is not None else default_view(build_matrix(records))
            w, h = (int(x) for x in args.size.lower().split("x"))
            png = screenshot(html_path, args.paths[-1], view=view, size=(w, h))
    except ConformanceError as exc:
        print(f"conformance: error: {exc.one_line()}", file=sys.stderr)
        return 2
    print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
