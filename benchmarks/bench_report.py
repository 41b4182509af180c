"""Benchmarks `loadmon report` and `loadmon export` on a year of data (target < 5 s report).

Uses the same year-long database as bench_status (one recording a day with detector events,
daily pain, RPE and logged sets on session days, weekly VISA-H, four phases), then times the
whole commands as subprocesses (interpreter start-up, imports, matplotlib plots and writing
included). Prints the figures and the report's size; exits 1 if the report misses 5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_status import DAYS, NAME, build

TARGET_S = 5.0


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        end, n_events = build(db_path)
        print(f"built {DAYS} days, {n_events} events in {time.perf_counter() - t0:.1f} s")
        env = dict(os.environ, LOADMON_DB=str(db_path), MPLBACKEND="svg")
        html = Path(tmp) / "report.html"
        rep = timed(
            [sys.executable, "-m", "loadmon", "report", NAME, "--to", end, "--out", str(html)],
            env,
            3,
        )
        med = statistics.median(rep)
        print(
            f"loadmon report, a year ({DAYS} days): median {med:.2f} s, min {min(rep):.2f} s "
            f"(target < {TARGET_S:.0f} s); {html.stat().st_size / 1e6:.1f} MB HTML"
        )
        for fmt in ("csv", "json"):
            ex = timed(
                [
                    sys.executable,
                    "-m",
                    "loadmon",
                    "export",
                    NAME,
                    "--to",
                    end,
                    "--format",
                    fmt,
                    "--out",
                    str(Path(tmp) / f"export-{fmt}"),
                ],
                env,
                3,
            )
            size = sum(p.stat().st_size for p in (Path(tmp) / f"export-{fmt}").iterdir())
            print(
                f"loadmon export --format {fmt}, a year: median {statistics.median(ex):.2f} s; "
                f"{size / 1e6:.1f} MB"
            )
    return 0 if med < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
