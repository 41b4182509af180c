"""Provides the Romanian deadlift (RDL) detector with eccentric and concentric durations.

An RDL is a standing hip hinge: the thigh stays near vertical and pitches forward by about
10–35° (the knees soften while the hips go back), slowly (heavy slow resistance ≈ 3 s each
way), in the sagittal plane, and returns. Squats and sit-to-stand take the thigh towards
horizontal (> MAX_PEAK_DEG); walking and stairs move fast (movement above MAX_MOVEMENT_G);
lunges pitch the trailing thigh backwards (rejected when the anterior sign is known).

Free-running recognition keeps only sets of at least `sets.MIN_REPS["rdl"]` (3) reps: one
hinge alone is more likely a bend to pick something up. In guided mode the patient has named
the set ("RDLs"), so a set counts from GUIDED_MIN_SET_REPS reps and each rep is final as soon
as the thigh is back upright and still (see `loadmon.analysis.streaming`).

Guided without a known mounting (no walking to learn the thigh's axes from), the mounting is
the set's own geometry (`guided_mounting`): the hinge's arc, with upright at the end where the
thigh stands still, and the pitch is signed along that arc. (A reference taken from "quiet"
samples lands mid-hinge, because a 3 s-tempo rep is as quiet as standing, and the unsigned
inclination from it folds over: reps read shallow and about 1 s too fast.) Guided sets also
count shallow reps (GUIDED_SHALLOW_DEG) once the set has begun.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.excursions import find_excursions, signed_angle
from loadmon.analysis.orientation import (
    UNKNOWN,
    EpochFeatures,
    Mounting,
    inclination_deg,
    principal_plane,
)
from loadmon.analysis.prepare import WORK_HZ, FloatArray, Prepared, runs, unit
from loadmon.analysis.sets import MIN_REPS, SET_GAP_S, group_sets

#: Upright spans: inclination below this (deg).
UPRIGHT_DEG = 60.0
#: Pitch excursion limits (deg) and hysteresis.
MIN_PITCH_DEG = 8.0
#: An RDL keeps the shin near vertical and softens the knee by 15–25°, so the thigh tilts at
#: most ~35° from vertical; a half squat bends the knee 60–90° with the shin tilting forward,
#: and takes the thigh to 42–50° (measured on real half and single-leg squats).
MAX_PEAK_DEG = 40.0
#: Tempo limits (s): each phase at least, the whole rep at most.
MIN_PHASE_S = 0.6
MAX_REP_S = 20.0
#: Slow movement only: mean std of |acc| over the rep (g).
MAX_MOVEMENT_G = 0.1
#: ... and nowhere in the rep or MARGIN_S around it above this (g): no steps.
MAX_PEAK_MOVEMENT_G = 0.15
MARGIN_S = 1.0
MAX_ML_FRACTION = 0.6
BASELINE_WINDOW_S = 60.0
#: Guided mode: a set of RDLs counts from this many reps (the patient said these are RDLs, so
#: the first rep needs no later reps to vouch for it). Free-running: sets.MIN_REPS["rdl"].
GUIDED_MIN_SET_REPS = 1
#: Guided mounting (no walking to learn it from): the set's own arc. Its upright end is the
#: one the thigh is still at for longer ("still": slower than GUIDED_STILL_DPS; a 10° hinge
#: in 4 s peaks near 5°/s, sway is ≲ 1°/s). Slow samples within max(GUIDED_REST_DEG,
#: GUIDED_REST_FRAC × arc) of that end are the upright reference.
GUIDED_SOURCE = "guided-rdl"
GUIDED_MIN_BINS = 20
GUIDED_REST_DEG = 3.0
GUIDED_REST_FRAC = 0.15
GUIDED_STILL_DPS = 2.0
#: Guided sets: after a clear rep (≥ MIN_PITCH_DEG) of the same set (within the set gap), a
#: slow, sagittal, forward out-and-back of at least GUIDED_SHALLOW_DEG (4× the ~1° postural
#: sway of the thigh) and GUIDED_SHALLOW_REL of the set's median clear rep is a shallow rep:
#: the patient is in the set. Before the first clear rep it may be settling into the stance.
#: (Only earlier reps are needed, so live counting still shows each rep as soon as it ends.)
#: Free-running, a shallow rep also needs a clear rep after it in the same set: between two
#: clear RDLs, a slow sagittal hinge out and back is one more rep done less deep.
GUIDED_SHALLOW_DEG = 4.0
GUIDED_SHALLOW_REL = 1.0 / 3.0
#: ... and it turns at the bottom: held there at most this long (s). A heavy-slow-resistance RDL
#: reverses with at most a brief pause; a weight shift to another stance stays for seconds.
GUIDED_SHALLOW_HOLD_S = 2.0
#: Free-running, a set's reps follow each other: at least MIN_REPS["rdl"] of its clear reps in
#: a row, each starting within RHYTHM_GAP_S (s) of the previous one's end (a heavy-slow-
#: resistance set rests a few seconds between reps at most). Bending down to pick things up
#: recurs, but tens of seconds apart; one longer pause inside a real set does not drop it.
RHYTHM_GAP_S = 10.0
#: Rows of the gravity direction turned into pitch at a time (bounded temporaries).
PITCH_BLOCK = 1 << 16

PARAMETERS = {
    "upright_deg": UPRIGHT_DEG,
    "min_pitch_deg": MIN_PITCH_DEG,
    "max_peak_deg": MAX_PEAK_DEG,
    "min_phase_s": MIN_PHASE_S,
    "max_rep_s": MAX_REP_S,
    "max_movement_g": MAX_MOVEMENT_G,
    "max_peak_movement_g": MAX_PEAK_MOVEMENT_G,
    "margin_s": MARGIN_S,
    "max_ml_fraction": MAX_ML_FRACTION,
    "baseline_window_s": BASELINE_WINDOW_S,
    "guided_min_set_reps": GUIDED_MIN_SET_REPS,
    "guided_rest_deg": GUIDED_REST_DEG,
    "guided_rest_frac": GUIDED_REST_FRAC,
    "guided_still_dps": GUIDED_STILL_DPS,
    "guided_shallow_deg": GUIDED_SHALLOW_DEG,
    "guided_shallow_rel": GUIDED_SHALLOW_REL,
    "guided_shallow_hold_s": GUIDED_SHALLOW_HOLD_S,
    "rhythm_gap_s": RHYTHM_GAP_S,
}


@dataclass(frozen=True)
class RdlRep:
    start_s: float
    end_s: float
    eccentric_s: float
    concentric_s: float
    pitch_deg: float

    def fields(self) -> dict[str, float]:
        """The rep's figures as stored with its `rdl_rep` event."""
        return {
            "eccentric_s": self.eccentric_s,
            "concentric_s": self.concentric_s,
            "pitch_deg": self.pitch_deg,
        }


def guided_mounting(gdir: FloatArray, std_mag: FloatArray) -> Mounting:
    """For a recording of standing RDLs only: the mounting from the set's own geometry.

    An RDL pitches the thigh forward from upright and back, in the sagittal plane, so the slow
    part of the gravity-direction trajectory is an arc with upright standing at one END (not a
    quiet middle: a 3 s-tempo hinge is as quiet as standing, so "quiet" samples straddle the
    whole arc). The arc's principal direction is the forward (anterior) pitch direction; the
    upright end is the one the thigh is still at for longer (standing before, between and after
    the reps; at the bottom it only reverses). The long axis is the mean direction of
    the slow samples near that end; the anterior axis points from it along the arc towards the
    reps, so its sign is known by construction (the patient said these are hip hinges).

    Unknown when there is nothing to learn from (no work-rate bins yet, e.g. the first
    fraction of a second of a live stream)."""
    n = gdir.shape[0]
    if n == 0:
        return UNKNOWN
    g = np.asarray(gdir, dtype=np.float64)
    sm = np.asarray(std_mag, dtype=np.float64)
    slow = sm < MAX_PEAK_MOVEMENT_G
    if slow.sum() < GUIDED_MIN_BINS:
        slow = np.ones(n, dtype=bool)
    c, e1, _ = principal_plane(g[slow])
    x = signed_angle(g, c, e1)  # deg along the arc
    xs = x[slow]
    lo, hi = float(np.percentile(xs, 2)), float(np.percentile(xs, 98))
    span = hi - lo
    if span < MIN_PITCH_DEG:
        # no hinge yet (standing only): the mean direction is upright; no arc to orient by
        return Mounting(long_axis=_t3(c), confidence=0.5, source=GUIDED_SOURCE)
    if _upright_end(x, slow, lo, hi) > 0:
        e1, x, lo, hi = -e1, -x, -hi, -lo
    band = max(GUIDED_REST_DEG, GUIDED_REST_FRAC * span)
    near = slow & (x <= lo + band)
    u = unit(g[near].mean(axis=0)[None, :])[0] if near.sum() >= 3 else c
    a = e1 - float(e1 @ u) * u
    a = a / max(float(np.linalg.norm(a)), 1e-12)
    return Mounting(
        long_axis=_t3(u),
        anterior_axis=_t3(a),
        anterior_sign_known=True,
        confidence=0.5,
        source=GUIDED_SOURCE,
    )


def _t3(v: FloatArray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _upright_end(x: FloatArray, slow: NDArray[np.bool_], lo: float, hi: float) -> int:
    """Which end of the arc `x` (deg) is upright: -1 the low end, +1 the high end.

    The end the thigh is still at for longer: a guided set starts and ends standing and rests
    upright between reps, while at the bottom it only reverses (a pause of a second at most).
    The movements themselves are slow near both ends alike, so they do not tip it. Halves of
    the arc rather than narrow bands at its ends: the standing before a set may sit a few
    degrees from the rest between reps. (Not the posture at the recording's edges: a live
    window often ends mid-rep, at the bottom.)"""
    still = slow.copy()
    if x.size > 1:
        speed = np.abs(np.gradient(x)) * WORK_HZ  # deg/s
        still &= speed < GUIDED_STILL_DPS
    if not still.any():
        still = slow
    mid = 0.5 * (lo + hi)
    n_lo = int(np.count_nonzero(still & (x < mid)))
    n_hi = int(np.count_nonzero(still & (x > mid)))
    return 1 if n_hi > n_lo else -1


def guided_reps(p: Prepared, f: EpochFeatures, m: Mounting) -> list[RdlRep]:
    """Guided mode's RDL stage before any set rule: the reps under mounting `m`, or, when it is
    unknown, under the mounting learned from the set's own arc (`guided_mounting`, as the
    pipeline does for `exercise="rdl"`)."""
    mr = m if m.known else guided_mounting(p.gdir, f.std_mag)
    if not mr.known:
        return []
    return detect_rdl(p.tw, p.gdir, f.std_mag, mr, guided=True)


def sagittal_pitch(gdir: FloatArray, m: Mounting) -> FloatArray | None:
    """Signed forward pitch of the thigh (deg) in the sagittal plane, when the anterior axis is
    known: unlike the inclination it does not fold over when the thigh passes vertical."""
    a = m.a
    if a is None:
        return None
    # PITCH_BLOCK rows at a time: no full-length temporary besides the result
    n = gdir.shape[0]
    out: FloatArray = np.empty(n)
    for j0 in range(0, n, PITCH_BLOCK):
        g = gdir[j0 : j0 + PITCH_BLOCK]
        np.arctan2(g @ a, g @ m.u, out=out[j0 : j0 + PITCH_BLOCK])
    np.degrees(out, out=out)
    return out


def detect_rdl(
    tw: FloatArray,
    gdir: FloatArray,
    std_mag: FloatArray,
    m: Mounting,
    *,
    guided: bool | None = None,
) -> list[RdlRep]:
    """RDL reps in the upright spans of a recording whose mounting is known.

    `guided` (default: the mounting was learned from a guided set, `guided_mounting`) also
    counts shallow reps inside a set: see GUIDED_SHALLOW_DEG."""
    if guided is None:
        guided = m.source == GUIDED_SOURCE
    found = _candidates(tw, gdir, std_mag, m, GUIDED_SHALLOW_DEG)
    clear = [r for r in found if r.pitch_deg >= MIN_PITCH_DEG]
    if not clear:
        return clear
    typical = float(np.median([r.pitch_deg for r in clear]))
    gap = SET_GAP_S["rdl"]
    if not guided:
        # free-running: shallow reps join sets of clear reps, never make one up
        clear = _in_full_sets(clear)
    out: list[RdlRep] = []
    in_sets = {r.start_s for r in clear}
    for r in found:
        if r.pitch_deg >= MIN_PITCH_DEG and r.start_s not in in_sets:
            continue  # free-running: not in a set of reps in rhythm
        if r.pitch_deg < MIN_PITCH_DEG:
            if r.pitch_deg < GUIDED_SHALLOW_REL * typical:
                continue
            if not any(0 <= r.start_s - c.end_s <= gap for c in clear):
                continue  # before the set has begun: settling into the stance
            if not guided and not any(0 <= c.start_s - r.end_s <= gap for c in clear):
                continue  # free-running: only inside a set, with clear reps on both sides
            if r.end_s - r.start_s - r.eccentric_s - r.concentric_s > GUIDED_SHALLOW_HOLD_S:
                continue  # stayed there: a step to another stance, not a hinge turning back
        out.append(r)
    return out


def _in_full_sets(clear: list[RdlRep]) -> list[RdlRep]:
    """The clear reps that belong to a set of at least MIN_REPS["rdl"] clear reps, of which
    that many follow each other in rhythm (at most RHYTHM_GAP_S apart)."""
    sets = group_sets("rdl", [(r.start_s, r.end_s) for r in clear])
    keep = sorted(
        k
        for st in sets
        if st.reps >= MIN_REPS["rdl"] and _longest_rhythm([clear[j] for j in st.members])
        >= MIN_REPS["rdl"]
        for k in st.members
    )
    return [clear[k] for k in keep]


def _longest_rhythm(reps: list[RdlRep]) -> int:
    """The most reps in a row (by start) with at most RHYTHM_GAP_S from one's end to the next."""
    reps = sorted(reps, key=lambda r: r.start_s)
    best = run = 1 if reps else 0
    for prev, r in pairwise(reps):
        run = run + 1 if r.start_s - prev.end_s <= RHYTHM_GAP_S else 1
        best = max(best, run)
    return best


def _candidates(
    tw: FloatArray, gdir: FloatArray, std_mag: FloatArray, m: Mounting, min_pitch: float
) -> list[RdlRep]:
    """Slow, sagittal, forward hinges of at least `min_pitch` in the upright spans."""
    inc = inclination_deg(gdir, m)
    a_ax = m.a if m.anterior_sign_known else None
    ml = m.m
    pitch = sagittal_pitch(gdir, m)
    out: list[RdlRep] = []
    for a, b in runs(inc < UPRIGHT_DEG):
        if b - a < 3 * WORK_HZ:
            continue
        s = inc[a:b] if pitch is None else pitch[a:b]
        if pitch is not None and not m.anterior_sign_known:
            med = float(np.median(s))
            if med - float(np.percentile(s, 2)) > float(np.percentile(s, 98)) - med:
                s = -s
        slow = std_mag[a:b] < MAX_PEAK_MOVEMENT_G
        if not slow.any():
            continue
        for e in find_excursions(s, min_pitch, dt=1.0 / WORK_HZ, keep=slow, times=tw[a:b]):
            i0, i1, ip = a + e.start, a + e.end, a + e.peak
            if float(inc[ip]) > MAX_PEAK_DEG or e.amplitude_deg > MAX_PEAK_DEG:
                continue  # the thigh tilted as far as a squat takes it
            if e.rise_s < MIN_PHASE_S or e.fall_s < MIN_PHASE_S:
                continue
            if e.t_end - e.t_start > MAX_REP_S:
                continue
            m0 = max(0, i0 - int(MARGIN_S * WORK_HZ))
            m1 = min(std_mag.size, i1 + int(MARGIN_S * WORK_HZ) + 1)
            if float(np.mean(std_mag[i0 : i1 + 1])) > MAX_MOVEMENT_G:
                continue
            if float(np.max(std_mag[m0:m1])) > MAX_PEAK_MOVEMENT_G:
                continue  # steps just before or after: the start or end of walking
            dg = gdir[ip] - gdir[i0]
            nrm = float(np.linalg.norm(dg))
            if ml is not None and nrm > 1e-6 and abs(float(dg @ ml)) / nrm > MAX_ML_FRACTION:
                continue
            if a_ax is not None and float(dg @ a_ax) < 0:
                continue  # pitched backwards: a trailing lunge leg, not a hinge
            out.append(
                RdlRep(
                    round(e.t_start, 2),
                    round(e.t_end, 2),
                    round(e.rise_s, 2),
                    round(e.fall_s, 2),
                    round(e.amplitude_deg, 1),
                )
            )
    return out
