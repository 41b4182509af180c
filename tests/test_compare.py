"""Property tests: the vectorised load maths against straightforward loop implementations."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loadmon import compare

loads = st.lists(
    st.one_of(
        st.just(0.0),
        st.floats(min_value=0.0, max_value=5000.0, allow_nan=False, allow_subnormal=False),
    ),
    min_size=0,
    max_size=120,
)
windows = st.sampled_from([1, 3, 7, 14, 28])


def ref_ewma(x: list[float], n: int) -> list[float]:
    lam = 2.0 / (n + 1)
    out, prev = [], 0.0
    for v in x:
        prev = lam * v + (1 - lam) * prev
        out.append(prev)
    return out


def ref_sum_before(x: list[float], i: int, w: int) -> float:
    return sum(x[max(0, i - w + 1) : i + 1])


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=200, deadline=None)
@given(loads, windows)
def test_ewma_matches_loop(x: list[float], n: int) -> None:
    got = compare.ewma(np.array(x, dtype=float), n)
    ref = ref_ewma(x, n)
    assert len(got) == len(ref)
    assert all(close(float(g), r) for g, r in zip(got, ref, strict=True))


@settings(max_examples=200, deadline=None)
@given(loads)
def test_acwr_ratio_matches_loop(x: list[float]) -> None:
    a, c, r = compare.acwr(np.array(x, dtype=float), 7, 28)
    ra, rc = ref_ewma(x, 7), ref_ewma(x, 28)
    for i in range(len(x)):
        assert close(float(a[i]), ra[i]) and close(float(c[i]), rc[i])
        if rc[i] > 1e-12:
            assert close(float(r[i]), ra[i] / rc[i])
        else:
            assert math.isnan(r[i])


@settings(max_examples=200, deadline=None)
@given(loads, windows)
def test_rolling_sum_matches_loop(x: list[float], w: int) -> None:
    got = compare.rolling_sum(np.array(x, dtype=float), w)
    for i in range(len(x)):
        assert close(float(got[i]), ref_sum_before(x, i, w))


@settings(max_examples=200, deadline=None)
@given(loads)
def test_week_on_week_matches_loop(x: list[float]) -> None:
    this, prev, pct = compare.week_on_week(np.array(x, dtype=float))
    for i in range(len(x)):
        t = ref_sum_before(x, i, 7)
        p = ref_sum_before(x, i - 7, 7) if i >= 7 else 0.0
        assert close(float(this[i]), t) and close(float(prev[i]), p)
        if p > 0:
            assert close(float(pct[i]), 100.0 * (t - p) / p)
        else:
            assert math.isnan(pct[i])


@settings(max_examples=200, deadline=None)
@given(loads, st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=30))
def test_base_and_history_match_loop(x: list[float], window: int, min_days: int) -> None:
    arr = np.array(x, dtype=float)
    base = compare.base_days(arr, window)
    hist = compare.history_days(arr)
    based = compare.has_base(arr, window, min_days)
    first = next((i for i, v in enumerate(x) if v > 0), None)
    for i in range(len(x)):
        ref_base = sum(1 for j in range(max(0, i - window), i) if x[j] > 0)
        assert base[i] == ref_base
        ref_hist = -1 if first is None or first > i else i - first
        assert hist[i] == ref_hist
        assert bool(based[i]) == (ref_hist >= window and ref_base >= min_days)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 100, allow_nan=False),
            st.one_of(st.none(), st.floats(0, 50, allow_nan=False)),
            st.floats(0, 50, allow_nan=False),
        ),
        max_size=50,
    )
)
def test_band_status_matches_loop(rows: list[tuple[float, float | None, float]]) -> None:
    value = np.array([r[0] for r in rows], dtype=float)
    low = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    high = np.array([np.nan if r[1] is None else r[1] + r[2] for r in rows], dtype=float)
    got = compare.band_status(value, low, high)
    for i, (v, lo, width) in enumerate(rows):
        if lo is None:
            want = 2
        elif v < lo - 1e-9:
            want = -1
        elif v > lo + width + 1e-9:
            want = 1
        else:
            want = 0
        assert got[i] == want


def test_ewma_2d_rows_are_independent() -> None:
    m = np.array([[1.0, 0, 0, 5], [0, 2.0, 2.0, 0]])
    got = compare.ewma(m, 7)
    for row in range(2):
        assert np.allclose(got[row], ref_ewma(list(m[row]), 7))


def test_steady_load_ratio_settles_near_one() -> None:
    _, _, r = compare.acwr(np.ones(120), 7, 28)
    assert 0.99 < r[-1] < 1.01
    mwf = np.array([1.0 if d % 7 in (0, 2, 4) else 0.0 for d in range(210)])
    _, _, r = compare.acwr(mwf, 7, 28)
    # A steady 3-sessions-a-week schedule stays inside the 0.77-1.2 corridor.
    assert np.nanmax(r[-28:]) < 1.3 and np.nanmin(r[-28:]) > 0.7
