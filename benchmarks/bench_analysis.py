"""Provides the analysis benchmark: a 24 h, 52 Hz, 6-axis day (and a 7-day week) through loadmon,
side by side with scikit-digital-health and actipy on the same samples.

Each measurement runs in its own process so peak memory (max RSS) is that step's alone:

- loadmon analysis from arrays (the samples already in memory, as after a BLE session): one
  analysis for its time and peak memory, and, in another process, three for the best and
  median time (other processes on a shared machine only ever add time);
- loadmon with parsing (read the loadmon-csv file, then analyse);
- loadmon on 7 days at 52 Hz from a memory-mapped array (chunked: memory stays bounded);
- the peers, when importable from LOADMON_BENCH_PYTHON (default: .venv-bench/bin/python, else
  this interpreter): scikit-digital-health wear detection and activity levels, actipy low-pass,
  calibration and non-wear. They are an optional `bench` extra, never a runtime dependency.
  When they cannot be run, the reference figures from CLINICAL-REFERENCE.md are printed,
  labelled as such.

The day is built by tiling a simulated mixed day (tests.simulator), so it has walking, sitting,
cycling, exercise sessions and non-wear like a real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out"
RATE = 52.0
DAY_S = 24 * 3600

REFERENCE = [
    ("scikit-digital-health wear detection (1 day, 100 Hz)", "2.8 s"),
    ("scikit-digital-health activity levels (1 day, 100 Hz)", "6.9 s"),
    ("scikit-digital-health sit-to-stand (1 day, 100 Hz)", "17.6 s"),
    ("actipy preprocessing: low-pass, calibration, non-wear (1 day, 100 Hz)", "2.6 s"),
    ("scikit-digital-health sit-to-stand, 1 week at 50 Hz",
     "16 GB peak unless fed a day at a time"),
]


def build_day() -> tuple[Path, Path]:
    """A 24 h recording (npz arrays and loadmon-csv), cached in bench-out/."""
    OUT.mkdir(exist_ok=True)
    npz, csv = OUT / "day52.npz", OUT / "day52.csv"
    if npz.exists() and csv.exists():
        return npz, csv
    sys.path.insert(0, str(ROOT))
    from loadmon.recording import Recording, write_loadmon_csv
    from tests.simulator import Mounting, SensorSpec, make_scenario

    rec, _ = make_scenario(
        "mixed_day", seed=4242, spec=SensorSpec(rate_hz=RATE),
        mounting=Mounting(leg="right", site="lateral", roll_deg=30.0),
    )
    n_day = int(DAY_S * RATE)
    reps = int(np.ceil(n_day / rec.n_samples))
    acc = np.tile(rec.acc, (reps, 1))[:n_day]
    assert rec.gyro is not None
    gyro = np.tile(rec.gyro, (reps, 1))[:n_day]
    t = np.arange(n_day) / RATE
    np.savez(npz, t=t, acc=acc, gyro=gyro)
    write_loadmon_csv(Recording(t=t, acc=acc, gyro=gyro, sample_rate_hz=RATE), csv)
    return npz, csv


def build_week(npz: Path) -> Path:
    """7 days as a memory-mapped (n, 7) float64 array: t, ax, ay, az, gx, gy, gz."""
    path = OUT / "week52.npy"
    if path.exists():
        return path
    d = np.load(npz)
    n_day = d["t"].size
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(7 * n_day, 7))
    for k in range(7):
        sl = slice(k * n_day, (k + 1) * n_day)
        mm[sl, 0] = d["t"] + k * DAY_S
        mm[sl, 1:4] = d["acc"]
        mm[sl, 4:7] = d["gyro"]
    mm.flush()
    del mm
    return path


_CHILD = r"""
import json, resource, sys, time, tracemalloc
import numpy as np
from loadmon.analysis.pipeline import analyze, analyze_arrays, analyze_in_chunks
from loadmon.recording import read_recording
mode, path = sys.argv[1], sys.argv[2]
trace = len(sys.argv) > 3 and sys.argv[3] == "trace"
# "repeat": time 3 analyses (the fastest is the least disturbed by other processes)
extra = 2 if len(sys.argv) > 3 and sys.argv[3] == "repeat" else 0
t0 = time.perf_counter()
if mode == "arrays":
    d = np.load(path)
    t, acc, gyro = d["t"], d["acc"], d["gyro"]
    analyze_arrays(t[:2000], acc[:2000], gyro[:2000], 52.0)  # warm caches
    if trace:
        tracemalloc.start()
    times = []
    for _ in range(extra):
        t0 = time.perf_counter()
        a = analyze_arrays(t, acc, gyro, 52.0)
        times.append(time.perf_counter() - t0)
        del a
    t0 = time.perf_counter()
    a = analyze_arrays(t, acc, gyro, 52.0)
    times.append(time.perf_counter() - t0)
elif mode == "csv":
    rec = read_recording(path)
    t1 = time.perf_counter()
    a = analyze(rec)
elif mode == "week":
    mm = np.load(path, mmap_mode="r")
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    a = analyze_in_chunks(mm[:, 0], mm[:, 1:4], mm[:, 4:7], 52.0)
el = time.perf_counter() - t0
out = {"seconds": el, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "events": len(a.events), "sets": len(a.sets)}
if mode == "arrays":
    times.sort()
    out["seconds"], out["median_seconds"] = times[0], times[len(times) // 2]
    out["runs"] = len(times)
if mode == "csv":
    out["parse_seconds"] = t1 - t0
if trace:
    out["heap_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
print(json.dumps(out))
"""

_PEERS = r"""
import json, resource, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
path, which = sys.argv[1], sys.argv[2]
d = np.load(path)
t, acc = d["t"], d["acc"]
out = {}
t0 = time.perf_counter()
if which == "skdh_wear":
    from skdh.preprocessing import AccelThresholdWearDetection
    AccelThresholdWearDetection().predict(time=t + 1.7e9, accel=acc, fs=52.0)
elif which == "skdh_activity":
    from skdh.activity import ActivityLevelClassification
    ActivityLevelClassification().predict(time=t + 1.7e9, accel=acc, fs=52.0)
elif which == "actipy":
    import pandas as pd
    import actipy.processing as P
    df = pd.DataFrame(acc, columns=["x", "y", "z"],
                      index=pd.to_datetime((t + 1.7e9) * 1e9))
    df["temperature"] = 20.0
    df, _ = P.lowpass(df, 52.0, 20)
    df, _ = P.calibrate_gravity(df)
    df, _ = P.flag_nonwear(df)
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_process(argv: list[str]) -> tuple[float, float] | str:
    """(seconds, peak MB) of a whole process, start to exit (its own rusage via wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    err = p.stderr.read().decode() if p.stderr else ""
    if status != 0:
        return (err.strip().splitlines() or ["failed"])[-1][:160]
    return seconds, usage.ru_maxrss / 1024


_STORED = r"""
import json, resource, sys, time
from loadmon import importing, storage
import loadmon.analysis.pipeline
db = storage.open_db(sys.argv[1])
t0 = time.perf_counter()
importing.analyze_stored(db, 1)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def budgets(csv: Path) -> list[tuple[str, str, str, str]]:
    """The issue-14 budgets, each measured as a user runs it: (what, time, memory, verdict)."""
    loadmon = str(Path(sys.executable).parent / "loadmon")
    rows: list[tuple[str, str, str, str]] = []

    def verdict(sec: float, mb: float | None, max_s: float, max_mb: float | None) -> str:
        ok = sec <= max_s and (max_mb is None or mb is None or mb <= max_mb)
        lim = f"≤ {max_s:g} s" + (f", ≤ {max_mb:g} MB" if max_mb else "")
        return f"{lim} {'✔' if ok else '✘'}"

    r = run_process([loadmon, "analyze", str(csv), "--json"])
    if isinstance(r, tuple):
        rows.append(("`loadmon analyze day.csv --json` (process start to exit)",
                     f"{r[0]:.2f} s", f"{r[1]:.0f} MB", verdict(r[0], r[1], 2.0, 600)))
    else:
        rows.append(("`loadmon analyze day.csv`", "failed", r, ""))
    db = OUT / "budget.db"
    for p in OUT.glob("budget.db*"):
        p.unlink()
    r = run_process([loadmon, "import", str(csv), "-p", "bench", "--create", "--db", str(db)])
    if isinstance(r, tuple):
        rows.append(("`loadmon import day.csv` (parse, analyse, store; start to exit)",
                     f"{r[0]:.2f} s", f"{r[1]:.0f} MB", verdict(r[0], None, 4.0, None)))
        s = run_child(sys.executable, _STORED, str(db))
        if isinstance(s, dict):
            rows.append(("analysis of the stored day (load + analyse + save)",
                         f"{s['seconds']:.2f} s", f"{s['peak_mb']:.0f} MB",
                         verdict(s["seconds"], s["peak_mb"], 1.0, 400)))
        else:
            rows.append(("analysis of the stored day", "failed", s, ""))
    else:
        rows.append(("`loadmon import day.csv`", "failed", r, ""))
    return rows


def run_child(python: str, code: str, *args: str) -> dict[str, float] | str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([python, "-c", code, *args], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["failed"])[-1]
        return last[:160]
    result: dict[str, float] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def peer_python() -> str | None:
    cand = [os.environ.get("LOADMON_BENCH_PYTHON"), str(ROOT / ".venv-bench" / "bin" / "python"),
            sys.executable]
    for py in cand:
        if not py or not Path(py).exists():
            continue
        ok = subprocess.run([py, "-c", "import skdh, actipy"], capture_output=True).returncode
        if ok == 0:
            return py
    return None


def main() -> int:
    print(f"building the 24 h, {RATE:g} Hz, 6-axis recording (cached in {OUT.name}/) …",
          flush=True)
    # Built in a child process: Linux carries a parent's peak RSS into the children it forks
    # (ru_maxrss survives exec), so a parent that held the day would inflate every figure.
    subprocess.run([sys.executable, "-c", "import benchmarks.bench_analysis as b; b.build_day()"],
                   check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    npz, csv = build_day()  # cached now: only the paths
    print(f"  {csv.stat().st_size / 1e6:.0f} MB loadmon-csv, {int(DAY_S * RATE):,} samples")
    budget_rows = budgets(csv)
    rows: list[tuple[str, str, str]] = []
    r = run_child(sys.executable, _CHILD, "arrays", str(npz))
    h = run_child(sys.executable, _CHILD, "arrays", str(npz), "trace")
    rep = run_child(sys.executable, _CHILD, "arrays", str(npz), "repeat")
    heap = f", analysis heap {h['heap_mb']:.0f} MB" if isinstance(h, dict) else ""
    best = (f" (best of {rep['runs']:.0f}: {rep['seconds']:.2f} s, median "
            f"{rep['median_seconds']:.2f} s)" if isinstance(rep, dict) else "")
    if isinstance(r, dict):
        rows.append(("loadmon: 24 h analysis from arrays", f"{r['seconds']:.2f} s{best}",
                     f"{r['peak_mb']:.0f} MB RSS (one analysis, incl. the 250 MB of "
                     f"samples){heap}"))
    else:
        rows.append(("loadmon: 24 h analysis from arrays", "failed", r))
    r = run_child(sys.executable, _CHILD, "csv", str(csv))
    if isinstance(r, dict):
        rows.append(("loadmon: 24 h parse CSV + analysis",
                     f"{r['seconds']:.2f} s (parse {r['parse_seconds']:.2f} s)",
                     f"{r['peak_mb']:.0f} MB"))
    else:
        rows.append(("loadmon: 24 h parse CSV + analysis", "failed", r))
    subprocess.run(  # in a child, as the day (see above)
        [sys.executable, "-c",
         "import benchmarks.bench_analysis as b; b.build_week(b.build_day()[0])"],
        check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    week = build_week(npz)  # cached now: only the path
    r = run_child(sys.executable, _CHILD, "week", str(week))
    h = run_child(sys.executable, _CHILD, "week", str(week), "trace")
    heap = f", analysis heap {h['heap_mb']:.0f} MB" if isinstance(h, dict) else ""
    if isinstance(r, dict):
        rows.append(("loadmon: 7 days, memory-mapped, chunked", f"{r['seconds']:.2f} s",
                     f"{r['peak_mb']:.0f} MB RSS (incl. page cache of the map){heap}"))
    else:
        rows.append(("loadmon: 7 days, memory-mapped, chunked", "failed", r))
    py = peer_python()
    if py is None:
        print("peers: scikit-digital-health / actipy are not importable here (install the "
              "`bench` extra into .venv-bench or set LOADMON_BENCH_PYTHON)")
    else:
        for which, label in (
            ("skdh_wear", "scikit-digital-health: wear detection (same 24 h)"),
            ("skdh_activity", "scikit-digital-health: activity levels (same 24 h)"),
            ("actipy", "actipy: low-pass + calibration + non-wear (same 24 h)"),
        ):
            r = run_child(py, _PEERS, str(npz), which)
            if isinstance(r, dict):
                rows.append((label, f"{r['seconds']:.2f} s", f"{r['peak_mb']:.0f} MB"))
            else:
                rows.append((label, "failed", r))
    w = max(len(x[0]) for x in rows)
    print(f"\n{'step':<{w}}  {'time':>24}  peak memory")
    for name, tm, mem in rows:
        print(f"{name:<{w}}  {tm:>24}  {mem}")
    print("\nreference figures from CLINICAL-REFERENCE.md (measured earlier on this machine, "
          "not by this script):")
    for name, fig in REFERENCE:
        print(f"  {name}: {fig}")
    print("targets: 24 h at 52 Hz 6-axis in ≤ 1 s and ≤ 400 MB; 7 days bounded by chunking")
    print("\nbudgets (issue 14), the same 24 h file, beside the peers' single steps:")
    w = max(len(x[0]) for x in budget_rows + [(r[0], "", "", "") for r in rows])
    for name, tm, mem, ok in budget_rows:
        print(f"  {name:<{w}}  {tm:>8}  {mem:>8}  {ok}")
    for name, tm, mem in rows:
        if not name.startswith("loadmon"):
            print(f"  {name:<{w}}  {tm.split(' (')[0]:>8}  {mem:>8}  (peer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
