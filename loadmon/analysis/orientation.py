"""Provides the thigh mounting (long, anterior and mediolateral axes) estimated from the data.

Physics used (Acti4/ActiPASS practice): while walking the thigh swings about vertical, so the
mean specific force over walking is (nearly) along the thigh's long axis, pointing proximally.
Walking swing is sagittal: the gyro's dominant axis during walking is mediolateral. Its sign
comes from sitting (the anterior thigh surface faces up), else from the forward tilts below.

With the accelerometer alone, the anterior axis comes from the thigh's slow tilts away from
upright (2 s means of specific force 10–75° from the long axis: hip hinges, squats, getting up
and down, stairs, pedalling). Nearly all of them are flexion, where the anterior surface turns
up, so their mean direction ⟂ the long axis is the anterior axis, sign included. Only when
there are too few of them, or they disagree, does the dominant direction of the walking swing
(specific force ⟂ long axis) stand in: it is less sure, because at low rates the swing's
anterior-posterior and mediolateral variance can be alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.prepare import (
    DOT_BLOCK,
    WORK_DTYPE,
    AnyFloatArray,
    FloatArray,
    Prepared,
    WorkArray,
    dot3,
    dot3_between,
    gyro_bins_at,
    rolling_mean,
    runs,
    unit,
    vertical_rise_cm,
)

#: Epoch length (work bins): 1 s epochs, features over 2 s centred windows (ActiPASS).
EPOCH_BINS = 10
WINDOW_BINS = 20
#: Walking: std of |acc| over a 2 s window (g), mean |acc| band (g), minimum bout (s).
WALK_STD_G = (0.12, 0.6)
WALK_MEAN_G = (0.85, 1.2)
WALK_MIN_S = 5.0
#: ... of which at least this much (g) at gait frequencies (below ~5 Hz; tremor is 6–12 Hz).
WALK_LF_STD_G = 0.08
#: Epochs whose direction is further than this from the walking cluster are dropped (deg).
WALK_CLUSTER_DEG = 30.0
#: Still epochs (std of |acc| below this, g) with inclination 60–120° are sitting candidates.
STILL_STD_G = 0.05
#: Quiet standing within this angle of the walking axis (deg), for at least STAND_MIN_S (s),
#: refines the long axis.
STAND_REFINE_DEG = 25.0
STAND_MIN_S = 3.0
#: Off the body: the 1 s means of specific force vary less than this (g, total std) over
#: NONWEAR_WINDOW_S (s). Still sensors that are not worn are neither standing nor sitting.
NONWEAR_STD_G = 0.003
NONWEAR_WINDOW_S = 60.0
#: Quiet standing within this time (s) of a walking bout supports that bout's orientation.
ADJACENT_S = 30.0
#: Accelerometer only: forward tilts are 2 s means TILT_DEG (deg) from the long axis; the
#: anterior axis is their mean direction when there are TILT_MIN_S (s) of them and they agree
#: (resultant length of the unit tilt directions ≥ TILT_MIN_R: within about ±35°).
TILT_DEG = (10.0, 75.0)
TILT_MIN_S = 3.0
TILT_MIN_R = 0.8

PARAMETERS = {
    "epoch_s": EPOCH_BINS / 10,
    "window_s": WINDOW_BINS / 10,
    "walk_std_g": list(WALK_STD_G),
    "walk_mean_g": list(WALK_MEAN_G),
    "walk_lf_std_g": WALK_LF_STD_G,
    "walk_min_s": WALK_MIN_S,
    "walk_cluster_deg": WALK_CLUSTER_DEG,
    "still_std_g": STILL_STD_G,
    "stand_refine_deg": STAND_REFINE_DEG,
    "stand_min_s": STAND_MIN_S,
    "tilt_deg": list(TILT_DEG),
    "tilt_min_s": TILT_MIN_S,
    "tilt_min_r": TILT_MIN_R,
}


@dataclass(frozen=True)
class Mounting:
    """Where the thigh's axes point in the sensor frame, and how sure we are (0–1)."""

    long_axis: tuple[float, float, float]
    anterior_axis: tuple[float, float, float] | None = None
    #: False when the anterior axis is known only up to its sign.
    anterior_sign_known: bool = False
    confidence: float = 0.0
    source: str = "none"

    @property
    def u(self) -> FloatArray:
        return np.asarray(self.long_axis, dtype=np.float64)

    @property
    def a(self) -> FloatArray | None:
        return None if self.anterior_axis is None else np.asarray(self.anterior_axis)

    @property
    def m(self) -> FloatArray | None:
        """Mediolateral axis (sign arbitrary unless the anterior sign is known)."""
        a = self.a
        return None if a is None else unit(np.cross(self.u, a))

    @property
    def known(self) -> bool:
        return self.confidence >= 0.5

    def to_dict(self) -> dict[str, Any]:
        return {
            "long_axis": [round(x, 5) for x in self.long_axis],
            "anterior_axis": None
            if self.anterior_axis is None
            else [round(x, 5) for x in self.anterior_axis],
            "anterior_sign_known": self.anterior_sign_known,
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mounting:
        la = d["long_axis"]
        aa = d.get("anterior_axis")
        return cls(
            long_axis=(float(la[0]), float(la[1]), float(la[2])),
            anterior_axis=None if aa is None else (float(aa[0]), float(aa[1]), float(aa[2])),
            anterior_sign_known=bool(d.get("anterior_sign_known", False)),
            confidence=float(d.get("confidence", 0.0)),
            source=str(d.get("source", "recalled")),
        )


UNKNOWN = Mounting(long_axis=(0.0, 0.0, 1.0), confidence=0.0, source="none")


def _t3(v: FloatArray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


@dataclass(frozen=True, eq=False)
class EpochFeatures:
    """Per-bin (work rate) features over 2 s centred windows."""

    std_mag: FloatArray  # (n,) g
    mean_mag: WorkArray  # (n,) g
    direction: WorkArray  # (n, 3) unit mean specific force (the thigh's "up" in sensor axes)
    #: std of |acc| below ~5 Hz (of the 0.1 s bin means): gait, not tremor or impacts.
    std_mag_lf: WorkArray
    #: Bins whose features are walking-like (`walking_candidates`); kept instead of mean_mag
    #: and std_mag_lf (left empty) by `epoch_features(p, lean=True)`.
    walk_cand: NDArray[np.bool_] | None = None
    #: ... and the within-bin |acc| variation at the `walking_mask` bins (`estimate_mounting`),
    #: so the caller may release magw and mag2w before the mounting.
    walk_hf: FloatArray | None = None


def epoch_features(p: Prepared, *, lean: bool = False) -> EpochFeatures:
    """Window features on the work grid, computed per gap-free segment, FEATURE_BLOCK bins at
    a time (with the window's reach of context on either side: bounded working memory).

    `lean`: mean_mag and std_mag_lf are only used to find walking-like bins, so keep just
    those (`walk_cand`) instead of the two full-length streams."""
    n = p.accw.shape[0]
    direction = np.empty((n, 3), dtype=WORK_DTYPE)
    std_mag = np.empty(n)
    mean_mag = np.empty(FEATURE_BLOCK if lean else n, dtype=WORK_DTYPE)
    std_lf = np.empty(FEATURE_BLOCK if lean else n, dtype=WORK_DTYPE)
    cand = np.zeros(n, dtype=bool) if lean else None
    ctx = WINDOW_BINS
    for sa, sb in p.segments_w:
        for a in range(int(sa), int(sb), FEATURE_BLOCK):
            b = min(int(sb), a + FEATURE_BLOCK)
            lo, hi = max(int(sa), a - ctx), min(int(sb), b + ctx)
            core = slice(a - lo, b - lo)
            # (lean: the block's mean_mag and std_mag_lf go to the start of a block buffer)
            o = slice(0, b - a) if lean else slice(a, b)
            direction[a:b] = unit(rolling_mean(p.accw[lo:hi], WINDOW_BINS, WORK_DTYPE)[core])
            mm = rolling_mean(p.magw[lo:hi], WINDOW_BINS)[core]
            mean_mag[o] = mm
            mm *= mm
            var = rolling_mean(p.mag2w[lo:hi], WINDOW_BINS)[core]
            var -= mm
            np.maximum(var, 0.0, out=var)
            std_mag[a:b] = np.sqrt(var)
            lf = rolling_mean(np.asarray(p.magw[lo:hi], dtype=np.float64) ** 2, WINDOW_BINS)
            lf = lf[core] - mm
            np.maximum(lf, 0.0, out=lf)
            std_lf[o] = np.sqrt(lf)
            if cand is not None:
                cand[a:b] = walking_candidates(std_mag[a:b], std_lf[o], mean_mag[o])
    if cand is not None:
        empty = np.zeros(0, dtype=WORK_DTYPE)
        f = EpochFeatures(std_mag, empty, direction, empty, cand)
        return replace(f, walk_hf=_walk_hf(p, walking_mask(f)))
    return EpochFeatures(std_mag, mean_mag, direction, std_lf)


#: Work bins processed at a time by `epoch_features`.
FEATURE_BLOCK = 1 << 16


def walking_mask(f: EpochFeatures) -> NDArray[np.bool_]:
    """Bins inside walking-like bouts (≥ WALK_MIN_S of steady, moderate |acc| variation at gait
    frequencies: the low-frequency part, so a trembling isometric hold is not walking)."""
    cand = (
        f.walk_cand
        if f.walk_cand is not None
        else walking_candidates(f.std_mag, f.std_mag_lf, f.mean_mag)
    )
    out = np.zeros_like(cand)
    for a, b in runs(cand):
        if b - a >= WALK_MIN_S * 10:
            out[a:b] = True
    return out


def walking_candidates(
    std_mag: AnyFloatArray, std_mag_lf: AnyFloatArray, mean_mag: AnyFloatArray
) -> NDArray[np.bool_]:
    """Bins whose window features are walking-like (before the minimum bout length)."""
    out: NDArray[np.bool_] = (
        (std_mag > WALK_STD_G[0])
        & (std_mag_lf > WALK_LF_STD_G)
        & (std_mag < WALK_STD_G[1])
        & (mean_mag > WALK_MEAN_G[0])
        & (mean_mag < WALK_MEAN_G[1])
    )
    return out


def _walk_hf(p: Prepared, walk: NDArray[np.bool_]) -> FloatArray:
    """Within-bin std of |acc| (g) at the `walk` bins: the heel strikes' impact energy."""
    out: FloatArray = np.sqrt(np.maximum(
        np.asarray(p.mag2w[walk], dtype=np.float64) - np.asarray(p.magw[walk], np.float64) ** 2,
        0.0,
    ))
    return out


def estimate_mounting(p: Prepared, f: EpochFeatures | None = None) -> Mounting:
    """Long axis from walking, anterior axis from the walking swing, its sign from sitting."""
    if f is None:
        f = epoch_features(p)
    walk = walking_mask(f)
    nwalk = int(walk.sum())
    if nwalk < WALK_MIN_S * 10:
        return UNKNOWN
    dirs = f.direction[walk]
    # Seed at the densest direction, weighting each epoch by its impact energy (heel strikes:
    # within-bin |acc| variation), so a long cycling commute does not outvote walking.
    hf = f.walk_hf if f.walk_hf is not None else _walk_hf(p, walk)
    step = max(1, dirs.shape[0] // 400)
    seeds = np.asarray(dirs[::step], dtype=np.float64)
    sub = max(1, dirs.shape[0] // 20000)
    dsub, hsub = np.asarray(dirs[::sub], dtype=np.float64), hf[::sub]
    dens = np.empty(seeds.shape[0])
    for k0 in range(0, seeds.shape[0], 50):  # in blocks: bounded temporary memory
        near = (seeds[k0 : k0 + 50] @ dsub.T) > np.cos(np.radians(WALK_CLUSTER_DEG))
        dens[k0 : k0 + 50] = near.astype(np.float64) @ hsub
    del near, dsub, hsub, hf
    # Candidate clusters (densest first, mutually > 45° apart); walking is the one that is
    # bracketed by quiet standing in the same orientation (people stop and stand; a cyclist's
    # thigh is not still at the cycling angle), so pick the cluster with most such support.
    d_all = f.direction
    # still and worn: a sensor left on a table is neither quiet standing nor sitting (its
    # orientation is arbitrary, and a long non-wear span would outweigh the real standing).
    # The off-body test looks at ±NONWEAR_WINDOW_S/2, so the first and last half-window of
    # a span on the table read as worn: widen the span by that much.
    off_body = _dilate(still_off_body(p), int(NONWEAR_WINDOW_S * 10) // 2)
    still = f.std_mag < STILL_STD_G
    still &= ~off_body
    widx = np.flatnonzero(walk)
    cands: list[FloatArray] = []
    for k in np.argsort(-dens):
        c = seeds[k]
        if dens[k] < 0.2 * dens.max():
            break
        if all(float(c @ x) < np.cos(np.radians(45)) for x in cands):
            cands.append(c)
        if len(cands) == 3:
            break
    best, best_score = cands[0], -1.0
    for c in cands:
        mine = np.zeros(d_all.shape[0], dtype=bool)
        mine[widx[dot3_between(dirs, c, np.cos(np.radians(WALK_CLUSTER_DEG)))]] = True
        nearby = _dilate(mine, int(ADJACENT_S * 10))
        del mine
        nearby &= still
        nearby &= dot3_between(d_all, c, np.cos(np.radians(25)))
        support = float(np.count_nonzero(nearby))
        del nearby
        if support > best_score:
            best, best_score = c, support
    u = best
    for _ in range(3):
        keep = dot3_between(dirs, u, np.cos(np.radians(WALK_CLUSTER_DEG)))
        if keep.sum() < WALK_MIN_S * 10:
            return UNKNOWN
        u = unit(dirs[keep].mean(axis=0, dtype=np.float64))
    idx = widx[keep]
    del dirs, widx
    u_walk = u
    # Quiet standing refines it: walking's mean carries the gait's mean hip flexion (~5–10°).
    d_all = f.direction
    stand = dot3_between(d_all, u, np.cos(np.radians(STAND_REFINE_DEG)))
    stand &= f.std_mag < STILL_STD_G
    stand &= ~off_body
    stand_bins = np.zeros_like(stand)
    for a0, b0 in runs(stand):
        if b0 - a0 >= STAND_MIN_S * 10:
            stand_bins[a0:b0] = True
    if stand_bins.sum() >= STAND_MIN_S * 10:
        u = unit(np.asarray(d_all[stand_bins], dtype=np.float64).mean(axis=0))
    tilt = forward_tilt(f.direction, u, ~off_body)
    del off_body
    if p.gyro is not None:
        w = np.asarray(
            p.gyrow[idx] if p.gyrow is not None else gyro_bins_at(p, idx), dtype=np.float64
        )
        w = w - np.outer(w @ u, u)
        _, vecs = np.linalg.eigh(w.T @ w)
        m = unit(vecs[:, -1] - (vecs[:, -1] @ u) * u)
        a = unit(np.cross(m, u))
    else:
        del u_walk
        if tilt is not None:
            a = tilt
        else:
            x = np.asarray(p.accw[idx], dtype=np.float64)
            x = x - x.mean(axis=0)
            x = x - np.outer(x @ u, u)
            _, vecs = np.linalg.eigh(x.T @ x)
            a = unit(vecs[:, -1] - (vecs[:, -1] @ u) * u)
    # the sign: forward tilts are flexion (their mean points anterior); without a gyro they
    # gave the axis itself, signed. With a gyro, sitting signs it (the anterior surface faces
    # up), else the tilts.
    sign_from = "tilts" if p.gyro is None and tilt is not None else ""
    if not sign_from:
        s = _sitting_side(f.direction, u, a, still)
        if abs(s) > 0.3:
            sign_from = "sitting"
            if s < 0:
                a = -a
        elif tilt is not None:
            sign_from = "tilts"
            if float(a @ tilt) < 0:
                a = -a
    del still
    # 10 s of walking in the chosen cluster gives 0.5 (known), 20 s or more 1.0; quiet
    # standing next to that walking in the same orientation confirms it as much again, up to
    # the walking's own time (a short walk to the mat, standing before and after it)
    nk = int(keep.sum())
    conf = min(1.0, (nk + min(max(best_score, 0.0), float(nk))) / 200.0)
    return Mounting(
        long_axis=_t3(u),
        anterior_axis=_t3(a),
        anterior_sign_known=bool(sign_from),
        confidence=float(round(conf, 3)),
        source="walking" + (f"+{sign_from}" if sign_from else ""),
    )


def _sitting_side(
    d: AnyFloatArray, u: FloatArray, a: FloatArray, still: NDArray[np.bool_]
) -> float:
    """Median of d·a over still bins with the thigh 60–120° from upright (0 if under 5 s)."""
    sit = dot3_between(d, u, np.cos(np.radians(120)), np.cos(np.radians(60)))
    sit &= still
    if sit.sum() < 50:
        return 0.0
    # dot3(d[sit], a), a block at a time (no copy of d[sit]); the median may reorder it
    vals = np.empty(int(np.count_nonzero(sit)))
    k = 0
    for j0 in range(0, sit.size, DOT_BLOCK):
        blk = d[j0 : j0 + DOT_BLOCK][sit[j0 : j0 + DOT_BLOCK]]
        dot3(blk, a, out=vals[k : k + blk.shape[0]])
        k += blk.shape[0]
    return float(np.median(vals, overwrite_input=True))


def forward_tilt(
    d: AnyFloatArray, u: FloatArray, worn: NDArray[np.bool_]
) -> FloatArray | None:
    """The mean direction (⟂ u, unit) of the worn bins tilted TILT_DEG from the long axis u, or
    None when there are fewer than TILT_MIN_S of them or they do not agree (TILT_MIN_R).

    The sum of d − (d·u)u over the bins is S − (S·u)u with S the sum of d; each term's length
    is sqrt(1 − (d·u)²): sums only, DOT_BLOCK rows at a time."""
    lo, hi = np.cos(np.radians(TILT_DEG[1])), np.cos(np.radians(TILT_DEG[0]))
    total = np.zeros(3)
    length, count = 0.0, 0
    for j0 in range(0, d.shape[0], DOT_BLOCK):
        blk = np.asarray(d[j0 : j0 + DOT_BLOCK], dtype=np.float64)
        c = blk @ u
        sel = (c > lo) & (c < hi) & worn[j0 : j0 + DOT_BLOCK]
        total += blk[sel].sum(axis=0)
        length += float(np.sqrt(1.0 - c[sel] ** 2).sum())
        count += int(np.count_nonzero(sel))
    perp = total - (total @ u) * u
    norm = float(np.linalg.norm(perp))
    if count < TILT_MIN_S * 10 or norm < TILT_MIN_R * length:
        return None
    return perp / norm


def _dilate(mask: NDArray[np.bool_], half: int) -> NDArray[np.bool_]:
    """True where `mask` is True anywhere within ± `half` samples (each True run widened by
    `half` on either side: no full-length index arrays)."""
    n = mask.size
    out = np.zeros(n, dtype=bool)
    for a, b in runs(mask):
        out[max(0, int(a) - half) : min(n, int(b) + half)] = True
    return out


def inclination_deg(gdir: AnyFloatArray, m: Mounting) -> FloatArray:
    """Angle of the thigh's long axis from vertical (0° upright, 90° horizontal, >90° knee up)."""
    c = dot3(gdir, m.u)
    np.clip(c, -1.0, 1.0, out=c)
    np.arccos(c, out=c)
    np.degrees(c, out=c)
    return c


def rotation_deg(gdir: AnyFloatArray, m: Mounting) -> FloatArray | None:
    """Rotation about the long axis: 0° anterior surface up, ±90° on the side, 180° face down."""
    a = m.a
    if a is None:
        return None
    ml = np.cross(m.u, a)
    n = gdir.shape[0]
    out: FloatArray = np.empty(n)
    x = np.empty(min(n, DOT_BLOCK))
    for j0 in range(0, n, DOT_BLOCK):  # in blocks: no full-length temporary
        j1 = min(n, j0 + DOT_BLOCK)
        y = dot3(gdir[j0:j1], ml, out=out[j0:j1])
        np.arctan2(y, dot3(gdir[j0:j1], a, out=x[: j1 - j0]), out=y)
    np.degrees(out, out=out)
    return out


def principal_plane(g: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean direction, main excursion direction and plane normal of a direction trajectory."""
    c = unit(g.mean(axis=0))
    x = g - g.mean(axis=0)
    _vals, vecs = np.linalg.eigh(x.T @ x)
    e1 = unit(vecs[:, -1] - (vecs[:, -1] @ c) * c)
    return c, e1, unit(np.cross(c, e1))


def check_mounting(m: Mounting, fresh: Mounting) -> Mounting:
    """Combine a recalled mounting with a fresh estimate: keep the fresh one when they differ."""
    if not fresh.known:
        return m
    if float(m.u @ fresh.u) > np.cos(np.radians(20)):
        if fresh.anterior_sign_known or not m.anterior_sign_known:
            return fresh
        a = fresh.a
        ma = m.a
        if a is not None and ma is not None and float(a @ ma) < 0:
            a = -a
        return Mounting(
            long_axis=fresh.long_axis,
            anterior_axis=None if a is None else _t3(a),
            anterior_sign_known=True,
            confidence=fresh.confidence,
            source=fresh.source + "+recalled-sign",
        )
    return fresh


def as_float_array(x: Any) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def still_off_body(p: Prepared) -> NDArray[np.bool_]:
    """Bins where the orientation is stiller than a living thigh ever is.

    A worn thigh always wanders a little at low frequency (sway, breathing, fidgets: tenths
    of a degree); a sensor on a table does not. The 1 s means of specific force are averaged
    enough to push white noise below that wander; their standard deviation over
    NONWEAR_WINDOW_S below NONWEAR_STD_G (g, ≈ 0.17°) marks the sensor as off the body.
    """
    n = p.accw.shape[0]
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
    the available samples) at every n-th sample.

    From the cumulative sums c (c[j] = x[0] + … + x[j-1], in float64, in order) at the window
    edges only; c is accumulated CUMSUM_BLOCK samples at a time, each block continuing from
    the last sum of the one before (the same additions in the same order as one cumsum)."""
    m = x.shape[0]
    i = np.arange(0, m, n)
    lo = np.clip(i - n // 2, 0, m)
    hi = np.clip(i - n // 2 + n, 0, m)
    out = np.empty((i.size, x.shape[1]))
    buf = np.empty(min(m, CUMSUM_BLOCK) + 1)
    c_lo, c_hi = np.empty(i.size), np.empty(i.size)
    last = 0.0
    for k in range(x.shape[1]):
        for j0 in range(0, max(m, 1), CUMSUM_BLOCK):
            j1 = min(m, j0 + CUMSUM_BLOCK)
            c = buf[: j1 - j0 + 1]  # c[q] is the sum up to sample j0 + q
            if j0 == 0:
                c[0] = 0.0
                np.cumsum(x[:j1, k], out=c[1:])
            else:
                c[0] = last
                c[1:] = x[j0:j1, k]
                np.cumsum(c, out=c)
            last = float(c[-1])
            for e, dst in ((lo, c_lo), (hi, c_hi)):
                q0, q1 = np.searchsorted(e, [j0, j1 + 1])
                dst[q0:q1] = c[e[q0:q1] - j0]
        out[:, k] = (c_hi - c_lo) / np.maximum(hi - lo, 1)
    return out


#: Samples accumulated at a time by `_decimated_means`.
CUMSUM_BLOCK = 1 << 16


#: Mounting from getting up and sitting down (no walking in the recording): the two densest
#: quiet orientations (std |acc| < TRANS_QUIET_G, within TRANS_CLUSTER_DEG of their seed, at
#: least TRANS_MIN_S each, ≥ TRANS_APART_DEG apart: sitting and standing are ~90° apart; a
#: bridge's top and rest, or a clam, are < 45°). Between consecutive quiet spells in the two
#: (≤ TRANS_GAP_S apart, same segment) the sensor's vertical displacement is measured
#: (`prepare.vertical_rise_cm`, ±1 s of stillness around the move): standing up lifts the
#: thigh sensor with the hips by 15–30 cm, sitting down lowers it as much. When at least
#: TRANS_MIN_MOVES moves agree in sign with a median of TRANS_MIN_RISE_CM or more, the
#: orientation the sensor rises into is upright (the long axis), and the other, nearly
#: horizontal, gives the anterior axis with its sign (a seated thigh's front faces up).
TRANS_QUIET_G = 0.05
TRANS_CLUSTER_DEG = 20.0
TRANS_MIN_S = 2.0
TRANS_APART_DEG = 60.0
TRANS_GAP_S = 8.0
TRANS_MIN_MOVES = 2
TRANS_MIN_RISE_CM = 10.0
#: ... each move between spells held at least TRANS_SPELL_S (s) (postures are held; knee
#: rolling and the superman rock between two angles every second or two), and rising at most
#: TRANS_MAX_RISE_CM (a thigh sensor rises 15–35 cm when standing up; more means the window
#: was not still at both ends and the integral drifted).
TRANS_SPELL_S = 3.0
TRANS_MAX_RISE_CM = 60.0


def mounting_from_transitions(
    direction: AnyFloatArray, std_mag: FloatArray, magw: AnyFloatArray, segments_w: Any
) -> Mounting:
    """The mounting from sit-to-stand and stand-to-sit moves (see TRANS_*), else UNKNOWN."""
    quiet = std_mag < TRANS_QUIET_G
    qi = np.flatnonzero(quiet)
    if qi.size < 2 * TRANS_MIN_S * 10 or magw.size != std_mag.size:
        return UNKNOWN
    d = unit(np.asarray(direction[qi], dtype=np.float64))
    sample = d[:: max(1, d.shape[0] // 400)]
    ref = d[:: max(1, d.shape[0] // 5000)]  # densities from at most 5000 bins (bounded)
    cos_c = np.cos(np.radians(TRANS_CLUSTER_DEG))
    counts = ((sample @ ref.T) > cos_c).sum(axis=1)
    a_dir = sample[int(np.argmax(counts))]
    far = sample @ a_dir < np.cos(np.radians(TRANS_APART_DEG))
    if not far.any():
        return UNKNOWN
    b_dir = sample[np.flatnonzero(far)[int(np.argmax(counts[far]))]]
    in_a = (d @ a_dir) > cos_c
    in_b = (d @ b_dir) > cos_c
    if in_a.sum() < TRANS_MIN_S * 10 or in_b.sum() < TRANS_MIN_S * 10:
        return UNKNOWN
    lab = np.full(std_mag.size, -1, dtype=np.int8)
    lab[qi[in_a]] = 0
    lab[qi[in_b]] = 1
    seg_of = np.full(std_mag.size, -1, dtype=np.int64)
    for k, (s0, s1) in enumerate(segments_w):
        seg_of[s0:s1] = k
    spells = [(int(lab[a]), int(a), int(b)) for a, b in runs(lab >= 0) if b - a >= 5]
    rises_into_b: list[float] = []
    for (la, a0, a1), (lb, b0, b1) in pairwise(spells):
        if la == lb or b0 - a1 > TRANS_GAP_S * 10 or seg_of[a1 - 1] != seg_of[b0]:
            continue
        if min(a1 - a0, b1 - b0) < TRANS_SPELL_S * 10:
            continue  # a posture is held; a floor exercise rocks between two angles
        rise = vertical_rise_cm(magw, max(0, a1 - 10), min(std_mag.size, b0 + 10))
        if abs(rise) > TRANS_MAX_RISE_CM:
            continue  # more than the hips can rise: the move was not still to still
        rises_into_b.append(rise if lb == 1 else -rise)
    if len(rises_into_b) < TRANS_MIN_MOVES:
        return UNKNOWN
    r = np.asarray(rises_into_b)
    med = float(np.median(r))
    if abs(med) < TRANS_MIN_RISE_CM or not (np.sign(r) == np.sign(med)).all():
        return UNKNOWN
    up_mask, flat_mask = (in_b, in_a) if med > 0 else (in_a, in_b)
    u = unit(d[up_mask].mean(axis=0))
    flat = d[flat_mask].mean(axis=0)
    a = flat - (flat @ u) * u
    if float(np.linalg.norm(a)) < 0.5:  # the other orientation is not near horizontal
        return UNKNOWN
    return Mounting(
        long_axis=_t3(u),
        anterior_axis=_t3(unit(a)),
        anterior_sign_known=True,
        confidence=min(1.0, 0.5 + 0.1 * (len(r) - TRANS_MIN_MOVES)),
        source="transitions",
    )
