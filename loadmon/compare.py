"""Provides the comparison of daily load with the phase: bands, adherence, EWMA ratios, trends.

The load maths (all vectorised over days, NaN where undefined):

* ``ewma(x, n)``: exponentially weighted moving average with λ = 2/(N+1) (Williams et al.
  2017): ``e[t] = λ·x[t] + (1-λ)·e[t-1]``, starting from ``e[-1] = 0`` on the first day of care.
* acute = ewma(x, 7), chronic = ewma(x, 28), ``ratio = acute / chronic`` (NaN when chronic is 0).
* ``rolling_sum(x, 7)``: the 7 days ending on each day; week-on-week % compares it with the 7
  days before: ``100·(this − previous)/previous`` (NaN when the previous week is 0).
* chronic base: a category "has a base" on a day when its first loaded day is at least
  ``chronic_days`` (28) days earlier *and* it was loaded on at least ``min_base_days`` of the 28
  days before (today excluded). Only then are its ratio and week-on-week figures used for
  warnings; before that the phase's first-exposure caps apply (a plain EWMA started from 0 needs
  about 3-4 weeks before a steady load reads as ~1.0).

Bands: each category's target comes from the phase of each day. ``per = "day"`` bands compare
the day's value; ``per = "week"`` bands compare the 7-day rolling sum ending that day (for work
prescribed a few times a week). A category with no band in a phase gets ``[0, 0]`` when none of
its exercises is allowed in that phase (doing them shows as "above"), the sitting limit for
sitting, else no target. Status codes: -1 below, 0 within, 1 above, 2 no target.

Adherence over 7/28 days (per category): the share of days in the window, among days whose band
asks for something (low > 0), on which the compared value reached the band's low end.

Public API: ewma, acwr, rolling_sum, week_on_week, base_days, history_days, has_base,
band_status, compare -> Comparison, STATUS_NAMES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from loadmon.load import DailyRaw, category_loads, total_load
from loadmon.protocols import Protocol

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

STATUS_NAMES = {-1: "below", 0: "within", 1: "above", 2: None}
TOTAL = "total"


def ewma(x: NDArray[np.float64], n: int) -> FloatArray:
    """EWMA along the last axis with λ = 2/(n+1), starting from 0 (Williams et al. 2017)."""
    lam = 2.0 / (n + 1.0)
    arr = np.asarray(x, dtype=np.float64)
    out: FloatArray = np.empty_like(arr)
    prev = np.zeros(arr.shape[:-1], dtype=np.float64)
    keep = 1.0 - lam
    # One step per day, vectorised across rows (categories); a year is ~1 ms. (numpy only:
    # scipy.signal.lfilter would cost ~0.5 s of import time on every CLI call.)
    for t in range(arr.shape[-1]):
        prev = lam * arr[..., t] + keep * prev
        out[..., t] = prev
    return out


def acwr(
    x: NDArray[np.float64], acute_days: int = 7, chronic_days: int = 28
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(acute, chronic, ratio); the ratio is NaN where chronic is 0."""
    a = ewma(x, acute_days)
    c = ewma(x, chronic_days)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(c > 1e-12, a / np.where(c > 1e-12, c, 1.0), np.nan)
    return a, c, r


def rolling_sum(x: NDArray[np.float64], w: int) -> FloatArray:
    """Sum of the `w` days ending on each day (fewer at the start)."""
    # A sliding window, not cumsum differences: those leave round-off residue (e.g. 1e-13)
    # where a window is really empty. Windows are short (<= 29 days), so O(n * w) is cheap.
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[-1] == 0:
        return arr.copy()
    pad = np.zeros(arr.shape[:-1] + (w - 1,), dtype=np.float64)
    padded = np.concatenate([pad, arr], axis=-1)
    out: FloatArray = np.lib.stride_tricks.sliding_window_view(padded, w, axis=-1).sum(axis=-1)
    return out


def week_on_week(x: NDArray[np.float64]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(this 7 days, previous 7 days, % change); % is NaN when the previous week is 0."""
    this = rolling_sum(x, 7)
    prev = np.zeros_like(this)
    prev[..., 7:] = this[..., :-7]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pct = np.where(prev > 0, 100.0 * (this - prev) / np.where(prev > 0, prev, 1.0), np.nan)
    return this, prev, pct


def base_days(x: NDArray[np.float64], window: int = 28) -> IntArray:
    """Days with load > 0 among the `window` days before each day (the day itself excluded)."""
    nz = (np.asarray(x) > 0).astype(np.float64)
    incl = rolling_sum(nz, window + 1)
    out: IntArray = np.rint(incl - nz).astype(np.int64)
    return out


def history_days(x: NDArray[np.float64]) -> IntArray:
    """Days since the first day with load > 0 (-1 before it), along the last axis."""
    arr = np.asarray(x)
    n = arr.shape[-1]
    idx = np.broadcast_to(np.arange(n), arr.shape)
    first = np.where(arr > 0, idx, n)
    first_so_far = np.minimum.accumulate(first, axis=-1)
    out: IntArray = np.where(first_so_far < n, idx - first_so_far, -1).astype(np.int64)
    return out


def has_base(
    x: NDArray[np.float64], chronic_days: int = 28, min_base_days: int = 8
) -> NDArray[np.bool_]:
    """True where the series has a chronic base (see the module docstring)."""
    out: NDArray[np.bool_] = (history_days(x) >= chronic_days) & (
        base_days(x, chronic_days) >= min_base_days
    )
    return out


def band_status(value: FloatArray, low: FloatArray, high: FloatArray) -> NDArray[np.int8]:
    """-1 below, 0 within, 1 above, 2 where there is no band (NaN low)."""
    st = np.full(value.shape, 2, dtype=np.int8)
    has = ~np.isnan(low)
    eps = 1e-9
    st[has & (value < low - eps)] = -1
    st[has & (value >= low - eps) & (value <= high + eps)] = 0
    st[has & (value > high + eps)] = 1
    return st


@dataclass(frozen=True)
class Comparison:
    """Per-day arrays for one patient; index 0 is `first_day`."""

    first_day: date
    n_days: int
    phase_index: IntArray  # index into protocol.phase_ids, per day
    loads: dict[str, FloatArray]  # category -> the day's value
    compared: dict[str, FloatArray]  # category -> value compared with the band (day or 7-day)
    per_week: dict[str, NDArray[np.bool_]]  # category -> band is weekly on that day
    low: dict[str, FloatArray]
    high: dict[str, FloatArray]
    status: dict[str, NDArray[np.int8]]
    adherence_7d: dict[str, FloatArray]
    adherence_28d: dict[str, FloatArray]
    # EWMA ratios, for acwr categories and TOTAL
    acute: dict[str, FloatArray]
    chronic: dict[str, FloatArray]
    ratio: dict[str, FloatArray]
    base: dict[str, IntArray]  # loaded days among the previous chronic_days
    based: dict[str, NDArray[np.bool_]]  # has a chronic base (ratios usable)
    week: dict[str, FloatArray]
    previous_week: dict[str, FloatArray]
    week_on_week_pct: dict[str, FloatArray]

    def day_index(self, day: str | date) -> int:
        d = date.fromisoformat(day) if isinstance(day, str) else day
        return (d - self.first_day).days

    @property
    def days(self) -> list[str]:
        return [(self.first_day + timedelta(days=i)).isoformat() for i in range(self.n_days)]


def _adherence(met: NDArray[np.bool_], asks: NDArray[np.bool_], w: int) -> FloatArray:
    num = rolling_sum((met & asks).astype(np.float64), w)
    den = rolling_sum(asks.astype(np.float64), w)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def compare(raw: DailyRaw, protocol: Protocol, phase_index: IntArray) -> Comparison:
    """Compare every category with the band of each day's phase and compute ratios."""
    n = raw.n_days
    loads = category_loads(raw, protocol)
    roll7 = {k: rolling_sum(v, 7) for k, v in loads.items()}
    phases = [protocol.phases[p] for p in protocol.phase_ids]

    compared: dict[str, FloatArray] = {}
    per_week: dict[str, NDArray[np.bool_]] = {}
    low: dict[str, FloatArray] = {}
    high: dict[str, FloatArray] = {}
    status: dict[str, NDArray[np.int8]] = {}
    ad7: dict[str, FloatArray] = {}
    ad28: dict[str, FloatArray] = {}
    for name, cat in protocol.categories.items():
        # Per-phase band (lo, hi, weekly), then indexed by each day's phase.
        lo_p = np.full(len(phases), np.nan)
        hi_p = np.full(len(phases), np.nan)
        wk_p = np.zeros(len(phases), dtype=bool)
        for j, ph in enumerate(phases):
            band = ph.targets.get(name)
            if band is not None:
                lo_p[j], hi_p[j], wk_p[j] = band.low, band.high, band.per == "week"
            elif cat.measure == "sitting_min" and ph.sitting is not None:
                lo_p[j], hi_p[j] = 0.0, ph.sitting.max_daily_min
            elif cat.exercises and not any(e in ph.allowed for e in cat.exercises):
                lo_p[j], hi_p[j] = 0.0, 0.0
        lo_d, hi_d, wk_d = lo_p[phase_index], hi_p[phase_index], wk_p[phase_index]
        cmp_v = np.where(wk_d, roll7[name], loads[name])
        compared[name], per_week[name], low[name], high[name] = cmp_v, wk_d, lo_d, hi_d
        status[name] = band_status(cmp_v, lo_d, hi_d)
        asks = np.nan_to_num(lo_d, nan=0.0) > 0
        met = cmp_v >= np.nan_to_num(lo_d, nan=np.inf) - 1e-9
        ad7[name] = _adherence(met, asks, 7)
        ad28[name] = _adherence(met, asks, 28)

    a_days, c_days = protocol.acwr.acute_days, protocol.acwr.chronic_days
    series = {k: loads[k] for k, c in protocol.categories.items() if c.acwr}
    series[TOTAL] = total_load(loads, protocol, n)
    acute: dict[str, FloatArray] = {}
    chronic: dict[str, FloatArray] = {}
    ratio: dict[str, FloatArray] = {}
    base: dict[str, IntArray] = {}
    based: dict[str, NDArray[np.bool_]] = {}
    week: dict[str, FloatArray] = {}
    prev: dict[str, FloatArray] = {}
    wow: dict[str, FloatArray] = {}
    if series:
        keys = list(series)
        mat = np.vstack([series[k] for k in keys]) if n else np.zeros((len(keys), 0))
        a_m, c_m, r_m = acwr(mat, a_days, c_days)
        this_m, prev_m, pct_m = week_on_week(mat)
        base_m = base_days(mat, c_days)
        based_m = (history_days(mat) >= c_days) & (base_m >= protocol.acwr.min_base_days)
        for i, k in enumerate(keys):
            acute[k], chronic[k], ratio[k] = a_m[i], c_m[i], r_m[i]
            week[k], prev[k], wow[k], base[k] = this_m[i], prev_m[i], pct_m[i], base_m[i]
            based[k] = based_m[i]
    # Week sums for the non-ACWR categories too (the report plots them).
    for k, v in loads.items():
        if k not in week:
            week[k], prev[k], wow[k] = week_on_week(v)
            base[k] = base_days(v, c_days)
            based[k] = has_base(v, c_days, protocol.acwr.min_base_days)
    loads[TOTAL] = series[TOTAL]
    return Comparison(
        first_day=raw.first_day,
        n_days=n,
        phase_index=phase_index,
        loads=loads,
        compared=compared,
        per_week=per_week,
        low=low,
        high=high,
        status=status,
        adherence_7d=ad7,
        adherence_28d=ad28,
        acute=acute,
        chronic=chronic,
        ratio=ratio,
        base=base,
        based=based,
        week=week,
        previous_week=prev,
        week_on_week_pct=wow,
    )
