"""Provides named, randomised scenarios (sessions and days) built from Segments.

A builder takes an rng and returns the segment list, so every seed gives a different but
plausible session; `make_scenario` simulates it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from loadmon.recording import Recording
from tests.simulator.activities import Segment
from tests.simulator.core import simulate
from tests.simulator.sensor import Mounting, SensorSpec

Builder = Callable[[np.random.Generator], list[Segment]]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _i(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Integer in [lo, hi] inclusive."""
    return int(rng.integers(lo, hi + 1))


def bridge_session(rng: np.random.Generator) -> list[Segment]:
    """Stand, walk to the mat, lie down, 2–3 sets of 6–12 bridges with rests, get up."""
    segs = [Segment("standing", _u(rng, 5, 20)), Segment("walking", _u(rng, 6, 20))]
    segs.append(Segment("lying", _u(rng, 10, 40), variant="hook"))
    n_sets = _i(rng, 2, 3)
    for i in range(n_sets):
        variant = (
            "double" if rng.random() < 0.7 else str(rng.choice(["single_working", "single_raised"]))
        )
        segs.append(
            Segment(
                "bridge",
                reps=_i(rng, 6, 12),
                variant=variant,
                opts={"slow": bool(rng.random() < 0.3)},
            )
        )
        if i < n_sets - 1:
            segs.append(Segment("lying", _u(rng, 30, 120), variant="hook"))
    segs += [
        Segment("lying", _u(rng, 5, 30), variant="supine"),
        Segment("standing", _u(rng, 5, 20)),
    ]
    segs.append(Segment("walking", _u(rng, 10, 30)))
    return segs


def hold_session(rng: np.random.Generator) -> list[Segment]:
    """Isometric phase: lie down, 3–5 bridge holds of 20–45 s (one or two sets), get up."""
    segs = [Segment("standing", _u(rng, 5, 15)), Segment("lying", _u(rng, 10, 30), variant="hook")]
    for i in range(_i(rng, 1, 2)):
        if i:
            segs.append(Segment("lying", _u(rng, 60, 120), variant="hook"))
        segs.append(Segment("bridge_hold", holds=_i(rng, 3, 5), hold_s=_u(rng, 20, 45)))
    segs += [
        Segment("lying", _u(rng, 10, 30), variant="supine"),
        Segment("standing", _u(rng, 5, 15)),
    ]
    return segs


def rdl_session(rng: np.random.Generator) -> list[Segment]:
    """Heavy slow resistance: sets of 5–10 RDLs, mostly ~3 s each way, some brisk."""
    segs = [Segment("walking", _u(rng, 10, 30)), Segment("standing", _u(rng, 10, 30))]
    n_sets = _i(rng, 3, 4)
    for i in range(n_sets):
        if rng.random() < 0.7:
            tempo = (_u(rng, 2.5, 3.5), _u(rng, 2.5, 3.5))
        else:
            tempo = (_u(rng, 0.8, 1.5), _u(rng, 0.8, 1.3))
        variant = "double" if rng.random() < 0.75 else "single_stance"
        segs.append(Segment("rdl", reps=_i(rng, 5, 10), tempo=tempo, variant=variant))
        if i < n_sets - 1:
            segs.append(Segment("standing", _u(rng, 60, 150)))
    segs.append(Segment("walking", _u(rng, 10, 30)))
    return segs


def hop_session(rng: np.random.Generator) -> list[Segment]:
    """Energy storage: warm-up jog, pogo, CMJ and single-leg hop sets with rests."""
    segs = [
        Segment("walking", _u(rng, 20, 40)),
        Segment("running", _u(rng, 30, 60)),
        Segment("standing", _u(rng, 30, 60)),
    ]
    plan = ["pogo", "pogo", "cmj", "single_leg_hop", "forward_hop", "lateral_hop", "drop_jump"]
    n_sets = _i(rng, 4, 6)
    for i in range(n_sets):
        kind = plan[i] if i < 4 else str(rng.choice(plan[4:]))
        reps = _i(rng, 10, 20) if kind in ("pogo", "lateral_hop") else _i(rng, 5, 10)
        segs.append(Segment(kind, reps=reps))
        segs.append(
            Segment("standing", _u(rng, 45, 120))
            if rng.random() < 0.7
            else Segment("walking", _u(rng, 30, 90))
        )
    return segs


def sitting_day(rng: np.random.Generator) -> list[Segment]:
    """A couple of hours compressed: sitting bouts of varied length, brief stands, real walks."""
    segs: list[Segment] = [Segment("walking", _u(rng, 20, 60))]
    for _ in range(_i(rng, 6, 10)):
        r = rng.random()
        bout = (
            _u(rng, 20, 120) if r < 0.3 else (_u(rng, 300, 900) if r < 0.8 else _u(rng, 1200, 2400))
        )
        segs.append(Segment("sitting", bout))
        if rng.random() < 0.5:
            segs.append(Segment("standing", _u(rng, 5, 60)))
        else:
            segs += [Segment("walking", _u(rng, 15, 180)), Segment("standing", _u(rng, 3, 20))]
    return segs


def lookalikes_floor(rng: np.random.Generator) -> list[Segment]:
    """Floor work that is not a bridge: pelvic tilts, knee rolling, lying still."""
    segs = [Segment("standing", _u(rng, 5, 15)), Segment("lying", _u(rng, 10, 30), variant="hook")]
    for _ in range(_i(rng, 2, 3)):
        segs.append(Segment("pelvic_tilt", reps=_i(rng, 8, 15)))
        segs.append(Segment("lying", _u(rng, 10, 40), variant="hook"))
        segs.append(Segment("knee_rolling", reps=_i(rng, 6, 12)))
        segs.append(Segment("lying", _u(rng, 10, 40), variant=str(rng.choice(["hook", "supine"]))))
    segs += [
        Segment("lying", _u(rng, 20, 60), variant="prone"),
        Segment("standing", _u(rng, 5, 15)),
    ]
    return segs


def lookalikes_standing(rng: np.random.Generator) -> list[Segment]:
    """Standing movements that are not RDLs or hops: squats, lunges, sit-to-stands, bending,
    stairs, walking, running."""
    segs = [
        Segment("walking", _u(rng, 20, 60)),
        Segment("squat", reps=_i(rng, 6, 12)),
        Segment("standing", _u(rng, 20, 60)),
        Segment("lunge", reps=_i(rng, 6, 12)),
        Segment("standing", _u(rng, 10, 30)),
        Segment("sitting", _u(rng, 20, 60)),
        Segment("sit_to_stand", reps=_i(rng, 5, 10)),
        Segment("standing", _u(rng, 10, 30)),
    ]
    for _ in range(_i(rng, 2, 4)):
        segs += [Segment("walking", _u(rng, 5, 15)), Segment("bend_down", reps=1)]
    segs += [
        Segment("stairs", variant="up"),
        Segment("standing", _u(rng, 3, 10)),
        Segment("stairs", variant="down"),
        Segment("walking", _u(rng, 20, 60)),
        Segment("running", _u(rng, 30, 90)),
        Segment("walking", _u(rng, 20, 60)),
        Segment("standing", _u(rng, 5, 20)),
    ]
    return segs


def mixed_day(rng: np.random.Generator) -> list[Segment]:
    """A compressed day: off the body, commute (cycling), desk sitting, a rehab session,
    errands with stairs and bending, and a run."""
    segs: list[Segment] = [
        Segment("nonwear", _u(rng, 60, 300)),
        Segment("standing", _u(rng, 30, 90)),
        Segment("walking", _u(rng, 60, 180)),
        Segment("cycling", _u(rng, 300, 900)),
        Segment("walking", _u(rng, 30, 90)),
    ]
    segs += sitting_day(rng)[1:5]
    session = [bridge_session, hold_session, rdl_session][_i(rng, 0, 2)]
    segs += session(rng)
    segs += [
        Segment("stairs", variant="up"),
        Segment("walking", _u(rng, 20, 60)),
        Segment("bend_down", reps=_i(rng, 1, 3)),
        Segment("sitting", _u(rng, 600, 1800)),
        Segment("sit_to_stand", reps=1),
        Segment("walking", _u(rng, 60, 180)),
        Segment("running", _u(rng, 120, 400)),
        Segment("walking", _u(rng, 30, 90)),
        Segment("sitting", _u(rng, 600, 2400)),
        Segment("lying", _u(rng, 300, 900)),
        Segment("nonwear", _u(rng, 300, 900)),
    ]
    return segs


SCENARIOS: dict[str, Builder] = {
    "bridge_session": bridge_session,
    "hold_session": hold_session,
    "rdl_session": rdl_session,
    "hop_session": hop_session,
    "sitting_day": sitting_day,
    "lookalikes_floor": lookalikes_floor,
    "lookalikes_standing": lookalikes_standing,
    "mixed_day": mixed_day,
}


def make_scenario(
    name: str,
    seed: int = 0,
    spec: SensorSpec | None = None,
    mounting: Mounting | None = None,
    start: datetime | None = None,
    **kwargs: Any,
) -> tuple[Recording, dict[str, Any]]:
    """Build and simulate a named scenario; without `mounting`, one is drawn from the seed."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    rng = np.random.default_rng([seed, 7])
    segments = SCENARIOS[name](rng)
    if mounting is None:
        mounting = Mounting.random(rng)
    rec, truth = simulate(segments, seed=seed, spec=spec, mounting=mounting, start=start, **kwargs)
    truth["scenario"] = name
    return rec, truth
