"""Provides grouping of reps, holds and hops into sets (rests longer than a limit split sets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: A rest longer than this (s) between the end of one rep and the start of the next starts a
#: new set; holds rest longer (2 min between isometric holds is one session of holds).
SET_GAP_S = {"bridge": 20.0, "rdl": 25.0, "hops": 10.0, "bridge_hold": 150.0}

#: Sets with fewer reps are dropped: one hip hinge is a bend to pick something up, one lone
#: flight in a run is not a hop set (RDLs and hops come in sets). A single bridge or hold counts.
MIN_REPS = {"bridge": 1, "rdl": 3, "hops": 2, "bridge_hold": 1}

PARAMETERS = {"set_gap_s": SET_GAP_S, "min_reps": MIN_REPS}


@dataclass(frozen=True)
class ExerciseSet:
    exercise: str
    start_s: float
    end_s: float
    reps: int
    #: Indices (into the given spans) of the reps in this set.
    members: tuple[int, ...]


def group_sets(exercise: str, spans: Sequence[tuple[float, float]]) -> list[ExerciseSet]:
    """Consecutive spans (start, end) of one exercise grouped into sets."""
    gap = SET_GAP_S[exercise]
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    out: list[ExerciseSet] = []
    cur: list[int] = []
    for k in order:
        if cur and spans[k][0] - max(spans[j][1] for j in cur) > gap:
            out.append(_make(exercise, spans, cur))
            cur = []
        cur.append(k)
    if cur:
        out.append(_make(exercise, spans, cur))
    return out


def _make(exercise: str, spans: Sequence[tuple[float, float]], cur: list[int]) -> ExerciseSet:
    return ExerciseSet(
        exercise,
        min(spans[j][0] for j in cur),
        max(spans[j][1] for j in cur),
        len(cur),
        tuple(cur),
    )
