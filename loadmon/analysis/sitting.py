"""Provides sitting bouts: posture sitting periods joined across brief interruptions.

Interruption rule: a sitting bout continues through any non-sitting period shorter than
BREAK_S (shifting, reaching, standing up and sitting straight back down): the tendon is not
unloaded long enough to count as a break. A non-sitting period of BREAK_S or longer (standing,
walking) ends the bout. Each bout reports its span, the time actually seated and the number of
brief interruptions it absorbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadmon.analysis.posture import Bout

BREAK_S = 10.0
MIN_BOUT_S = 5.0

PARAMETERS = {"break_s": BREAK_S, "min_bout_s": MIN_BOUT_S}


@dataclass(frozen=True)
class SittingBout:
    start_s: float
    end_s: float
    seated_s: float
    interruptions: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def sitting_bouts(
    bouts: Sequence[Bout], gaps: Sequence[tuple[float, float]] = ()
) -> list[SittingBout]:
    """Join sitting posture bouts separated by less than BREAK_S; a gap in the samples ends a
    bout (nothing is known of the time in it)."""
    sits = sorted((b for b in bouts if b.kind == "sitting"), key=lambda b: b.start_s)
    out: list[SittingBout] = []
    cur: list[Bout] = []
    for b in sits:
        # posture bouts already end at gaps; a gap between two of them is not a brief break
        across_gap = bool(cur) and any(
            cur[-1].end_s - 0.5 <= 0.5 * (a + g1) <= b.start_s + 0.5 for a, g1 in gaps
        )
        if cur and (b.start_s - cur[-1].end_s >= BREAK_S or across_gap):
            out.append(_make(cur))
            cur = []
        cur.append(b)
    if cur:
        out.append(_make(cur))
    return [s for s in out if s.duration_s >= MIN_BOUT_S]


def _make(cur: list[Bout]) -> SittingBout:
    return SittingBout(
        cur[0].start_s,
        cur[-1].end_s,
        round(sum(b.end_s - b.start_s for b in cur), 2),
        len(cur) - 1,
    )
