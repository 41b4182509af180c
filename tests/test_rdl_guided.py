"""Guided RDL sets recorded without a known mounting (no walking to learn the thigh's axes
from): the mounting comes from the set's own arc (`rdl.guided_mounting`), upright at the end the
set starts and ends at. Counts and tempo are checked against the simulator's truth over seeds,
legs, anterior/lateral and arbitrary sensor axes, 25–208 Hz, accelerometer-only, 1–4 s tempos.

Tempo tolerance: 0.4 s per phase. The prescribed heavy-slow-resistance tempo is 3 s each way
and a brisk rep takes about 1 s, so a 0.4 s error cannot turn one into the other; it is four
work-grid bins (0.1 s), and on a shallow (~10°) hinge the thigh's postural sway (~1°) shifts the
20 %/80 % crossings the timing is read from by a few tenths of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loadmon.analysis import rdl as rdl_mod
from loadmon.analysis.orientation import UNKNOWN, epoch_features
from loadmon.analysis.pipeline import Event, analyze
from loadmon.analysis.prepare import prepare
from loadmon.recording import Recording, read_recording
from tests.simulator import Mounting, Segment, SensorSpec, simulate

DEMO = Path(__file__).resolve().parents[1] / "loadmon" / "demo_data"
TEMPO_TOL_S = 0.4
#: Guided sets, one per seed: leg, site, sensor rotation, rate, gyro, tempo drawn from it.
SEEDS = range(300, 316)


def guided_set(seed: int) -> tuple[Recording, dict[str, Any]]:
    """Standing, one set of RDLs, standing: what a guided "RDL, set n" recording holds."""
    rng = np.random.default_rng(seed)
    rate = float(rng.choice([25.0, 52.0, 104.0, 208.0]))
    spec = SensorSpec(rate_hz=rate, gyro=bool(rng.random() < 0.5))
    mounting = Mounting.random(rng, random_axes=bool(rng.random() < 0.5))
    tempo = (float(rng.uniform(1.0, 4.0)), float(rng.uniform(1.0, 4.0)))
    segments = [
        Segment("standing", float(rng.uniform(2.0, 8.0))),
        Segment("rdl", reps=int(rng.integers(3, 11)), tempo=tempo, variant="double"),
        Segment("standing", float(rng.uniform(3.0, 10.0))),
    ]
    return simulate(segments, seed=seed, spec=spec, mounting=mounting)


def true_reps(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in truth["events"] if e["type"] == "rdl_rep"]


def tempo_errors(det: list[Event], true: list[dict[str, Any]]) -> list[float]:
    """|eccentric| and |concentric| errors (s) of the detected reps matched to true ones."""
    out: list[float] = []
    for e in true:
        mid = 0.5 * (e["start_s"] + e["end_s"])
        d = min(det, key=lambda x: abs(0.5 * (x.start_s + x.end_s) - mid), default=None)
        if d is None or abs(0.5 * (d.start_s + d.end_s) - mid) > 1.0:
            continue
        out.append(abs(float(d.fields["eccentric_s"]) - e["eccentric_s"]))
        out.append(abs(float(d.fields["concentric_s"]) - e["concentric_s"]))
    return out


@pytest.fixture(scope="module")
def results() -> list[tuple[int, int, list[float]]]:
    """(true reps, detected reps, tempo errors) per guided set."""
    out = []
    for seed in SEEDS:
        rec, truth = guided_set(seed)
        a = analyze(rec, exercise="rdl")
        assert not a.mounting.known  # no walking: nothing but the set to learn it from
        det = a.events_of("rdl_rep")
        out.append((len(true_reps(truth)), len(det), tempo_errors(det, true_reps(truth))))
    return out


def test_guided_sets_without_mounting_are_counted_exactly(
    results: list[tuple[int, int, list[float]]],
) -> None:
    exact = [n_true == n_det for n_true, n_det, _ in results]
    assert np.mean(exact) >= 0.9, results
    assert np.mean([abs(n_true - n_det) for n_true, n_det, _ in results]) <= 0.3
    assert all(abs(n_true - n_det) <= 1 for n_true, n_det, _ in results)


def test_guided_tempo_without_mounting_matches_truth(
    results: list[tuple[int, int, list[float]]],
) -> None:
    errs = np.array([x for _, _, e in results for x in e])
    assert errs.size >= 0.9 * 2 * sum(n for n, _, _ in results)  # nearly every rep matched
    assert float(np.median(errs)) <= 0.2
    assert float(np.mean(errs <= TEMPO_TOL_S)) >= 0.9
    # the set's tempo (what the protocol's "too fast" warning reads) is not biased short
    for _, _, e in results:
        assert float(np.mean(e)) <= TEMPO_TOL_S


def test_demo_set_at_heavy_slow_resistance_tempo() -> None:
    """The bundled demo (5 RDLs at 3 s / 3 s, no walking): every rep, at its tempo."""
    from loadmon.demo_data.regenerate import FILES, START

    _, truth = simulate(FILES["rdl_set"], seed=11, start=START)
    rec = read_recording(DEMO / "rdl_set.csv")
    det = analyze(rec, exercise="rdl").events_of("rdl_rep")
    true = true_reps(truth)
    assert len(det) == len(true) == 5
    for d, e in zip(det, true, strict=True):
        assert abs(d.fields["eccentric_s"] - e["eccentric_s"]) <= TEMPO_TOL_S, (d, e)
        assert abs(d.fields["concentric_s"] - e["concentric_s"]) <= TEMPO_TOL_S, (d, e)
        assert d.fields["pitch_deg"] >= rdl_mod.MIN_PITCH_DEG
        # none would trip a "faster than 3 s" warning with the usual half-second leeway
        assert d.fields["eccentric_s"] >= 2.5 and d.fields["concentric_s"] >= 2.4


@pytest.mark.parametrize("seed", [21, 22])
def test_guided_mounting_is_upright_at_the_start_and_pitches_forward_at_the_bottom(
    seed: int,
) -> None:
    rec, truth = guided_set(seed)
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    f = epoch_features(p)
    m = rdl_mod.guided_mounting(p.gdir, f.std_mag)
    assert m.known and m.anterior_sign_known and m.source == rdl_mod.GUIDED_SOURCE
    pitch = rdl_mod.sagittal_pitch(p.gdir, m)
    assert pitch is not None
    first = true_reps(truth)[0]
    before = p.tw < first["start_s"] - 0.5
    assert abs(float(np.median(pitch[before]))) < 5.0  # standing before the set: upright
    for e in true_reps(truth):
        bottom = int(np.searchsorted(p.tw, e["start_s"] + e["eccentric_s"]))
        assert pitch[bottom] > rdl_mod.MIN_PITCH_DEG / 2  # forward (positive) at each bottom


def test_guided_mounting_of_standing_alone_finds_no_reps() -> None:
    rec, _ = simulate([Segment("standing", 12.0)], seed=3)
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    f = epoch_features(p)
    assert rdl_mod.guided_reps(p, f, UNKNOWN) == []
    assert not analyze(rec, exercise="rdl").events_of("rdl_rep")


def test_guided_stage_times_a_lone_rep_without_mounting() -> None:
    """The guided RDL stage (what live counting shows at once, GUIDED_MIN_SET_REPS = 1) finds
    a single hinge between standing, at its tempo, without a mounting."""
    rec, truth = simulate(
        [
            Segment("standing", 6.0),
            Segment("rdl", reps=1, tempo=(3.0, 3.0), variant="double"),
            Segment("standing", 8.0),
        ],
        seed=8,
        mounting=Mounting(leg="right", site="lateral", roll_deg=40.0),
    )
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    f = epoch_features(p)
    reps = rdl_mod.guided_reps(p, f, UNKNOWN)
    assert len(reps) == 1
    (e,) = true_reps(truth)
    assert abs(reps[0].eccentric_s - e["eccentric_s"]) <= TEMPO_TOL_S
    assert abs(reps[0].concentric_s - e["concentric_s"]) <= TEMPO_TOL_S


def test_free_running_still_ignores_a_lone_bend_down() -> None:
    """Free-running with a known mounting (walking first): one hinge alone is not a set."""
    rec, _ = simulate(
        [
            Segment("walking", 40.0),
            Segment("standing", 6.0),
            Segment("rdl", reps=1, tempo=(3.0, 3.0), variant="double"),
            Segment("standing", 10.0),
        ],
        seed=12,
    )
    a = analyze(rec)
    assert a.mounting.known
    assert not a.events_of("rdl_rep")


def test_a_guided_set_of_one_rdl_is_stored_like_it_was_counted_live() -> None:
    """Offline guided analysis (what a saved live session or `import --exercise rdl` stores)
    keeps a one-rep set, as live counting showed it; free-running would drop it."""
    segments = [
        Segment("standing", 6.0),
        Segment("rdl", reps=1, tempo=(3.0, 3.0), variant="double"),
        Segment("standing", 8.0),
    ]
    rec, _ = simulate(segments, seed=8, mounting=Mounting(leg="left", site="anterior"))
    a = analyze(rec, exercise="rdl")
    assert len(a.events_of("rdl_rep")) == 1
    assert [s.reps for s in a.sets] == [1]
    assert a.parameters["rdl"]["guided_min_set_reps"] == 1


def test_free_running_with_known_mounting_is_unchanged_by_the_guided_rules() -> None:
    """The shallow-rep rule is for guided sets only: a known mounting keeps the plain rule."""
    rec = read_recording(
        Path(__file__).parent / "data" / "recordings" / "rdl_52hz_right_lateral.csv"
    )
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    f = epoch_features(p)
    m = analyze(rec).mounting
    assert m.known and m.source != rdl_mod.GUIDED_SOURCE
    plain = rdl_mod.detect_rdl(p.tw, p.gdir, f.std_mag, m)
    assert plain == rdl_mod.detect_rdl(p.tw, p.gdir, f.std_mag, m, guided=False)
    assert all(r.pitch_deg >= rdl_mod.MIN_PITCH_DEG for r in plain)
    assert len(plain) == 6


def _minjerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    out: np.ndarray = u**3 * (10 - 15 * u + 6 * u**2)
    return out


def _hinges(
    plan: list[tuple[float, float, float, float]], rest_s: float, seed: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, float]]]:
    """Work-grid gravity directions (10 Hz) of a thigh that stands, then does each (pitch°,
    down s, bottom hold s, up s) of `plan` with `rest_s` upright between, in a random sensor
    orientation with ~0.3° sway; returns (tw, gdir, [(start, eccentric, concentric)])."""
    rng = np.random.default_rng(seed)
    knots_t, knots_v = [0.0, rest_s], [0.0, 0.0]
    truth = []
    for amp, down, hold, up in plan:
        t0 = knots_t[-1]
        truth.append((t0, down, up))
        knots_t += [
            t0 + down,
            t0 + down + hold,
            t0 + down + hold + up,
            t0 + down + hold + up + rest_s,
        ]
        knots_v += [amp, amp, 0.0, 0.0]
    tw = np.arange(0.0, knots_t[-1], 0.1)
    k = np.clip(np.searchsorted(knots_t, tw, side="right") - 1, 0, len(knots_t) - 2)
    kt, kv = np.asarray(knots_t), np.asarray(knots_v)
    frac = (tw - kt[k]) / np.maximum(kt[k + 1] - kt[k], 1e-9)
    pitch = kv[k] + (kv[k + 1] - kv[k]) * _minjerk(frac)
    pitch = pitch + np.convolve(rng.normal(0, 1.0, tw.size), np.ones(10) / 10, "same")
    th = np.radians(pitch)
    thigh = np.column_stack([np.sin(th), np.zeros_like(th), np.cos(th)])  # (ant, ml, up)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # sensor axes: any rotation
    gdir = thigh @ q.T
    return tw, gdir, truth


def test_guided_shallow_rep_inside_a_set_counts_but_a_step_of_stance_does_not() -> None:
    """Synthetic thigh: a 5° weight shift before the set (not yet in the set), three 18° reps,
    a shallow 7° rep, an 18° rep, then a 6° step to another stance held 8 s."""
    plan = [
        (5.0, 1.0, 1.0, 1.0),  # settling: before the first clear rep
        (18.0, 3.0, 0.3, 3.0),
        (18.0, 3.0, 0.3, 3.0),
        (18.0, 3.0, 0.3, 3.0),
        (7.0, 3.0, 0.3, 3.0),  # shallow rep mid-set
        (18.0, 3.0, 0.3, 3.0),
        (6.0, 1.0, 8.0, 1.0),  # a step of stance after the set: held, not turned
    ]
    tw, gdir, truth = _hinges(plan, rest_s=4.0, seed=4)
    std_mag = np.full(tw.size, 0.01)
    m = rdl_mod.guided_mounting(gdir, std_mag)
    reps = rdl_mod.detect_rdl(tw, gdir, std_mag, m)
    assert len(reps) == 5
    for r, (t0, down, up) in zip(reps, truth[1:6], strict=True):
        assert abs(r.start_s - t0) <= TEMPO_TOL_S
        if r.pitch_deg < rdl_mod.MIN_PITCH_DEG:
            continue  # ~0.3° of sway on a 7° rep moves its 20/80 % crossings more
        assert abs(r.eccentric_s - down) <= TEMPO_TOL_S
        assert abs(r.concentric_s - up) <= TEMPO_TOL_S
    # free-running, the shallow rep is between clear reps of a full set: it counts too
    plain = rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False)
    assert [round(r.start_s) for r in plain] == [round(r.start_s) for r in reps]


def test_free_running_shallow_rep_needs_a_full_set_around_it() -> None:
    """Free-running, a shallow hinge counts only between clear reps of a set of at least three
    clear reps: not after the last one (guided it would), and not between two clear hinges
    that are no set (two bends to pick something up)."""
    tail = [(18.0, 3.0, 0.3, 3.0)] * 3 + [(7.0, 3.0, 0.3, 3.0)]
    tw, gdir, _ = _hinges(tail, rest_s=4.0, seed=5)
    std_mag = np.full(tw.size, 0.01)
    m = rdl_mod.guided_mounting(gdir, std_mag)
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=True)) == 4
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False)) == 3
    pair = [(18.0, 3.0, 0.3, 3.0), (7.0, 3.0, 0.3, 3.0), (18.0, 3.0, 0.3, 3.0)]
    tw, gdir, _ = _hinges(pair, rest_s=4.0, seed=6)
    std_mag = np.full(tw.size, 0.01)
    m = rdl_mod.guided_mounting(gdir, std_mag)
    assert rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False) == []  # and the two neither
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=True)) == 3


def test_free_running_hinges_tens_of_seconds_apart_are_no_set() -> None:
    """Three stoops to pick things up, 20 s apart, are no RDL set: a set's reps follow each
    other. The same hinges 4 s apart are one; one long pause inside a set does not drop it."""
    hinge = (18.0, 1.2, 0.8, 1.2)
    tw, gdir, _ = _hinges([hinge] * 3, rest_s=20.0, seed=7)
    std_mag = np.full(tw.size, 0.01)
    m = rdl_mod.guided_mounting(gdir, std_mag)
    assert rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False) == []
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=True)) == 3
    tw, gdir, _ = _hinges([hinge] * 3, rest_s=4.0, seed=7)
    std_mag = np.full(tw.size, 0.01)
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False)) == 3
    # a set of five with a 20 s pause after the third rep (a zero-pitch "rep" is the pause)
    tw, gdir, _ = _hinges([hinge] * 3 + [(0.0, 0.1, 12.0, 0.1)] + [hinge] * 2, 4.0, seed=8)
    std_mag = np.full(tw.size, 0.01)
    m = rdl_mod.guided_mounting(gdir, std_mag)
    assert len(rdl_mod.detect_rdl(tw, gdir, std_mag, m, guided=False)) == 5
