"""Provides `python -m tests.simulator`: write a simulated scenario as loadmon-csv + labels JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from loadmon.recording import write_loadmon_csv
from tests.simulator.scenarios import SCENARIOS, make_scenario
from tests.simulator.sensor import Mounting, SensorSpec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.simulator",
        description="Simulate a thigh-IMU recording with ground-truth labels.",
    )
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate", type=float, default=52.0, help="output sample rate (Hz)")
    ap.add_argument("--acc-only", action="store_true", help="no gyro columns")
    ap.add_argument("--leg", choices=["left", "right"], help="default: drawn from the seed")
    ap.add_argument("--site", choices=["anterior", "lateral"], help="default: drawn from the seed")
    ap.add_argument("--random-axes", action="store_true", help="arbitrary sensor axes")
    ap.add_argument("--gaps-per-min", type=float, default=0.0, help="packet-loss gaps per minute")
    ap.add_argument("--phone", action="store_true", help="phone-like ±2 g accelerometer only")
    ap.add_argument("--internal-rate", type=float, default=None, help="internal rate (Hz)")
    ap.add_argument("--out", required=True, type=Path, help="output .csv (labels beside it)")
    args = ap.parse_args(argv)

    spec = SensorSpec.phone(args.rate) if args.phone else SensorSpec(rate_hz=args.rate)
    spec = replace(spec, gyro=spec.gyro and not args.acc_only, gap_rate_per_min=args.gaps_per_min)
    mount_rng = np.random.default_rng([args.seed, 11])
    mounting = Mounting.random(mount_rng, random_axes=args.random_axes or None)
    if args.leg:
        mounting = replace(mounting, leg=args.leg)
    if args.site:
        mounting = replace(mounting, site=args.site)
    t0 = time.perf_counter()
    rec, truth = make_scenario(
        args.scenario,
        seed=args.seed,
        spec=spec,
        mounting=mounting,
        internal_rate_hz=args.internal_rate,
    )
    write_loadmon_csv(rec, args.out)
    labels = args.out.with_name(args.out.name.removesuffix(".csv") + ".labels.json")
    labels.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(
        f"{args.out}: {rec.n_samples} samples, {rec.duration_s:.0f} s, "
        f"{len(truth['events'])} events, {len(truth['sets'])} sets "
        f"({time.perf_counter() - t0:.1f} s); labels in {labels}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
