"""Physical invariants of the thigh-IMU simulator (tests/simulator): detector tests rely on it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loadmon.recording import Recording, read_recording
from tests.simulator import (
    ACTIVITIES,
    SCENARIOS,
    Mounting,
    Segment,
    SensorSpec,
    make_scenario,
    simulate,
)
from tests.simulator.__main__ import main as cli_main
from tests.simulator.kinematics import rotvec_to_matrix

IDEAL = SensorSpec.ideal()

MOUNTINGS = [
    Mounting(),
    Mounting(leg="right", site="lateral", roll_deg=73.0),
    Mounting(leg="left", site="lateral", roll_deg=-150.0, around_deg=15.0, tilt_deg=(5.0, -3.0)),
    Mounting(leg="right", site="anterior", random_axes=True, distance_m=0.25),
]


def _span(rec: Recording, truth: dict[str, Any], activity: str, k: int = 0) -> slice:
    """Samples of the k-th piece of `activity`, trimmed by 0.5 s at each end."""
    pieces = [p for p in truth["segments"] if p["activity"] == activity]
    p = pieces[k]
    i0, i1 = np.searchsorted(rec.t, [p["start_s"] + 0.5, p["end_s"] - 0.5])
    return slice(int(i0), int(i1))


def _thigh_axis_in_sensor(truth: dict[str, Any]) -> np.ndarray:
    """The thigh's long axis (toward the hip) in sensor coordinates."""
    r_mount = np.asarray(truth["mounting"]["sensor_axes_in_thigh"])
    return np.asarray(r_mount.T @ np.array([0.0, 0.0, 1.0]))


@pytest.mark.parametrize("mounting", MOUNTINGS)
def test_at_rest_specific_force_is_one_g_upward(mounting: Mounting) -> None:
    segs = [
        Segment("standing", 8.0),
        Segment("sitting", 8.0),
        Segment("lying", 8.0),
        Segment("nonwear", 8.0),
    ]
    rec, truth = simulate(segs, seed=4, spec=IDEAL, mounting=mounting)
    for activity in ("standing", "sitting", "lying", "nonwear"):
        norm = np.linalg.norm(rec.acc[_span(rec, truth, activity)], axis=1)
        assert np.all(np.abs(norm - 1.0) < 0.02), activity
    # Off the body nothing moves at all.
    still = _span(rec, truth, "nonwear")
    assert np.abs(rec.gyro[still]).max() < 1e-6
    assert np.ptp(rec.acc[still], axis=0).max() < 1e-9


def test_sensor_flat_z_up_reads_plus_one_g_on_z() -> None:
    # A sensor whose z axis points up reads az = +1 (specific force opposes gravity): standing,
    # anterior sensor tipped 90° about its y axis so its z axis is the thigh's long axis.
    mount = Mounting(site="anterior", tilt_deg=(0.0, 90.0))
    rec, truth = simulate([Segment("standing", 5.0)], seed=1, spec=IDEAL, mounting=mount)
    axis = _thigh_axis_in_sensor(truth)
    assert axis[2] > 0.99
    assert np.median(rec.acc[:, 2]) > 0.97


@pytest.mark.parametrize("mounting", MOUNTINGS)
def test_standing_thigh_long_axis_is_along_measured_gravity(mounting: Mounting) -> None:
    rec, truth = simulate([Segment("standing", 10.0)], seed=2, spec=IDEAL, mounting=mounting)
    f = rec.acc.mean(axis=0)
    cos = f @ _thigh_axis_in_sensor(truth) / np.linalg.norm(f)
    assert cos > np.cos(np.deg2rad(12.0))  # a standing thigh is within a few degrees of vertical


def test_sitting_and_lying_thigh_is_horizontal() -> None:
    segs = [Segment("sitting", 10.0), Segment("lying", 10.0, variant="supine")]
    rec, truth = simulate(segs, seed=3, spec=IDEAL, mounting=MOUNTINGS[2])
    axis = _thigh_axis_in_sensor(truth)
    for activity in ("sitting", "lying"):
        f = rec.acc[_span(rec, truth, activity)].mean(axis=0)
        incl = np.degrees(np.arcsin(abs(f @ axis) / np.linalg.norm(f)))
        assert incl < 30.0, activity


def test_flight_is_free_fall_and_landings_hit_hard() -> None:
    spec = replace(IDEAL, rate_hz=208.0)
    for kind in ("cmj", "pogo", "forward_hop"):
        rec, truth = simulate([Segment(kind, reps=5)], seed=5, spec=spec)
        hops = [e for e in truth["events"] if e["type"] == "hop"]
        assert len(hops) == 5
        norm = np.linalg.norm(rec.acc, axis=1)
        for h in hops:
            assert h["flight_s"] == pytest.approx(h["end_s"] - h["start_s"], abs=1e-3)
            mid = (rec.t > h["start_s"] + 0.04) & (rec.t < h["end_s"] - 0.04)
            assert norm[mid].max() < 0.15, kind
            after = (rec.t >= h["end_s"]) & (rec.t < h["end_s"] + 0.15)
            assert norm[after].max() > 2.0, kind
        # Over the whole set the ground must carry the body weight on average.
        assert np.mean(rec.acc @ (rec.acc.mean(axis=0) / np.linalg.norm(rec.acc.mean(axis=0)))) == (
            pytest.approx(1.0, abs=0.1)
        )


def test_running_has_flight_phases() -> None:
    # Near the hip the sensor shows the body's free fall; further down the swinging thigh adds
    # centripetal and tangential acceleration (ω²r is ~0.5 g at 20 cm), as on a real thigh.
    spec = replace(IDEAL, rate_hz=104.0)
    near = Mounting(distance_m=0.01)
    rec, truth = simulate([Segment("running", 20.0)], seed=6, spec=spec, mounting=near)
    norm = np.linalg.norm(rec.acc[_span(rec, truth, "running")], axis=1)
    assert np.mean(norm < 0.3) > 0.1
    assert norm.max() > 2.0
    rec, truth = simulate([Segment("running", 20.0)], seed=6, spec=spec)
    norm = np.linalg.norm(rec.acc[_span(rec, truth, "running")], axis=1)
    assert np.mean(norm < 0.7) > 0.05


def _integrate_gyro(gyro_dps: np.ndarray, dt: float) -> np.ndarray:
    r = np.eye(3)
    for w in np.deg2rad(gyro_dps):
        r = r @ rotvec_to_matrix(w * dt)
    return r


@pytest.mark.parametrize("mounting", MOUNTINGS[:3])
def test_gyro_integrates_to_the_rotation_between_static_postures(mounting: Mounting) -> None:
    spec = replace(IDEAL, rate_hz=208.0)
    segs = [Segment("standing", 3.0), Segment("sitting", 3.0)]
    rec, truth = simulate(segs, seed=8, spec=spec, mounting=mounting)
    a = _span(rec, truth, "standing").stop - 1
    b = _span(rec, truth, "sitting").start
    r_rel = _integrate_gyro(rec.gyro[a:b], 1.0 / spec.rate_hz)  # sensor frame at a → at b
    predicted = r_rel.T @ rec.acc[a]
    actual = rec.acc[b]
    err = np.degrees(np.arccos(np.clip(predicted @ actual / np.linalg.norm(actual), -1, 1)))
    assert err < 2.0
    turned = np.degrees(np.arccos(rec.acc[a] @ actual / np.linalg.norm(actual)))
    assert 60.0 < turned < 120.0  # standing → sitting tips the thigh ~90°


def test_rotating_the_mounting_changes_axes_not_magnitudes() -> None:
    segs = [Segment("walking", 8.0), Segment("bridge", reps=3)]
    plain = Mounting(leg="right", site="anterior")
    turned = replace(plain, random_axes=True, axes_rotvec_deg=(40.0, -70.0, 120.0))
    r1, _ = simulate(segs, seed=9, spec=IDEAL, mounting=plain)
    r2, _ = simulate(segs, seed=9, spec=IDEAL, mounting=turned)
    assert r2.gyro is not None and r1.gyro is not None
    assert np.abs(r1.acc - r2.acc).max() > 0.3
    np.testing.assert_allclose(
        np.linalg.norm(r1.acc, axis=1), np.linalg.norm(r2.acc, axis=1), atol=1e-9
    )
    np.testing.assert_allclose(
        np.linalg.norm(r1.gyro, axis=1), np.linalg.norm(r2.gyro, axis=1), atol=1e-7
    )
    # And the rotation is exactly the one asked for.
    rot = rotvec_to_matrix(np.deg2rad(np.array([40.0, -70.0, 120.0])))
    np.testing.assert_allclose(r1.acc @ rot, r2.acc, atol=1e-9)


def test_bridge_pitches_the_thigh_from_hook_lying_toward_horizontal() -> None:
    rec, truth = simulate([Segment("bridge", reps=4)], seed=10, spec=IDEAL, mounting=MOUNTINGS[1])
    axis = _thigh_axis_in_sensor(truth)
    # Elevation of the knee above the hip: sin(e) = -f·(thigh axis toward the hip).
    sin_e = -(rec.acc @ axis) / np.linalg.norm(rec.acc, axis=1)
    elev = np.degrees(np.arcsin(np.clip(sin_e, -1, 1)))
    reps = [e for e in truth["events"] if e["type"] == "bridge_rep"]
    assert len(reps) == 4
    for e in reps:
        i0 = np.searchsorted(rec.t, e["start_s"])
        mid = (rec.t > e["start_s"]) & (rec.t < e["end_s"])
        assert 25.0 < elev[i0] < 55.0  # hook-lying: knee well above the hip
        assert elev[mid].min() < elev[i0] - 6.0  # lifting the pelvis lowers the thigh's pitch
        assert elev[mid].min() > -10.0


def test_truth_counts_match_requests() -> None:
    segs = [
        Segment("standing", 5.0),
        Segment("rdl", reps=6, tempo=(3.0, 2.0)),
        Segment("lying", 5.0),
        Segment("bridge", reps=7),
        Segment("bridge_hold", holds=3, hold_s=20.0, opts={"rest_s": 5.0}),
        Segment("standing", 5.0),
        Segment("pogo", reps=12),
        Segment("drop_jump", reps=3),
        Segment("squat", reps=5),
        Segment("knee_rolling", reps=4),
    ]
    rec, truth = simulate(segs, seed=11)
    count: dict[str, int] = {}
    for e in truth["events"]:
        count[e["type"]] = count.get(e["type"], 0) + 1
        assert 0.0 <= e["start_s"] < e["end_s"] <= rec.t[-1] + 1.0
    assert count["rdl_rep"] == 6
    assert count["bridge_rep"] == 7
    assert count["bridge_hold"] == 3
    assert count["hop"] == 15
    assert count["drop"] == 3
    assert count["squat"] == 5
    assert count["knee_rolling"] == 4
    by = {s["exercise"]: [] for s in truth["sets"]}  # type: dict[str, list[int]]
    for s in truth["sets"]:
        by[s["exercise"]].append(s["reps"])
    assert by == {"rdl": [6], "bridge": [7], "bridge_hold": [3], "hops": [12, 3]}
    for e in truth["events"]:
        if e["type"] == "rdl_rep":
            assert e["eccentric_s"] == pytest.approx(3.0, rel=0.3)
            assert e["concentric_s"] == pytest.approx(2.0, rel=0.3)
            total = e["eccentric_s"] + e["pause_s"] + e["concentric_s"]
            assert e["end_s"] - e["start_s"] == pytest.approx(total, abs=0.01)
        if e["type"] == "bridge_hold":
            assert e["hold_s"] == pytest.approx(20.0, rel=0.15)
            assert e["end_s"] - e["start_s"] > e["hold_s"]
    hops = [e for e in truth["events"] if e["type"] == "hop" and e["kind"] == "pogo"]
    assert hops[0]["contact_s"] is None
    assert all(0.1 < h["contact_s"] < 0.45 for h in hops[1:])
    assert all(0.1 < h["flight_s"] < 0.45 for h in hops)


def test_acc_only_has_no_gyro(tmp_path: Path) -> None:
    rec, truth = simulate([Segment("walking", 5.0)], seed=1, spec=SensorSpec(gyro=False))
    assert rec.gyro is None and not rec.has_gyro and not truth["recording"]["has_gyro"]


def test_phone_spec_clips_at_two_g() -> None:
    rec, _ = simulate([Segment("cmj", reps=2)], seed=1, spec=SensorSpec.phone(50.0))
    assert rec.gyro is None
    assert np.abs(rec.acc).max() <= 2.0 + 1e-9
    assert np.isclose(np.abs(rec.acc).max(), 2.0)  # landings exceed the range
    steps = np.unique(np.round(np.abs(np.diff(rec.acc[:, 0])) / 0.001, 6) % 1)
    assert np.allclose(steps, 0.0)  # 1 mg quantisation


def test_gaps_are_jumps_in_t() -> None:
    spec = SensorSpec(gap_rate_per_min=6.0)
    rec, truth = simulate([Segment("sitting", 300.0)], seed=12, spec=spec)
    gaps = rec.gaps()
    assert len(gaps) >= 5
    assert [list(g) for g in gaps] == truth["gaps"]
    for a, b in gaps:
        assert 0.05 - 1e-9 <= b - a - 1 / 52 <= 2.0 + 2 / 52
    sitting = next(e for e in truth["events"] if e["type"] == "sitting")
    assert sitting["gap_s"] == pytest.approx(sum(b - a for a, b in gaps), abs=1e-3)
    assert np.all(np.diff(rec.t) > 0)


@pytest.mark.parametrize("rate", [25.0, 52.0, 104.0, 208.0])
def test_output_rate(rate: float) -> None:
    rec, truth = simulate([Segment("walking", 10.0)], seed=13, spec=SensorSpec(rate_hz=rate))
    assert rec.sample_rate_hz == rate
    np.testing.assert_allclose(np.diff(rec.t), 1 / rate, atol=1e-9)
    assert truth["recording"]["sample_rate_hz"] == rate
    assert rec.duration_s == pytest.approx(10.0, abs=0.1)


def test_jitter_keeps_time_increasing() -> None:
    rec, _ = simulate([Segment("standing", 20.0)], seed=1, spec=SensorSpec(jitter_s=0.002))
    d = np.diff(rec.t)
    assert np.all(d > 0) and d.std() > 1e-4


def test_deterministic_for_a_seed() -> None:
    segs = [Segment("walking", 5.0), Segment("lying", 5.0), Segment("bridge", reps=2)]
    spec = SensorSpec(gap_rate_per_min=3.0, jitter_s=0.001)
    a, ta = simulate(segs, seed=21, spec=spec, mounting=MOUNTINGS[3])
    b, tb = simulate(segs, seed=21, spec=spec, mounting=MOUNTINGS[3])
    c, _ = simulate(segs, seed=22, spec=spec, mounting=MOUNTINGS[3])
    assert np.array_equal(a.t, b.t) and np.array_equal(a.acc, b.acc)
    assert json.dumps(ta) == json.dumps(tb)
    assert a.acc.shape != c.acc.shape or not np.array_equal(a.acc, c.acc)


def test_every_activity_runs_and_is_plausible() -> None:
    spec = replace(IDEAL, acc_range_g=16.0)
    for name in ACTIVITIES:
        seg = Segment(name, 6.0, reps=2)
        rec, truth = simulate([Segment("standing", 2.0), seg], seed=14, spec=spec)
        norm = np.linalg.norm(rec.acc, axis=1)
        assert np.all(np.isfinite(rec.acc)) and np.all(np.isfinite(rec.gyro)), name
        assert norm.max() < 10.0, name
        assert np.abs(rec.gyro).max() < 1500.0, name
        assert np.median(norm) == pytest.approx(1.0, abs=0.1), name
        assert truth["events"], name


def test_scenarios_build_and_one_runs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name, builder in SCENARIOS.items():
        segs = builder(rng)
        assert segs and all(s.activity in ACTIVITIES for s in segs), name
    _, truth = make_scenario("bridge_session", seed=7)
    sets = [s for s in truth["sets"] if s["exercise"] == "bridge"]
    assert 2 <= len(sets) <= 3 and all(6 <= s["reps"] <= 12 for s in sets)
    reps = [e for e in truth["events"] if e["type"] == "bridge_rep"]
    assert len(reps) == sum(s["reps"] for s in sets)


def test_cli_writes_loadmon_csv_and_labels(tmp_path: Path) -> None:
    out = tmp_path / "hops.csv"
    argv = ["--scenario", "lookalikes_floor", "--seed", "3", "--rate", "26", "--acc-only"]
    assert cli_main([*argv, "--leg", "right", "--site", "lateral", "--out", str(out)]) == 0
    rec = read_recording(out)
    assert not rec.has_gyro and rec.sample_rate_hz == 26.0
    labels = json.loads((tmp_path / "hops.labels.json").read_text())
    assert labels["mounting"]["leg"] == "right" and labels["mounting"]["site"] == "lateral"
    assert labels["scenario"] == "lookalikes_floor"
    assert {e["type"] for e in labels["events"]} >= {"pelvic_tilt", "knee_rolling", "lying"}


@pytest.mark.parametrize("activity", ["bridge", "rdl", "cmj", "knee_rolling", "sitting"])
def test_left_and_right_legs_are_mirror_images(activity: str) -> None:
    # Mirroring the body in its sagittal plane flips the anterior sensor's y axis: a_y and the
    # pseudovector components ω_x, ω_z change sign (same seed → same movement).
    segs = [Segment(activity, 10.0, reps=3)]
    left, _ = simulate(segs, seed=5, spec=IDEAL, mounting=Mounting(leg="left"))
    right, _ = simulate(segs, seed=5, spec=IDEAL, mounting=Mounting(leg="right"))
    assert left.gyro is not None and right.gyro is not None
    np.testing.assert_allclose(left.acc, right.acc * [1, -1, 1], atol=0.01)
    np.testing.assert_allclose(left.gyro, right.gyro * [-1, 1, -1], atol=1e-6)


def test_bad_segments_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown activity 'jogging'"):
        simulate([Segment("jogging", 5.0)])
    with pytest.raises(ValueError, match="reps must be at least 1"):
        simulate([Segment("bridge", reps=0)])
    with pytest.raises(ValueError, match="bridge variant"):
        simulate([Segment("bridge", reps=2, variant="triple")])
