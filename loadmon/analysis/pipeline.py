"""Provides the analysis pipeline: the stages in order, with version and parameters (provenance).

Stages: prepare (gaps, work-rate streams, gravity) → orientation (mounting) → posture →
sitting bouts → bridges → RDL → hops → sets. Each stage that cannot run (no gyro, no mounting)
is skipped with its reason recorded in `Analysis.skipped`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from loadmon.analysis import bridges as bridges_mod
from loadmon.analysis import excursions as excursions_mod
from loadmon.analysis import hops as hops_mod
from loadmon.analysis import orientation as orientation_mod
from loadmon.analysis import posture as posture_mod
from loadmon.analysis import prepare as prepare_mod
from loadmon.analysis import rdl as rdl_mod
from loadmon.analysis import sets as sets_mod
from loadmon.analysis import sitting as sitting_mod
from loadmon.analysis.orientation import Mounting
from loadmon.recording import Recording

VERSION = "loadmon-analysis 0.7.0"
EXERCISES = ("bridge", "bridge_hold", "rdl", "hops")
STAGES = (
    "prepare",
    "orientation",
    "posture",
    "sitting",
    "bridges",
    "rdl",
    "hops",
    "sets",
)


def parameters() -> dict[str, Any]:
    """Every stage's parameters (stored with each analysis)."""
    return {
        "prepare": dict(prepare_mod.PARAMETERS),
        "orientation": dict(orientation_mod.PARAMETERS),
        "posture": dict(posture_mod.PARAMETERS),
        "sitting": dict(sitting_mod.PARAMETERS),
        "excursions": {
            "edge_frac": excursions_mod.EDGE_FRAC,
            "top_frac": excursions_mod.TOP_FRAC,
            "steady_frac": excursions_mod.STEADY_FRAC,
            "shifted_frac": excursions_mod.SHIFTED_FRAC,
            "shifted_rest": "above min(shifted_frac, half the rest between the reps) of the "
            "amplitude",
            "peaks": "topographic prominence (scipy.signal.find_peaks)",
        },
        "bridges": dict(bridges_mod.PARAMETERS),
        "rdl": dict(rdl_mod.PARAMETERS),
        "hops": dict(hops_mod.PARAMETERS),
        "sets": dict(sets_mod.PARAMETERS),
        "events": {"event_gap_s": EVENT_GAP_S},
    }


@dataclass(frozen=True)
class Event:
    """One detected event: type, span on the recording's t axis (s), and extra fields."""

    type: str
    start_s: float
    end_s: float
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "start_s": round(float(self.start_s), 3),
            "end_s": round(float(self.end_s), 3),
        }
        for k, v in self.fields.items():
            d[k] = _plain(v)
        return d


@dataclass(frozen=True)
class SkippedStage:
    stage: str
    reason: str


@dataclass(frozen=True, eq=False)
class Analysis:
    """The result of `analyze`: the analysis JSON of DESIGN.md plus provenance."""

    recording: Mapping[str, Any]
    events: tuple[Event, ...]
    sets: tuple[sets_mod.ExerciseSet, ...]
    summary: Mapping[str, Any]
    mounting: Mounting
    skipped: tuple[SkippedStage, ...]
    version: str = VERSION
    parameters: Mapping[str, Any] = field(default_factory=parameters)
    exercise: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recording": _plain(dict(self.recording)),
            "events": [e.to_dict() for e in self.events],
            "sets": [
                {
                    "exercise": s.exercise,
                    "start_s": round(float(s.start_s), 3),
                    "end_s": round(float(s.end_s), 3),
                    "reps": int(s.reps),
                }
                for s in self.sets
            ],
            "summary": _plain(dict(self.summary)),
            "mounting": self.mounting.to_dict(),
            "skipped": [{"stage": s.stage, "reason": s.reason} for s in self.skipped],
            "version": self.version,
        }

    def events_of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]

    def summary_line(self) -> str:
        s = self.summary
        parts: list[str] = []
        for ex, label in (
            ("bridge", "bridge reps"),
            ("bridge_hold", "bridge holds"),
            ("rdl", "RDL reps"),
            ("hops", "hops"),
        ):
            sets = [x for x in self.sets if x.exercise == ex]
            if sets:
                reps = sum(x.reps for x in sets)
                parts.append(f"{reps} {label} in {len(sets)} set{'s' if len(sets) != 1 else ''}")
        sit = float(s.get("sitting_s", 0.0))
        if sit > 0:
            longest = float(s.get("longest_sitting_bout_s", 0.0)) / 60
            parts.append(f"sitting {sit / 60:.1f} min (longest bout {longest:.1f} min)")
        walk = float(s.get("time_s", {}).get("walking", 0.0))
        if walk > 0:
            parts.append(f"walking {walk / 60:.1f} min")
        if not parts:
            parts.append("no exercise or posture recognised")
        mount = self.mounting
        tail = f"mounting {mount.source} ({mount.confidence:.2f})"
        if self.skipped:
            tail += f"; skipped: {', '.join(sorted({x.stage for x in self.skipped}))}"
        return "analysis: " + "; ".join(parts) + f" [{tail}]"


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float):
        return round(v, 4)
    return v


def analyze(
    rec: Recording, *, exercise: str | None = None, mounting: Mounting | None = None
) -> Analysis:
    """Run every stage on a recording; `exercise` selects guided mode for that exercise.

    Recordings longer than CHUNK_ABOVE_S are analysed chunk by chunk (bounded memory).
    """
    run = analyze_in_chunks if rec.duration_s > CHUNK_ABOVE_S else analyze_arrays
    return run(
        rec.t,
        rec.acc,
        rec.gyro,
        rec.sample_rate_hz,
        exercise=exercise,
        mounting=mounting,
        recording_info={
            "device": rec.device,
            "placement": rec.placement,
            "start": rec.start.isoformat(),
            "source": rec.source,
        },
    )


#: Stand-in for a released work-rate stream.
_EMPTY_W: prepare_mod.WorkArray = np.zeros(0, dtype=prepare_mod.WORK_DTYPE)
_EMPTY_T: prepare_mod.FloatArray = np.zeros(0)


def _float_channels(x: Any) -> Any:
    """`x` as float32 or float64 (as given), anything else as float64."""
    a = np.asarray(x)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def analyze_arrays(
    t: np.ndarray[Any, np.dtype[np.float64]],
    acc: np.ndarray[Any, np.dtype[np.float64]],
    gyro: np.ndarray[Any, np.dtype[np.float64]] | None,
    fs: float,
    *,
    exercise: str | None = None,
    mounting: Mounting | None = None,
    recording_info: Mapping[str, Any] | None = None,
) -> Analysis:
    """The pipeline over plain arrays (t in s, acc in g, gyro in °/s or None)."""
    if exercise is not None and exercise not in EXERCISES:
        raise ValueError(f"exercise must be one of {', '.join(EXERCISES)}, got {exercise!r}")
    skipped: list[SkippedStage] = []
    t = np.asarray(t, dtype=np.float64)
    # float32 channels (a file or stored day read at their resolution) are used as they are:
    # prepare works in float32 and widens only the slices it needs, so no float64 copy.
    acc = _float_channels(acc)
    if gyro is not None:
        gyro = _float_channels(gyro)
    # the gravity direction is computed after the mounting and posture, when the streams
    # only they need have been released (bounded memory on day-long recordings)
    p = prepare_mod.prepare(t, acc, gyro, fs, gravity=False, gyro_bins=False)
    # the stages up to the gravity direction do not need the bin centres: recomputed then
    p = replace(p, tw=_EMPTY_T)
    f = orientation_mod.epoch_features(p, lean=True)
    # Only the features need the |acc| streams (the mounting takes what it needs of them
    # from `f`): release them (bounded memory on day-long recordings).
    # The mean |acc| (vertical acceleration: getting up, a bridge's lift; one float32 a bin)
    # is kept for the mounting from transitions and guided bridges.
    magw = p.magw
    p = replace(p, magw=_EMPTY_W, mag2w=_EMPTY_W)

    # orientation
    fresh = orientation_mod.estimate_mounting(p, f)
    if not fresh.known and mounting is None:
        # no walking: getting up and sitting down tell upright from seated
        fresh = orientation_mod.mounting_from_transitions(
            f.direction, f.std_mag, magw, p.segments_w
        )
    m = orientation_mod.check_mounting(mounting, fresh) if mounting is not None else fresh
    if exercise not in ("bridge", "bridge_hold"):
        magw = _EMPTY_W
    # Without a mounting, gait is still gait: the walking bins need no axes.
    walking_bins = orientation_mod.walking_mask(f) if not m.known else None
    # Only the mounting needs the walking features: release them before posture.
    f = replace(f, walk_cand=None, walk_hf=None)
    if gyro is None:
        skipped.append(
            SkippedStage(
                "orientation.gyro",
                "accelerometer only: mediolateral axis from the walking swing of the "
                "specific force instead of the gyro; hop flight rotation check not applied",
            )
        )
    events: list[Event] = []
    all_sets: list[sets_mod.ExerciseSet] = []

    # posture
    if m.known:
        labels = posture_mod.classify(p, f, m)
    else:
        assert walking_bins is not None
        labels = posture_mod.classify_movement(f, walking_bins)
        del walking_bins
        skipped.append(
            SkippedStage(
                "posture",
                "mounting unknown: no walking period to learn the thigh's long axis from "
                "(and none recalled): walking and running only; sitting, standing and lying "
                "need the axis",
            )
        )

    # The later stages need only the time grid, the gravity direction and the movement
    # intensity: release the other work-rate streams (bounded memory on day-long recordings).
    segments_w, std_mag, gaps = p.segments_w, f.std_mag, p.gaps
    segments, accw = p.segments, p.accw
    del p, f
    gdir = prepare_mod.gravity_direction(accw, segments_w)
    del accw
    tw = prepare_mod.work_grid(t, segments)

    # hops (before posture events, so hopping is not reported as running)
    hops: list[hops_mod.Hop] = []
    gait: list[tuple[float, float, str]] = []
    if exercise in (None, "hops"):
        hops = hops_mod.detect_hops(t, acc, gyro, fs, segments, m, gait_out=gait)
    hop_sets = sets_mod.group_sets("hops", [(h.takeoff_s, h.landing_s) for h in hops])
    # a rhythm of flights every step with the legs alternating is running, whatever the
    # movement intensity reads (a phone clipping at 2 g under-reads a jog)
    run_i = posture_mod.CLASSES.index("running")
    for g0, g1, kind in gait:
        if kind == "running":
            i, j = np.searchsorted(tw, [g0, g1])
            labels[i:j] = run_i
    labels = posture_mod.sitting_inside_running(labels)
    for hs in hop_sets:
        i, j = np.searchsorted(tw, [hs.start_s - 1.0, hs.end_s + 1.0])
        labels[i:j] = posture_mod.NONE

    # bridges
    if exercise is None and not m.known:
        # Free-running with no mounting, a bridge can only be told from the trajectory's own
        # geometry, and straight-leg raises, clams, the superman, trunk flexion and sitting
        # down trace the same one-sided arcs: no event is better than a wrong one. Guided
        # mode (the patient names the set) and a remembered mounting still count bridges.
        skipped.append(
            SkippedStage(
                "bridges",
                "mounting unknown (no walking, none recalled): free-running bridges are not "
                "counted; name the exercise (--exercise bridge) or walk a few steps first",
            )
        )
    elif exercise in (None, "bridge", "bridge_hold"):
        lying_mask = None
        if m.known:
            # lying by posture, or knee clearly above hip right now (short rests between
            # long-topped bridges are absorbed into the posture bouts around them)
            lying_mask = orientation_mod.inclination_deg(gdir, m) > posture_mod.KNEE_UP_LYING_DEG
            lying_mask |= labels == posture_mod.CLASSES.index("lying")
        br = bridges_mod.detect_bridges(
            tw, gdir, std_mag, m, guided=exercise is not None, lying=lying_mask,
            mag=np.asarray(magw, dtype=np.float64) if magw.size else None,
        )
        del lying_mask
        rep_spans = [(r.start_s, r.end_s) for r in br.reps]
        hold_spans = [(h.start_s, h.end_s) for h in br.holds]
        if exercise == "bridge":
            # the patient said these are reps: a long top is a slow rep, not a hold
            rep_spans = sorted(rep_spans + hold_spans)
            reps_out: list[tuple[float, float, dict[str, Any]]] = [(s, e, {}) for s, e in rep_spans]
            holds_out: list[tuple[float, float, dict[str, Any]]] = []
        else:
            reps_out = [(r.start_s, r.end_s, {"amplitude_deg": r.amplitude_deg}) for r in br.reps]
            holds_out = [
                (h.start_s, h.end_s, {"hold_s": h.hold_s, "amplitude_deg": h.amplitude_deg})
                for h in br.holds
            ]
            if exercise == "bridge_hold":
                reps_out = []
        add_exercise(events, all_sets, "bridge", "bridge_rep", reps_out, gaps=gaps)
        add_exercise(events, all_sets, "bridge_hold", "bridge_hold", holds_out, gaps=gaps)

    # RDL
    if exercise in (None, "rdl"):
        mr = m
        if exercise == "rdl" and not m.known:
            mr = rdl_mod.guided_mounting(gdir, std_mag)
        if mr.known:
            rdl = rdl_mod.detect_rdl(tw, gdir, std_mag, mr, guided=True if exercise else None)
            add_exercise(
                events,
                all_sets,
                "rdl",
                "rdl_rep",
                [(r.start_s, r.end_s, r.fields()) for r in rdl],
                # guided: the patient said these are RDLs, so a set of one counts
                min_reps=rdl_mod.GUIDED_MIN_SET_REPS if exercise == "rdl" else None,
                gaps=gaps,
            )
        else:
            skipped.append(SkippedStage("rdl", "mounting unknown: thigh pitch cannot be measured"))

    # hops events
    add_exercise(
        events,
        all_sets,
        "hops",
        "hop",
        [
            (
                h.takeoff_s,
                h.landing_s,
                {
                    "flight_s": h.flight_s,
                    "contact_s": h.contact_s,
                    "height_m": h.height_m,
                },
            )
            for h in hops
        ],
        gaps=gaps,
    )

    # posture events (bridge reps and holds happen lying down, whatever the thigh angle)
    for e in events:
        if e.type in ("bridge_rep", "bridge_hold"):
            i, j = np.searchsorted(tw, [e.start_s, e.end_s])
            labels[i:j] = posture_mod.CLASSES.index("lying")
    bouts = posture_mod.bouts_on(tw, segments_w, labels)
    sit_bouts = sitting_mod.sitting_bouts(
        bouts, [(a, b) for a, b in gaps if b - a > EVENT_GAP_S]
    )
    for b in bouts:
        if b.kind != "sitting":
            events.append(Event(b.kind, b.start_s, b.end_s))
    for sb in sit_bouts:
        events.append(
            Event(
                "sitting",
                sb.start_s,
                sb.end_s,
                {
                    "duration_s": round(sb.duration_s, 2),
                    "seated_s": sb.seated_s,
                    "interruptions": sb.interruptions,
                },
            )
        )

    events.sort(key=lambda e: (e.start_s, e.type))
    all_sets.sort(key=lambda s: s.start_s)
    duration = float(t[-1] - t[0]) + 1.0 / fs if t.size else 0.0
    info: dict[str, Any] = {
        "duration_s": round(duration, 3),
        "sample_rate_hz": fs,
        "placement": "thigh",
        "n_samples": int(t.size),
        "has_gyro": gyro is not None,
        "gaps": len(gaps),
        "gap_s": round(sum(b - a for a, b in gaps), 3),
    }
    if recording_info:
        info.update({k: v for k, v in recording_info.items() if v is not None})
    if exercise is not None:
        info["exercise"] = exercise
    summary = _summary(events, all_sets, bouts, sit_bouts, hops)
    return Analysis(
        recording=info,
        events=tuple(events),
        sets=tuple(all_sets),
        summary=summary,
        mounting=m,
        skipped=tuple(skipped),
        exercise=exercise,
    )


#: Gaps in the samples longer than this (s) end every event (reps, holds, hops, sitting
#: bouts): lowering and lifting again takes at least two phases of 0.6 s plus a touch at the
#: bottom, so a longer gap may hide the end of a hold or a whole rep. Shorter gaps are packet
#: loss inside a movement that goes on (a 1 s dropout in a 40 s hold does not end it).
EVENT_GAP_S = 2.0


def gap_free(
    items: list[tuple[float, float, dict[str, Any]]],
    gaps: list[tuple[float, float]],
    etype: str,
) -> list[tuple[float, float, dict[str, Any]]]:
    """No event spans a gap in the samples longer than EVENT_GAP_S: what happened there is
    unknown. A rep or hop across one is dropped; a hold is cut to its longest gap-free part,
    and kept while that part is still a hold (≥ bridges.HOLD_MIN_S)."""
    gaps = [(a, b) for a, b in gaps if b - a > EVENT_GAP_S]
    if not gaps or not items:
        return items
    out = []
    for s, e, extra in items:
        inside = [(a, b) for a, b in gaps if a < e and b > s]
        if not inside:
            out.append((s, e, extra))
            continue
        if etype != "bridge_hold":
            continue
        edges = [s] + [x for a, b in inside for x in (a, b)] + [e]
        pieces = [(edges[k], edges[k + 1]) for k in range(0, len(edges), 2)]
        a, b = max(pieces, key=lambda p: p[1] - p[0])
        if b - a >= bridges_mod.HOLD_MIN_S:
            # the top is at most the gap-free part (the lift or lowering may lie in it too)
            hold = min(float(extra.get("hold_s", b - a)), b - a)
            out.append((a, b, {**extra, "hold_s": round(hold, 2)}))
    return out


def add_exercise(
    events: list[Event],
    all_sets: list[sets_mod.ExerciseSet],
    exercise: str,
    etype: str,
    items: list[tuple[float, float, dict[str, Any]]],
    min_reps: int | None = None,
    gaps: list[tuple[float, float]] | None = None,
) -> None:
    """Group `items` into sets (dropping sets under `min_reps`, default the free-running
    sets.MIN_REPS) and append their events and sets; none spans one of `gaps`."""
    items = gap_free(items, gaps or [], etype)
    if not items:
        return
    least = sets_mod.MIN_REPS[exercise] if min_reps is None else min_reps
    items = sorted(items, key=lambda x: x[0])
    sets = sets_mod.group_sets(exercise, [(s, e) for s, e, _ in items])
    small = {j for st in sets if st.reps < least for j in st.members}
    if small:
        items = [x for j, x in enumerate(items) if j not in small]
        sets = sets_mod.group_sets(exercise, [(s, e) for s, e, _ in items])
    if not items:
        return
    base = len([x for x in all_sets if x.exercise == exercise])
    set_of = {}
    for k, st in enumerate(sets):
        for j in st.members:
            set_of[j] = base + k
    for j, (s, e, extra) in enumerate(items):
        events.append(Event(etype, s, e, {**extra, "set_index": set_of[j]}))
    all_sets.extend(sets)


def _summary(
    events: list[Event],
    all_sets: list[sets_mod.ExerciseSet],
    bouts: list[posture_mod.Bout],
    sit_bouts: list[sitting_mod.SittingBout],
    hops: list[hops_mod.Hop],
) -> dict[str, Any]:
    time_s: dict[str, float] = {}
    for b in bouts:
        time_s[b.kind] = round(time_s.get(b.kind, 0.0) + (b.end_s - b.start_s), 2)
    counts: dict[str, int] = {}
    for e in events:
        counts[e.type] = counts.get(e.type, 0) + 1
    reps = {ex: sum(s.reps for s in all_sets if s.exercise == ex) for ex in EXERCISES}
    holds = [e for e in events if e.type == "bridge_hold"]
    out: dict[str, Any] = {
        "time_s": time_s,
        "event_counts": counts,
        "sets": {ex: len([s for s in all_sets if s.exercise == ex]) for ex in EXERCISES},
        "reps": reps,
        "sitting_s": round(sum(b.seated_s for b in sit_bouts), 2),
        "sitting_bouts": len(sit_bouts),
        "longest_sitting_bout_s": round(max((b.duration_s for b in sit_bouts), default=0.0), 2),
        "hold_time_s": round(sum(float(e.fields.get("hold_s", 0.0)) for e in holds), 2),
        "hops": len(hops),
    }
    if hops:
        fl = [h.flight_s for h in hops]
        out["median_flight_s"] = round(float(np.median(fl)), 4)
        out["median_height_m"] = round(float(np.median([h.height_m for h in hops])), 4)
    return out


# ------------------------------------------------------------------------------------------
# Mounting memory


def remember_mounting(
    db: Any, patient_id: int, recording_id: int, device: str, analysis: Analysis
) -> None:
    """Store the mounting an analysis found (only when it is known) for later recordings."""
    m = analysis.mounting
    if not m.known or m.source.startswith("recalled"):
        return
    from loadmon import storage

    db["mountings"].insert(
        {
            "patient_id": patient_id,
            "device": device,
            "recording_id": recording_id,
            "created": storage.now_iso(),
            "data": json.dumps(m.to_dict()),
        }
    )


def recall_mounting(db: Any, patient_id: int, device: str) -> Mounting | None:
    """The most recent known mounting of this patient's device, or None."""
    if "mountings" not in db.table_names():
        return None
    rows = list(
        db.query(
            "SELECT data FROM mountings WHERE patient_id = ? AND device = ? "
            "ORDER BY id DESC LIMIT 1",
            [patient_id, device],
        )
    )
    if not rows:
        return None
    try:
        d = json.loads(rows[0]["data"])
        m = Mounting.from_dict(d)
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return Mounting(
        long_axis=m.long_axis,
        anterior_axis=m.anterior_axis,
        anterior_sign_known=m.anterior_sign_known,
        confidence=min(m.confidence, 0.8),
        source="recalled",
    )


# ------------------------------------------------------------------------------------------
# Long recordings: bounded memory by chunking

#: Recordings longer than this are analysed in chunks (s).
CHUNK_ABOVE_S = 26 * 3600.0
CHUNK_S = 6 * 3600.0
#: Each chunk is analysed with this much context on either side (s); events are kept by the
#: chunk whose core holds their start.
CHUNK_OVERLAP_S = 600.0


def analyze_in_chunks(
    t: np.ndarray[Any, np.dtype[np.float64]],
    acc: np.ndarray[Any, np.dtype[np.float64]],
    gyro: np.ndarray[Any, np.dtype[np.float64]] | None,
    fs: float,
    *,
    exercise: str | None = None,
    mounting: Mounting | None = None,
    recording_info: Mapping[str, Any] | None = None,
    chunk_s: float = CHUNK_S,
    overlap_s: float = CHUNK_OVERLAP_S,
) -> Analysis:
    """The pipeline over a long recording, CHUNK_S at a time (arrays may be memory-mapped).

    Working memory is that of one chunk plus its overlap, whatever the recording's length.
    The mounting found in the first chunk that has one is used for the following chunks.
    """
    if t.size == 0:
        return analyze_arrays(t, acc, gyro, fs, exercise=exercise, mounting=mounting)
    t0, t1 = float(t[0]), float(t[-1])
    events: list[Event] = []
    skipped: dict[tuple[str, str], SkippedStage] = {}
    m = mounting
    c = t0
    while c <= t1:
        i, j = np.searchsorted(t, [c - overlap_s, c + chunk_s + overlap_s])
        part = analyze_arrays(
            np.asarray(t[i:j]),
            np.asarray(acc[i:j]),
            None if gyro is None else np.asarray(gyro[i:j]),
            fs,
            exercise=exercise,
            mounting=m,
        )
        if m is None and part.mounting.known:
            m = part.mounting
        for e in part.events:
            if c <= e.start_s < c + chunk_s:
                events.append(e)
        for s in part.skipped:
            skipped[(s.stage, s.reason)] = s
        c += chunk_s
    events = _join_split_bouts(sorted(events, key=lambda e: (e.start_s, e.type)))
    all_sets: list[sets_mod.ExerciseSet] = []
    out_events: list[Event] = [e for e in events if e.type not in _EXERCISE_TYPES]
    for ex, et in (
        ("bridge", "bridge_rep"),
        ("bridge_hold", "bridge_hold"),
        ("rdl", "rdl_rep"),
        ("hops", "hop"),
    ):
        items = [
            (e.start_s, e.end_s, {k: v for k, v in e.fields.items() if k != "set_index"})
            for e in events
            if e.type == et
        ]
        guided_rdl = ex == "rdl" and exercise == "rdl"
        add_exercise(
            out_events,
            all_sets,
            ex,
            et,
            items,
            min_reps=rdl_mod.GUIDED_MIN_SET_REPS if guided_rdl else None,
        )
    out_events.sort(key=lambda e: (e.start_s, e.type))
    all_sets.sort(key=lambda s: s.start_s)
    info: dict[str, Any] = {
        "duration_s": round(t1 - t0 + 1.0 / fs, 3),
        "sample_rate_hz": fs,
        "placement": "thigh",
        "n_samples": int(t.size),
        "has_gyro": gyro is not None,
        "chunked": {"chunk_s": chunk_s, "overlap_s": overlap_s},
    }
    if recording_info:
        info.update({k: v for k, v in recording_info.items() if v is not None})
    bouts = [
        posture_mod.Bout(e.type, e.start_s, e.end_s)
        for e in out_events
        if e.type in posture_mod.CLASSES and e.type != "sitting"
    ]
    sit = [
        sitting_mod.SittingBout(
            e.start_s,
            e.end_s,
            float(e.fields.get("seated_s", 0.0)),
            int(e.fields.get("interruptions", 0)),
        )
        for e in out_events
        if e.type == "sitting"
    ]
    bouts += [posture_mod.Bout("sitting", s.start_s, s.end_s) for s in sit]
    hops = [
        hops_mod.Hop(
            e.start_s,
            e.end_s,
            float(e.fields["flight_s"]),
            e.fields.get("contact_s"),
            float(e.fields["height_m"]),
        )
        for e in out_events
        if e.type == "hop"
    ]
    return Analysis(
        recording=info,
        events=tuple(out_events),
        sets=tuple(all_sets),
        summary=_summary(out_events, all_sets, bouts, sit, hops),
        mounting=m if m is not None else orientation_mod.UNKNOWN,
        skipped=tuple(skipped.values()),
        exercise=exercise,
    )


_EXERCISE_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")


def _join_split_bouts(events: list[Event]) -> list[Event]:
    """Posture bouts cut at a chunk boundary are joined again."""
    out: list[Event] = []
    last: dict[str, int] = {}
    for e in events:
        k = last.get(e.type)
        if e.type not in _EXERCISE_TYPES and k is not None and abs(out[k].end_s - e.start_s) < 0.25:
            prev = out[k]
            fields = dict(prev.fields)
            if e.type == "sitting":
                fields["seated_s"] = round(
                    float(prev.fields.get("seated_s", 0)) + float(e.fields.get("seated_s", 0)), 2
                )
                fields["duration_s"] = round(e.end_s - prev.start_s, 2)
            out[k] = Event(e.type, prev.start_s, e.end_s, fields)
            continue
        last[e.type] = len(out)
        out.append(e)
    return out
