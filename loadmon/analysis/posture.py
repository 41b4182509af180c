"""Provides posture and activity bouts: sitting, standing, lying, walking, running, cycling.

ActiPASS/Acti4-style rules on 1 s steps with 2 s windows: the thigh's inclination from vertical
(45° separates sitting from standing), the movement intensity (standard deviation of specific
force) and the rotation about the long axis (side-lying). Bouts shorter than their class's
minimum are merged into their neighbours (sitting ≥ 5 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.orientation import (
    NONWEAR_STD_G,
    NONWEAR_WINDOW_S,
    EpochFeatures,
    Mounting,
    inclination_deg,
    rotation_deg,
    still_off_body,
)
from loadmon.analysis.prepare import (
    FloatArray,
    IntArray,
    Prepared,
    runs,
)

CLASSES = ("nonwear", "lying", "sitting", "standing", "walking", "running", "cycling")
NONE = -1
#: Sitting/standing boundary: thigh inclination (deg), ActiPASS default.
SIT_INCLINATION_DEG = 45.0
#: Thigh knee-up beyond this inclination (deg) is lying (hook-lying on the floor, not a chair).
KNEE_UP_LYING_DEG = 120.0
#: Between AMBIGUOUS_DEG and KNEE_UP_LYING_DEG (a low chair, crossed legs, or hook-lying) the
#: posture continues the previous sitting or lying bout.
AMBIGUOUS_DEG = 100.0
AMBIGUOUS_REF_MIN_S = 10.0
#: Rotation about the long axis beyond this (deg) while horizontal is side/prone lying.
LYING_ROTATION_DEG = 65.0
#: Movement (std of |acc|, g): below = still posture; above RUN = running.
MOVE_STD_G = 0.1
RUN_STD_G = 0.6
#: Non-wear: still off the body (`orientation.still_off_body`) for at least NONWEAR_MIN_S.
NONWEAR_MIN_S = 60.0
#: Minimum bout durations (s); shorter bouts are absorbed by their neighbours.
MIN_BOUT_S = {
    "nonwear": NONWEAR_MIN_S,
    "lying": 5.0,
    "sitting": 5.0,
    "standing": 2.0,
    "walking": 2.0,
    "running": 2.0,
    "cycling": 15.0,
}

#: A "sitting" of at most this long (s) with running on both sides is running: nobody sits down
#: for a few seconds mid-jog, but a phone that turns in the pocket tilts the apparent thigh
#: axis towards horizontal for a while.
SIT_IN_RUN_MAX_S = 15.0

PARAMETERS = {
    "sit_inclination_deg": SIT_INCLINATION_DEG,
    "knee_up_lying_deg": KNEE_UP_LYING_DEG,
    "ambiguous_deg": AMBIGUOUS_DEG,
    "ambiguous_ref_min_s": AMBIGUOUS_REF_MIN_S,
    "lying_rotation_deg": LYING_ROTATION_DEG,
    "move_std_g": MOVE_STD_G,
    "run_std_g": RUN_STD_G,
    "nonwear_std_g": NONWEAR_STD_G,
    "nonwear_min_s": NONWEAR_MIN_S,
    "nonwear_window_s": NONWEAR_WINDOW_S,
    "min_bout_s": MIN_BOUT_S,
    "sit_in_run_max_s": SIT_IN_RUN_MAX_S,
}


@dataclass(frozen=True)
class Bout:
    kind: str
    start_s: float
    end_s: float


def classify(p: Prepared, f: EpochFeatures, m: Mounting) -> NDArray[np.int8]:
    """Class index per work bin (index into CLASSES).

    The per-bin rules run CLASSIFY_BLOCK bins at a time (no full-length float temporaries)."""
    n = p.accw.shape[0]
    lab = np.full(n, NONE, dtype=np.int8)
    if n == 0:
        return lab
    nw = still_off_body(p)
    d = f.direction
    # between a chair with crossed legs and hook-lying: keep whichever came before
    ambiguous = np.zeros(n, dtype=bool)
    # where an ambiguous bin with no reference on either side falls (thigh nearer lying)
    knee_high = np.zeros(n, dtype=bool)
    for j0 in range(0, n, CLASSIFY_BLOCK):
        j1 = min(n, j0 + CLASSIFY_BLOCK)
        inc = inclination_deg(d[j0:j1], m)
        mov = f.std_mag[j0:j1]
        still = mov < MOVE_STD_G
        upright = inc < SIT_INCLINATION_DEG
        lying = inc > KNEE_UP_LYING_DEG
        ambiguous[j0:j1] = (inc > AMBIGUOUS_DEG) & ~lying
        knee_high[j0:j1] = inc >= 0.5 * (AMBIGUOUS_DEG + KNEE_UP_LYING_DEG)
        rot = rotation_deg(d[j0:j1], m) if m.anterior_sign_known else None
        if rot is not None:
            np.abs(rot, out=rot)
            lying |= (inc > 60.0) & (rot > LYING_ROTATION_DEG)
        lb = lab[j0:j1]
        lb[:] = CLASSES.index("sitting")
        lb[lying] = CLASSES.index("lying")
        lb[upright] = CLASSES.index("standing")
        lb[upright & ~still] = CLASSES.index("walking")
        lb[upright & (mov >= RUN_STD_G)] = CLASSES.index("running")
        cyc = (~upright) & (~lying) & (~still) & (mov < RUN_STD_G) & (inc < 100.0)
        lb[cyc] = CLASSES.index("cycling")
    if ambiguous.any():
        lab[ambiguous] = NONE
        lab = _fill_from_neighbours(lab, ambiguous, knee_high)
    del ambiguous, knee_high
    for a, b in runs(nw):
        if b - a >= NONWEAR_MIN_S * 10:
            lab[a:b] = CLASSES.index("nonwear")
    return _merge_short(lab)


def classify_movement(f: EpochFeatures, walking: NDArray[np.bool_]) -> NDArray[np.int8]:
    """Class per work bin without a mounting: only what needs no axes. Running is sustained
    vigorous movement (std of |acc| ≥ RUN_STD_G), walking the steady gait-frequency variation
    (`orientation.walking_mask`); everything else stays unlabelled (NONE): sitting, standing
    and lying are told apart by the thigh's inclination, which needs its long axis."""
    lab = np.full(f.std_mag.size, NONE, dtype=np.int8)
    lab[walking] = CLASSES.index("walking")
    lab[f.std_mag >= RUN_STD_G] = CLASSES.index("running")
    return _merge_short(lab)


def sitting_inside_running(lab: NDArray[np.int8]) -> NDArray[np.int8]:
    """Relabel short sitting runs between two running runs as running (SIT_IN_RUN_MAX_S)."""
    sit, run = CLASSES.index("sitting"), CLASSES.index("running")
    out = lab.copy()
    for a, b in runs(lab == sit):
        short = (b - a) <= SIT_IN_RUN_MAX_S * 10 and a > 0 and b < lab.size
        if short and lab[a - 1] == run and lab[b] == run:
            out[a:b] = run
    return out


#: Work bins classified at a time.
CLASSIFY_BLOCK = 1 << 16




def _fill_from_neighbours(
    lab: NDArray[np.int8], amb: NDArray[np.bool_], knee_high: NDArray[np.bool_]
) -> NDArray[np.int8]:
    """Ambiguous bins take the previous sitting/lying label (else the next one; else lying
    where `knee_high`, sitting elsewhere).

    The ambiguous bins are unlabelled (NONE), so within a run of them the nearest reference
    and upright bins on either side are those of the run's ends: found per run, from the
    runs of references and of upright bins (no full-length index arrays)."""
    sit, lie = CLASSES.index("sitting"), CLASSES.index("lying")
    n = lab.size
    ref = np.where((lab == sit) | (lab == lie), lab, NONE).astype(np.int8)
    # only sustained bouts are references (not the few seconds at the top of a bridge)
    d = np.flatnonzero(np.diff(ref)) + 1
    for a, b in zip(np.concatenate([[0], d]), np.concatenate([d, [ref.size]]), strict=True):
        if b - a < AMBIGUOUS_REF_MIN_S * 10:
            ref[a:b] = NONE
    del d
    # A bout ends when the person gets up: a reference on the other side of an upright
    # (standing/walking/running) bin does not carry over (lying on the mat, then walking to a
    # chair and crossing the legs is sitting; sitting, then lying down on the mat is lying).
    up = np.isin(lab, [CLASSES.index(c) for c in ("standing", "walking", "running")])
    rr = runs(ref != NONE)
    ur = runs(up)
    del up
    ar = runs(amb)
    a_, b_ = ar[:, 0], ar[:, 1]
    # last reference / upright bin before each run (-1: none), first at or after its end (n)
    q = np.searchsorted(rr[:, 0], a_) - 1
    prev = np.where(q >= 0, rr[np.maximum(q, 0), 1] - 1 if rr.size else -1, -1)
    q = np.searchsorted(rr[:, 0], b_)
    nxt = np.where(q < rr.shape[0], rr[np.minimum(q, rr.shape[0] - 1), 0] if rr.size else n, n)
    q = np.searchsorted(ur[:, 0], a_) - 1
    last_up = np.where(q >= 0, ur[np.maximum(q, 0), 1] - 1 if ur.size else -1, -1)
    q = np.searchsorted(ur[:, 0], b_)
    next_up = np.where(q < ur.shape[0], ur[np.minimum(q, ur.shape[0] - 1), 0] if ur.size else n, n)
    pk = np.where(prev > last_up, prev, -1)
    nk = np.where(nxt < next_up, nxt, n)
    out = lab.copy()
    for a, b, p_, n_ in zip(a_, b_, pk, nk, strict=True):
        if p_ >= 0:
            out[a:b] = ref[p_]
        elif n_ < n:
            out[a:b] = ref[n_]
        else:
            out[a:b] = np.where(knee_high[a:b], lie, sit)
    return out


def _merge_short(lab: NDArray[np.int8]) -> NDArray[np.int8]:
    """Absorb bouts shorter than their minimum into the preceding (else following) bout."""
    lab = lab.copy()
    for _ in range(3):
        changed = False
        d = np.flatnonzero(np.diff(lab)) + 1
        starts = np.concatenate([[0], d])
        ends = np.concatenate([d, [lab.size]])
        for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
            c = int(lab[a])
            if c == NONE:
                continue
            if (b - a) < MIN_BOUT_S[CLASSES[c]] * 10:
                if k > 0:
                    lab[a:b] = lab[starts[k - 1]]
                elif k + 1 < len(starts):
                    lab[a:b] = lab[starts[k + 1]]
                changed = True
        if not changed:
            break
    return lab


def bouts(p: Prepared, lab: NDArray[np.int8]) -> list[Bout]:
    """Contiguous runs of one class as bouts (split at recording gaps)."""
    return bouts_on(p.tw, p.segments_w, lab)


def bouts_on(tw: FloatArray, segments_w: IntArray, lab: NDArray[np.int8]) -> list[Bout]:
    """`bouts` from the work grid's bin centres and segments."""
    out: list[Bout] = []
    half = 0.05
    for a0, b0 in segments_w:
        if b0 <= a0:
            continue
        seg = lab[a0:b0]
        d = np.flatnonzero(np.diff(seg)) + 1
        starts = np.concatenate([[0], d])
        ends = np.concatenate([d, [seg.size]])
        for a, b in zip(starts, ends, strict=True):
            c = int(seg[a])
            if c == NONE:
                continue
            out.append(
                Bout(
                    CLASSES[c],
                    round(float(tw[a0 + a] - half), 2),
                    round(float(tw[a0 + b - 1] + half), 2),
                )
            )
    return out


def inclination_series(p: Prepared, m: Mounting) -> FloatArray:
    return inclination_deg(p.gdir, m)
