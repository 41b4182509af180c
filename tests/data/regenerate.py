"""Provides the regeneration of the small recorded fixtures in tests/data (run from the repo root).

    python -m tests.data.regenerate [NAME ...]

Each fixture is a short simulator recording written as loadmon-csv (tests/data/recordings/)
with its ground truth (tests/data/expected/, the simulator's analysis-JSON-like truth). The
seeds and mountings here are fixed and are not among those `make eval` scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loadmon.recording import write_loadmon_csv
from tests.simulator import Mounting, Segment, SensorSpec, simulate

HERE = Path(__file__).parent

FIXTURES: dict[str, dict[str, Any]] = {
    "bridges_52hz_left_anterior": {
        "segments": [Segment("standing", 8.0), Segment("walking", 15.0),
                     Segment("lying", 8.0, variant="hook"), Segment("bridge", reps=8),
                     Segment("lying", 5.0, variant="hook"), Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=52.0), "mounting": Mounting(leg="left", site="anterior"),
        "seed": 501,
    },
    "bridges_50hz_acconly_right_lateral_rolled": {
        "segments": [Segment("standing", 8.0), Segment("walking", 15.0),
                     Segment("sitting", 10.0), Segment("walking", 8.0),
                     Segment("lying", 8.0, variant="hook"), Segment("bridge", reps=7),
                     Segment("lying", 5.0, variant="hook"), Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=50.0, gyro=False),
        "mounting": Mounting(leg="right", site="lateral", roll_deg=137.0, around_deg=12.0),
        "seed": 502,
    },
    "holds_52hz_gaps": {
        "segments": [Segment("standing", 8.0), Segment("walking", 15.0),
                     Segment("lying", 8.0, variant="hook"),
                     Segment("bridge_hold", holds=2, hold_s=15.0, opts={"rest_s": 10.0}),
                     Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=52.0, gap_rate_per_min=1.0, gap_s=(0.1, 0.4)),
        "mounting": Mounting(leg="right", site="anterior", roll_deg=-90.0),
        "seed": 503,
    },
    "hops_25hz_acconly_random_axes": {
        "segments": [Segment("walking", 15.0), Segment("standing", 5.0),
                     Segment("pogo", reps=10), Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=25.0, gyro=False),
        "mounting": Mounting(leg="left", site="lateral", random_axes=True,
                             axes_rotvec_deg=(40.0, -70.0, 110.0)),
        "seed": 504,
    },
    "hops_other_leg_52hz": {
        "segments": [Segment("walking", 15.0), Segment("standing", 5.0),
                     Segment("single_leg_hop", reps=8, variant="other"),
                     Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=52.0), "mounting": Mounting(leg="right", site="anterior"),
        "seed": 508,
    },
    "rdl_52hz_right_lateral": {
        "segments": [Segment("walking", 15.0), Segment("standing", 8.0),
                     Segment("rdl", reps=6, tempo=(3.0, 3.0)), Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=52.0), "mounting": Mounting(leg="right", site="lateral"),
        "seed": 505,
    },
    # Accelerometer only at 25 Hz with little walking: the walking swing's leading direction is
    # the mediolateral axis here (the anterior axis comes from the hinges' forward tilt).
    "rdl_25hz_acconly_random_axes": {
        "segments": [Segment("walking", 20.0), Segment("standing", 5.0),
                     Segment("rdl", reps=7, tempo=(3.0, 3.0)), Segment("standing", 40.0),
                     Segment("rdl", reps=6, tempo=(2.0, 2.0)), Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=25.0, gyro=False),
        "mounting": Mounting(leg="left", site="lateral", roll_deg=-60.0, random_axes=True,
                             axes_rotvec_deg=(-35.0, 80.0, 20.0)),
        "seed": 546,
    },
    "floor_lookalikes_52hz": {
        "segments": [Segment("standing", 8.0), Segment("walking", 15.0),
                     Segment("lying", 8.0, variant="hook"), Segment("pelvic_tilt", reps=8),
                     Segment("knee_rolling", reps=6), Segment("lying", 5.0, variant="hook"),
                     Segment("standing", 5.0)],
        "spec": SensorSpec(rate_hz=52.0), "mounting": Mounting(leg="left", site="anterior",
                                                                roll_deg=45.0),
        "seed": 506,
    },
    "sitting_25hz_acconly": {
        "segments": [Segment("walking", 20.0), Segment("sitting", 60.0),
                     Segment("standing", 10.0), Segment("walking", 10.0)],
        "spec": SensorSpec(rate_hz=25.0, gyro=False),
        "mounting": Mounting(leg="right", site="anterior", roll_deg=200.0),
        "seed": 507,
    },
}


def main(names: list[str] | None = None) -> None:
    for name, fx in FIXTURES.items():
        if names and name not in names:
            continue
        rec, truth = simulate(fx["segments"], seed=fx["seed"], spec=fx["spec"],
                              mounting=fx["mounting"])
        write_loadmon_csv(rec, HERE / "recordings" / f"{name}.csv")
        keep = {k: truth[k] for k in ("recording", "events", "sets", "gaps", "seed")}
        (HERE / "expected" / f"{name}.json").write_text(json.dumps(keep, indent=1) + "\n")
        print(f"{name}: {rec.n_samples} samples")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or None)
