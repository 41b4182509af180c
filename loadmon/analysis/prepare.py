"""Provides sample preparation: gap segmentation, box-averaged work-rate streams, gravity split.

The native samples are kept for the hop detector (flight times need every sample); everything
that depends on orientation works on a uniform work-rate grid (WORK_HZ) built by averaging the
samples in each bin exactly (integral of a piecewise-linear signal), which is an anti-alias
filter and a resampler in one pass and costs a few cumulative sums. Interpolation only bridges
gaps up to MAX_BRIDGE_S; longer gaps split the recording into segments and are reported.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def lowpass(
    x: AnyFloatArray,
    fs: float,
    corner_hz: float,
    order: int = 2,
    out: FloatArray | None = None,
) -> FloatArray:
    """Zero-phase Butterworth low-pass along axis 0 (short inputs are returned as their mean).

    `scipy.signal.sosfiltfilt`, LOWPASS_BLOCK rows at a time with LOWPASS_CONTEXT_S of
    context on either side, so its float64 work arrays stay small: the filter's response has
    died out (< 1e-12) well within the context, so the blocks join without a seam. The result
    is written to `out` (float64, x's shape) when given."""
    sos = butter(order, corner_hz, fs=fs, output="sos")
    padlen = 3 * (2 * sos.shape[0] + 1)
    n = x.shape[0]
    if out is None:
        out = np.empty(x.shape)
    if n <= padlen:
        out[...] = x.mean(axis=0)
        return out
    margin = max(padlen, int(np.ceil(LOWPASS_CONTEXT_S * fs)))
    for j0 in range(0, n, LOWPASS_BLOCK):
        j1 = min(n, j0 + LOWPASS_BLOCK)
        a, b = max(0, j0 - margin), min(n, j1 + margin)
        if x.ndim == 1:
            f = sosfiltfilt(sos, np.asarray(x[a:b], dtype=np.float64))
            out[j0:j1] = f[j0 - a : j1 - a]
            continue
        # one column at a time (each is filtered on its own: the same result, a third of
        # the work arrays)
        for c in range(x.shape[1]):
            f = sosfiltfilt(sos, np.asarray(x[a:b, c], dtype=np.float64))
            out[j0:j1, c] = f[j0 - a : j1 - a]
    return out


#: Rows filtered at a time by `lowpass`, and the context on either side of a block.
LOWPASS_BLOCK = 1 << 16
LOWPASS_CONTEXT_S = 60.0


def dot3(v: AnyFloatArray, u: Any, out: FloatArray | None = None) -> FloatArray:
    """Row-wise dot product of (n, 3) vectors with one 3-vector, in float64, without a
    float64 copy of `v` (a matmul of float32 rows with a float64 vector would make one), and
    DOT_BLOCK rows at a time (no full-length temporary besides the result, written to `out`
    when given)."""
    u = np.asarray(u, dtype=np.float64)
    n = v.shape[0]
    if out is None:
        out = np.empty(n)
    tmp = np.empty(min(n, DOT_BLOCK))
    for j0 in range(0, n, DOT_BLOCK):
        j1 = min(n, j0 + DOT_BLOCK)
        o, w = out[j0:j1], tmp[: j1 - j0]
        np.multiply(v[j0:j1, 0], u[0], out=o)
        np.multiply(v[j0:j1, 1], u[1], out=w)
        o += w
        np.multiply(v[j0:j1, 2], u[2], out=w)
        o += w
    return out


def dot3_between(
    v: AnyFloatArray, u: Any, lo: float | None = None, hi: float | None = None
) -> NDArray[np.bool_]:
    """lo < dot3(v, u) < hi (either bound may be None), DOT_BLOCK rows at a time: no
    full-length float temporary."""
    n = v.shape[0]
    out = np.empty(n, dtype=bool)
    d = np.empty(min(n, DOT_BLOCK))
    for j0 in range(0, n, DOT_BLOCK):
        j1 = min(n, j0 + DOT_BLOCK)
        x = dot3(v[j0:j1], u, out=d[: j1 - j0])
        o = out[j0:j1]
        if lo is not None:
            np.greater(x, lo, out=o)
            if hi is not None:
                o &= x < hi
        elif hi is not None:
            np.less(x, hi, out=o)
        else:
            o[...] = True
    return out


#: Rows handled at a time by `dot3`.
DOT_BLOCK = 1 << 16


def vertical_rise_cm(mag: AnyFloatArray, i: int, j: int) -> float:
    """The sensor's vertical displacement (cm) from work bin i to bin j, still to still.

    For slow movements |acc| − 1 g is the vertical acceleration to first order, whatever the
    sensor's orientation; the ends are still (zero velocity), so the mean is removed from the
    acceleration and the linear trend from the velocity before the second integration. The
    sensor's own 1 g is the median of the first and last 3 bins (a scale error does not
    integrate)."""
    m = np.asarray(mag[i:j], dtype=np.float64)
    if m.size < 6:
        return 0.0
    dt = 1.0 / WORK_HZ
    a = (m - float(np.median(np.r_[m[:3], m[-3:]]))) * 9.80665
    a -= a.mean()
    v = np.concatenate([[0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * dt)])
    v -= np.linspace(v[0], v[-1], v.size)
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * dt)) * 100.0


def unit(v: FloatArray) -> FloatArray:
    """Rows of `v` scaled to unit length (zero rows stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    out: FloatArray = np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)
    return out


def prepare(
    t: FloatArray,
    acc: FloatArray,
    gyro: FloatArray | None,
    fs: float,
    *,
    gravity: bool = True,
    gyro_bins: bool = True,
) -> Prepared:
    """Split at gaps > MAX_BRIDGE_S, bin to WORK_HZ, and estimate the gravity direction.

    The native samples are read a chunk at a time (CHUNK_SAMPLES): no full-length copy of
    them, or of anything derived from them, is made. Bounded memory on long recordings:
    with `gravity=False` the gravity direction is left empty (the caller computes it later
    with `gravity_direction`, once the streams it no longer needs are released); with
    `gyro_bins=False` the gyro bin means are left out (gyrow None) and the few that are
    needed are computed from the native samples by `gyro_bins_at`.
    """
    segs = split_segments(t)
    bw = 1.0 / WORK_HZ
    gaps = [(float(t[i - 1]), float(t[i])) for i, _ in segs[1:]]
    starts: list[IntArray] = []
    segw = []
    nw = 0
    for i, j, nb, edges in _bin_edges(t, segs):
        if nb < 1:
            segw.append((nw, nw))
            continue
        starts.append(i + np.searchsorted(t[i:j], edges[:-1]).astype(np.int64))
        segw.append((nw, nw + nb))
        nw += nb
    segments_w = np.array(segw, dtype=np.int64).reshape(-1, 2)
    first = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
    del starts
    # bins end where the next begins, or (the last bin of a segment) at the end of their
    # segment: only those ends are stored
    tails: dict[int, int] = {}
    for a, b in segments_w:
        if b > a:
            seg_end = segs[np.searchsorted(segs[:, 0], first[a], side="right") - 1, 1]
            tails[int(b) - 1] = min(int(seg_end), int(first[b - 1]) + int(np.ceil(fs * bw)) + 1)
    accw, magw, mag2w, gyrow = _bin_streams(acc, gyro if gyro_bins else None, first, tails, fs)
    del first
    tw = work_grid(t, segs)
    g = gravity_direction(accw, segments_w) if gravity else np.zeros((0, 3))
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


def _bin_edges(
    t: FloatArray, segs: IntArray
) -> Iterator[tuple[int, int, int, FloatArray]]:
    """Per gap-free segment [i, j): its number of work bins and their edges (s)."""
    bw = 1.0 / WORK_HZ
    for i, j in segs:
        i, j = int(i), int(j)
        nb = int(np.floor((float(t[j - 1]) - float(t[i])) / bw + 1e-9)) if j - i >= 2 else 0
        edges = float(t[i]) + bw * np.arange(max(nb, 0) + 1, dtype=np.float64)
        yield i, j, nb, edges


def work_grid(t: FloatArray, segs: IntArray) -> FloatArray:
    """The work-rate bin centres (s) of `prepare` (`Prepared.tw`) for segments `segs`: cheap
    to recompute, so a caller may release them while it does not need them."""
    bw = 1.0 / WORK_HZ
    parts = [edges[:-1] + 0.5 * bw for _i, _j, nb, edges in _bin_edges(t, segs) if nb >= 1]
    return np.concatenate(parts) if parts else np.zeros(0)


def gravity_direction(accw: AnyFloatArray, segments_w: IntArray) -> FloatArray:
    """Low-passed gravity direction (unit vectors, float64) of the work-rate acc bin means,
    filtered per gap-free segment and normalised LOWPASS_BLOCK rows at a time."""
    n = accw.shape[0]
    g = np.empty((n, 3))
    for a, b in segments_w:
        if b > a:
            lowpass(accw[a:b], WORK_HZ, GRAVITY_LP_HZ, out=g[a:b])
    for j0 in range(0, n, LOWPASS_BLOCK):
        gb = g[j0 : j0 + LOWPASS_BLOCK]
        nrm = np.sqrt(np.einsum("ij,ij->i", gb, gb))
        nrm[nrm <= 1e-12] = np.inf  # zero rows stay zero, as in unit()
        gb /= nrm[:, None]
    return g


def gyro_bins_at(p: Prepared, ks: IntArray) -> WorkArray:
    """Gyro bin means at work bins `ks` (sorted), as `prepare` bins them (`Prepared.gyrow`),
    from the native samples: for a Prepared made with `gyro_bins=False`."""
    out = np.zeros((ks.size, 3), dtype=WORK_DTYPE)
    if p.gyro is None or ks.size == 0:
        return out
    t, gyro, n = p.t, p.gyro, p.t.size
    nb = p.accw.shape[0]
    bw = 1.0 / WORK_HZ
    # first sample of bin k, as in `prepare` (per segment: its start + bw * bin number)
    seg_of = np.searchsorted(p.segments_w[:, 1], ks, side="right")
    first = np.empty(ks.size, dtype=np.int64)
    first_next = np.empty(ks.size, dtype=np.int64)  # of bin k + 1 (n past the last bin)
    seg_first = {}  # first sample of each non-empty segment's first bin
    for s, (a, b) in enumerate(p.segments_w):
        if b > a:
            seg_first[s] = int(p.segments[s, 0])
    nonempty = np.array(sorted(seg_first), dtype=np.int64)
    tails: dict[int, int] = {}
    for s in np.unique(seg_of):
        a, b = (int(x) for x in p.segments_w[s])
        i, j = (int(x) for x in p.segments[s])
        sel = seg_of == s
        kk = ks[sel]
        for dst, off in ((first, 0), (first_next, 1)):
            m = kk + off - a
            inside = m < b - a
            e = float(t[i]) + bw * m[inside].astype(np.float64)
            vals = np.empty(kk.size, dtype=np.int64)
            vals[inside] = i + np.searchsorted(t[i:j], e).astype(np.int64)
            if not inside.all():  # bin b: the first bin of the next non-empty segment
                q = np.searchsorted(nonempty, s, side="right")
                vals[~inside] = seg_first[int(nonempty[q])] if q < nonempty.size else -1
            dst[sel] = vals
        if (kk == b - 1).any():
            f_last = int(first[sel][kk == b - 1][0])
            tails[b - 1] = min(j, f_last + int(np.ceil(p.fs * bw)) + 1)
    idx = np.minimum(first, n - 1)
    nxt = np.where(ks + 1 < nb, np.minimum(first_next, n - 1), n)
    last = np.array(
        [tails.get(int(k), int(fn)) for k, fn in zip(ks, first_next, strict=True)],
        dtype=np.int64,
    )
    bad = (last != nxt) | (nxt - idx <= 0)
    cnt = np.maximum(nxt - idx, 1).astype(np.float64)
    # runs of consecutive good bins: one reduceat each (each bin's sum is that of its own
    # samples, as in `_bin_streams`)
    good = np.flatnonzero(~bad)
    if good.size:
        cut = np.flatnonzero((np.diff(ks[good]) != 1) | (np.diff(idx[good]) < 0)) + 1
        for r in np.split(good, cut):
            lo = int(idx[r[0]])
            hi = max(int(nxt[r[-1]]), int(idx[r[-1]]) + 1)
            out[r] = np.add.reduceat(
                np.asarray(gyro[lo:hi], dtype=np.float64), idx[r] - lo, axis=0
            ) / cnt[r, None]
    for q in np.flatnonzero(bad):
        out[q] = _gyro_bad_bin(p, int(ks[q]), int(first[q]), int(last[q]), ks, out)
    return out


def _gyro_bad_bin(p: Prepared, k: int, lo: int, hi: int, ks: IntArray, done: WorkArray) -> Any:
    """A bin that `_bin_streams` fixes afterwards (a segment's last bin, or an empty one)."""
    assert p.gyro is not None
    n = p.t.size
    if hi > lo:
        return np.asarray(p.gyro[lo:hi], dtype=np.float64).mean(axis=0)
    if k > 0:
        # the bin before's final value: computed here if it is not among `ks`
        q = int(np.searchsorted(ks, k - 1))
        if q < ks.size and ks[q] == k - 1:  # (bad bins are fixed in order: it is final)
            return done[q]
        return gyro_bins_at(p, np.array([k - 1], dtype=np.int64))[0]
    return p.gyro[min(lo, n - 1)]


def _bin_streams(
    acc: FloatArray,
    gyro: FloatArray | None,
    first: IntArray,
    tails: dict[int, int],
    fs: float,
) -> tuple[WorkArray, WorkArray, WorkArray, WorkArray | None]:
    """Bin means of acc, |acc|, |acc|² and gyro: samples first[k]:last[k] of each bin, where
    last[k] is tails[k] for the last bin of a segment and first[k + 1] otherwise; an empty bin
    (a short gap inside a segment) takes the value of the bin before it.

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
    tail_k = np.array(sorted(tails), dtype=np.int64)
    tail_v = np.array([tails[int(k)] for k in tail_k], dtype=np.int64)

    def last_of(k0: int, k1: int) -> IntArray:
        out = np.empty(k1 - k0, dtype=np.int64)
        out[: k1 - k0 - 1] = first[k0 + 1 : k1]
        out[-1] = first[k1] if k1 < nb else 0  # (the very last bin is a segment's last)
        q0, q1 = np.searchsorted(tail_k, [k0, k1])
        out[tail_k[q0:q1] - k0] = tail_v[q0:q1]
        return out

    bad_parts = []
    for k0 in range(0, nb, step):
        k1 = min(nb, k0 + step)
        # reduceat sums each bin up to the next bin's first sample
        idx = np.minimum(first[k0:k1], n - 1)
        nxt = np.append(idx[1:], min(int(first[k1]), n - 1) if k1 < nb else n)
        lo, hi = int(idx[0]), max(int(nxt[-1]), int(idx[-1]) + 1)  # an empty last bin: fixed
        loc = idx - lo
        cnt = np.maximum(nxt - idx, 1).astype(np.float64)
        bad_parts.append(k0 + np.flatnonzero((last_of(k0, k1) != nxt) | (nxt - idx <= 0)))
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
        lo, hi = int(first[k]), int(last_of(int(k), int(k) + 1)[0])
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
