"""Provides sample preparation: gap segmentation, box-averaged work-rate streams, gravity split.

The native samples are kept for the hop detector (flight times need every sample); everything
that depends on orientation works on a uniform work-rate grid (WORK_HZ) built by averaging the
samples in each bin exactly (integral of a piecewise-linear signal), which is an anti-alias
filter and a resampler in one pass and costs a few cumulative sums. Interpolation only bridges
gaps up to MAX_BRIDGE_S; longer gaps split the recording into segments and are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: 3-axis work-rate streams are stored in WORK_DTYPE.
WorkArray = NDArray[np.float32]
AnyFloatArray = NDArray[np.floating[Any]]

#: Work rate of the orientation/posture/exercise streams (Hz); one bin is 0.1 s.
WORK_HZ = 10.0
#: Never interpolate across a gap longer than this (s).
MAX_BRIDGE_S = 0.5
#: Low-pass corner for the gravity estimate used by the exercise detectors (Hz).
GRAVITY_LP_HZ = 2.0

#: Native samples are read this many at a time (bounded working memory).
CHUNK_SAMPLES = 1 << 17
#: Working precision of the 3-axis work-rate streams (bin means of acc and gyro, gravity
#: direction): float32 resolves 1e-7 g and 1e-5°, far below sensor noise, at half the memory.
WORK_DTYPE = np.float32

PARAMETERS = {
    "work_hz": WORK_HZ,
    "max_bridge_s": MAX_BRIDGE_S,
    "gravity_lowpass_hz": GRAVITY_LP_HZ,
    "gravity_filter": "2nd-order Butterworth, zero phase, on 0.1 s bin means",
    "work_dtype": "float32",
    "chunk_samples": CHUNK_SAMPLES,
}


@dataclass(frozen=True, eq=False)
class Prepared:
    """Native samples split at long gaps, plus uniform work-rate streams per segment."""

    fs: float
    t: FloatArray
    acc: FloatArray
    gyro: FloatArray | None
    #: (k, 2) native index ranges [start, end) of the gap-free segments.
    segments: IntArray
    #: Gaps longer than MAX_BRIDGE_S as (last time before, first time after).
    gaps: list[tuple[float, float]]
    #: Work-rate bin centres (s) and bin means of acc (g), |acc| and |acc|² and gyro (°/s).
    tw: FloatArray
    accw: WorkArray
    magw: WorkArray
    mag2w: WorkArray
    gyrow: WorkArray | None
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
    cuts = [np.zeros(1, dtype=np.int64)]
    for a in range(0, t.size - 1, CHUNK_SAMPLES):
        b = min(t.size, a + CHUNK_SAMPLES + 1)
        cuts.append(np.flatnonzero(np.diff(t[a:b]) > max_bridge_s) + a + 1)
    cuts.append(np.array([t.size], dtype=np.int64))
    edges = np.concatenate(cuts)
    return np.column_stack([edges[:-1], edges[1:]]).astype(np.int64)


def lowpass(x: AnyFloatArray, fs: float, corner_hz: float, order: int = 2) -> FloatArray:
    """Zero-phase Butterworth low-pass along axis 0 (short inputs are returned as their mean).

    `scipy.signal.sosfiltfilt`, LOWPASS_BLOCK rows at a time with LOWPASS_CONTEXT_S of
    context on either side, so its float64 work arrays stay small: the filter's response has
    died out (< 1e-12) well within the context, so the blocks join without a seam."""
    sos = butter(order, corner_hz, fs=fs, output="sos")
    padlen = 3 * (2 * sos.shape[0] + 1)
    n = x.shape[0]
    if n <= padlen:
        return np.broadcast_to(x.mean(axis=0), x.shape).astype(np.float64)
    margin = max(padlen, int(np.ceil(LOWPASS_CONTEXT_S * fs)))
    out = np.empty(x.shape)
    for j0 in range(0, n, LOWPASS_BLOCK):
        j1 = min(n, j0 + LOWPASS_BLOCK)
        a, b = max(0, j0 - margin), min(n, j1 + margin)
        f = sosfiltfilt(sos, np.asarray(x[a:b], dtype=np.float64), axis=0)
        out[j0:j1] = f[j0 - a : j1 - a]
    return out


#: Rows filtered at a time by `lowpass`, and the context on either side of a block.
LOWPASS_BLOCK = 1 << 16
LOWPASS_CONTEXT_S = 60.0


def dot3(v: AnyFloatArray, u: Any) -> FloatArray:
    """Row-wise dot product of (n, 3) vectors with one 3-vector, in float64, without a
    float64 copy of `v` (a matmul of float32 rows with a float64 vector would make one)."""
    u = np.asarray(u, dtype=np.float64)
    out: FloatArray = v[:, 0] * u[0]
    out += v[:, 1] * u[1]
    out += v[:, 2] * u[2]
    return out


def unit(v: FloatArray) -> FloatArray:
    """Rows of `v` scaled to unit length (zero rows stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    out: FloatArray = np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)
    return out


def prepare(
    t: FloatArray, acc: FloatArray, gyro: FloatArray | None, fs: float
) -> Prepared:
    """Split at gaps > MAX_BRIDGE_S, bin to WORK_HZ, and estimate the gravity direction.

    The native samples are read a chunk at a time (CHUNK_SAMPLES): no full-length copy of
    them, or of anything derived from them, is made.
    """
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
    del tw_parts, starts
    # bins end where the next begins, or at the end of their segment
    last = np.empty_like(first)
    for a, b in segments_w:
        if b > a:
            last[a : b - 1] = first[a + 1 : b]
            seg_end = segs[np.searchsorted(segs[:, 0], first[a], side="right") - 1, 1]
            last[b - 1] = min(int(seg_end), int(first[b - 1]) + int(np.ceil(fs * bw)) + 1)
    accw, magw, mag2w, gyrow = _bin_streams(acc, gyro, first, last, fs)
    del first, last
    g = np.empty(accw.shape)
    for a, b in segments_w:
        if b > a:
            g[a:b] = lowpass(accw[a:b], WORK_HZ, GRAVITY_LP_HZ)
    nrm = np.sqrt(np.einsum("ij,ij->i", g, g))
    nrm[nrm <= 1e-12] = np.inf  # zero rows stay zero, as in unit()
    g /= nrm[:, None]
    del nrm
    return Prepared(
        fs=fs,
        t=t,
        acc=acc,
        gyro=gyro,
        segments=segs,
        gaps=gaps,
        tw=tw,
        accw=accw,
        magw=magw,
        mag2w=mag2w,
        gyrow=gyrow,
        segments_w=segments_w,
        gdir=g,
    )


def _bin_streams(
    acc: FloatArray, gyro: FloatArray | None, first: IntArray, last: IntArray, fs: float
) -> tuple[WorkArray, WorkArray, WorkArray, WorkArray | None]:
    """Bin means of acc, |acc|, |acc|² and gyro: samples first[k]:last[k] of each bin; an
    empty bin (a short gap inside a segment) takes the value of the bin before it.

    The native samples are summed a chunk of bins at a time, so |acc| and |acc|² exist only
    for one chunk of samples at once.
    """
    nb = first.size
    accw = np.zeros((nb, 3), dtype=WORK_DTYPE)
    magw = np.zeros(nb, dtype=WORK_DTYPE)
    mag2w = np.zeros(nb, dtype=WORK_DTYPE)
    gyrow = None if gyro is None else np.zeros((nb, 3), dtype=WORK_DTYPE)
    if nb == 0:
        return accw, magw, mag2w, gyrow
    n = acc.shape[0]
    step = max(1, CHUNK_SAMPLES // max(1, int(np.ceil(fs / WORK_HZ))))
    bad_parts = []
    for k0 in range(0, nb, step):
        k1 = min(nb, k0 + step)
        # reduceat sums each bin up to the next bin's first sample
        idx = np.minimum(first[k0:k1], n - 1)
        nxt = np.append(idx[1:], min(int(first[k1]), n - 1) if k1 < nb else n)
        lo, hi = int(idx[0]), max(int(nxt[-1]), int(idx[-1]) + 1)  # an empty last bin: fixed
        loc = idx - lo
        cnt = np.maximum(nxt - idx, 1).astype(np.float64)
        bad_parts.append(k0 + np.flatnonzero((last[k0:k1] != nxt) | (nxt - idx <= 0)))
        a = np.asarray(acc[lo:hi], dtype=np.float64)
        accw[k0:k1] = np.add.reduceat(a, loc, axis=0) / cnt[:, None]
        m2 = np.einsum("ij,ij->i", a, a)
        mag2w[k0:k1] = np.add.reduceat(m2, loc) / cnt
        np.sqrt(m2, out=m2)
        magw[k0:k1] = np.add.reduceat(m2, loc) / cnt
        del m2, a
        if gyro is not None and gyrow is not None:
            gyrow[k0:k1] = np.add.reduceat(
                np.asarray(gyro[lo:hi], dtype=np.float64), loc, axis=0
            ) / cnt[:, None]
    # fix the bins that end elsewhere than the next bin's start (the last bin of each
    # segment) or hold no sample (a short gap)
    for k in np.concatenate(bad_parts):
        lo, hi = int(first[k]), int(last[k])
        if hi > lo:
            a = np.asarray(acc[lo:hi], dtype=np.float64)
            m2 = np.einsum("ij,ij->i", a, a)
            accw[k] = a.mean(axis=0)
            mag2w[k] = m2.mean()
            magw[k] = np.sqrt(m2).mean()
            if gyro is not None and gyrow is not None:
                gyrow[k] = np.asarray(gyro[lo:hi], dtype=np.float64).mean(axis=0)
        elif k > 0:
            accw[k], magw[k], mag2w[k] = accw[k - 1], magw[k - 1], mag2w[k - 1]
            if gyrow is not None:
                gyrow[k] = gyrow[k - 1]
        else:
            a = np.asarray(acc[min(lo, n - 1)], dtype=np.float64)
            accw[k] = a
            mag2w[k] = float(a @ a)
            magw[k] = np.sqrt(mag2w[k])
            if gyro is not None and gyrow is not None:
                gyrow[k] = gyro[min(lo, n - 1)]
    return accw, magw, mag2w, gyrow


def rolling_mean(x: AnyFloatArray, n: int, dtype: Any = np.float64) -> Any:
    """Centred moving average over `n` samples (edges use the available samples), as `dtype`.

    Cumulative sums are taken in float64, one column at a time (bounded temporary memory).
    """
    m = x.shape[0]
    out = np.empty(x.shape, dtype=dtype)
    if m == 0:
        return out
    x2 = x if x.ndim == 2 else x[:, None]
    o2 = out if x.ndim == 2 else out[:, None]
    h = n // 2
    i0, i1 = h, m - n + h + 1
    edge = np.concatenate([np.arange(0, min(i0, m)), np.arange(max(i1, i0, 0), m)])
    lo = np.clip(edge - h, 0, m)
    hi = np.clip(edge - h + n, 0, m)
    c = np.empty(m + 1)
    for k in range(x2.shape[1]):
        c[0] = 0.0
        np.cumsum(x2[:, k], out=c[1:])
        # interior: full windows, by slicing (no fancy indexing)
        if i1 > i0:
            o2[i0:i1, k] = (c[i0 - h + n : i1 - h + n] - c[i0 - h : i1 - h]) / n
        if edge.size:
            o2[edge, k] = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return out


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
