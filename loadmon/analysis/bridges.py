"""Provides the supine bridge detector: bridge reps and isometric bridge holds.

Hook-lying (feet on the floor, knee above hip) puts the thigh's long axis beyond horizontal
(inclination > 90°). Lifting the hips rotates the thigh in the sagittal plane, by tens of
degrees, towards in-line with the trunk (inclination falls towards 90°), and lowering brings it
back. A top held ≥ HOLD_MIN_S is a hold. Look-alikes: pelvic tilts move the thigh a few degrees
only; knee rolling rotates it about the body's long axis, out of the sagittal plane and to both
sides of the rest.

Free-running mode with a known mounting uses the inclination and checks the sagittal plane;
without one (and in guided mode) it uses the exercise's own geometry: the principal plane of the
gravity-direction trajectory, with reps on the side away from the (time-dominant) rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.excursions import WALK_TOL_DEG, Excursion, find_excursions, signed_angle
from loadmon.analysis.orientation import Mounting, inclination_deg, principal_plane
from loadmon.analysis.prepare import WORK_HZ, FloatArray, runs, vertical_rise_cm

#: Hook-lying: the rest inclination must exceed this (deg).
HOOK_LYING_DEG = 95.0
#: Bridges are looked for where the thigh is at least this far from vertical (deg): off the
#: feet. A bridge top has the thigh about in line with the trunk (≈ 90–105°); with the
#: long-axis estimate's error (up to ~10°) a top can read a little below 80°, so the floor span
#: reaches down to where the thigh would point 30° below horizontal (hip well above knee, which
#: the feet-on-the-floor geometry of a bridge does not reach); upright (< 45°) stays out.
FLOOR_DEG = 60.0
#: A thigh held beyond this inclination (deg) is a raised leg (single-leg bridge on the other
#: leg): across dips shorter than RAISED_GAP_S (s), for at least RAISED_MIN_S (s).
RAISED_DEG = 150.0
RAISED_GAP_S = 10.0
RAISED_MIN_S = 5.0
#: ... its reps are on the side away from vertical when the movement and the inclination are
#: correlated at least this much (else it tilts through vertical: rest = where the set starts)
RAISED_CORR = 0.5
#: A rep is out and back: the feet stay planted, so the thigh's direction after a rep is
#: within this angle (deg) of where it was before (a foot re-placed between reps moves the
#: thigh ~10–15°). Rolling over, sitting up or taking the sensor off ends elsewhere.
RETURN_DEG = 25.0
#: Maximum rep rotation (deg): from the steepest hook (knee far up, ≈ 150°) or a raised leg
#: (≈ 180°) to a full bridge top (thigh in line with the trunk, ≈ 90°) the thigh turns well
#: under 90°; turning it further is a change of posture (rolling prone, getting up).
MAX_AMP_DEG = 90.0
#: Minimum rep rotation (deg): free-running with a mounting / without one / guided.
MIN_AMP_FREE_DEG = 6.0
MIN_AMP_NO_MOUNTING_DEG = 20.0
MIN_AMP_GUIDED_DEG = 3.0
#: Within a set established by clear reps, shallower reps count down to this (deg) and this
#: fraction of the neighbouring reps' median amplitude (within SET_WINDOW_S).
SET_MIN_AMP_DEG = 3.0
SET_REL = 0.45
SET_WINDOW_S = 30.0
#: Guided: an excursion must reach this fraction of the typical (95th percentile) excursion.
GUIDED_REL = 0.45
#: Rep duration limits (s) and the hold threshold (s of top held).
REP_MIN_S = 0.8
#: A lift or a lowering takes seconds (heavy slow reps ≈ 3 s each way); a "movement" taking
#: longer than this (s) is a drift of posture.
MAX_PHASE_S = 10.0
HOLD_MIN_S = 10.0
#: Free-running, a hold lifts the hips off the floor: the thigh turns at least this far (deg;
#: ≈ 10 cm of hip lift for a 45 cm thigh). A knee sliding a little down and back in
#: hook-lying (6–10°) for a while is a shift of posture, not a hold (shallow reps still count:
#: they are out and back within seconds). Every simulated hold turned the thigh ≥ 25°.
HOLD_MIN_AMP_DEG = 15.0
#: Bridges are slow: mean std of |acc| over a rep must stay below this (g).
MAX_MOVEMENT_G = 0.15
#: Out-of-sagittal fraction allowed for the direction change of a rep (|Δg·ml| / |Δg|).
MAX_ML_FRACTION = 0.6
#: ... and the rep's rotation (start → peak) is about the mediolateral axis, within this (deg):
#: the hips lift by turning the thigh about the knee in the sagittal plane. Knee rolling turns
#: the hook-lying thigh about the body's long axis, 60–80° away from the thigh's ML axis.
MAX_AXIS_DEG = 45.0
#: Two-sided excursions (knee rolling) are rejected when the opposite side reaches this ratio.
TWO_SIDED_RATIO = 0.5
#: Without a mounting, reps must share their rotation axis within this angle (deg).
SAME_AXIS_DEG = 30.0
#: ... and must not be mirrored by an opposite excursion starting within this time (s): knee
#: rolling goes to one side, then straight to the other.
OPPOSITE_WINDOW_S = 12.0
BASELINE_WINDOW_S = 120.0

PARAMETERS = {
    "hook_lying_deg": HOOK_LYING_DEG,
    "floor_deg": FLOOR_DEG,
    "raised_deg": RAISED_DEG,
    "raised_gap_s": RAISED_GAP_S,
    "raised_min_s": RAISED_MIN_S,
    "raised_corr": RAISED_CORR,
    "return_deg": RETURN_DEG,
    "max_amp_deg": MAX_AMP_DEG,
    "min_amp_free_deg": MIN_AMP_FREE_DEG,
    "min_amp_no_mounting_deg": MIN_AMP_NO_MOUNTING_DEG,
    "min_amp_guided_deg": MIN_AMP_GUIDED_DEG,
    "guided_rel": GUIDED_REL,
    "set_min_amp_deg": SET_MIN_AMP_DEG,
    "set_rel": SET_REL,
    "set_window_s": SET_WINDOW_S,
    "rep_min_s": REP_MIN_S,
    "max_phase_s": MAX_PHASE_S,
    "hold_min_s": HOLD_MIN_S,
    "hold_min_amp_deg": HOLD_MIN_AMP_DEG,
    "max_movement_g": MAX_MOVEMENT_G,
    "max_ml_fraction": MAX_ML_FRACTION,
    "max_axis_deg": MAX_AXIS_DEG,
    "two_sided_ratio": TWO_SIDED_RATIO,
    "same_axis_deg": SAME_AXIS_DEG,
    "opposite_window_s": OPPOSITE_WINDOW_S,
    "baseline_window_s": BASELINE_WINDOW_S,
}


@dataclass(frozen=True)
class BridgeRep:
    start_s: float
    end_s: float
    amplitude_deg: float


@dataclass(frozen=True)
class BridgeHold:
    start_s: float
    end_s: float
    hold_s: float
    amplitude_deg: float


@dataclass(frozen=True)
class BridgeResult:
    reps: tuple[BridgeRep, ...]
    holds: tuple[BridgeHold, ...]


def _to_events(
    exs: list[Excursion], std_mag: FloatArray, offset: int, hold_min_amp: float = 0.0
) -> BridgeResult:
    reps: list[BridgeRep] = []
    holds: list[BridgeHold] = []
    for e in exs:
        a, b = offset + e.start, offset + e.end
        if e.t_end - e.t_start < REP_MIN_S or e.amplitude_deg > MAX_AMP_DEG:
            continue
        if e.rise_s > MAX_PHASE_S or e.fall_s > MAX_PHASE_S:
            continue  # a drift of posture over minutes, not a lift and a lowering
        if float(np.mean(std_mag[a : b + 1])) > MAX_MOVEMENT_G:
            continue
        t0, t1 = round(e.t_start, 2), round(e.t_end, 2)
        if e.hold_s >= HOLD_MIN_S:
            if e.amplitude_deg < hold_min_amp:
                continue  # held there, but the hips were not lifted: a shift of posture
            holds.append(BridgeHold(t0, t1, round(e.hold_s, 2), round(e.amplitude_deg, 1)))
        else:
            reps.append(BridgeRep(t0, t1, round(e.amplitude_deg, 1)))
    return BridgeResult(tuple(reps), tuple(holds))


def _returns(gdir: FloatArray, e: Excursion, offset: int = 0) -> bool:
    """The thigh ends the excursion within RETURN_DEG of where it started (out and back)."""
    c = float(gdir[offset + e.start] @ gdir[offset + e.end])
    return c >= float(np.cos(np.radians(RETURN_DEG)))


def _orient_to_rest(s: FloatArray) -> tuple[FloatArray, float, float]:
    """Flip `s` so excursions away from the time-dominant rest are positive; side amplitudes."""
    med = float(np.median(s))
    up = float(np.percentile(s, 98)) - med
    dn = med - float(np.percentile(s, 2))
    if dn > up:
        return -s, dn, up
    return s, up, dn


#: Guided polarity without a mounting, from the hips going up: a bridge lifts the hips, and
#: the thigh turns about the knee, so the sensor rises with them on the lift and sinks on the
#: lowering. For slow movements |acc| − 1 g is the vertical acceleration (to first order, and
#: whatever the sensor's orientation); integrated twice over each crossing of the arc's
#: mid-level (±LIFT_WINDOW_S, still to still: zero net velocity change), it gives the sensor's
#: rise. The side of the arc that the sensor rises into is the top. Used when the median rise
#: into one side and the median rise into the other differ by LIFT_MIN_CM or more, with at
#: least LIFT_MIN_CROSSINGS crossings; else the time-dominant rest, as before. (With a known
#: mounting the top is where the thigh is nearer horizontal: the smaller inclination.)
LIFT_WINDOW_S = 1.5
LIFT_MIN_CM = 1.0
LIFT_MIN_CROSSINGS = 2


def orient_by_lift(s: FloatArray, mag: FloatArray) -> FloatArray | None:
    """`s` signed so that positive is the side the sensor rises into (the bridge top), or
    None when the lifts do not tell (see LIFT_*)."""
    lo, hi = np.percentile(s, [5, 95])
    mid = 0.5 * (lo + hi)
    above = s >= mid
    k = np.flatnonzero(above[1:] != above[:-1]) + 1
    w = round(LIFT_WINDOW_S * WORK_HZ)
    into_high: list[float] = []
    into_low: list[float] = []
    for c in k:
        i, j = max(0, int(c) - w), min(s.size, int(c) + w)
        (into_high if above[c] else into_low).append(vertical_rise_cm(mag, i, j))
    if not into_high or not into_low or len(into_high) + len(into_low) < LIFT_MIN_CROSSINGS:
        return None
    score = float(np.median(into_high)) - float(np.median(into_low))
    if abs(score) < LIFT_MIN_CM:
        return None
    return s if score > 0 else -s


def _same_axis(exs: list[Excursion], gdir: FloatArray) -> list[Excursion]:
    """Bridge reps all rotate the thigh about the same (mediolateral) axis; knee rolling turns it
    about opposite axes to either side. Keep the reps about the common axis, none if there is
    no common axis for most of them."""
    axes = np.array([np.cross(gdir[e.start], gdir[e.peak]) for e in exs])
    axes = axes / np.maximum(np.linalg.norm(axes, axis=1, keepdims=True), 1e-9)
    common = np.median(axes, axis=0)
    common = common / max(float(np.linalg.norm(common)), 1e-9)
    agree = axes @ common > np.cos(np.radians(SAME_AXIS_DEG))
    if agree.mean() < 0.75:
        return []
    return [e for e, ok in zip(exs, agree, strict=True) if ok]


def detect_geometric(
    tw: FloatArray,
    gdir: FloatArray,
    std_mag: FloatArray,
    *,
    min_amp: float,
    rel: float,
    reject_two_sided: bool,
    mag: FloatArray | None = None,
    m: Mounting | None = None,
) -> BridgeResult:
    """Bridges from the principal plane of the gravity-direction trajectory. The top is the
    side nearer horizontal when the mounting `m` is known, else the side the sensor rises into
    (`orient_by_lift`, from the work-rate mean |acc| `mag`), else away from the time-dominant
    rest."""
    if tw.size < 20:
        return BridgeResult((), ())
    quiet = std_mag < MAX_MOVEMENT_G
    use = gdir[quiet] if quiet.sum() >= 20 else gdir
    c, e1, _ = principal_plane(use)
    s = signed_angle(gdir, c, e1)
    oriented: FloatArray | None = None
    if m is not None and m.known:
        inc = inclination_deg(gdir, m)
        oriented = s if float(np.corrcoef(s, inc)[0, 1]) < 0 else -s
    elif mag is not None and mag.size == s.size:
        oriented = orient_by_lift(s, mag)
    s = oriented if oriented is not None else _orient_to_rest(s)[0]
    cands = find_excursions(s, min_amp, dt=1.0 / WORK_HZ, times=tw)
    if not cands:
        return BridgeResult((), ())
    typical = float(np.percentile([e.amplitude_deg for e in cands], 90))
    exs = [e for e in cands if e.amplitude_deg >= rel * typical]
    if reject_two_sided and exs:
        # Knee rolling also goes to the other side: an opposite excursion nearby that goes
        # beyond the rest by half the rep (or half the smallest rep that counts: rolling
        # towards the other leg turns this thigh less than rolling towards its own side).
        # The rest is the higher of the rep's own rest and the time-dominant one (the rest
        # between two reps is a dip of -s as deep as the reps, but no deeper than the rest;
        # continuous rolling from one side to the other has its "rest" on the other side,
        # far below the time-dominant centre).
        opp = find_excursions(-s, min_amp * TWO_SIDED_RATIO, dt=1.0 / WORK_HZ, times=tw)
        r0 = float(np.median(s))
        kept = []
        for e in exs:
            ref = max(min(float(s[e.start]), float(s[e.end])), r0)
            height = float(s[e.peak]) - ref
            if not any(
                ref - float(s[o.peak]) >= TWO_SIDED_RATIO * min(height, min_amp)
                and abs(o.t_start - e.t_start) <= OPPOSITE_WINDOW_S
                for o in opp
            ):
                kept.append(e)
        exs = kept
    if reject_two_sided and exs:
        exs = [e for e in exs if _returns(gdir, e)]
    if reject_two_sided and exs:
        exs = _same_axis(exs, gdir)
    return _to_events(exs, std_mag, 0)


def detect_with_mounting(
    tw: FloatArray,
    gdir: FloatArray,
    std_mag: FloatArray,
    m: Mounting,
    *,
    min_amp: float = MIN_AMP_FREE_DEG,
    lying: NDArray[np.bool_] | None = None,
) -> BridgeResult:
    """Bridges in hook-lying spans: falls of thigh inclination, in the sagittal plane; and
    single-leg bridges with the instrumented leg raised (see `_raised_reps`)."""
    inc = inclination_deg(gdir, m)
    floor = inc > FLOOR_DEG
    reps: list[BridgeRep] = []
    holds: list[BridgeHold] = []
    ml = m.m
    for a, b in runs(floor):
        if b - a < 2 * WORK_HZ:
            continue
        s = -inc[a:b]
        slow = std_mag[a:b] < MAX_MOVEMENT_G
        # Spans with the leg raised are measured on their own (`_raised_reps`); the rest of
        # the floor run is searched between them, so lowering the raised leg to hook-lying
        # between two sets is not one long excursion with the hook-lying set on its top.
        raised = _raised_spans(inc[a:b])
        bounds = [0] + [x for span in raised for x in span] + [b - a]
        exs: list[Excursion] = []
        for ha, hb in zip(bounds[::2], bounds[1::2], strict=True):
            # next to a raised span, start and end where the leg has settled after lowering
            # it (and before raising it): the lowering is a change of posture, not a rep
            if ha > 0:
                ha = _settled(s, ha, hb, +1)
            if hb < b - a:
                hb = _settled(s, hb - 1, ha - 1, -1) + 1
            if hb - ha < 2 * WORK_HZ:
                continue
            for e in find_excursions(
                s[ha:hb], SET_MIN_AMP_DEG, dt=1.0 / WORK_HZ, keep=slow[ha:hb],
                times=tw[a + ha : a + hb],
            ):
                exs.append(replace(e, start=e.start + ha, peak=e.peak + ha, end=e.end + ha,
                                   top_start=e.top_start + ha, top_end=e.top_end + ha))
        keep: list[Excursion] = []
        for e in exs:
            rest = max(float(inc[a + e.start]), float(inc[a + e.end]))
            if rest < HOOK_LYING_DEG:
                continue
            if not _returns(gdir, e, a):
                continue  # ends in another posture: not a rep
            if ml is not None:
                dg = gdir[a + e.peak] - gdir[a + e.start]
                n = float(np.linalg.norm(dg))
                if n > 1e-6 and abs(float(dg @ ml)) / n > MAX_ML_FRACTION:
                    continue
                axis = np.cross(gdir[a + e.start], gdir[a + e.peak])
                na = float(np.linalg.norm(axis))
                if na > 1e-6 and abs(float(axis @ ml)) / na < np.cos(np.radians(MAX_AXIS_DEG)):
                    continue  # turned about another axis (knee rolling), not lifted
            keep.append(e)
        for ra, rb in raised:
            keep.extend(_raised_reps(tw, gdir, inc, slow, a, ra, rb))
        keep.sort(key=lambda e: e.start)
        if lying is not None:
            keep = _on_the_floor(keep, inc[a:b], lying[a:b])
        keep = _within_sets(keep, min_amp)
        res = _to_events(keep, std_mag, a, HOLD_MIN_AMP_DEG)
        reps.extend(res.reps)
        holds.extend(res.holds)
    return BridgeResult(tuple(reps), tuple(holds))


def _settled(s: FloatArray, i: int, stop: int, step: int) -> int:
    """From s[i] (the edge of a raised span), follow s up (the leg being lowered) until it
    stops rising by more than WALK_TOL_DEG within a second: where the lowered leg rests."""
    k = i
    look = int(WORK_HZ)
    while True:
        nxt = [j for j in range(k + step, k + step * (look + 1), step)
               if (j < stop if step > 0 else j > stop)]
        if not nxt:
            return k
        j = max(nxt, key=lambda q: float(s[q]))
        if float(s[j]) > float(s[k]) + WALK_TOL_DEG:
            k = j
        else:
            return k


def _raised_spans(inc: FloatArray) -> list[tuple[int, int]]:
    """Index ranges where the thigh is held up near vertical (a raised leg): inclination ≥
    RAISED_DEG, across dips shorter than RAISED_GAP_S (the reps themselves), for at least
    RAISED_MIN_S."""
    out: list[tuple[int, int]] = []
    gap = int(RAISED_GAP_S * WORK_HZ)
    for a, b in runs(inc >= RAISED_DEG):
        if out and a - out[-1][1] <= gap:
            out[-1] = (out[-1][0], int(b))
        else:
            out.append((int(a), int(b)))
    return [(a, b) for a, b in out if b - a >= RAISED_MIN_S * WORK_HZ]


def _raised_reps(
    tw: FloatArray,
    gdir: FloatArray,
    inc: FloatArray,
    slow: NDArray[np.bool_],
    a: int,
    ra: int,
    rb: int,
) -> list[Excursion]:
    """Single-leg bridges with the instrumented leg raised (thigh near vertical).

    The raised thigh rides on the pelvis: the lift tilts it away from its rest by the pelvis's
    rotation, sagittally and, as the unsupported side of the pelvis drops, also in the frontal
    plane, so no plane is imposed. Near vertical the inclination folds over (a tilt through
    vertical reads as a dip and a rise), so the movement is measured as the signed angle
    along its main direction (the principal plane of the thigh's direction over the span),
    continuous through vertical, with the sign that takes the thigh away from the held rest
    (closest to vertical; or, for a tilt through vertical, where the set starts and ends).
    Indices are returned relative to `a`.
    """
    g = gdir[a + ra : a + rb]
    if g.shape[0] < 2 * WORK_HZ:
        return []
    c, e1, _ = principal_plane(g)
    sr = signed_angle(g, c, e1)
    # The leg is held up close to vertical and each lift tilts it away: when the movement
    # changes the inclination, the reps are on the side away from vertical. When it does not
    # (a tilt through vertical), the rest is where the set starts and ends.
    ir = inc[a + ra : a + rb]
    corr = float(np.corrcoef(sr, ir)[0, 1]) if np.std(sr) > 0 and np.std(ir) > 0 else 0.0
    if abs(corr) >= RAISED_CORR:
        if corr > 0:
            sr = -sr
    else:
        q = max(1, sr.size // 5)
        if float(np.median(np.concatenate([sr[:q], sr[-q:]]))) > float(np.median(sr)):
            sr = -sr
    out: list[Excursion] = []
    for e in find_excursions(sr, SET_MIN_AMP_DEG, dt=1.0 / WORK_HZ, keep=slow[ra:rb],
                             times=tw[a + ra : a + rb]):
        if not _returns(gdir, e, a + ra):
            continue
        out.append(replace(e, start=e.start + ra, peak=e.peak + ra, end=e.end + ra,
                           top_start=e.top_start + ra, top_end=e.top_end + ra))
    return out


def _on_the_floor(
    exs: list[Excursion], inc: FloatArray, lying: NDArray[np.bool_]
) -> list[Excursion]:
    """The excursions whose rest is continuous with lying (the person is lying, not sitting).

    A rest at 100–120° (a low hook, or a long-legged person) is as steep as crossed legs on a
    chair, and posture may call it sitting, in particular once the tops of the first slow reps
    or holds (thigh near horizontal, ≥ 10 s) have read as a sitting bout. But the thigh cannot
    get from lying onto a chair without leaving hook-lying angles: from a lying bin (posture
    lying, or knee clearly up) the thigh stays beyond HOOK_LYING_DEG between the reps, and dips
    below it only during the reps themselves. So an excursion counts when its rest is joined
    to a lying bin by a span where the thigh is beyond HOOK_LYING_DEG or inside one of the
    candidate excursions — whatever the time it takes (a set of holds with 30 s rests).
    """
    if not exs:
        return exs
    joined = inc > HOOK_LYING_DEG
    for e in exs:
        joined[e.start : e.end + 1] = True
    ok = np.zeros(inc.size, dtype=bool)
    for a, b in runs(joined):
        if lying[a:b].any():
            ok[a:b] = True
    return [e for e in exs if ok[e.start]]


def _within_sets(exs: list[Excursion], min_amp: float) -> list[Excursion]:
    """Reps of at least `min_amp`, plus smaller ones (≥ SET_REL of the set's median, and
    ≥ SET_MIN_AMP_DEG) next to them: reps of one set are alike, so a set established by clear
    reps keeps its shallower ones."""
    clear = [e for e in exs if e.amplitude_deg >= min_amp]
    if not clear:
        return []
    out = []
    for e in exs:
        if e.amplitude_deg >= min_amp:
            out.append(e)
            continue
        near = [c.amplitude_deg for c in clear if abs(c.t_start - e.t_start) <= SET_WINDOW_S]
        if near and e.amplitude_deg >= SET_REL * float(np.median(near)):
            out.append(e)
    return out


def detect_bridges(
    tw: FloatArray,
    gdir: FloatArray,
    std_mag: FloatArray,
    m: Mounting,
    *,
    guided: bool = False,
    lying: NDArray[np.bool_] | None = None,
    mag: FloatArray | None = None,
) -> BridgeResult:
    """Bridge reps and holds: guided (the recording is bridges) or free-running. `mag`: the
    work-rate mean |acc| (g), for the guided polarity without a mounting."""
    if guided:
        return detect_geometric(
            tw, gdir, std_mag, min_amp=MIN_AMP_GUIDED_DEG, rel=GUIDED_REL,
            reject_two_sided=False, mag=mag, m=m,
        )
    if m.known:
        return detect_with_mounting(tw, gdir, std_mag, m, lying=lying)
    return detect_geometric(
        tw,
        gdir,
        std_mag,
        min_amp=MIN_AMP_NO_MOUNTING_DEG,
        rel=GUIDED_REL,
        reject_two_sided=True,
    )


def mask_of(tw: FloatArray, spans: list[tuple[float, float]]) -> NDArray[np.bool_]:
    out = np.zeros(tw.size, dtype=bool)
    for s, e in spans:
        i, j = np.searchsorted(tw, [s, e])
        out[i:j] = True
    return out
