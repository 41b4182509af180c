"""Provides `make eval`: scores the detectors on held-out simulator recordings and the real data.

(a) Simulator recordings with seeds, mountings (random leg, site, rotation), rates (25–208 Hz),
accelerometer-only input and packet-loss gaps that were never used while tuning (tuning used
seeds below 1000; seeds 7000+ and 9100+ were each scored once and their failures diagnosed,
after which general fixes followed — running flights taken for hops, knee rolling without a
mounting, hold tremor taken for walking, reps on a shifted rest; so they are no longer held out;
development of the analysis 0.4 changes — raised-leg bridges, the two-sided check, shifted
rests between raised sets — used bases from 1000 to 8500 (all below 9000); the seeds from 9500
were then the held-out set until analysis 0.5, when their failures were diagnosed once (a
sensor left on a table taken for quiet standing, pulling the mounting 25° off); the seeds from
9800 were held out for analysis 0.5 and scored once, after which one failure was inspected (an
accelerometer-only RDL session whose walking swing gave the wrong anterior axis); analysis
0.6 was developed on bases 1000–8000 only; the seeds from 9900 were scored once with it and
their false reps inspected (running taken for hops without a gyro); one more change developed
on bases below 9000 (hop edges below 40 Hz) followed, and evaluation now uses the
never-inspected seeds from EVAL_SEED_BASE (10000), whose per-recording results were not
looked at). Analysis 0.7 (real-world detection) was developed on ../shared/data/real2 and on
the 10000 seeds, whose per-recording results were inspected (hop sets lost to the first gait
rule, knee rolling with a recalled mounting); its table is scored on the seeds from 10100.
Each simulator recording is analysed as a returning patient's: with the mounting loadmon would
recall for them, estimated from an earlier simulated walk with the same sensor (analysis 0.7
no longer counts free-running bridges without a mounting, and `import`/`record` recall one).
(b) The real labelled recordings in ../shared/data when present (MEx thigh bridging and
look-alikes; MobiFall jumping, standing, walking, sitting down); the table says so when they
are absent.
(c) The real-world table (`tests.realworld`) over every file in ../shared/data/real2, each
analysed as `loadmon analyze FILE` does (no recalled mounting): false exercise events per hour
by type and activity, jump-set counts, guided bridge reps on a true top, flight time against
the CMU truth from other body sensors, posture agreement.

Prints one table: per-class precision/recall, sets counted exactly, rep MAE per set, false reps
per 100 true reps, sitting-time precision/recall, median flight-time and hold-duration errors,
and the real-data checks against their targets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from loadmon.analysis.pipeline import analyze
from loadmon.recording import read_recording

EVAL_SEED_BASE = 10100
POSTURES = ("sitting", "standing", "lying", "walking", "running", "cycling", "nonwear")
EXERCISE_EVENTS = {"bridge_rep": "bridge", "bridge_hold": "bridge_hold", "rdl_rep": "rdl",
                   "hop": "hops"}
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Tally:
    overlap: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    det_time: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    true_time: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    tp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    n_det: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    n_true: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    set_errors: list[int] = field(default_factory=list)
    flight_err: list[float] = field(default_factory=list)
    hold_err: list[float] = field(default_factory=list)
    false_reps: int = 0
    true_reps: int = 0
    recordings: int = 0
    seconds: float = 0.0
    base: int = 0


def _intervals(events: list[dict[str, Any]], kind: str) -> list[tuple[float, float]]:
    return sorted((e["start_s"], e["end_s"]) for e in events if e["type"] == kind)


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    tot, j = 0.0, 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            tot += max(0.0, min(e, b[k][1]) - max(s, b[k][0]))
            k += 1
    return tot


def _match(det: list[dict[str, Any]], true: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of events whose intervals overlap (largest overlap first)."""
    pairs = []
    for i, d in enumerate(det):
        for j, t in enumerate(true):
            ov = min(d["end_s"], t["end_s"]) - max(d["start_s"], t["start_s"])
            if ov > 0:
                pairs.append((ov, i, j))
    pairs.sort(reverse=True)
    used_d: set[int] = set()
    used_t: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        out.append((i, j))
    return out


def score(tally: Tally, det: dict[str, Any], truth: dict[str, Any]) -> None:
    """Add one recording's comparison to the tally."""
    tally.recordings += 1
    tev, dev = truth["events"], det["events"]
    for k in POSTURES:
        ti, di = _intervals(tev, k), _intervals(dev, k)
        tally.true_time[k] += sum(e - s for s, e in ti)
        tally.det_time[k] += sum(e - s for s, e in di)
        tally.overlap[k] += _overlap(ti, di)
    for k in EXERCISE_EVENTS:
        d = [e for e in dev if e["type"] == k]
        t = [e for e in tev if e["type"] == k]
        m = _match(d, t)
        tally.tp[k] += len(m)
        tally.n_det[k] += len(d)
        tally.n_true[k] += len(t)
        tally.true_reps += len(t)
        tally.false_reps += len(d) - len(m)
        for i, j in m:
            if k == "hop":
                tally.flight_err.append(abs(d[i]["flight_s"] - t[j]["flight_s"]))
            if k == "bridge_hold":
                tally.hold_err.append(abs(d[i]["hold_s"] - t[j]["hold_s"]))
    for st in truth["sets"]:
        etype = {v: k for k, v in EXERCISE_EVENTS.items()}[st["exercise"]]
        n = sum(
            1
            for e in dev
            if e["type"] == etype
            and st["start_s"] - 1.0 <= 0.5 * (e["start_s"] + e["end_s"]) <= st["end_s"] + 1.0
        )
        tally.set_errors.append(n - int(st["reps"]))


def _sim_cases(quick: bool, base: int) -> list[tuple[str, int, dict[str, Any]]]:
    scenarios = [
        "bridge_session", "hold_session", "rdl_session", "hop_session",
        "lookalikes_floor", "lookalikes_standing", "sitting_day", "mixed_day",
    ]
    variants = [
        {"rate_hz": 52.0, "gyro": True},
        {"rate_hz": 25.0, "gyro": False},
        {"rate_hz": 104.0, "gyro": True, "gap_rate_per_min": 1.0},
        {"rate_hz": 208.0, "gyro": False, "gap_rate_per_min": 0.5},
        {"rate_hz": 50.0, "gyro": True, "jitter_s": 0.002},
    ]
    if quick:
        variants = variants[:2]
    cases = []
    k = 0
    for name in scenarios:
        for v in variants:
            cases.append((name, base + k, v))
            k += 1
    return cases


def recalled_mounting(seed: int, spec: Any, mounting: Any) -> Any:
    """The mounting loadmon remembers for a returning patient: estimated (not the truth) from
    an earlier short recording with the same sensor on the same thigh (a walk and a sit, as in
    any ordinary day), as `import` and `record` recall it from the database."""
    from tests.simulator import Segment, simulate

    walk, _ = simulate(
        [Segment("standing", 5.0), Segment("walking", 25.0), Segment("sitting", 30.0),
         Segment("standing", 5.0)],
        seed=seed + 500_000, spec=spec, mounting=mounting,
    )
    m = analyze(walk).mounting
    return m if m.known else None


def run_sim(quick: bool, base: int = EVAL_SEED_BASE, verbose: bool = False) -> Tally:
    from tests.simulator import Mounting, SensorSpec, make_scenario

    tally = Tally(base=base)
    for name, seed, v in _sim_cases(quick, base):
        rng = np.random.default_rng(seed)
        spec = SensorSpec(**v)
        mounting = Mounting.random(rng)
        if mounting.random_axes:
            # one sensor, one orientation on the thigh: for this session and the earlier
            # recording the recalled mounting comes from
            axis = rng.normal(size=3)
            axis *= float(rng.uniform(0.0, 180.0)) / float(np.linalg.norm(axis))
            mounting = replace(mounting, axes_rotvec_deg=(axis[0], axis[1], axis[2]))
        rec, truth = make_scenario(name, seed=seed, spec=spec, mounting=mounting)
        recalled = recalled_mounting(seed, spec, mounting)
        t0 = time.perf_counter()
        det = analyze(rec, mounting=recalled).to_dict()
        tally.seconds += time.perf_counter() - t0
        score(tally, det, truth)
        if verbose:
            one = Tally()
            score(one, det, truth)
            sets = [(st["exercise"], st["reps"]) for st in truth["sets"]]
            print(f"{name} seed={seed} {v} mount={det['mounting']['source']} "
                  f"set_err={one.set_errors} true_sets={sets} false={one.false_reps} "
                  f"sit={one.overlap['sitting']:.0f}/{one.det_time['sitting']:.0f}/"
                  f"{one.true_time['sitting']:.0f}", flush=True)
    return tally


@dataclass
class RealResult:
    lines: list[str]
    passed: int
    total: int


def run_real() -> RealResult | None:
    if not SHARED.is_dir():
        return None
    lines: list[str] = []
    passed = total = 0
    mex = SHARED / "mex"
    if mex.is_dir():
        labels = json.loads((mex / "labels.json").read_text())
        for fname, lab in sorted(labels.items()):
            rec = read_recording(mex / fname)
            if lab["exercise"] == "bridging":
                a = analyze(rec, exercise="bridge")
                n = len(a.events_of("bridge_rep"))
                ok = abs(n - lab["bridge_reps"]) <= 1
                lines.append(f"  MEx {fname:<22} --exercise bridge: {n:>2} reps "
                             f"(label {lab['bridge_reps']}, ±1) {'ok' if ok else 'MISS'}")
            else:
                a = analyze(rec)
                n = len(a.events_of("bridge_rep")) + len(a.events_of("bridge_hold"))
                ok = n <= 1
                lines.append(f"  MEx {fname:<22} free-running: {n:>2} bridge reps "
                             f"(look-alike, ≤ 1) {'ok' if ok else 'MISS'}")
            passed += ok
            total += 1
    mobi = SHARED / "mobifall"
    if mobi.is_dir():
        labels = json.loads((mobi / "labels.json").read_text())
        for fname, lab in sorted(labels.items()):
            rec = read_recording(mobi / fname)
            a = analyze(rec)
            n = len(a.events_of("hop"))
            ok = abs(n - lab["hops"]) <= lab["tolerance"]
            lines.append(f"  MobiFall {fname:<17} {n:>3} hops (label {lab['hops']} ± "
                         f"{lab['tolerance']}) {'ok' if ok else 'MISS'}")
            passed += ok
            total += 1
    return RealResult(lines, passed, total)


def _pr(tp: float, det: float, true: float) -> str:
    p = tp / det if det > 0 else float("nan")
    r = tp / true if true > 0 else float("nan")
    return f"{p:6.3f} {r:6.3f}"


def table(sim: Tally, real: RealResult | None, skipped_real: bool = False) -> str:
    out = []
    out.append(
        f"== simulator: {sim.recordings} recordings (seeds from {sim.base}; seeds < 9000, "
        "9100–9539, 9800–9839, 9900–9939 and 10000–10039 were used while tuning or inspected; "
        "random "
        "mountings, "
        "25–208 Hz, acc-only, gaps, jitter); "
        f"analysis {sim.seconds:.1f} s total"
    )
    out.append(f"{'class':<14} {'prec':>6} {'recall':>6}   (posture: time; exercises: events)")
    for k in POSTURES:
        if sim.true_time[k] > 0 or sim.det_time[k] > 0:
            out.append(f"{k:<14} {_pr(sim.overlap[k], sim.det_time[k], sim.true_time[k])}")
    for k in EXERCISE_EVENTS:
        if sim.n_true[k] > 0 or sim.n_det[k] > 0:
            out.append(f"{k:<14} {_pr(sim.tp[k], sim.n_det[k], sim.n_true[k])}"
                       f"   ({sim.tp[k]}/{sim.n_det[k]} det, {sim.n_true[k]} true)")
    errs = np.array(sim.set_errors)
    exact = float(np.mean(errs == 0)) if errs.size else float("nan")
    mae = float(np.mean(np.abs(errs))) if errs.size else float("nan")
    fr = 100.0 * sim.false_reps / max(sim.true_reps, 1)
    nan = float("nan")
    sp = sim.overlap["sitting"] / sim.det_time["sitting"] if sim.det_time["sitting"] else nan
    sr = sim.overlap["sitting"] / sim.true_time["sitting"] if sim.true_time["sitting"] else nan
    fe = float(np.median(sim.flight_err)) * 1000 if sim.flight_err else float("nan")
    he = float(np.median(sim.hold_err)) if sim.hold_err else float("nan")

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    out.append("")
    out.append(f"{'metric':<34} {'value':>8}  target")
    out.append(f"{'sets counted exactly':<34} {exact:8.3f}  ≥ 0.90  {mark(exact >= 0.9)}"
               f"  ({errs.size} sets)")
    out.append(f"{'rep MAE per set':<34} {mae:8.3f}  ≤ 0.30  {mark(mae <= 0.3)}")
    out.append(f"{'false reps per 100 true':<34} {fr:8.2f}  ≤ 3     {mark(fr <= 3)}")
    out.append(f"{'sitting-time precision':<34} {sp:8.3f}  ≥ 0.95  {mark(sp >= 0.95)}")
    out.append(f"{'sitting-time recall':<34} {sr:8.3f}  ≥ 0.95  {mark(sr >= 0.95)}")
    out.append(f"{'median flight-time error (ms)':<34} {fe:8.1f}  ≤ 15    {mark(fe <= 15)}")
    out.append(f"{'median hold-duration error (s)':<34} {he:8.2f}  ≤ 1     {mark(he <= 1)}")
    out.append("")
    if skipped_real:
        out.append("== real data: skipped (--no-real)")
    elif real is None:
        out.append(f"== real data: {SHARED} is absent — real-data checks NOT run")
    else:
        out.append(f"== real data ({SHARED}): {real.passed}/{real.total} files within target")
        out.extend(real.lines)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer simulator variants")
    ap.add_argument("--seed-base", type=int, default=EVAL_SEED_BASE,
                    help="first simulator seed (tuning used seeds below 1000)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per recording")
    ap.add_argument("--no-real", action="store_true", help="skip the real recordings")
    args = ap.parse_args(argv)
    sim = run_sim(args.quick, args.seed_base, args.verbose)
    real = None if args.no_real else run_real()
    print(table(sim, real, skipped_real=args.no_real))
    if not args.no_real:
        from tests.realworld import realworld_table, run_realworld

        print()
        print(realworld_table(run_realworld()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
