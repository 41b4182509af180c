"""Bridge failure modes on synthetic thigh trajectories (gravity direction in the sensor frame).

Deterministic profiles of thigh inclination (deg from vertical) and rotation about the long
axis, so each physical situation is tested on its own: a hook-lying rest in the 100–120° band
whose slow reps' tops read as sitting, a rep that ends in another posture, a top that dips just
below 80°, and holds without a mounting when the first lying angle differs from the rest
between holds.
"""

from __future__ import annotations

import numpy as np

from loadmon.analysis.bridges import detect_bridges, detect_with_mounting
from loadmon.analysis.orientation import UNKNOWN, Mounting

DT = 0.1
M = Mounting(long_axis=(0.0, 0.0, 1.0), anterior_axis=(1.0, 0.0, 0.0),
             anterior_sign_known=True, confidence=1.0, source="test")


def _profile(knots: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise smooth (raised-cosine) profile through (duration s, value at its end) knots,
    starting at the first value."""
    t = [0.0]
    v = [knots[0][1]]
    for d, x in knots[1:]:
        t.append(t[-1] + d)
        v.append(x)
    tw = np.arange(0.0, t[-1], DT)
    k = np.clip(np.searchsorted(t, tw, side="right") - 1, 0, len(t) - 2)
    t0, t1 = np.asarray(t)[k], np.asarray(t)[k + 1]
    v0, v1 = np.asarray(v)[k], np.asarray(v)[k + 1]
    u = (tw - t0) / np.maximum(t1 - t0, 1e-9)
    return tw, v0 + (v1 - v0) * 0.5 * (1 - np.cos(np.pi * u))


def _gdir(inc: np.ndarray, rot: np.ndarray | None = None) -> np.ndarray:
    th = np.radians(inc)
    ph = np.zeros_like(th) if rot is None else np.radians(rot)
    return np.column_stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)])


def _reps(rest: float, top: float, n: int, up: float = 3.0, hold: float = 4.0,
          down: float = 3.0, gap: float = 1.0) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for _ in range(n):
        out += [(up, top), (hold, top), (down, rest), (gap, rest)]
    return out


def test_reps_from_a_rest_in_the_ambiguous_band_continue_the_lying_bout() -> None:
    # hook-lying at 130°, then the feet slide out: rest 112°, slow reps with long tops at 85°
    knots = [(0.0, 130.0), (30.0, 130.0), (2.0, 112.0), (3.0, 112.0)]
    knots += _reps(112.0, 85.0, 8) + [(5.0, 112.0)]
    tw, inc = _profile(knots)
    lying = inc > 120.0  # posture: lying only while the knee is clearly up
    lying[: int(30 / DT)] = True
    std = np.full(tw.size, 0.02)
    res = detect_with_mounting(tw, _gdir(inc), std, M, lying=lying)
    assert len(res.reps) == 8


def test_the_same_movement_on_a_chair_is_not_a_bridge() -> None:
    # legs crossed on a chair (112°) after sitting at 90° for a minute: no lying anywhere
    knots = [(0.0, 90.0), (60.0, 90.0), (2.0, 112.0), (3.0, 112.0)]
    knots += _reps(112.0, 85.0, 8) + [(5.0, 112.0)]
    tw, inc = _profile(knots)
    lying = np.zeros(tw.size, dtype=bool)
    res = detect_with_mounting(tw, _gdir(inc), np.full(tw.size, 0.02), M, lying=lying)
    assert not res.reps and not res.holds


def test_a_top_just_below_80_degrees_still_counts() -> None:
    # long-axis error: a full bridge top reads 78°, under the old 80° floor limit
    knots = [(0.0, 125.0), (20.0, 125.0)] + _reps(125.0, 78.0, 6, hold=1.0) + [(5.0, 125.0)]
    tw, inc = _profile(knots)
    res = detect_with_mounting(tw, _gdir(inc), np.full(tw.size, 0.02), M,
                               lying=np.ones(tw.size, dtype=bool))
    assert len(res.reps) == 6


def test_an_excursion_that_ends_in_another_posture_is_not_a_rep() -> None:
    # from hook-lying the thigh drops 30° and comes back up rolled 90° onto its side
    _, inc = _profile([(0.0, 130.0), (20.0, 130.0), (3.0, 100.0), (2.0, 100.0), (3.0, 130.0),
                       (20.0, 130.0)])
    tw, rot = _profile([(0.0, 0.0), (20.0, 0.0), (3.0, 0.0), (2.0, 0.0), (3.0, 90.0),
                        (20.0, 90.0)])
    res = detect_with_mounting(tw, _gdir(inc, rot), np.full(tw.size, 0.02), M,
                               lying=np.ones(tw.size, dtype=bool))
    assert not res.reps and not res.holds


def test_holds_without_mounting_when_first_lying_angle_differs() -> None:
    # stand, lie down at 148°, settle at 130°, then 5 holds at 95° (35 s, 12 s rests), stand
    # up: the holds are most of the time, so the first lying angle lies far on the other side
    # of the median (a posture step, not an excursion: no knee rolling here)
    knots = [(0.0, 5.0), (10.0, 5.0), (3.0, 148.0), (20.0, 148.0), (2.0, 130.0), (3.0, 130.0)]
    for _ in range(5):
        knots += [(1.5, 95.0), (35.0, 95.0), (1.5, 130.0), (12.0, 130.0)]
    knots += [(8.0, 130.0), (3.0, 5.0), (10.0, 5.0)]
    tw, inc = _profile(knots)
    std = np.full(tw.size, 0.02)
    res = detect_bridges(tw, _gdir(inc), std, UNKNOWN)
    assert len(res.holds) == 5
    assert all(abs(h.hold_s - 35.0) < 2.0 for h in res.holds)


def _raised_set(knots: list[tuple[float, float]], rest: float, top: float, n: int) -> None:
    for _ in range(n):
        knots += [(1.2, top), (0.8, top), (1.2, rest), (1.5, rest)]


def test_raised_leg_reps_through_vertical() -> None:
    # single-leg bridges on the other leg, the instrumented thigh held up 6° short of
    # vertical; each lift tilts it 14° over, through vertical (the inclination folds over:
    # 174° → 180° → 172°, a dip and a rise), then back
    knots = [(0.0, 130.0), (20.0, 130.0), (2.0, 174.0), (5.0, 174.0)]
    _raised_set(knots, 174.0, 188.0, 8)
    knots += [(4.0, 174.0), (2.0, 130.0), (20.0, 130.0)]
    tw, pitch = _profile(knots)
    res = detect_with_mounting(tw, _gdir(pitch), np.full(tw.size, 0.02), M,
                               lying=np.ones(tw.size, dtype=bool))
    assert len(res.reps) == 8 and not res.holds


def test_raised_leg_reps_tilting_sideways() -> None:
    # the unsupported side of the pelvis drops as it lifts: the raised thigh (rest 172°)
    # tilts 12° in the frontal plane, which the sagittal check would reject as knee rolling
    _, inc = _profile([(0.0, 130.0), (20.0, 130.0), (2.0, 172.0), (5.0, 172.0)]
                      + [k for _ in range(7) for k in [(1.2, 164.0), (0.8, 164.0),
                                                       (1.2, 172.0), (1.5, 172.0)]]
                      + [(4.0, 172.0), (2.0, 130.0), (20.0, 130.0)])
    tw, rot = _profile([(0.0, 0.0), (27.0, 0.0)]
                       + [k for _ in range(7) for k in [(1.2, 80.0), (0.8, 80.0),
                                                        (1.2, 0.0), (1.5, 0.0)]]
                       + [(4.0, 0.0), (22.0, 0.0)])
    res = detect_with_mounting(tw, _gdir(inc, rot), np.full(tw.size, 0.02), M,
                               lying=np.ones(tw.size, dtype=bool))
    assert len(res.reps) == 7 and not res.holds


def test_hook_lying_set_between_two_raised_leg_sets_is_not_a_hold() -> None:
    # raised-leg set, leg lowered to hook-lying (124°) for a set of shallow slow reps with
    # long tops (to 114°), leg raised again: the hook-lying stretch between the raised sets is
    # not one long excursion (a "hold") with the shallow set hidden on its top
    knots = [(0.0, 130.0), (20.0, 130.0), (2.0, 172.0), (5.0, 172.0)]
    _raised_set(knots, 172.0, 160.0, 6)
    knots += [(3.0, 172.0), (2.0, 124.0), (20.0, 124.0)]
    knots += _reps(124.0, 114.0, 8, up=2.0, hold=4.0, down=2.0, gap=3.0)
    knots += [(15.0, 124.0), (2.0, 172.0), (5.0, 172.0)]
    _raised_set(knots, 172.0, 160.0, 6)
    knots += [(3.0, 172.0), (2.0, 130.0), (20.0, 130.0)]
    tw, inc = _profile(knots)
    res = detect_with_mounting(tw, _gdir(inc), np.full(tw.size, 0.02), M,
                               lying=np.ones(tw.size, dtype=bool))
    assert not res.holds
    assert len(res.reps) == 6 + 8 + 6


def test_without_mounting_reps_are_one_sided_and_knee_rolling_is_not() -> None:
    # Without a mounting, knee rolling is rejected because it goes to both sides of the rest.
    # The rest between two reps is as deep a dip as the reps are high, but it goes no further
    # than the rest: a set of fast reps is not "two-sided".
    knots = [(0.0, 5.0), (10.0, 5.0), (3.0, 130.0), (20.0, 130.0)]
    knots += _reps(130.0, 100.0, 8, up=1.0, hold=0.5, down=1.0, gap=1.0) + [(20.0, 130.0)]
    knots += [(3.0, 5.0), (10.0, 5.0)]
    tw, inc = _profile(knots)
    res = detect_bridges(tw, _gdir(inc), np.full(tw.size, 0.02), UNKNOWN)
    assert len(res.reps) == 8
    # continuous knee rolling from hook-lying: the thigh swings 40° to one side, then straight
    # to the other, its "rest" on the far side of the time-dominant centre
    roll = [(0.0, 0.0), (33.0, 0.0)]
    for _ in range(8):
        roll += [(1.5, 40.0), (0.5, 40.0), (3.0, -40.0), (0.5, -40.0), (1.5, 0.0)]
    roll += [(20.0, 0.0), (3.0, 0.0), (10.0, 0.0)]
    tw, rot = _profile(roll)
    inc = np.where(tw < 10.0, 5.0, 120.0)
    lying_down = (tw >= 10.0) & (tw < 13.0)
    inc[lying_down] = np.linspace(5.0, 120.0, int(lying_down.sum()))
    inc[tw > tw[-1] - 13.0] = 5.0
    res = detect_bridges(tw, _gdir(inc, rot), np.full(tw.size, 0.02), UNKNOWN)
    assert not res.reps and not res.holds


def test_a_knee_sliding_a_little_for_a_while_is_no_hold_but_a_lift_is() -> None:
    """Hook-lying at 135°: the knee slides 8° down and stays 30 s (a shift of posture), then a
    real hold lifts the hips (thigh to 100°) for 20 s."""
    knots = [(0.0, 135.0), (20.0, 135.0), (2.0, 127.0), (30.0, 127.0), (2.0, 135.0),
             (20.0, 135.0), (3.0, 100.0), (20.0, 100.0), (3.0, 135.0), (20.0, 135.0)]
    tw, inc = _profile(knots)
    res = detect_with_mounting(tw, _gdir(inc), np.full(tw.size, 0.02), M)
    assert len(res.holds) == 1 and not res.reps
    assert 18.0 <= res.holds[0].hold_s <= 24.0
    assert res.holds[0].start_s > 70.0
