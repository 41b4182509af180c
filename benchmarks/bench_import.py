"""Benchmark: import a 24 h, 52 Hz, 6-axis recording (parse + validate + store).

Targets (issue 2): under 10 s and under 40 MB in the database. The day is synthetic but
sensor-like: postures held for minutes, walking bouts, sensor noise and a Polar Verity-like
quantisation (0.244 mg, 0.061 °/s), written as loadmon-csv first so parsing is included.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadmon import storage
from loadmon.importing import import_recording
from loadmon.recording import Recording, read_recording, write_loadmon_csv

RATE = 52.0
HOURS = 24


def synthetic_day(seed: int = 1) -> Recording:
    """Piecewise postures (random gravity directions) with walking bouts and noise."""
    rng = np.random.default_rng(seed)
    n = int(HOURS * 3600 * RATE)
    t = np.arange(n) / RATE
    acc = np.empty((n, 3))
    gyro = np.empty((n, 3))
    i = 0
    while i < n:
        seg = int(rng.uniform(30, 900) * RATE)
        j = min(n, i + seg)
        g = rng.normal(size=3)
        g /= np.linalg.norm(g)
        tt = t[i:j] - t[i]
        if rng.random() < 0.3:  # walking: ~1.8 Hz swing
            f = rng.uniform(1.6, 2.0)
            sw = np.sin(2 * np.pi * f * tt)[:, None]
            acc[i:j] = g + 0.3 * sw * rng.normal(size=3) + 0.1 * np.sin(4 * np.pi * f * tt)[:, None]
            gyro[i:j] = 120 * sw * rng.normal(size=3)
        else:
            acc[i:j] = g
            gyro[i:j] = 0.0
        i = j
    acc += rng.normal(0, 0.004, acc.shape)
    gyro += rng.normal(0, 0.15, gyro.shape)
    acc = np.round(acc / 0.000244) * 0.000244
    gyro = np.round(gyro / 0.061) * 0.061
    return Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=RATE,
        start=datetime(2026, 11, 20, tzinfo=UTC),
        device="polar-verity-sense",
    )


def main() -> None:
    out = Path(os.environ.get("LOADMON_BENCH_DIR", tempfile.gettempdir())) / "loadmon-bench"
    out.mkdir(exist_ok=True)
    csv = out / "day_52hz_6axis.csv"
    if not csv.exists():
        write_loadmon_csv(synthetic_day(), csv)
    db_file = out / "bench_import.db"
    for p in out.glob("bench_import.db*"):
        p.unlink()
    t0 = time.perf_counter()
    rec = read_recording(csv)
    t1 = time.perf_counter()
    db = storage.open_db(db_file)
    import_recording(db, rec, patient="bench", create_patient=True, analyze=False)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t2 = time.perf_counter()
    db.close()
    size = sum(p.stat().st_size for p in out.glob("bench_import.db*"))
    mb = csv.stat().st_size / 1e6
    print(f"import 24 h 52 Hz 6-axis ({rec.n_samples:,} samples, {mb:.0f} MB csv)")
    print(
        f"  parse+validate: {t1 - t0:.2f} s   store: {t2 - t1:.2f} s   "
        f"total: {t2 - t0:.2f} s (target < 4 s with analysis: see bench_analysis budgets)"
    )
    print(f"  database size: {size / 1e6:.1f} MB (target < 40 MB)")


if __name__ == "__main__":
    main()
