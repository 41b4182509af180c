"""Provides the thigh mounting (long, anterior and mediolateral axes) estimated from the data.

Physics used (Acti4/ActiPASS practice): while walking the thigh swings about vertical, so the
mean specific force over walking is (nearly) along the thigh's long axis, pointing proximally.
Walking swing is sagittal: the gyro's dominant axis during walking is mediolateral, and with the
accelerometer alone the dominant direction of the swing (specific force ⟂ long axis) is the
anterior axis. Its sign comes from sitting (the anterior thigh surface faces up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.prepare import (
    WORK_DTYPE,
    AnyFloatArray,
    FloatArray,
    Prepared,
    WorkArray,
    dot3,
    rolling_mean,
    runs,
    unit,
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
#: Quiet standing within this time (s) of a walking bout supports that bout's orientation.
ADJACENT_S = 30.0

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


def epoch_features(p: Prepared) -> EpochFeatures:
    """Window features on the work grid, computed per gap-free segment, FEATURE_BLOCK bins at
    a time (with the window's reach of context on either side: bounded working memory)."""
    n = p.tw.size
    direction = np.empty((n, 3), dtype=WORK_DTYPE)
    std_mag = np.empty(n)
    mean_mag = np.empty(n, dtype=WORK_DTYPE)
    std_lf = np.empty(n, dtype=WORK_DTYPE)
    ctx = WINDOW_BINS
    for sa, sb in p.segments_w:
        for a in range(int(sa), int(sb), FEATURE_BLOCK):
            b = min(int(sb), a + FEATURE_BLOCK)
            lo, hi = max(int(sa), a - ctx), min(int(sb), b + ctx)
            core = slice(a - lo, b - lo)
            direction[a:b] = unit(rolling_mean(p.accw[lo:hi], WINDOW_BINS, WORK_DTYPE)[core])
            mm = rolling_mean(p.magw[lo:hi], WINDOW_BINS)[core]
            mean_mag[a:b] = mm
            mm *= mm
            var = rolling_mean(p.mag2w[lo:hi], WINDOW_BINS)[core]
            var -= mm
            np.maximum(var, 0.0, out=var)
            std_mag[a:b] = np.sqrt(var)
            lf = rolling_mean(np.asarray(p.magw[lo:hi], dtype=np.float64) ** 2, WINDOW_BINS)
            lf = lf[core] - mm
            np.maximum(lf, 0.0, out=lf)
            std_lf[a:b] = np.sqrt(lf)
    return EpochFeatures(std_mag, mean_mag, direction, std_lf)


#: Work bins processed at a time by `epoch_features`.
FEATURE_BLOCK = 1 << 16


def walking_mask(f: EpochFeatures) -> NDArray[np.bool_]:
    """Bins inside walking-like bouts (≥ WALK_MIN_S of steady, moderate |acc| variation at gait
    frequencies: the low-frequency part, so a trembling isometric hold is not walking)."""
    cand = (
        (f.std_mag > WALK_STD_G[0])
        & (f.std_mag_lf > WALK_LF_STD_G)
        & (f.std_mag < WALK_STD_G[1])
        & (f.mean_mag > WALK_MEAN_G[0])
        & (f.mean_mag < WALK_MEAN_G[1])
    )
    out = np.zeros_like(cand)
    for a, b in runs(cand):
        if b - a >= WALK_MIN_S * 10:
            out[a:b] = True
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
    hf = np.sqrt(np.maximum(
        np.asarray(p.mag2w[walk], dtype=np.float64) - np.asarray(p.magw[walk], np.float64) ** 2,
        0.0,
    ))
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
    still = f.std_mag < STILL_STD_G
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
        mine[widx[dot3(dirs, c) > np.cos(np.radians(WALK_CLUSTER_DEG))]] = True
        nearby = _dilate(mine, int(ADJACENT_S * 10))
        del mine
        nearby &= still
        nearby &= dot3(d_all, c) > np.cos(np.radians(25))
        support = float(np.count_nonzero(nearby))
        del nearby
        if support > best_score:
            best, best_score = c, support
    u = best
    for _ in range(3):
        keep = dot3(dirs, u) > np.cos(np.radians(WALK_CLUSTER_DEG))
        if keep.sum() < WALK_MIN_S * 10:
            return UNKNOWN
        u = unit(dirs[keep].mean(axis=0, dtype=np.float64))
    idx = widx[keep]
    del dirs, widx
    u_walk = u
    # Quiet standing refines it: walking's mean carries the gait's mean hip flexion (~5–10°).
    d_all = f.direction
    stand = (f.std_mag < STILL_STD_G) & (dot3(d_all, u) > np.cos(np.radians(STAND_REFINE_DEG)))
    stand_bins = np.zeros_like(stand)
    for a0, b0 in runs(stand):
        if b0 - a0 >= STAND_MIN_S * 10:
            stand_bins[a0:b0] = True
    if stand_bins.sum() >= STAND_MIN_S * 10:
        u = unit(np.asarray(d_all[stand_bins], dtype=np.float64).mean(axis=0))
    if p.gyrow is not None:
        w = np.asarray(p.gyrow[idx], dtype=np.float64)
        w = w - np.outer(w @ u, u)
        _, vecs = np.linalg.eigh(w.T @ w)
        m = unit(vecs[:, -1] - (vecs[:, -1] @ u) * u)
        a = unit(np.cross(m, u))
    else:
        del u_walk
        x = np.asarray(p.accw[idx], dtype=np.float64)
        x = x - x.mean(axis=0)
        x = x - np.outer(x @ u, u)
        _, vecs = np.linalg.eigh(x.T @ x)
        a = unit(vecs[:, -1] - (vecs[:, -1] @ u) * u)
    sign_known = False
    d = f.direction
    cosinc = dot3(d, u)
    sit = still & (cosinc < np.cos(np.radians(60))) & (cosinc > np.cos(np.radians(120)))
    del cosinc, still
    if sit.sum() >= 50:
        s = float(np.median(dot3(d[sit], a)))
        if abs(s) > 0.3:
            sign_known = True
            if s < 0:
                a = -a
    # 10 s of walking in the chosen cluster gives 0.5 (known), 20 s or more 1.0
    conf = min(1.0, int(keep.sum()) / 200.0)
    return Mounting(
        long_axis=_t3(u),
        anterior_axis=_t3(a),
        anterior_sign_known=sign_known,
        confidence=float(round(conf, 3)),
        source="walking" + ("+sitting" if sign_known else ""),
    )


def _dilate(mask: NDArray[np.bool_], half: int) -> NDArray[np.bool_]:
    """True where `mask` is True anywhere within ± `half` samples."""
    n = mask.size
    c = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(mask, out=c[1:])
    i = np.arange(n, dtype=np.int32)
    hi = np.minimum(i + half + 1, n)
    lo = np.maximum(i - half, 0)
    out: NDArray[np.bool_] = (c[hi] - c[lo]) > 0
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
    y = dot3(gdir, ml)
    out: FloatArray = np.arctan2(y, dot3(gdir, a), out=y)
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
