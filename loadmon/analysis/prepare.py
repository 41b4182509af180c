"""Provides sample preparation: gap segmentation, box-averaged work-rate streams, gravity split.

The native samples are kept for the hop detector (flight times need every sample); everything
that depends on orientation works on a uniform work-rate grid (WORK_HZ) built by averaging the
samples in each bin exactly (integral of a piecewise-linear signal), which is an anti-alias
filter and a resampler in one pass and costs a few cumulative sums. Interpolation only bridges
gaps up to MAX_BRIDGE_S; longer gaps split the recording into segments and are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Work rate of the orientation/posture/exercise streams (Hz); one bin is 0.1 s.
WORK_HZ = 10.0
#: Never interpolate across a gap longer than this (s).
MAX_BRIDGE_S = 0.5
#: Low-pass corner for the gravity estimate used by the exercise detectors (Hz).
GRAVITY_LP_HZ = 2.0

PARAMETERS = {
    "work_hz": WORK_HZ,
    "max_bridge_s": MAX_BRIDGE_S,
    "gravity_lowpass_hz": GRAVITY_LP_HZ,
    "gravity_filter": "2nd-order Butterworth, zero phase, on 0.1 s bin means",
}


@dataclass(frozen=True, eq=False)
class Prepared:
    """Native samples split at long gaps, plus uniform work-rate streams per segment."""

    fs: float
    t: FloatArray
    acc: FloatArray
    gyro: FloatArray | None
    #: |acc| of every native sample (g).
    mag: FloatArray
    #: (k, 2) native index ranges [start, end) of the gap-free segments.
    segments: IntArray
    #: Gaps longer than MAX_BRIDGE_S as (last time before, first time after).
    gaps: list[tuple[float, float]]
    #: Work-rate bin centres (s) and bin means of acc (g), |acc| and |acc|² and gyro (°/s).
    tw: FloatArray
    accw: FloatArray
    magw: FloatArray
    mag2w: FloatArray
    gyrow: FloatArray | None
    #: (k, 2) work-rate index ranges of the same segments.
    segments_w: IntArray
    #: Low-passed gravity direction (unit vectors, sensor frame) on the work grid.
    gdir: FloatArray

    @property
    def has_gyro(self) -> bool:
        return self.gyro is not None


def split_segments(t: FloatArray, max_bridge_s: float = MAX_BRIDGE_S) -> IntArray:
    """Index ranges [start, end) of runs of `t` without a step longer than `max_bridge_s`."""
    if t.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    cut = np.flatnonzero(np.diff(t) > max_bridge_s) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [t.size]])
    return np.column_stack([starts, ends]).astype(np.int64)


def bin_means(t: FloatArray, x: FloatArray, edges: FloatArray) -> FloatArray:
    """Exact mean of the piecewise-linear signal (t, x) over each [edges[i], edges[i+1])."""
    dt = np.diff(t)
    x2 = x if x.ndim == 2 else x[:, None]
    inc = (x2[1:] + x2[:-1]) * (0.5 * dt[:, None])
    integ = np.empty((t.size, x2.shape[1]))
    integ[0] = 0.0
    np.cumsum(inc, axis=0, out=integ[1:])
    at = np.empty((edges.size, x2.shape[1]))
    for k in range(x2.shape[1]):
        at[:, k] = np.interp(edges, t, integ[:, k])
    out = np.diff(at, axis=0) / np.diff(edges)[:, None]
    return out if x.ndim == 2 else out[:, 0]


def lowpass(x: FloatArray, fs: float, corner_hz: float, order: int = 2) -> FloatArray:
    """Zero-phase Butterworth low-pass along axis 0 (short inputs are returned as their mean)."""
    sos = butter(order, corner_hz, fs=fs, output="sos")
    padlen = 3 * (2 * sos.shape[0] + 1)
    if x.shape[0] <= padlen:
        return np.broadcast_to(x.mean(axis=0), x.shape).copy()
    out: FloatArray = sosfiltfilt(sos, x, axis=0)
    return out


def unit(v: FloatArray) -> FloatArray:
    """Rows of `v` scaled to unit length (zero rows stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    out: FloatArray = np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)
    return out


def prepare(
    t: FloatArray, acc: FloatArray, gyro: FloatArray | None, fs: float
) -> Prepared:
    """Split at gaps > MAX_BRIDGE_S, bin to WORK_HZ, and estimate the gravity direction."""
    segs = split_segments(t)
    bw = 1.0 / WORK_HZ
    gaps: list[tuple[float, float]] = []
    starts: list[IntArray] = []
    tw_parts: list[FloatArray] = []
    segw = []
    nw = 0
    for k, (i, j) in enumerate(segs):
        if k > 0:
            gaps.append((float(t[i - 1]), float(t[i])))
        nb = int(np.floor((float(t[j - 1]) - float(t[i])) / bw + 1e-9)) if j - i >= 2 else 0
        if nb < 1:
            segw.append((nw, nw))
            continue
        edges = float(t[i]) + bw * np.arange(nb + 1, dtype=np.float64)
        starts.append(i + np.searchsorted(t[i:j], edges[:-1]).astype(np.int64))
        tw_parts.append(edges[:-1] + 0.5 * bw)
        segw.append((nw, nw + nb))
        nw += nb
    segments_w = np.array(segw, dtype=np.int64).reshape(-1, 2)
    if tw_parts:
        tw = np.concatenate(tw_parts)
        first = np.concatenate(starts)
    else:
        tw = np.zeros(0)
        first = np.zeros(0, dtype=np.int64)
    # bins end where the next begins, or at the end of their segment
    last = np.empty_like(first)
    for a, b in segments_w:
        if b > a:
            last[a : b - 1] = first[a + 1 : b]
            seg_end = segs[np.searchsorted(segs[:, 0], first[a], side="right") - 1, 1]
            last[b - 1] = min(int(seg_end), int(first[b - 1]) + int(np.ceil(fs * bw)) + 1)
    mag2 = np.einsum("ij,ij->i", acc, acc)
    mag = np.sqrt(mag2)
    accw = _bin_mean(acc, first, last)
    mag2w = _bin_mean(mag2, first, last)
    del mag2
    magw = _bin_mean(mag, first, last)
    gyrow = None if gyro is None else _bin_mean(gyro, first, last)
    g = np.empty_like(accw)
    for a, b in segments_w:
        if b > a:
            g[a:b] = lowpass(accw[a:b], WORK_HZ, GRAVITY_LP_HZ)
    return Prepared(
        fs=fs,
        t=t,
        acc=acc,
        gyro=gyro,
        mag=mag,
        segments=segs,
        gaps=gaps,
        tw=tw,
        accw=accw,
        magw=magw,
        mag2w=mag2w,
        gyrow=gyrow,
        segments_w=segments_w,
        gdir=unit(g),
    )


def _bin_mean(x: FloatArray, first: IntArray, last: IntArray) -> FloatArray:
    """Mean of the samples x[first[k]:last[k]] of each bin; an empty bin (a short gap inside a
    segment) takes the value of the bin before it."""
    if first.size == 0:
        return np.zeros((0,) + x.shape[1:])
    n = x.shape[0]
    idx = np.minimum(first, n - 1)
    sums = np.add.reduceat(x, idx, axis=0)
    # reduceat sums up to the next index; correct the count and the last bin of each run
    nxt = np.append(idx[1:], n)
    cnt = (nxt - idx).astype(np.float64)
    bad = (last != nxt) | (cnt <= 0)
    out: FloatArray = sums / np.maximum(cnt, 1.0).reshape((-1,) + (1,) * (x.ndim - 1))
    for k in np.flatnonzero(bad):
        lo, hi = int(first[k]), int(last[k])
        if hi > lo:
            out[k] = x[lo:hi].mean(axis=0)
        elif k > 0:
            out[k] = out[k - 1]
        else:
            out[k] = x[min(lo, n - 1)]
    return out


def rolling_mean(x: FloatArray, n: int) -> FloatArray:
    """Centred moving average over `n` samples (edges use the available samples)."""
    m = x.shape[0]
    if m == 0:
        return x.copy()
    x2 = x if x.ndim == 2 else x[:, None]
    c = np.empty((m + 1, x2.shape[1]))
    c[0] = 0.0
    np.cumsum(x2, axis=0, out=c[1:])
    h = n // 2
    out = np.empty((m, x2.shape[1]))
    # interior: full windows, by slicing (no fancy indexing)
    i0, i1 = h, m - n + h + 1
    if i1 > i0:
        out[i0:i1] = (c[i0 - h + n : i1 - h + n] - c[i0 - h : i1 - h]) / n
    edge = np.concatenate([np.arange(0, min(i0, m)), np.arange(max(i1, i0, 0), m)])
    if edge.size:
        lo = np.clip(edge - h, 0, m)
        hi = np.clip(edge - h + n, 0, m)
        out[edge] = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)[:, None]
    res: FloatArray = out if x.ndim == 2 else out[:, 0]
    return res


def runs(mask: NDArray[np.bool_]) -> IntArray:
    """(k, 2) index ranges [start, end) of the True runs of a boolean array."""
    if mask.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    m8 = mask.view(np.int8) if mask.dtype == np.bool_ else mask.astype(np.int8)
    d = np.flatnonzero(m8[1:] != m8[:-1]) + 1
    starts = d[m8[d] == 1]
    ends = d[m8[d] == 0]
    if mask[0]:
        starts = np.concatenate([[0], starts])
    if mask[-1]:
        ends = np.concatenate([ends, [mask.size]])
    return np.column_stack([starts, ends]).astype(np.int64)
