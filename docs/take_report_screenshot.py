"""Re-takes `docs/report-screenshot.png`: the demo patient's report in headless Chromium.

Run from the repository root: `python docs/take_report_screenshot.py [OUT_DIR]`. It builds
the demo database for a fixed date in a temporary directory, writes the report with
`loadmon report`, then asks Debian's Chromium (`/usr/bin/chromium`, package `chromium`) for
a screenshot of the top of the page and an A4 PDF print of the whole report. Chromium runs
with an empty profile and with background networking off, so the only thing it loads is the
report file itself. Writes `report-screenshot.png` (and `report.pdf` when OUT_DIR is given,
for checking the print layout); exits 1 with one line when Chromium is missing or fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from loadmon import report, storage  # noqa: E402
from loadmon.demo import DEMO_PATIENT, build_demo  # noqa: E402

TODAY = date(2026, 11, 20)
WINDOW = (1000, 1600)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--no-pdf-header-footer",
)


def chromium() -> str | None:
    """The Chromium executable, or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def take(out_dir: Path, *, pdf: bool = False) -> list[Path]:
    """Build the demo, write its report and shoot it into `out_dir`; returns the files."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium not found (Debian: apt-get install chromium)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "demo.db"
        build_demo(db_path, today=TODAY)
        db = storage.open_db(db_path, create=False)
        html = report.write_report(db, DEMO_PATIENT, Path(tmp) / "report.html", end=TODAY)
        db.close()
        base = [exe, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}"]
        png = out_dir / "report-screenshot.png"
        jobs = [[*base, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={png}"]]
        files = [png]
        if pdf:
            target = out_dir / "report.pdf"
            jobs.append([*base, f"--print-to-pdf={target}"])
            files.append(target)
        for cmd in jobs:
            res = subprocess.run(
                [*cmd, html.as_uri()], capture_output=True, text=True, timeout=120, check=False
            )
            if res.returncode != 0:
                last = (res.stderr.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"chromium failed ({res.returncode}): {last}")
        for f in files:
            if not f.exists() or f.stat().st_size == 0:
                raise RuntimeError(f"chromium wrote no {f.name}")
    return files


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    try:
        files = take(out, pdf=bool(argv))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for f in files:
        print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
