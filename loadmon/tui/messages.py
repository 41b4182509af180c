"""Provides the dashboard's messages (dataclasses); high-rate ones coalesce via `can_replace`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class DataChanged(Message):
    """Something was written (a log entry, a phase, a saved session): screens reload."""

    what: str = ""


@dataclass
class OpenDay(Message):
    """Show the Sessions log of `day` (ISO date), highlighting the set `set_id` if given."""

    day: str
    set_id: str | None = None
    #: Highlight the first set of this exercise when no set id is known.
    exercise: str | None = None


@dataclass
class WarningChosen(Message):
    """A warning was picked in an alert list."""

    warning: dict[str, Any] = field(default_factory=dict)


@dataclass
class SamplesArrived(Message):
    """Live signal quality; only the newest one matters, so queued ones are replaced."""

    n_samples: int = 0
    rate_hz: float = 0.0
    gaps: int = 0
    elapsed_s: float = 0.0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SamplesArrived)


@dataclass
class RepDetected(Message):
    """The streaming detector found a rep, hold, hop or sitting bout (an analysis event)."""

    event: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeviceLost(Message):
    """The live source ended or failed (or, with `ended=False`, a note about it)."""

    reason: str = ""
    ended: bool = True
