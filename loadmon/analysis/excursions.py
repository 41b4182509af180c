"""Provides the excursion finder shared by the bridge and RDL detectors.

An exercise rep rotates the thigh away from a rest angle and back. Given an angle signal (deg)
oriented so reps are positive, a rolling low percentile is the rest baseline; a hysteresis
state machine (enter above `hi`, leave below `lo`) finds each excursion; its edges are where the
signal leaves and returns within EDGE_FRAC of the peak; its "top" is the span within TOP_FRAC
of the plateau (the held part of a hold).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from loadmon.analysis.prepare import FloatArray

IntArray = NDArray[np.int64]

#: Extent of an excursion: where it is within this fraction of its peak above the rest (the
#: onset and end times themselves come from the 10 % / 90 % crossings, see `timed`).
EDGE_FRAC = 0.2
#: Crossing levels (fractions of the plateau) used to time a movement, and where a
#: minimum-jerk movement crosses the lower one (fraction of its duration).
LEVELS = (0.2, 0.8)
U_LO = 0.3266
#: An excursion counts as one only if its top has at most one dip deeper than STEADY_FRAC of
#: its amplitude; otherwise it is a shifted rest and the excursions on it are found inside it.
STEADY_FRAC = 0.3
SHIFTED_FRAC = 0.4
#: The held top: within this fraction of the plateau (the plateau is the 90th percentile).
TOP_FRAC = 0.2


@dataclass(frozen=True)
class Excursion:
    """One excursion: indices, and times (s) of a smooth-movement model of it.

    A minimum-jerk movement crosses 20 % and 80 % of its excursion at 32.6 % and 67.4 % of its
    duration, so the onset, the arrival at the top, the departure and the end follow from those
    crossings (robust to a sagging top, unlike 10 %/90 %). `rise_s`/`fall_s` are the movement
    times, `hold_s` the time held at the top.
    """

    start: int
    peak: int
    end: int
    amplitude_deg: float
    top_start: int
    top_end: int
    t_start: float = 0.0
    t_top: float = 0.0
    t_leave: float = 0.0
    t_end: float = 0.0

    @property
    def rise_s(self) -> float:
        return self.t_top - self.t_start

    @property
    def fall_s(self) -> float:
        return self.t_end - self.t_leave

    @property
    def hold_s(self) -> float:
        return max(0.0, self.t_leave - self.t_top)


def _cross_up(r: FloatArray, a: int, b: int, level: float) -> float:
    """Fractional index of the first upward crossing of `level` in r[a..b]."""
    for i in range(a, b):
        if r[i] < level <= r[i + 1]:
            return float(i + (level - r[i]) / (r[i + 1] - r[i]))
    return float(a)


def _cross_down(r: FloatArray, a: int, b: int, level: float) -> float:
    """Fractional index of the last downward crossing of `level` in r[a..b]."""
    for i in range(b - 1, a - 1, -1):
        if r[i] >= level > r[i + 1]:
            return float(i + (r[i] - level) / (r[i] - r[i + 1]))
    return float(b)


def _at(times: FloatArray, fi: float) -> float:
    """Time at a fractional sample index (the grid may jump over a recording gap)."""
    i = int(np.clip(np.floor(fi), 0, times.size - 1))
    j = min(i + 1, times.size - 1)
    f = fi - i
    return float(times[i] + f * (times[j] - times[i]))


def timed(e: Excursion, r: FloatArray, times: FloatArray, dt: float) -> Excursion:
    """Fill the smooth-movement times of `e` (r is the baseline-removed signal)."""
    seg_plateau = float(np.percentile(r[e.top_start : e.top_end + 1], 50))
    p = max(seg_plateau, 1e-6)
    lo_l, hi_l = LEVELS[0] * p, LEVELS[1] * p
    a, b = e.start, e.end
    u_lo = _cross_up(r, max(a - 1, 0), e.top_start + 1, lo_l)
    u_hi = _cross_up(r, max(a - 1, 0), e.top_end + 1, hi_l)
    d_hi = _cross_down(r, e.top_start, min(b + 1, r.size - 1), hi_l)
    d_lo = _cross_down(r, e.top_start, min(b + 1, r.size - 1), lo_l)
    # minimum-jerk: the LEVELS are crossed at fractions U_LO and 1 − U_LO of the movement
    tr = max(u_hi - u_lo, 0.0) / (1.0 - 2.0 * U_LO)
    tf = max(d_lo - d_hi, 0.0) / (1.0 - 2.0 * U_LO)
    return Excursion(
        e.start,
        e.peak,
        e.end,
        e.amplitude_deg,
        e.top_start,
        e.top_end,
        t_start=_at(times, u_lo) - dt * U_LO * tr,
        t_top=_at(times, u_hi) + dt * U_LO * tr,
        t_leave=_at(times, d_hi) - dt * U_LO * tf,
        t_end=_at(times, d_lo) + dt * U_LO * tf,
    )


def find_excursions(
    s: FloatArray,
    hi: float,
    lo: float = 0.0,
    min_len: int = 3,
    t0: float = 0.0,
    dt: float = 0.1,
    keep: NDArray[np.bool_] | None = None,
    times: FloatArray | None = None,
) -> list[Excursion]:
    """Excursions of `s` (see `_find`): long ones only when their top is steady (a hold), else
    the shorter ones within them (a set of reps done from a rest angle that differs from the
    lying before and after it is not one long excursion)."""
    if times is None:
        times = t0 + dt * np.arange(s.size, dtype=np.float64)
    return _nested(s, hi, min_len, dt, keep, times, depth=0)


def _nested(
    s: FloatArray,
    hi: float,
    min_len: int,
    dt: float,
    keep: NDArray[np.bool_] | None,
    times: FloatArray,
    depth: int,
) -> list[Excursion]:
    if s.size < 3:
        return []
    out: list[Excursion] = []
    for e in _find(s, hi, min_len, dt, keep, times):
        if _steady(e, s) or depth >= 3:
            out.append(e)
            continue
        # a shifted rest with reps or holds on it: look inside it, with the shifted rest as
        # rest. Its extent: above SHIFTED_FRAC of the amplitude, or, if the rest between the
        # reps (the dips of the top) is lower than that (a set done from a rest close to the
        # lying before and after), above half of that rest's height
        r = s - max(float(s[e.start]), float(s[e.end]))
        rest = float(r[e.top_start + _dips(e, s)].min())
        thr = max(0.05 * e.amplitude_deg, min(SHIFTED_FRAC * e.amplitude_deg, 0.5 * rest))
        a = e.peak
        while a > e.start and r[a - 1] > thr:
            a -= 1
        b = e.peak
        while b < e.end and r[b + 1] > thr:
            b += 1
        b += 1
        for x in _nested(
            s[a:b], hi, min_len, dt, None if keep is None else keep[a:b], times[a:b], depth + 1
        ):
            out.append(
                replace(
                    x,
                    start=x.start + a,
                    peak=x.peak + a,
                    end=x.end + a,
                    top_start=x.top_start + a,
                    top_end=x.top_end + a,
                )
            )
    out.sort(key=lambda e: e.start)
    return out


def _steady(e: Excursion, s: FloatArray) -> bool:
    """The top of `e` holds no repeated dips deeper than STEADY_FRAC of its amplitude (a hold,
    not a set of reps done from a shifted rest)."""
    if e.top_end - e.top_start < 3:
        return True
    return len(_dips(e, s)) <= 1


def _dips(e: Excursion, s: FloatArray) -> IntArray:
    """Dips of the top of `e` deeper than STEADY_FRAC of its amplitude (indices into the top)."""
    top = s[e.top_start : e.top_end + 1]
    dips, _ = prominent_peaks(-top, STEADY_FRAC * e.amplitude_deg)
    return dips


def _find(
    s: FloatArray,
    hi: float,
    min_len: int,
    dt: float,
    keep: NDArray[np.bool_] | None,
    times: FloatArray,
) -> list[Excursion]:
    """Excursions of `s` that rise at least `hi` above the higher of their two rest levels.

    The rest level of each excursion is local (the higher of the minima on either side before a
    higher peak, as in topographic prominence), so a change of rest angle between sets, or a
    step from one lying position to another, is not mistaken for a long excursion.
    """
    out: list[Excursion] = []
    n = s.size
    peaks, prom = prominent_peaks(s, hi)
    # most prominent first, so a bump on a held top never claims part of the hold
    spans: list[tuple[int, int]] = []
    for k in np.argsort(-prom, kind="stable"):
        pk = int(peaks[k])
        if any(a <= pk <= b for a, b in spans):
            continue
        if keep is not None and not keep[pk]:
            continue  # e.g. fast movement at the peak: not a candidate at all
        # the higher of the two bases (the lowest points on either side before a higher peak)
        base = float(s[pk]) - float(prom[k])
        r = s - base
        amp = float(r[pk])
        edge = EDGE_FRAC * amp
        # walk out from the peak while the signal keeps falling towards rest (within
        # WALK_TOL_DEG of the lowest value so far, so noise on a held top does not stop it)
        tol = max(WALK_TOL_DEG, WALK_TOL_FRAC * amp)
        # the held part: everything contiguous above half the prominence (a sagging or
        # trembling top stays far above that), then down to rest
        half = 0.5 * amp
        a0 = pk
        while a0 > 0 and r[a0 - 1] > half:
            a0 -= 1
        b0 = pk
        while b0 < n - 1 and r[b0 + 1] > half:
            b0 += 1
        s0 = _walk(r, a0, -1, edge, tol)
        e0 = _walk(r, b0, +1, edge, tol)
        if (s0 == 0 and r[0] > edge) or (e0 >= n - 1 and r[n - 1] > edge):
            continue  # cut by the recording's edge: the lift or the lowering was not seen
        for a, b in spans:  # never overlap an excursion already taken
            if b < pk:
                s0 = max(s0, b + 1)
            elif a > pk:
                e0 = min(e0, a - 1)
        base = max(float(s[s0]), float(s[e0]))
        r = s - base
        amp = float(r[pk])
        if amp < hi:
            continue
        if e0 - s0 + 1 < min_len:
            continue
        plateau = float(np.percentile(r[s0 : e0 + 1], 90))
        idx = np.flatnonzero(r[s0 : e0 + 1] >= (1.0 - TOP_FRAC) * plateau)
        ts = s0 + int(idx[0]) if idx.size else pk
        te = s0 + int(idx[-1]) if idx.size else pk
        out.append(timed(Excursion(s0, pk, e0, amp, ts, te), r, times, dt))
        spans.append((s0, e0))
    out.sort(key=lambda e: e.start)
    return out


#: The descent from a top is followed while it keeps falling by more than max(WALK_TOL_DEG,
#: WALK_TOL_FRAC·amplitude) within the next WALK_LOOK samples (1 s): that is where rest begins.
WALK_TOL_DEG = 0.3
WALK_TOL_FRAC = 0.03
WALK_LOOK = 10


def _walk(r: FloatArray, i: int, step: int, edge: float, tol: float) -> int:
    """From r[i], follow the descent outward and stop at the first rest: where the next
    WALK_LOOK samples go no lower than `tol` below the current value."""
    n = r.size
    k = i
    while True:
        lo, hi = (k + 1, min(n, k + 1 + WALK_LOOK)) if step > 0 else (max(0, k - WALK_LOOK), k)
        if hi <= lo:
            return k
        w = r[lo:hi]
        j = int(np.argmin(w))
        if float(w[j]) < float(r[k]) - tol:
            k = lo + j
        else:
            return k


def signed_angle(g: FloatArray, c: FloatArray, e1: FloatArray) -> FloatArray:
    """Angle (deg) of unit vectors `g` from `c` towards `e1` in the plane they span."""
    out: FloatArray = np.degrees(np.arctan2(g @ e1, g @ c))
    return out


def prominent_peaks(x: FloatArray, hi: float) -> tuple[IntArray, FloatArray]:
    """Local maxima of `x` whose topographic prominence is at least `hi`, and their
    prominences (scipy.signal.find_peaks)."""
    peaks, props = find_peaks(x, prominence=hi)
    return peaks.astype(np.int64), np.asarray(props["prominences"], dtype=np.float64)
