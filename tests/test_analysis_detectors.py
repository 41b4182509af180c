"""Detector tests on the recorded fixtures (tests/data): rotations, acc-only, gaps, look-alikes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loadmon.analysis.orientation import (
    Mounting,
    epoch_features,
    estimate_mounting,
    forward_tilt,
)
from loadmon.analysis.pipeline import Analysis, analyze
from loadmon.analysis.prepare import prepare, split_segments, unit
from loadmon.recording import Recording, read_recording

DATA = Path(__file__).parent / "data"


def load(name: str) -> tuple[Recording, dict[str, Any]]:
    rec = read_recording(DATA / "recordings" / f"{name}.csv")
    truth = json.loads((DATA / "expected" / f"{name}.json").read_text())
    return rec, truth


_cache: dict[tuple[str, str | None], tuple[Recording, dict[str, Any], Analysis]] = {}


def analysed(name: str, exercise: str | None = None) -> tuple[Recording, dict[str, Any], Analysis]:
    key = (name, exercise)
    if key not in _cache:
        rec, truth = load(name)
        _cache[key] = (rec, truth, analyze(rec, exercise=exercise))
    return _cache[key]


def truth_events(truth: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in truth["events"] if e["type"] == kind]


def matched(det: list[Any], true: list[dict[str, Any]], tol: float) -> int:
    n = 0
    for e in true:
        if any(abs(d.start_s - e["start_s"]) <= tol and abs(d.end_s - e["end_s"]) <= tol
               for d in det):
            n += 1
    return n


@pytest.mark.parametrize(
    "name", ["bridges_52hz_left_anterior", "bridges_50hz_acconly_right_lateral_rolled"]
)
def test_bridge_reps_counted_exactly_any_mounting(name: str) -> None:
    _rec, truth, a = analysed(name)
    assert [(s.exercise, s.reps) for s in a.sets] == [
        (s["exercise"], s["reps"]) for s in truth["sets"]
    ]
    reps = a.events_of("bridge_rep")
    assert matched(reps, truth_events(truth, "bridge_rep"), tol=0.6) >= len(reps) - 1


def test_acc_only_is_recorded_as_degraded() -> None:
    _, _, a = analysed("bridges_50hz_acconly_right_lateral_rolled")
    assert a.mounting.known
    assert any(s.stage == "orientation.gyro" for s in a.skipped)


def test_mounting_found_from_walking_matches_the_true_long_axis() -> None:
    # The lateral, rolled mounting: the long axis is still found within 15°.
    rec, _truth, _ = analysed("bridges_50hz_acconly_right_lateral_rolled")
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    m = estimate_mounting(p, epoch_features(p))
    from tests.simulator import Mounting as SimMounting

    r, _ = SimMounting(leg="right", site="lateral", roll_deg=137.0, around_deg=12.0).frames()
    assert np.degrees(np.arccos(np.clip(m.u @ r[2], -1, 1))) < 15


def test_holds_with_gaps_measure_hold_duration() -> None:
    rec, truth, a = analysed("holds_52hz_gaps")
    assert rec.gaps()  # the fixture really has packet loss
    holds = a.events_of("bridge_hold")
    true = truth_events(truth, "bridge_hold")
    assert len(holds) == len(true) == 2
    for d, t in zip(holds, true, strict=True):
        assert abs(d.fields["hold_s"] - t["hold_s"]) < 1.0
    assert not a.events_of("bridge_rep")


def test_hops_acc_only_random_axes_flight_times() -> None:
    _, truth, a = analysed("hops_25hz_acconly_random_axes")
    hops = a.events_of("hop")
    true = truth_events(truth, "hop")
    assert len(hops) == len(true)
    errs = [abs(d.fields["flight_s"] - t["flight_s"]) for d, t in zip(hops, true, strict=True)]
    assert float(np.median(errs)) < 0.03
    for h in hops:
        f = h.fields
        assert f["height_m"] == pytest.approx(9.80665 * f["flight_s"] ** 2 / 8, abs=1e-3)
        assert h.start_s < h.end_s


def test_single_leg_hops_on_the_other_leg_count_with_the_sensor_thigh_held_up() -> None:
    """Hopping on the other leg, the sensor thigh is held up 35–70°: still on the feet."""
    _, truth, a = analysed("hops_other_leg_52hz")
    true = truth_events(truth, "hop")
    assert {e["leg"] for e in true} == {"other"}
    assert [(s.exercise, s.reps) for s in a.sets] == [("hops", len(true))]
    assert matched(a.events_of("hop"), true, tol=0.05) == len(true)


def test_rdl_tempo() -> None:
    _, truth, a = analysed("rdl_52hz_right_lateral")
    reps = a.events_of("rdl_rep")
    true = truth_events(truth, "rdl_rep")
    assert len(reps) == len(true)
    ecc = np.median([r.fields["eccentric_s"] for r in reps])
    assert abs(ecc - np.median([t["eccentric_s"] for t in true])) < 0.8


def test_acc_only_anterior_axis_comes_from_the_forward_tilts() -> None:
    """25 Hz, no gyro, 20 s of walking: the swing's leading direction is the mediolateral
    axis here, so the anterior axis (and its sign) must come from the hinges' forward tilt."""
    _rec, truth, a = analysed("rdl_25hz_acconly_random_axes")
    from tests.simulator import Mounting as SimMounting

    r, _ = SimMounting(leg="left", site="lateral", roll_deg=-60.0, random_axes=True,
                       axes_rotvec_deg=(-35.0, 80.0, 20.0)).frames()
    m = a.mounting
    assert m.a is not None and m.anterior_sign_known
    assert np.degrees(np.arccos(np.clip(m.a @ r[0], -1, 1))) < 20
    assert [(s.exercise, s.reps) for s in a.sets] == [
        (s["exercise"], s["reps"]) for s in truth["sets"]
    ]


def test_too_few_forward_tilts_leave_the_anterior_axis_to_the_walking_swing() -> None:
    """Under TILT_MIN_S of forward tilt there is nothing to take the axis from."""
    u = np.array([0.0, 0.0, 1.0])
    tilted = unit(np.array([[0.5, 0.0, 1.0]] * 20 + [[0.0, 0.0, 1.0]] * 500))
    worn = np.ones(tilted.shape[0], dtype=bool)
    assert forward_tilt(tilted, u, worn) is None
    more = unit(np.array([[0.5, 0.05, 1.0]] * 40 + [[0.0, 0.0, 1.0]] * 500))
    a = forward_tilt(more, u, np.ones(more.shape[0], dtype=bool))
    assert a is not None and a @ np.array([1.0, 0.0, 0.0]) > 0.99
    # tilts every which way (no consistent forward direction) are not trusted
    ring = unit(np.array([[0.4 * np.cos(q), 0.4 * np.sin(q), 1.0]
                               for q in np.linspace(0, 2 * np.pi, 60, endpoint=False)]))
    assert forward_tilt(ring, u, np.ones(60, dtype=bool)) is None
    # ... and the tilts of a sensor off the body do not count
    assert forward_tilt(more, u, np.zeros(more.shape[0], dtype=bool)) is None


def test_floor_lookalikes_are_not_bridges() -> None:
    _, _, a = analysed("floor_lookalikes_52hz")
    assert len(a.events_of("bridge_rep")) + len(a.events_of("bridge_hold")) <= 1
    assert not a.events_of("hop")


def test_sitting_time_acc_only() -> None:
    _, truth, a = analysed("sitting_25hz_acconly")
    sit_true = sum(e["end_s"] - e["start_s"] for e in truth_events(truth, "sitting"))
    sit_det = sum(e.end_s - e.start_s for e in a.events_of("sitting"))
    assert abs(sit_det - sit_true) / sit_true < 0.1
    assert not a.events_of("hop") and not a.sets


def test_guided_bridges_without_upright_period() -> None:
    # Cut the recording to the floor work only: no walking to learn the mounting from.
    rec, truth, _ = analysed("bridges_52hz_left_anterior")
    reps = truth_events(truth, "bridge_rep")
    floor = rec.slice_time(reps[0]["start_s"] - 4.0, reps[-1]["end_s"] + 3.0)
    free = analyze(floor)
    assert not free.mounting.known
    guided = analyze(floor, exercise="bridge")
    assert abs(len(guided.events_of("bridge_rep")) - len(reps)) <= 1


def test_rotating_the_sensor_frame_does_not_change_the_counts(rng: np.random.Generator) -> None:
    rec, _truth, a = analysed("bridges_52hz_left_anterior")
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = Recording(t=rec.t, acc=rec.acc @ q.T, gyro=None if rec.gyro is None else rec.gyro @ q.T,
                    sample_rate_hz=rec.sample_rate_hz)
    b = analyze(rot)
    assert [(s.exercise, s.reps) for s in b.sets] == [(s.exercise, s.reps) for s in a.sets]


def test_gap_segmentation_never_bridges_long_gaps() -> None:
    t = np.concatenate([np.arange(0, 10, 0.02), np.arange(12, 20, 0.02)])
    segs = split_segments(t)
    assert segs.tolist() == [[0, 500], [500, 900]]
    acc = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    p = prepare(t, acc, None, 50.0)
    assert p.gaps == [(pytest.approx(9.98), 12.0)]
    assert not np.any((p.tw > 10.0) & (p.tw < 12.0))


def test_mounting_roundtrip() -> None:
    m = Mounting((0.0, 0.6, 0.8), (1.0, 0.0, 0.0), True, 0.9, "walking")
    assert Mounting.from_dict(m.to_dict()) == m


def test_blockwise_lowpass_equals_one_sosfiltfilt(rng: np.random.Generator) -> None:
    # memory: the gravity filter runs a block at a time with context; the blocks must join
    # without a seam (same result as filtering the whole stream at once)
    from scipy.signal import butter, sosfiltfilt

    from loadmon.analysis import prepare as prepare_mod

    sos = butter(2, 2.0, fs=10.0, output="sos")
    for n in (11, 1000, prepare_mod.LOWPASS_BLOCK + 17, 2 * prepare_mod.LOWPASS_BLOCK + 100):
        x = rng.normal(size=(n, 3)).cumsum(axis=0).astype(np.float32)
        want = sosfiltfilt(sos, x.astype(np.float64), axis=0)
        assert np.abs(prepare_mod.lowpass(x, 10.0, 2.0) - want).max() < 1e-9


def test_hops_found_in_windows_equal_the_whole_segment() -> None:
    # bounded memory: the detector runs on windows around clusters of candidate flights, with
    # the same result as over each whole gap-free segment
    from loadmon.analysis import hops as hops_mod

    rec, _truth, a = analysed("hops_25hz_acconly_random_axes")
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    whole = []
    for s0, s1 in p.segments:
        whole += hops_mod.detect_hops_segment(
            rec.t[s0:s1], rec.acc[s0:s1], None if rec.gyro is None else rec.gyro[s0:s1],
            rec.sample_rate_hz, a.mounting,
        )
    windowed = hops_mod.detect_hops(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz, p.segments,
                                    a.mounting)
    assert whole and windowed == whole


def test_chunked_preparation_does_not_depend_on_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    # the native samples are binned a chunk at a time: chunk edges (and the packet-loss gaps of
    # this fixture) must not change the work-rate streams
    from loadmon.analysis import prepare as prepare_mod

    rec, _truth, _a = analysed("holds_52hz_gaps")
    ref = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    monkeypatch.setattr(prepare_mod, "CHUNK_SAMPLES", 777)
    monkeypatch.setattr(prepare_mod, "LOWPASS_BLOCK", 300)
    small = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    assert np.array_equal(ref.segments, small.segments) and np.array_equal(ref.tw, small.tw)
    for k in ("accw", "magw", "mag2w", "gyrow", "gdir"):
        assert np.allclose(getattr(ref, k), getattr(small, k), atol=1e-6), k


def test_a_sensor_left_on_a_table_does_not_pull_the_mounting() -> None:
    """Ten minutes still on a table, tilted 15° from the standing direction, are neither quiet
    standing nor sitting: the long axis stays where walking and standing put it."""
    rec, _ = load("rdl_52hz_right_lateral")
    p = prepare(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz)
    u0 = np.array(estimate_mounting(p).long_axis)
    # a direction 15° from the long axis, noise as from the sensor itself (no body sway)
    side = np.cross(u0, [1.0, 0.0, 0.0] if abs(u0[0]) < 0.9 else [0.0, 1.0, 0.0])
    side /= np.linalg.norm(side)
    table = np.cos(np.radians(15)) * u0 + np.sin(np.radians(15)) * side
    fs = rec.sample_rate_hz
    n = int(600 * fs)
    rng = np.random.default_rng(1)
    t = np.concatenate([rec.t, rec.t[-1] + (1 + np.arange(n)) / fs])
    acc = np.vstack([rec.acc, table + rng.normal(0, 0.002, (n, 3))])
    assert rec.gyro is not None
    gyro = np.vstack([rec.gyro, rng.normal(0, 0.05, (n, 3))])
    p2 = prepare(t, acc, gyro, fs)
    u = np.array(estimate_mounting(p2).long_axis)
    assert np.degrees(np.arccos(np.clip(u @ u0, -1, 1))) < 2.0


def test_a_short_walk_to_the_mat_with_standing_around_it_gives_the_mounting() -> None:
    """7 s of walking alone is too little to trust (under 10 s); quiet standing next to it in
    the same orientation confirms it, so posture and the mounting-based detectors run."""
    from tests.simulator import Mounting as SimMounting
    from tests.simulator import Segment, SensorSpec, simulate

    segs = [Segment("standing", 10.0), Segment("walking", 7.0), Segment("standing", 10.0),
            Segment("lying", 8.0, variant="hook"), Segment("bridge", reps=8),
            Segment("lying", 5.0, variant="hook"), Segment("standing", 5.0)]
    rec, _truth = simulate(segs, seed=600, spec=SensorSpec(rate_hz=52.0),
                          mounting=SimMounting(leg="left", site="lateral", roll_deg=70.0))
    a = analyze(rec)
    assert a.mounting.known
    assert not any(s.stage == "posture" for s in a.skipped)
    r, _ = SimMounting(leg="left", site="lateral", roll_deg=70.0).frames()
    assert np.degrees(np.arccos(np.clip(a.mounting.u @ r[2], -1, 1))) < 10
    assert [(s.exercise, s.reps) for s in a.sets] == [("bridge", 8)]
    # the same walk with no standing around it is not enough
    bare = [Segment("walking", 7.0), Segment("lying", 8.0, variant="hook"),
            Segment("bridge", reps=8), Segment("lying", 5.0, variant="hook")]
    rec2, _ = simulate(bare, seed=600, spec=SensorSpec(rate_hz=52.0),
                       mounting=SimMounting(leg="left", site="lateral", roll_deg=70.0))
    assert not analyze(rec2).mounting.known
