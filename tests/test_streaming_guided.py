"""Guided live counting: each rep is final soon after its end (counted in samples fed, not wall
time; the wall-clock latency is benchmarks/bench_tui.py), free-running keeps its guards, and
the stream's final events equal the offline analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loadmon.analysis import rdl as rdl_mod
from loadmon.analysis.pipeline import Event, analyze, parameters
from loadmon.analysis.streaming import (
    GUIDED_STEP_S,
    SETTLE_S,
    STREAMED,
    StreamingAnalyzer,
)
from loadmon.recording import Recording, read_recording
from tests.simulator import Segment, simulate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "recordings"
DEMO = ROOT / "loadmon" / "demo_data"
#: Samples per feed call: 2 at 52 Hz, as a sensor notifying every few samples would.
CHUNK = 2


def stream(rec: Recording, sa: StreamingAnalyzer, chunk: int = CHUNK) -> list[tuple[Event, float]]:
    """Feed `rec` in chunks; each event returned with the time of the newest sample fed."""
    out: list[tuple[Event, float]] = []
    for i in range(0, rec.n_samples, chunk):
        j = min(i + chunk, rec.n_samples)
        gyro = None if rec.gyro is None else rec.gyro[i:j]
        for e in sa.feed(rec.t[i:j], rec.acc[i:j], gyro):
            out.append((e, float(rec.t[j - 1])))
    return out


def matches(a: Event, b: Event, tol: float = 0.1) -> bool:
    return a.type == b.type and abs(a.start_s - b.start_s) <= tol and abs(a.end_s - b.end_s) <= tol


@pytest.mark.parametrize(
    ("path", "exercise"),
    [
        (DEMO / "rdl_set.csv", "rdl"),
        (DATA / "rdl_52hz_right_lateral.csv", "rdl"),
        (DEMO / "bridge_set.csv", "bridge"),
    ],
)
def test_guided_reps_are_returned_within_settle_time_of_their_end(
    path: Path, exercise: str
) -> None:
    rec = read_recording(path)
    sa = StreamingAnalyzer(rec.sample_rate_hz, exercise=exercise)
    assert sa.step_s == GUIDED_STEP_S and sa.guard_s == SETTLE_S
    live = stream(rec, sa)
    offline = [e for e in analyze(rec, exercise=exercise).events if e.type in STREAMED]
    assert len(live) >= len(offline) >= 4
    # Final once SETTLE_S of signal after the rep's end has been seen, re-checked every
    # GUIDED_STEP_S: samples fed after the end stay within that (plus one feed call).
    slack = SETTLE_S + GUIDED_STEP_S + CHUNK / rec.sample_rate_hz + 1e-6
    for e, fed_until in live:
        assert SETTLE_S - 1e-6 <= fed_until - e.end_s <= slack, (e, fed_until)
    # Every offline rep was shown live, with its times.
    for want in offline:
        assert any(matches(e, want, 0.15) for e, _ in live), want
    # The first rep of the set did not wait for later reps (the free-running 3-rep rule).
    first, shown_at = min(live, key=lambda x: x[0].start_s)
    assert not any(e.start_s > first.end_s and e.end_s < shown_at for e, _ in live)


def test_guided_step_reruns_detectors_in_small_steps() -> None:
    rec = read_recording(DEMO / "rdl_set.csv")
    sa = StreamingAnalyzer(rec.sample_rate_hz, exercise="rdl")
    assert rec.gyro is not None
    runs = 0
    for i in range(0, 26 * 20, CHUNK):  # the first 10 s
        sa.feed(rec.t[i : i + CHUNK], rec.acc[i : i + CHUNK], rec.gyro[i : i + CHUNK])
        runs += sa._last_run_t == float(rec.t[i + CHUNK - 1])
    assert runs >= 10 / (GUIDED_STEP_S + CHUNK / rec.sample_rate_hz) - 2


def test_free_running_keeps_its_step_guard_and_set_rule() -> None:
    sa = StreamingAnalyzer(52.0)
    assert (sa.step_s, sa.guard_s) == (2.0, 4.0)
    assert parameters()["rdl"]["guided_min_set_reps"] == rdl_mod.GUIDED_MIN_SET_REPS == 1
    from loadmon.analysis.sets import MIN_REPS

    assert MIN_REPS["rdl"] == 3


@pytest.fixture(scope="module")
def lone_hinge() -> Recording:
    """Walking (the mounting is learned), then one slow hip hinge alone, then standing."""
    rec, _ = simulate(
        [
            Segment("walking", 40.0),
            Segment("standing", 6.0),
            Segment("rdl", reps=1, tempo=(3.0, 3.0), variant="double"),
            Segment("standing", 10.0),
        ],
        seed=5,
    )
    return rec


def test_free_running_withholds_a_lone_bend_down(lone_hinge: Recording) -> None:
    rec = lone_hinge
    sa = StreamingAnalyzer(rec.sample_rate_hz, guard_s=0.4, step_s=0.15)
    live = stream(rec, sa, chunk=4)
    assert not [e for e, _ in live if e.type == "rdl_rep"]
    assert not [e for e in sa.finish() if e.type == "rdl_rep"]
    assert not analyze(rec).events_of("rdl_rep")


def test_guided_shows_a_lone_rep_at_once_and_finish_equals_offline(
    lone_hinge: Recording,
) -> None:
    rec = lone_hinge
    sa = StreamingAnalyzer(rec.sample_rate_hz, exercise="rdl")
    live = [(e, t) for e, t in stream(rec, sa, chunk=4) if e.type == "rdl_rep"]
    assert len(live) == 1
    e, shown_at = live[0]
    assert shown_at - e.end_s <= SETTLE_S + GUIDED_STEP_S + 4 / rec.sample_rate_hz + 1e-6
    new = sa.finish()
    offline = analyze(rec, exercise="rdl").events_of("rdl_rep")
    # After finish the stream holds exactly the offline run's reps: the lone rep stands if the
    # offline guided rule counts it, else it is retracted.
    assert len(sa.events) == len(offline)
    for want in offline:
        assert any(matches(g, want) for g in sa.events)
    assert not new or all(any(matches(g, w) for w in offline) for g in new)
    assert len(sa.retracted) == 1 - len(offline)


@pytest.mark.parametrize(
    ("path", "exercise"),
    [
        (DEMO / "rdl_set.csv", "rdl"),
        (DEMO / "rdl_fast_set.csv", "rdl"),
        (DEMO / "bridge_hold_set.csv", "bridge_hold"),
    ],
)
def test_finish_reconciles_with_the_offline_analysis(path: Path, exercise: str) -> None:
    """Reps shown live that the offline run of the whole set does not confirm are retracted,
    and the offline ones not shown yet are returned."""
    rec = read_recording(path)
    sa = StreamingAnalyzer(rec.sample_rate_hz, exercise=exercise)
    live = [e for e, _ in stream(rec, sa, chunk=4)]
    new = sa.finish()
    offline = [e for e in analyze(rec, exercise=exercise).events if e.type in STREAMED]
    assert len(sa.events) == len(offline)
    for want in offline:
        assert any(matches(g, want) for g in sa.events), want
    for r in sa.retracted:
        assert r in live and not any(matches(r, w, 0.5) for w in offline)
    shown = [e for e in live if e not in sa.retracted] + new
    assert len(shown) == len(offline)


def test_bounded_memory_in_guided_mode() -> None:
    rec = read_recording(DATA / "rdl_52hz_right_lateral.csv")
    sa = StreamingAnalyzer(rec.sample_rate_hz, exercise="rdl", window_s=30.0)
    assert rec.gyro is not None
    for i in range(0, rec.n_samples, 26):
        sa.feed(rec.t[i : i + 26], rec.acc[i : i + 26], rec.gyro[i : i + 26])
        assert sa.buffered_samples <= 31 * rec.sample_rate_hz + 26
    assert np.isfinite(sa._newest)
