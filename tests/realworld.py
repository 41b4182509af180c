"""Provides the real-world table of `make eval`: every recording in ../shared/data/real2.

Real people (MobiFall phones in a pocket, MEx thigh accelerometers, Yurtman–Barshan Xsens on
both thighs, CMU thigh IMUs) in ordinary life, floor and gym work. Scored against each file's
`NAME.truth.json` (see ../shared/data/README.md):

- false exercise events per hour: every bridge rep, bridge hold, RDL rep or hop in a look-alike
  file, and in an exercise file every such event outside the true sets (±2 s) or of another
  exercise; by type and by activity;
- jump sets: hop count per true set (mid-flight inside the set ±1 s), exact and within ±1;
- guided bridges (`--exercise bridge`): the share of detected reps that contain a true top
  (a rep contains a top when the top's midpoint lies inside the rep);
- flight time against the CMU truth from other body sensors (take-off within 0.15 s);
- posture agreement on the single-activity files (standing, walking, jogging).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loadmon.analysis.pipeline import analyze
from loadmon.recording import read_recording

REAL2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "real2"
EXERCISE_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
SET_TYPES = {"bridge": ("bridge_rep", "bridge_hold"), "bridge_hold": ("bridge_hold",),
             "rdl": ("rdl_rep",), "hops": ("hop",)}
#: Single-activity files whose whole span is one posture (MobiFall ADLs).
POSTURE_OF = {"STD": "standing", "WAL": "walking", "JOG": "running"}


@dataclass
class RealTally:
    seconds: float = 0.0
    free_seconds: float = 0.0
    false_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_by_activity: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hours_by_activity: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    jump_sets: list[tuple[str, int, int]] = field(default_factory=list)
    bridge_reps: int = 0
    bridge_reps_on_top: int = 0
    bridge_sets: list[tuple[str, int, int, int]] = field(default_factory=list)
    flight_err_ms: list[float] = field(default_factory=list)
    flight_missed: int = 0
    posture_agree: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_file: list[str] = field(default_factory=list)
    analysis_s: float = 0.0


def activity_of(name: str, truth: dict[str, Any]) -> str:
    """A short activity class for the by-activity rows."""
    stem = name.removesuffix(".csv").removesuffix("_acconly")
    if stem.startswith("mf_"):
        code = stem.split("_")[2]
        return {"JOG": "jogging", "WAL": "walking", "STD": "standing", "STU": "stairs",
                "STN": "stairs", "SCH": "sit-to-chair", "CSI": "car in/out", "CSO": "car in/out",
                "falls": "falls", "day": "spliced day", "JUM": "jumping"}.get(code, code)
    if stem.startswith("cmu_"):
        a = str(truth["activity"])
        if "jump" in a:
            return "jumping"
        if "squat" in a or "lunge" in a:
            return "squats/lunges"
        if "walking" in a:
            return "walking"
        return "step/heel/drop"
    if stem.startswith("mex_"):
        return "bridging" if truth["kind"] == "exercise" else "floor look-alikes"
    if stem.startswith("pt_"):
        return "pt look-alikes"
    return "other"


def _sets(truth: dict[str, Any]) -> list[dict[str, Any]]:
    sets = truth.get("sets") or []
    if isinstance(sets, str):  # never expected; keeps a malformed truth from crashing the table
        return []
    return list(sets)


def _mid(e: dict[str, Any]) -> float:
    return 0.5 * (float(e["start_s"]) + float(e["end_s"]))


def score_free(tally: RealTally, name: str, truth: dict[str, Any], det: dict[str, Any]) -> str:
    """Score one free-running analysis; returns a one-line summary for verbose output."""
    act = activity_of(name, truth)
    dur = float(truth["duration_s"])
    tally.free_seconds += dur
    tally.hours_by_activity[act] += dur / 3600
    sets = _sets(truth)
    ev = det["events"]
    false = 0
    parts: list[str] = []
    for e in ev:
        if e["type"] not in EXERCISE_TYPES:
            continue
        inside = any(
            e["type"] in SET_TYPES[s["exercise"]]
            and float(s["start_s"]) - 2.0 <= _mid(e) <= float(s["end_s"]) + 2.0
            for s in sets
        )
        if not inside:
            false += 1
            tally.false_by_type[e["type"]] += 1
            tally.false_by_activity[act] += 1
    for s in sets:
        if s["exercise"] != "hops":
            continue
        n = sum(1 for e in ev if e["type"] == "hop"
                and float(s["start_s"]) - 1.0 <= _mid(e) <= float(s["end_s"]) + 1.0)
        tally.jump_sets.append((name, n, int(s["reps"])))
        parts.append(f"hops {n}/{s['reps']}")
    if truth.get("flight_truth_independent") and truth.get("hops"):
        hops = [e for e in ev if e["type"] == "hop"]
        for h in truth["hops"]:
            near = [e for e in hops if abs(float(e["start_s"]) - float(h["takeoff_s"])) < 0.15]
            if not near:
                tally.flight_missed += 1
                continue
            d = min(near, key=lambda e: abs(float(e["start_s"]) - float(h["takeoff_s"])))
            tally.flight_err_ms.append(1000 * (float(d["flight_s"]) - float(h["flight_s"])))
    stem = name.removesuffix(".csv")
    if stem.startswith("mf_") and stem.split("_")[2] in POSTURE_OF:
        want = POSTURE_OF[stem.split("_")[2]]
        got = sum(float(e["end_s"]) - float(e["start_s"]) for e in ev if e["type"] == want)
        tally.posture_agree[want].append(min(1.0, got / dur))
        parts.append(f"{want} {got / dur:.2f}")
    counts = defaultdict(int)
    for e in ev:
        if e["type"] in EXERCISE_TYPES:
            counts[e["type"]] += 1
    parts.insert(0, f"false {false}")
    if counts:
        parts.append(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return f"{name:<34} {act:<18} " + "; ".join(parts)


def score_guided_bridge(tally: RealTally, name: str, truth: dict[str, Any],
                        det: dict[str, Any]) -> str:
    tops = [tuple(x) for x in truth.get("bridge_tops", [])]
    tops += [tuple(x) for x in truth.get("bridge_tops_partial", [])]
    reps = [e for e in det["events"] if e["type"] == "bridge_rep"]
    on_top = sum(1 for r in reps
                 if any(float(r["start_s"]) <= 0.5 * (a + b) <= float(r["end_s"]) for a, b in tops))
    tally.bridge_reps += len(reps)
    tally.bridge_reps_on_top += on_top
    s = _sets(truth)[0]
    tally.bridge_sets.append((name, len(reps), int(s["reps"]), int(s.get("reps_max", s["reps"]))))
    return f"{name:<34} --exercise bridge: {len(reps)} reps (truth {s['reps']}), {on_top} on a top"


def run_realworld(root: Path = REAL2, verbose: bool = False) -> RealTally | None:
    if not root.is_dir():
        return None
    tally = RealTally()
    for tf in sorted(root.glob("*/*.truth.json")):
        truth = json.loads(tf.read_text())
        csv = tf.with_name(str(truth["file"]))
        rec = read_recording(csv)
        t0 = time.perf_counter()
        det = analyze(rec).to_dict()
        line = score_free(tally, csv.name, truth, det)
        if "bridge" in truth.get("modes", []):
            gdet = analyze(rec, exercise="bridge").to_dict()
            line += " | " + score_guided_bridge(tally, csv.name, truth, gdet).split(": ", 1)[1]
        tally.analysis_s += time.perf_counter() - t0
        tally.per_file.append(line)
        if verbose:
            print(line, flush=True)
    return tally


def realworld_table(t: RealTally | None) -> str:
    if t is None:
        return f"== real-world (real2): {REAL2} is absent — NOT run"
    hours = t.free_seconds / 3600
    nfalse = sum(t.false_by_type.values())
    fph = nfalse / hours if hours else float("nan")
    out = [f"== real-world: {len(t.per_file)} recordings of real people ({hours:.2f} h), "
           f"analysis {t.analysis_s:.1f} s"]
    out.append(f"{'false exercise events per hour':<40} {fph:8.2f}  ≤ 2     "
               f"{'met' if fph <= 2 else 'NOT met'}  ({nfalse} events)")
    for k in EXERCISE_TYPES:
        out.append(f"  {k:<38} {t.false_by_type.get(k, 0) / hours:8.2f}/h "
                   f"({t.false_by_type.get(k, 0)})")
    out.append("  by activity (false events / hours):")
    for act in sorted(t.hours_by_activity):
        h = t.hours_by_activity[act]
        out.append(f"    {act:<36} {t.false_by_activity.get(act, 0):5d} / {h:5.2f} h")
    if t.jump_sets:
        errs = np.array([n - r for _, n, r in t.jump_sets])
        w1 = float(np.mean(np.abs(errs) <= 1))
        ex = float(np.mean(errs == 0))
        out.append(f"{'jump sets within ±1':<40} {w1:8.3f}  ≥ 0.95  "
                   f"{'met' if w1 >= 0.95 else 'NOT met'}  ({len(errs)} sets)")
        out.append(f"{'jump sets exact':<40} {ex:8.3f}  ≥ 0.70  "
                   f"{'met' if ex >= 0.7 else 'NOT met'}")
    if t.bridge_reps or t.bridge_sets:
        share = t.bridge_reps_on_top / t.bridge_reps if t.bridge_reps else 0.0
        within = sum(1 for _, n, r, rmax in t.bridge_sets if r - 1 <= n <= rmax)
        out.append(f"{'guided bridge reps containing a top':<40} {share:8.3f}  ≥ 0.90  "
                   f"{'met' if share >= 0.9 else 'NOT met'}  ({t.bridge_reps_on_top}/"
                   f"{t.bridge_reps}; counts within tolerance {within}/{len(t.bridge_sets)})")
    if t.flight_err_ms:
        e = np.array(t.flight_err_ms)
        med = float(np.median(np.abs(e)))
        bias = float(np.median(e))
        out.append(f"{'median flight-time error (ms, CMU)':<40} {med:8.1f}  ≤ 15    "
                   f"{'met' if med <= 15 else 'NOT met'}  ({e.size} flights, "
                   f"{t.flight_missed} missed)")
        out.append(f"{'flight-time bias (ms, median signed)':<40} {bias:8.1f}  |·| ≤ 10 "
                   f"{'met' if abs(bias) <= 10 else 'NOT met'}")
    for k, v in sorted(t.posture_agree.items()):
        out.append(f"{'posture agreement: ' + k:<40} {float(np.mean(v)):8.3f}  "
                   f"({len(v)} files, share of the file's time)")
    return "\n".join(out)


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description="real-world table over ../shared/data/real2")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--only", help="substring of file names to include")
    args = ap.parse_args()
    root = REAL2
    if args.only:
        import tempfile

        tmp = Path(tempfile.mkdtemp())
        for tf in root.glob(f"*/*{args.only}*.truth.json"):
            (tmp / tf.parent.name).mkdir(exist_ok=True)
            for f in (tf, tf.with_name(json.loads(tf.read_text())["file"])):
                (tmp / tf.parent.name / f.name).symlink_to(f)
        root = tmp
    print(realworld_table(run_realworld(root, verbose=args.verbose)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
