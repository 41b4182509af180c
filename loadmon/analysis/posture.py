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

from loadmon.analysis.orientation import EpochFeatures, Mounting, inclination_deg, rotation_deg
from loadmon.analysis.prepare import (
    FloatArray,
    IntArray,
    Prepared,
    WorkArray,
    rolling_mean,
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
#: Non-wear: total movement below this (g) for at least NONWEAR_MIN_S.
NONWEAR_STD_G = 0.003
NONWEAR_MIN_S = 60.0
NONWEAR_WINDOW_S = 60.0
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
}


@dataclass(frozen=True)
class Bout:
    kind: str
    start_s: float
    end_s: float


def classify(p: Prepared, f: EpochFeatures, m: Mounting) -> NDArray[np.int8]:
    """Class index per work bin (index into CLASSES)."""
    n = p.tw.size
    lab = np.full(n, NONE, dtype=np.int8)
    if n == 0:
        return lab
    nw = still_off_body(p)
    d = f.direction
    inc = inclination_deg(d, m)
    mov = f.std_mag
    still = mov < MOVE_STD_G
    upright = inc < SIT_INCLINATION_DEG
    lying = inc > KNEE_UP_LYING_DEG
    # between a chair with crossed legs and hook-lying: keep whichever came before
    ambiguous = (inc > AMBIGUOUS_DEG) & ~lying
    rot = rotation_deg(d, m) if m.anterior_sign_known else None
    if rot is not None:
        np.abs(rot, out=rot)
        lying |= (inc > 60.0) & (rot > LYING_ROTATION_DEG)
        del rot
    lab[:] = CLASSES.index("sitting")
    lab[lying] = CLASSES.index("lying")
    lab[upright] = CLASSES.index("standing")
    lab[upright & ~still] = CLASSES.index("walking")
    lab[upright & (mov >= RUN_STD_G)] = CLASSES.index("running")
    cyc = (~upright) & (~lying) & (~still) & (mov < RUN_STD_G) & (inc < 100.0)
    lab[cyc] = CLASSES.index("cycling")
    del still, upright, lying, cyc
    if ambiguous.any():
        lab[ambiguous] = NONE
        lab = _fill_from_neighbours(lab, ambiguous, inc)
    del inc, ambiguous
    for a, b in runs(nw):
        if b - a >= NONWEAR_MIN_S * 10:
            lab[a:b] = CLASSES.index("nonwear")
    return _merge_short(lab)


def still_off_body(p: Prepared) -> NDArray[np.bool_]:
    """Bins where the orientation is stiller than a living thigh ever is.

    A worn thigh always wanders a little at low frequency (sway, breathing, fidgets: tenths
    of a degree); a sensor on a table does not. The 1 s means of specific force are averaged
    enough to push white noise below that wander; their standard deviation over
    NONWEAR_WINDOW_S below NONWEAR_STD_G (g, ≈ 0.17°) marks the sensor as off the body.
    """
    n = p.tw.size
    out = np.zeros(n, dtype=bool)
    w = int(NONWEAR_WINDOW_S * 10)
    for a, b in p.segments_w:
        if b - a < w:
            continue
        # 1 s means, evaluated once a second (a 60 s window needs no finer step)
        x = _decimated_means(p.accw[a:b], 10)
        m1 = rolling_mean(x, w // 10)
        m2 = rolling_mean(x * x, w // 10)
        sd = np.sqrt(np.maximum(m2 - m1 * m1, 0.0).sum(axis=1))
        out[a:b] = np.repeat(sd < NONWEAR_STD_G, 10)[: b - a]
    return out


def _decimated_means(x: WorkArray, n: int) -> FloatArray:
    """rolling_mean(x, n)[::n] without the full-rate array: centred n-sample means (edges use
    the available samples) at every n-th sample."""
    m = x.shape[0]
    i = np.arange(0, m, n)
    lo = np.clip(i - n // 2, 0, m)
    hi = np.clip(i - n // 2 + n, 0, m)
    out = np.empty((i.size, x.shape[1]))
    c = np.empty(m + 1)
    for k in range(x.shape[1]):
        c[0] = 0.0
        np.cumsum(x[:, k], out=c[1:])
        out[:, k] = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return out


def _fill_from_neighbours(
    lab: NDArray[np.int8], amb: NDArray[np.bool_], inc: FloatArray
) -> NDArray[np.int8]:
    """Ambiguous bins take the previous sitting/lying label (else the next one)."""
    sit, lie = CLASSES.index("sitting"), CLASSES.index("lying")
    ref = np.where((lab == sit) | (lab == lie), lab, NONE).astype(np.int8)
    # only sustained bouts are references (not the few seconds at the top of a bridge)
    d = np.flatnonzero(np.diff(ref)) + 1
    for a, b in zip(np.concatenate([[0], d]), np.concatenate([d, [ref.size]]), strict=True):
        if b - a < AMBIGUOUS_REF_MIN_S * 10:
            ref[a:b] = NONE
    ar = np.arange(lab.size, dtype=np.int32)
    idx = np.where(ref != NONE, ar, -1)
    prev = np.maximum.accumulate(idx)
    del idx
    nxt_idx = np.where(ref != NONE, ar, lab.size)
    nxt = np.minimum.accumulate(nxt_idx[::-1])[::-1]
    del nxt_idx
    # A bout ends when the person gets up: a reference on the other side of an upright
    # (standing/walking/running) bin does not carry over (lying on the mat, then walking to a
    # chair and crossing the legs is sitting; sitting, then lying down on the mat is lying).
    up = np.isin(lab, [CLASSES.index(c) for c in ("standing", "walking", "running")])
    last_up = np.maximum.accumulate(np.where(up, ar, -1))
    next_up = np.minimum.accumulate(np.where(up, ar, lab.size)[::-1])[::-1]
    del ar
    out = lab.copy()
    k = np.flatnonzero(amb)
    pk, nk = prev[k], nxt[k]
    pk = np.where(pk > last_up[k], pk, -1)
    nk = np.where(nk < next_up[k], nk, lab.size)
    fallback = np.where(inc[k] >= 0.5 * (AMBIGUOUS_DEG + KNEE_UP_LYING_DEG), lie, sit).astype(
        np.int8
    )
    val = np.where(
        pk >= 0,
        ref[np.maximum(pk, 0)],
        np.where(nk < lab.size, ref[np.minimum(nk, lab.size - 1)], fallback),
    )
    out[k] = val
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
