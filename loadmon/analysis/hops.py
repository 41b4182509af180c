"""Provides the hop detector: take-off, landing, flight and contact time, height from flight.

Physics: in flight the body is in free fall, so the specific force at the thigh is near 0 g
(plus the small centripetal/tangential terms of thigh rotation); take-off is preceded by a push
(specific force above 1 g) and flight ends in a landing impact (well above 1 g). A hop keeps the
thigh near vertical and about the same orientation before and after (sitting down onto a chair
ends with the thigh horizontal; running swings the thigh through tens of degrees during flight).
Times are refined to where |acc| crosses EDGE_G (interpolated between samples). Jump height
h = g·t²/8 from the flight time.

A take-off needs an upward push: landing back at the same level after a flight T, the body left
the ground at g·T/2 upwards, and the support phase before it supplied that velocity. A drop
from a box or a step starts from rest with none. |acc| ≥ its vertical component, so the
integral of (|acc| − 1 g) from rest to take-off is at least the true vertical velocity gained:
a flight from rest whose integral is under TAKEOFF_IMPULSE_FRAC of g·T/2 is a drop, not a hop
(its landing still ends the contact of the rebound that follows, as in a drop jump). A sensor
that clips (a phone at ±2 g) under-reads the push, so the check is skipped where it clipped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loadmon.analysis.orientation import Mounting
from loadmon.analysis.prepare import FloatArray, IntArray, runs, unit

G = 9.80665
#: Candidate flight: smoothed |acc| below this (g) for FLIGHT_S (s).
FLIGHT_G = 0.7
#: The median |acc| inside a flight must be below this (g): free fall, not a light step.
MEDIAN_FLIGHT_G = 0.55
#: Free fall must actually be reached inside a flight (g): a swinging thigh (cycling, running)
#: dips to ~0.5 g but never to 0.
FREE_FALL_G = 0.35
#: Moving-average length for the candidate search (s).
SMOOTH_S = 0.1
FLIGHT_S = (0.08, 1.0)
#: Flight edges: where raw |acc| crosses this (g).
EDGE_G = 0.35
#: Push before take-off and impact after landing (g), searched within these windows (s). A
#: jump needs a mean contact force of (1 + flight/contact) g ≥ 1.5 g; stepping off a box does not.
PUSH_G = 1.5
PUSH_WINDOW_S = 0.5
LAND_G = 1.5
LAND_WINDOW_S = 0.15
#: A landing is an impact: |acc| rises at least this fast somewhere in that window (g/s).
LAND_SLOPE_G_PER_S = 15.0
#: ... measured over this time step (s), so sensor noise at high rates does not look steep.
SLOPE_SCALE_S = 0.03
#: Low runs separated by less than MERGE_S (s) with |acc| below MERGE_G (g) are one flight
#: (a loose sensor, e.g. a phone in a pocket, bounces during flight).
MERGE_S = 0.25
MERGE_G = LAND_G
#: Thigh orientation before take-off vs after landing may differ by at most this (deg).
MAX_TURN_DEG = 60.0
#: ... each side averaged over this long (s), so the pushes of alternating hops cancel.
TURN_WINDOW_S = 1.5
#: With a known mounting the thigh must be within this of vertical around the hop (deg); a
#: single-leg hop on the other leg holds the sensor thigh up to ~70° flexed.
MAX_INCLINATION_DEG = 80.0
#: ... and on average over ± CONTEXT_S (s) within this (deg): on the feet, not seated or
#: lying (thigh horizontal, 90°). Pedalling never reaches free fall, so it need not be caught
#: here; a thigh held up while hopping on the other leg averages up to ~75°.
CONTEXT_S = 1.5
MAX_MEAN_INCLINATION_DEG = 80.0
#: With gyro: median angular speed during flight above this (°/s) is running, not a hop.
MAX_FLIGHT_GYRO_DPS = 250.0
#: Around each hop (± NEIGHBOUR_S) at least this fraction of free-fall dips must be hops. In
#: running the landings alternate between the legs, so about half the flights end on the other
#: leg with a weak impact at the sensor and fail; in a hop set they all pass.
NEIGHBOUR_S = 3.0
MIN_HOP_FRACTION = 0.7
#: Flights closer than RUN_LINK_S (s) form a run; if most "contacts" in a run dip below
#: HIDDEN_FLIGHT_G (0.1 s mean, g) they hide the other leg's flights: running.
RUN_LINK_S = 1.0
HIDDEN_FLIGHT_G = 0.6
#: Take-off impulse, for take-offs from rest (no flight in the IMPULSE_WINDOW_S before):
#: ∫(|acc| − 1 g) dt over that window must reach this fraction of g·T/2. The sensor's own 1 g
#: is the median |acc| of its quiet samples (within ONE_G_BAND of 1 g) in the window analysed,
#: so a scale error does not integrate into it. Clipped: an axis at its extreme over the
#: window analysed, reached by at least CLIP_MIN_SAMPLES samples (a flat top).
TAKEOFF_IMPULSE_FRAC = 0.5
IMPULSE_WINDOW_S = 1.5
ONE_G_BAND = 0.1
CLIP_MIN_SAMPLES = 3
#: Below this sample rate (Hz) the sample period (≥ 25 ms) is longer than the take-off and
#: landing transitions themselves (10–20 ms): the sensor's anti-alias filter spreads each edge
#: over a sample or two, so a fixed low level is crossed late at take-off and early at landing
#: (flights read 40 ms short at 25 Hz). There each edge is where |acc| crosses
#: SMEARED_EDGE_FRAC of the way from the flight's median to the sample beside the edge (that
#: sample is itself on the smeared shoulder, so the edge lies below half-way). The fraction was
#: calibrated on development recordings (25 Hz through a windowed-sinc anti-alias filter):
#: median signed error −40 ms at a fixed 0.35 g, +19 ms at half-way, −5 ms at 0.3.
SMEARED_EDGE_HZ = 40.0
SMEARED_EDGE_FRAC = 0.3
#: Gait rhythm (the legs alternate). Free-fall dips whose starts follow each other within
#: GAIT_LINK_S (s) form a rhythm; with at least GAIT_MIN_DIPS of them its cycle P is the median
#: interval, and the 3-axis specific force over the rhythm (mean removed) is autocorrelated at
#: P/2, P and 2P (each the best lag within ±GAIT_LAG_TOL of it). A hop cycle is one contact and
#: one flight, both legs together: every cycle looks like the last, r(P) ≈ r(2P), and half a
#: cycle later the signal is in antiphase (r(P/2) ≤ −0.5 in real hop sets). Running has a
#: flight every step but the sensor thigh alternates between its own stance and its swing, so
#: a cycle resembles the one two steps back more than the one before (step vs stride
#: regularity, Moe-Nilssen & Helbostad 2004): r(2P) − r(P) ≥ GAIT_ALTERNATION. Walking has no
#: flight at all, but a loose phone or a fast swing dips once per stride: a regular rhythm
#: (max(r(P), r(2P)) ≥ GAIT_REGULAR_R) whose dips fill at most GAIT_MAX_DUTY of the cycle. A hop
#: cycle is a flight and a contact of comparable length (the flight ≥ a third of the cycle in
#: rebound hopping; 0.4–0.55 in real and simulated sets), a walking swing dips for 5–20 % of the
#: stride. Either makes the rhythm gait: no hops in it. Side-to-side hops alternate too, but
#: sideways: with the mounting's axes known, an alternation mostly mediolateral (≥
#: GAIT_LATERAL_FRAC of the energy of x(t) − x(t + P)) is lateral hopping; a running thigh
#: alternates in the sagittal plane.
GAIT_LINK_S = 1.5
GAIT_MIN_DIPS = 4
#: A rhythm longer than this (s) is judged a block at a time (bounded memory and work).
GAIT_BLOCK_S = 60.0
GAIT_LAG_TOL = 0.15
GAIT_ALTERNATION = 0.12
GAIT_REGULAR_R = 0.6
GAIT_MAX_DUTY = 0.25
GAIT_LATERAL_FRAC = 0.5
#: At 40 Hz and above, flight edges from the signal's shape, not a fixed |acc| level: a
#: rotating thigh (or a phone rattling in a pocket) reads 0.2–0.5 g in flight, not 0, so a
#: fixed 0.35 g level is crossed inside the flight and cut both ends (real flights read ~40 ms
#: short). Each transition is anchored at half-way between the flight's own level (its median)
#: and the contact plateau beside it (the largest |acc| within PLATEAU_S outside the flight),
#: above any rattle; the take-off is where the fall comes within EDGE_RISE_G of the flight
#: level (the ground reaction has ended), the landing where the rise leaves it (the impact
#: begins). EDGE_RISE_G is the 0.35 g of the fixed level less the ~0.1 g a quiet free fall
#: reads at the thigh, so a still thigh in flight gets the same edges as before.
EDGE_RISE_G = 0.25
PLATEAU_S = 0.15
#: Contact time is only reported between hops closer than this (s).
MAX_CONTACT_S = 1.0
#: Samples missing at the take-off or landing crossing (a step longer than this many periods)
#: void the hop; missing samples in mid-flight do not (both edges are still observed).
MAX_STEP_PERIODS = 2.5

#: Native samples screened at a time, and the context read on either side of a chunk (s).
CHUNK_SAMPLES = 1 << 17
CHUNK_PAD_S = 5.0
#: Candidates closer than this (s) are analysed together, with this much context (s) around.
CLUSTER_GAP_S = 10.0
WINDOW_PAD_S = 10.0

PARAMETERS = {
    "flight_g": FLIGHT_G,
    "smooth_s": SMOOTH_S,
    "median_flight_g": MEDIAN_FLIGHT_G,
    "free_fall_g": FREE_FALL_G,
    "flight_s": list(FLIGHT_S),
    "edge_g": EDGE_G,
    "merge_s": MERGE_S,
    "merge_g": MERGE_G,
    "push_g": PUSH_G,
    "push_window_s": PUSH_WINDOW_S,
    "land_g": LAND_G,
    "land_window_s": LAND_WINDOW_S,
    "land_slope_g_per_s": LAND_SLOPE_G_PER_S,
    "slope_scale_s": SLOPE_SCALE_S,
    "max_turn_deg": MAX_TURN_DEG,
    "turn_window_s": TURN_WINDOW_S,
    "max_inclination_deg": MAX_INCLINATION_DEG,
    "context_s": CONTEXT_S,
    "max_mean_inclination_deg": MAX_MEAN_INCLINATION_DEG,
    "max_flight_gyro_dps": MAX_FLIGHT_GYRO_DPS,
    "max_contact_s": MAX_CONTACT_S,
    "gait_link_s": GAIT_LINK_S,
    "gait_min_dips": GAIT_MIN_DIPS,
    "gait_block_s": GAIT_BLOCK_S,
    "gait_lag_tol": GAIT_LAG_TOL,
    "gait_alternation": GAIT_ALTERNATION,
    "gait_regular_r": GAIT_REGULAR_R,
    "gait_max_duty": GAIT_MAX_DUTY,
    "gait_lateral_frac": GAIT_LATERAL_FRAC,
    "neighbour_s": NEIGHBOUR_S,
    "run_link_s": RUN_LINK_S,
    "hidden_flight_g": HIDDEN_FLIGHT_G,
    "min_hop_fraction": MIN_HOP_FRACTION,
    "takeoff_impulse_frac": TAKEOFF_IMPULSE_FRAC,
    "impulse_window_s": IMPULSE_WINDOW_S,
    "one_g_band": ONE_G_BAND,
    "smeared_edge_hz": SMEARED_EDGE_HZ,
    "smeared_edge_frac": SMEARED_EDGE_FRAC,
    "edge_rise_g": EDGE_RISE_G,
    "plateau_s": PLATEAU_S,
    "clip_min_samples": CLIP_MIN_SAMPLES,
    "height": "h = g t^2 / 8",
    "chunk_samples": CHUNK_SAMPLES,
    "cluster_gap_s": CLUSTER_GAP_S,
    "window_pad_s": WINDOW_PAD_S,
}


@dataclass(frozen=True)
class Hop:
    takeoff_s: float
    landing_s: float
    flight_s: float
    contact_s: float | None
    height_m: float


def _crossing(t: FloatArray, x: FloatArray, i: int, level: float) -> float:
    """Time between samples i and i+1 where x crosses `level` (linear interpolation)."""
    x0, x1 = float(x[i]), float(x[i + 1])
    if x1 == x0:
        return float(t[i])
    f = min(1.0, max(0.0, (level - x0) / (x1 - x0)))
    return float(t[i] + f * (t[i + 1] - t[i]))


def _reject_running(
    out: list[tuple[float, float]], t: FloatArray, sm: FloatArray
) -> list[tuple[float, float]]:
    """Drop runs of flights that are running, not hopping: the "contacts" between them hide
    another flight (the other leg's, whose weak landing at the sensor fails the hop checks). In
    a hop set the feet stay on the ground between flights (|acc| well above 1 g)."""
    if len(out) < 2:
        return out
    keep = [True] * len(out)
    start = 0
    for k in range(1, len(out) + 1):
        if k == len(out) or out[k][0] - out[k - 1][1] > RUN_LINK_S:
            if k - start >= 2:
                hidden = []
                for q in range(start, k - 1):
                    i0, i1 = np.searchsorted(t, [out[q][1] + 0.05, out[q + 1][0] - 0.05])
                    hidden.append(i1 > i0 and float(sm[i0:i1].min()) < HIDDEN_FLIGHT_G)
                if float(np.mean(hidden)) > 0.5:
                    keep[start:k] = [False] * (k - start)
            start = k
    return [o for o, ok in zip(out, keep, strict=True) if ok]


def _merge_runs(r: IntArray, sm: FloatArray, max_gap: int) -> IntArray:
    if r.shape[0] < 2:
        return r
    out = [list(r[0])]
    for a, b in r[1:]:
        _pa, pb = out[-1]
        if a - pb <= max_gap and float(sm[pb:a].max()) < MERGE_G:
            out[-1][1] = b
        else:
            out.append([a, b])
    return np.asarray(out, dtype=np.int64)


def _smooth_len(fs: float) -> int:
    return max(1, round(SMOOTH_S * fs))


def _screen(t: FloatArray, mag: FloatArray, fs: float) -> tuple[FloatArray, IntArray]:
    """The smoothed |acc| and the candidate flights that pass the cheap screen (free fall
    reached, a push before it), as (k, 2) index ranges."""
    n = t.size
    k = _smooth_len(fs)
    sm = np.convolve(mag, np.ones(k) / k, mode="same") if k > 1 else mag
    cand: IntArray = _merge_runs(runs(sm < FLIGHT_G), sm, round(MERGE_S * fs))
    if cand.shape[0] == 0:
        return sm, cand
    lo_i = np.clip(cand[:, 0] - k - 1, 0, n - 1)
    hi_i = np.clip(cand[:, 1] + k + 1, 1, n)
    mins = np.minimum.reduceat(mag, np.stack([lo_i, hi_i], axis=1).ravel()[:-1])[::2]
    p0 = np.searchsorted(t, t[lo_i] - PUSH_WINDOW_S)
    pmax = np.maximum.reduceat(mag, np.stack([p0, lo_i + 1], axis=1).ravel())[::2]
    return sm, cand[(mins < FREE_FALL_G) & (pmax >= PUSH_G)]


def _plateau_edges(t: FloatArray, mag: FloatArray, i: int, j: int) -> tuple[float, float]:
    """Take-off and landing of the flight mag[i+1:j] at the feet of its two transitions.

    Levels: the flight's own (its median: not 0 g on a rotating thigh or a rattling phone) and
    the contact plateau beside each edge (the peak |acc| within PLATEAU_S outside it). Each
    transition is followed from its contact peak: down from the push peak past half-way to
    where the fall comes within EDGE_RISE_G of the flight level (the ground reaction has
    ended), and back from the impact peak past half-way to where the rise leaves it (the impact
    begins). Starting from the contact side, a phone's rattle inside the flight never takes an
    edge."""
    n = mag.size
    low = float(np.median(mag[i + 1 : j]))
    dt = float(np.median(np.diff(t[i : j + 1])))
    w = max(2, round(PLATEAU_S / max(dt, 1e-6)))
    p0 = max(0, i - w)
    q = p0 + int(np.argmax(mag[p0 : i + 1]))
    half = low + 0.5 * (float(mag[q]) - low)
    foot = min(low + EDGE_RISE_G, half)
    while q < j - 1 and mag[q + 1] >= half:
        q += 1
    while q < j - 1 and mag[q + 1] >= foot:
        q += 1
    p1 = min(n, j + w + 1)
    r = j + int(np.argmax(mag[j:p1]))
    half = low + 0.5 * (float(mag[r]) - low)
    foot = min(low + EDGE_RISE_G, half)
    while r > q + 1 and mag[r - 1] >= half:
        r -= 1
    while r > q + 1 and mag[r - 1] >= foot:
        r -= 1
    return _crossing(t, mag, q, foot), _crossing(t, mag, r - 1, foot)


def _mid_level_edges(t: FloatArray, mag: FloatArray, i: int, j: int) -> tuple[float, float]:
    """Take-off and landing of the flight mag[i+1:j] (i, j: the samples either side of it)
    where |acc| crosses SMEARED_EDGE_FRAC of the way from the flight's median to the contact
    level beside each edge (the higher of the two samples beyond it)."""
    n = mag.size
    low = float(np.median(mag[i + 1 : j]))
    lv = low + SMEARED_EDGE_FRAC * (float(mag[max(0, i - 1) : i + 1].max()) - low)
    q = i
    while q > 0 and mag[q] < lv:  # the last sample at or above the level before the flight
        q -= 1
    while q < j - 1 and mag[q + 1] >= lv:
        q += 1
    t_off = _crossing(t, mag, q, lv)
    lv = low + SMEARED_EDGE_FRAC * (float(mag[j : min(n, j + 2)].max()) - low)
    q = j - 1
    while q < n - 2 and mag[q + 1] < lv:  # the first sample at or above the level after it
        q += 1
    while q > i + 1 and mag[q] >= lv:
        q -= 1
    return t_off, _crossing(t, mag, q, lv)


def _one_g(mag: FloatArray) -> float:
    """The sensor's reading of 1 g: the median |acc| of the quiet samples (else 1.0)."""
    quiet = mag[np.abs(mag - 1.0) < ONE_G_BAND]
    return float(np.median(quiet)) if quiet.size >= 8 else 1.0


def _clipped(acc: FloatArray) -> NDArray[np.bool_]:
    """Samples where an axis sits at its extreme over `acc` with a flat top (≥
    CLIP_MIN_SAMPLES samples there): the sensor's range, not the movement."""
    out = np.zeros(acc.shape[0], dtype=bool)
    for ax in range(acc.shape[1]):
        x = np.abs(acc[:, ax])
        top = x >= float(x.max()) - 1e-9
        if int(np.count_nonzero(top)) >= CLIP_MIN_SAMPLES:
            out |= top
    return out


def _takeoff_impulse(
    t: FloatArray,
    mag: FloatArray,
    sm: FloatArray,
    i_off: int,
    one_g: float,
    clipped: NDArray[np.bool_],
) -> float | None:
    """∫(|acc| − 1 g) dt (m/s) over IMPULSE_WINDOW_S before the take-off at sample i_off, if
    it starts from rest: None after a flight in that window (free fall reached: a continuous
    hop) or where the sensor clipped (the integral is unknown)."""
    i0 = int(np.searchsorted(t, t[i_off] - IMPULSE_WINDOW_S))
    # an earlier flight reached free fall; the take-off's own descent into flight (smoothed
    # |acc| already low up to i_off) is not an earlier one
    low = sm[i0 : i_off + 1] < FLIGHT_G
    i_end = i0 + int(np.flatnonzero(~low)[-1]) if (~low).any() else i0
    if (
        i_off - i0 < 2
        or bool((mag[i0:i_end] < FREE_FALL_G).any())
        or bool(clipped[i0 : i_off + 1].any())
    ):
        return None
    x = mag[i0 : i_off + 1] - one_g
    return float(np.sum(0.5 * (x[1:] + x[:-1]) * np.diff(t[i0 : i_off + 1]))) * G


def _mean_dir(acc: FloatArray, t: FloatArray, t0: float, t1: float) -> FloatArray | None:
    i, j = np.searchsorted(t, [t0, t1])
    if j - i < 2:
        return None
    v = acc[i:j].mean(axis=0)
    out: FloatArray = unit(v[None, :])[0]
    return out


class _AutoCorr:
    """Normalised vector autocorrelation of the rows of `x` at any lag, from one FFT per axis
    (O(n log n) however long the rhythm) and cumulative energies."""

    def __init__(self, x: FloatArray) -> None:
        n = x.shape[0]
        size = 1 << max(1, int(np.ceil(np.log2(2 * n))))
        f = np.fft.rfft(x, size, axis=0)
        self.raw = np.fft.irfft(np.sum(np.abs(f) ** 2, axis=1), size)[:n]
        self.energy = np.concatenate([[0.0], np.cumsum(np.einsum("ij,ij->i", x, x))])
        self.n = n

    def at(self, lag: int) -> float:
        head = self.energy[self.n - lag]  # rows 0 .. n-lag-1
        tail = self.energy[self.n] - self.energy[lag]  # rows lag .. n-1
        den = float(np.sqrt(head * tail))
        return float(self.raw[lag]) / den if den > 0 else -1.0

    def best(self, lag_s: float, fs: float) -> float:
        """The largest value within ±GAIT_LAG_TOL of `lag_s`."""
        lag = lag_s * fs
        lo = max(1, int(np.floor(lag * (1 - GAIT_LAG_TOL))))
        hi = min(int(np.ceil(lag * (1 + GAIT_LAG_TOL))), self.n - 2)
        return max((self.at(L) for L in range(lo, hi + 1)), default=-1.0)


def _sideways(x: FloatArray, period: float, fs: float, m: Mounting | None) -> bool:
    """Whether the cycle-to-cycle alternation of `x` is mostly mediolateral (needs the
    mounting's axes; unknown → False)."""
    ml = None if m is None or not m.known else m.m
    lag = round(period * fs)
    if ml is None or lag < 1 or lag >= x.shape[0]:
        return False
    d = x[:-lag] - x[lag:]
    tot = float(np.sum(d * d))
    return tot > 0 and float(np.sum((d @ ml) ** 2)) / tot >= GAIT_LATERAL_FRAC


def gait_spans(
    t: FloatArray, acc: FloatArray, sm: FloatArray, fs: float, m: Mounting | None = None
) -> list[tuple[float, float, str]]:
    """Spans (s) of rhythmic free-fall dips that are gait, not hops (see GAIT_*), with their
    kind: "running" (a flight every step, the legs alternating) or "walking" (a swing dip once
    a stride)."""
    dips = runs(sm < FLIGHT_G)
    if dips.shape[0] < GAIT_MIN_DIPS:
        return []
    starts = t[np.clip(dips[:, 0], 0, t.size - 1)]
    ends = t[np.clip(dips[:, 1], 0, t.size - 1)]
    out: list[tuple[float, float, str]] = []
    first = 0
    for k in range(1, starts.size + 1):
        if k < starts.size and starts[k] - starts[k - 1] <= GAIT_LINK_S:
            continue
        # a long rhythm (an hour's walk) is judged GAIT_BLOCK_S at a time: bounded memory
        b0 = first
        while k - b0 >= GAIT_MIN_DIPS:
            b1 = int(np.searchsorted(starts, starts[b0] + GAIT_BLOCK_S))
            if k - b1 < GAIT_MIN_DIPS or b1 - b0 < GAIT_MIN_DIPS:
                b1 = k  # the tail joins the last block
            span = _gait_block(t, acc, starts[b0:b1], ends[b0:b1], fs, m)
            if span is not None:
                out.append(span)
            b0 = b1
        first = k
    return out


def _gait_block(
    t: FloatArray,
    acc: FloatArray,
    starts: FloatArray,
    ends: FloatArray,
    fs: float,
    m: Mounting | None,
) -> tuple[float, float, str] | None:
    """The span and kind of one run of rhythmic dips if it is gait, else None."""
    period = float(np.median(np.diff(starts)))
    t0, t1 = float(starts[0]) - 0.25 * period, float(ends[-1]) + 0.25 * period
    i, j = np.searchsorted(t, [t0, t1])
    if (j - i) < 3.3 * period * fs:
        return None
    x = acc[i:j] - acc[i:j].mean(axis=0)
    ac = _AutoCorr(x)
    r1, r2 = ac.best(period, fs), ac.best(2 * period, fs)
    duty = float(np.median(ends - starts)) / period
    alternates = r2 - r1 >= GAIT_ALTERNATION and not _sideways(x, period, fs, m)
    short_dips = max(r1, r2) >= GAIT_REGULAR_R and duty <= GAIT_MAX_DUTY
    if alternates or short_dips:
        return (t0, t1, "running" if alternates else "walking")
    return None


def detect_hops_segment(
    t: FloatArray,
    acc: FloatArray,
    gyro: FloatArray | None,
    fs: float,
    m: Mounting,
    mag: FloatArray | None = None,
    gait_out: list[tuple[float, float, str]] | None = None,
) -> list[Hop]:
    """Hops in one gap-free run of native samples (`mag` = |acc| if already known); the gait
    rhythms found on the way are appended to `gait_out`."""
    n = t.size
    if n < 8:
        return []
    if mag is None:
        mag = np.sqrt(np.einsum("ij,ij->i", acc, acc))
    k, mgap = _smooth_len(fs), round(MERGE_S * fs)
    sm, screened = _screen(t, mag, fs)
    period = 1.0 / fs
    gait = gait_spans(t, acc, sm, fs, m)
    if gait_out is not None:
        gait_out.extend(gait)
    if gait and screened.shape[0]:
        st = t[np.clip(screened[:, 0], 0, n - 1)]
        in_gait = np.zeros(st.size, dtype=bool)
        for g0, g1, _kind in gait:
            in_gait |= (st >= g0) & (st <= g1)
        screened = screened[~in_gait]
    out: list[tuple[float, float]] = []
    drops: list[tuple[float, float]] = []
    one_g: float | None = None
    clipped: NDArray[np.bool_] | None = None
    for a, b in screened:
        if a == 0 or b >= n:
            continue
        # refine edges on the raw magnitude: first fall below / last rise above EDGE_G (a
        # loose sensor that rattles in flight may never reach it: then FLIGHT_G)
        lo, hi = max(1, a - k - 1), min(n - 2, b + k)
        found = False
        for level in (EDGE_G, FLIGHT_G):
            low_runs = _merge_runs(runs(mag[lo : hi + 1] < level), mag[lo : hi + 1], mgap)
            if low_runs.shape[0] == 0:
                continue
            # the longest low run is the flight (filter ringing next to an impact spike makes
            # short dips that are not part of it)
            longest = int(np.argmax(low_runs[:, 1] - low_runs[:, 0]))
            i = lo + int(low_runs[longest, 0]) - 1
            j = lo + int(low_runs[longest, 1])
            if i < 0 or j >= n:
                continue
            t_off = _crossing(t, mag, i, level)
            t_land = _crossing(t, mag, j - 1, level)
            flight = t_land - t_off
            inside = mag[i + 1 : j]
            if (
                FLIGHT_S[0] <= flight <= FLIGHT_S[1]
                and inside.size
                and float(np.median(inside)) < MEDIAN_FLIGHT_G
                and float(inside.min()) < FREE_FALL_G
            ):
                found = True
                break
        if not found:
            continue
        # the edges are the interpolated crossings of `level`; samples lost at either
        # crossing void the hop (its time is unknown)
        if (t[i + 1] - t[i] > MAX_STEP_PERIODS * period) or (
            t[j] - t[j - 1] > MAX_STEP_PERIODS * period
        ):
            continue  # take-off or landing fell in lost samples: its time is unknown
        if fs < SMEARED_EDGE_HZ:
            t_off, t_land = _mid_level_edges(t, mag, i, j)
        else:
            t_off, t_land = _plateau_edges(t, mag, i, j)
        p0, p1 = np.searchsorted(t, [t_off - PUSH_WINDOW_S, t_off])
        if p1 <= p0 or float(mag[p0:p1].max()) < PUSH_G:
            continue
        l0, l1 = np.searchsorted(t, [t_land, t_land + LAND_WINDOW_S])
        if l1 <= l0 or float(mag[l0:l1].max()) < LAND_G:
            continue
        tw_ = t[max(l0 - 1, 0) : l1 + 1]
        rise = np.interp(tw_ + SLOPE_SCALE_S, t, mag) - mag[max(l0 - 1, 0) : l1 + 1]
        if tw_.size < 1 or float(rise.max()) / SLOPE_SCALE_S < LAND_SLOPE_G_PER_S:
            continue  # a smooth rise (a pedalling thigh), not an impact
        before = _mean_dir(acc, t, t_off - TURN_WINDOW_S, t_off - 0.05)
        after = _mean_dir(acc, t, t_land + 0.05, t_land + TURN_WINDOW_S)
        if before is None or after is None:
            continue
        if float(before @ after) < np.cos(np.radians(MAX_TURN_DEG)):
            continue
        if m.known:
            inc = np.degrees(np.arccos(np.clip([before @ m.u, after @ m.u], -1, 1)))
            if float(inc.max()) > MAX_INCLINATION_DEG:
                continue
            around = _mean_dir(acc, t, t_off - CONTEXT_S, t_land + CONTEXT_S)
            if (
                around is not None
                and float(np.degrees(np.arccos(np.clip(around @ m.u, -1, 1))))
                > MAX_MEAN_INCLINATION_DEG
            ):
                continue  # seated (pedalling), not on the feet
        if gyro is not None:
            w = np.linalg.norm(gyro[i : j + 1], axis=1)
            if w.size and float(np.median(w)) > MAX_FLIGHT_GYRO_DPS:
                continue
        if one_g is None or clipped is None:
            one_g, clipped = _one_g(mag), _clipped(acc)
        impulse = _takeoff_impulse(t, mag, sm, i + 1, one_g, clipped)
        if impulse is not None and impulse < TAKEOFF_IMPULSE_FRAC * G * (t_land - t_off) / 2:
            drops.append((t_off, t_land))  # a drop from rest: no push (it still ends a contact)
            continue
        out.append((t_off, t_land))
    # Running also has flight phases, but most of them fail the hop checks (the thigh swings
    # through them); keep a hop only if most free-fall dips around it are hops too.
    out = _reject_running(out, t, sm)
    if out and screened.shape[0]:
        ct = t[np.clip(screened[:, 0], 0, n - 1)]
        # drops are free falls accounted for (a drop jump's step off the box)
        acc_t = np.array([o[0] for o in out + drops])
        kept = []
        for o in out:
            nc = int(np.sum(np.abs(ct - o[0]) <= NEIGHBOUR_S))
            na = int(np.sum(np.abs(acc_t - o[0]) <= NEIGHBOUR_S))
            if na >= MIN_HOP_FRACTION * nc:
                kept.append(o)
        out = kept
    hops: list[Hop] = []
    landings = sorted([o[1] for o in out] + [d[1] for d in drops])
    for t_off, t_land in out:
        contact = None
        k = bisect.bisect_left(landings, t_off)
        if k > 0:
            c = t_off - landings[k - 1]
            if 0 < c <= MAX_CONTACT_S:
                contact = round(c, 4)
        fl = t_land - t_off
        hops.append(
            Hop(round(t_off, 4), round(t_land, 4), round(fl, 4), contact, round(G * fl * fl / 8, 4))
        )
    return hops


def detect_hops(
    t: FloatArray,
    acc: FloatArray,
    gyro: FloatArray | None,
    fs: float,
    segments: IntArray,
    m: Mounting,
    mag: FloatArray | None = None,
    gait_out: list[tuple[float, float, str]] | None = None,
) -> list[Hop]:
    """Hops over all gap-free segments (gait rhythms found on the way go to `gait_out`).

    Bounded memory: a first pass over CHUNK_SAMPLES at a time finds the screened candidate
    flights; the detector then runs on windows around clusters of them (everything a hop's
    checks look at lies within WINDOW_PAD_S of it), so no full-length |acc| is ever held.
    """
    out: list[Hop] = []
    for a, b in segments:
        for lo, hi in _windows(t, acc, fs, int(a), int(b)):
            out.extend(
                detect_hops_segment(
                    t[lo:hi], acc[lo:hi], None if gyro is None else gyro[lo:hi], fs, m,
                    None if mag is None else mag[lo:hi], gait_out,
                )
            )
    return out



def _windows(t: FloatArray, acc: FloatArray, fs: float, a: int, b: int) -> list[tuple[int, int]]:
    """Index windows [lo, hi) inside [a, b) around the clusters of screened candidates."""
    if b - a < 8:
        return []
    pad = int(np.ceil(CHUNK_PAD_S * fs))
    starts: list[float] = []
    ends: list[float] = []
    for c0 in range(a, b, CHUNK_SAMPLES):
        c1 = min(b, c0 + CHUNK_SAMPLES)
        lo, hi = max(a, c0 - pad), min(b, c1 + pad)
        x = np.asarray(acc[lo:hi], dtype=np.float64)
        mag = np.sqrt(np.einsum("ij,ij->i", x, x))
        tt = t[lo:hi]
        _, sc = _screen(tt, mag, fs)
        for s0, s1 in sc:
            if c0 <= lo + s0 < c1:
                starts.append(float(tt[s0]))
                ends.append(float(tt[min(s1, tt.size - 1)]))
    if not starts:
        return []
    spans: list[tuple[float, float]] = []
    w0, w1 = starts[0], ends[0]
    for s0, s1 in zip(starts[1:], ends[1:], strict=True):
        if s0 - w1 > CLUSTER_GAP_S:
            spans.append((w0, w1))
            w0 = s0
        w1 = max(w1, s1)
    spans.append((w0, w1))
    seg_t = t[a:b]
    res = []
    for w0, w1 in spans:
        i, j = np.searchsorted(seg_t, [w0 - WINDOW_PAD_S, w1 + WINDOW_PAD_S])
        res.append((a + int(i), a + int(j)))
    return res
