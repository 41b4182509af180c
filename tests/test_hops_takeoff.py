"""The take-off impulse rule: a flight from rest needs an upward push; a drop from a box has
none (its landing still starts the rebound's contact). Synthetic vertical |acc| traces built
from the phases of each movement, at 100 Hz."""

from __future__ import annotations

import numpy as np
import pytest

from loadmon.analysis import hops as hops_mod
from loadmon.analysis.orientation import UNKNOWN

FS = 100.0
G = hops_mod.G


def trace(
    phases: list[tuple[float, float]],
    noise: float = 0.005,
    clip: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(t, acc) of a sensor whose specific force is vertical, phase by phase (seconds, g)."""
    mag = np.concatenate([np.full(round(d * FS), g) for d, g in phases])
    mag = mag + np.random.default_rng(seed).normal(0, noise, mag.size)
    acc = np.column_stack([0.05 * mag, 0.1 * mag, mag])
    if clip is not None:
        np.clip(acc, -clip, clip, out=acc)
    return np.arange(mag.size) / FS, acc


def landing(contact_g: float) -> list[tuple[float, float]]:
    """An impact: a sharp spike then the support phase."""
    return [(0.03, 3.5), (0.04, 2.5)] + [(0.1, contact_g)]


#: Stepping off a box: a 0.1 s wobble of the swinging leg above PUSH_G and back (no net
#: vertical velocity), then free fall from rest.
STEP_OFF = [(0.15, 1.0), (0.1, 1.6), (0.1, 0.45), (0.2, 1.0)]


def drop_jump(clip: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    drop_s, rebound_s = 0.27, 0.4
    phases = [
        (2.0, 1.0),
        *STEP_OFF,
        (drop_s, 0.0),
        *landing(2.0),
        # the rebound push: the contact reverses the drop's 1.3 m/s and adds 2 m/s
        (0.15, 2.0),
        (rebound_s, 0.0),
        *landing(1.5),
        (2.0, 1.0),
    ]
    return trace(phases, clip=clip)


def test_a_drop_from_a_box_is_not_a_hop_but_its_landing_starts_the_contact() -> None:
    t, acc = drop_jump()
    found = hops_mod.detect_hops_segment(t, acc, None, FS, UNKNOWN)
    assert len(found) == 1
    hop = found[0]
    assert hop.flight_s == pytest.approx(0.4, abs=0.03)
    # contact: from the drop's landing to the rebound's take-off (0.07 + 0.1 + 0.15 s)
    assert hop.contact_s == pytest.approx(0.32, abs=0.04)


def test_without_the_rule_the_step_off_would_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trace is a real test of the rule: every other check passes the drop."""
    monkeypatch.setattr(hops_mod, "TAKEOFF_IMPULSE_FRAC", -1e9)
    t, acc = drop_jump()
    assert len(hops_mod.detect_hops_segment(t, acc, None, FS, UNKNOWN)) == 2


def test_a_jump_from_rest_has_its_push() -> None:
    # countermovement (0.3 s at 0.6 g), push 0.35 s at 2.2 g: about 3 m/s upwards
    t, acc = trace([(2.0, 1.0), (0.3, 0.6), (0.35, 2.2), (0.45, 0.0), *landing(1.5), (2.0, 1.0)])
    found = hops_mod.detect_hops_segment(t, acc, None, FS, UNKNOWN)
    assert len(found) == 1 and found[0].flight_s == pytest.approx(0.45, abs=0.03)


def test_a_clipping_sensor_keeps_its_drops_as_hops() -> None:
    """A ±2 g phone under-reads every push, so the impulse is not judged where it clipped."""
    t, acc = drop_jump(clip=1.55)  # the step-off wobble (1.6 g) and the landings clip
    assert len(hops_mod.detect_hops_segment(t, acc, None, FS, UNKNOWN)) == 2


def test_the_sensors_own_one_g_is_the_reference() -> None:
    """A 6 % scale error would integrate to 0.9 m/s over the window: it is taken out."""
    t, acc = drop_jump()
    assert len(hops_mod.detect_hops_segment(t, acc * 1.06, None, FS, UNKNOWN)) == 1


def test_low_rate_flights_are_not_read_short() -> None:
    """A 0.30 s flight sampled at 25 Hz through an anti-alias filter: the push force falls to
    zero over the last 80 ms before take-off, the landing is an impact. A fixed 0.35 g level
    cuts ~30 ms off the flight; edges taken between the flight and the contact beside them do
    not."""
    from scipy.signal import resample_poly

    fine = 200.0

    def ramp(d: float, g0: float, g1: float) -> np.ndarray:
        return np.linspace(g0, g1, round(d * fine), endpoint=False)

    mag = np.concatenate(
        [
            ramp(2.0, 1.0, 1.0),
            ramp(0.3, 0.6, 0.6),
            ramp(0.22, 2.2, 2.2),
            ramp(0.08, 2.2, 0.0),
            ramp(0.3, 0.0, 0.0),
            ramp(0.03, 3.5, 3.5),
            ramp(0.04, 2.5, 2.5),
            ramp(0.2, 1.5, 1.5),
            ramp(2.0, 1.0, 1.0),
        ]
    )
    acc = np.column_stack([0.05 * mag, 0.1 * mag, mag])
    errors = []
    for offset in range(8):  # where the 25 Hz samples fall relative to the edges
        low = resample_poly(acc[offset:], 1, 8, axis=0, padtype="edge")
        t = np.arange(low.shape[0]) / 25.0
        found = hops_mod.detect_hops_segment(t, low, None, 25.0, UNKNOWN)
        assert len(found) == 1
        errors.append(found[0].flight_s - 0.3)
    assert abs(float(np.median(errors))) < 0.015
