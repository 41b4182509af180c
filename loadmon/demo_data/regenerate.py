"""Regenerates the small simulated recordings bundled for `loadmon demo` and the Live screen.

Run from a repository checkout (it needs tests/simulator): `python loadmon/demo_data/regenerate.py`.
Each file is a short loadmon-csv recording (52 Hz, 6 axes, polar-verity-sense) of one guided
set with a little standing before and after, so a replay shows reps within seconds:

- rdl_set.csv: 5 RDLs at about 3 s down / 3 s up (the heavy-slow-resistance tempo);
- rdl_fast_set.csv: 5 brisk RDLs (about 1.2 s / 1 s), a tempo lapse;
- bridge_set.csv: 8 double-leg bridges;
- bridge_hold_set.csv: 3 bridge holds of about 30 s.

Deterministic (fixed seeds); about 0.5 MB in all.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from loadmon.recording import write_loadmon_csv  # noqa: E402
from tests.simulator import Segment, simulate  # noqa: E402

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

FILES: dict[str, list[Segment]] = {
    "rdl_set": [
        Segment("standing", 6.0),
        Segment("rdl", reps=5, tempo=(3.0, 3.0), variant="double"),
        Segment("standing", 8.0),
    ],
    "rdl_fast_set": [
        Segment("standing", 6.0),
        Segment("rdl", reps=5, tempo=(1.2, 1.0), variant="double"),
        Segment("standing", 8.0),
    ],
    "bridge_set": [
        Segment("lying", 8.0, variant="hook"),
        Segment("bridge", reps=8, variant="double"),
        Segment("lying", 8.0, variant="hook"),
    ],
    "bridge_hold_set": [
        Segment("lying", 8.0, variant="hook"),
        Segment("bridge_hold", holds=3, hold_s=30.0),
        Segment("lying", 8.0, variant="hook"),
    ],
}


def main() -> None:
    for seed, (name, segments) in enumerate(FILES.items(), start=11):
        rec, truth = simulate(segments, seed=seed, start=START)
        rec = dataclasses.replace(rec, device="polar-verity-sense")
        path = HERE / f"{name}.csv"
        write_loadmon_csv(rec, path)
        kinds = [e["type"] for e in truth["events"]]
        print(
            f"wrote {path.name}: {rec.duration_s:.0f} s, {rec.n_samples} samples, "
            f"truth {len(kinds)} events"
        )


if __name__ == "__main__":
    main()
