"""Provides live analysis: the offline detectors run on a sliding window as samples arrive.

`StreamingAnalyzer.feed(t, acc, gyro)` appends samples; every STEP_S of new data it runs the
offline pipeline (`analyze_arrays`) over the last WINDOW_S and returns the events that ended at
least GUARD_S before the newest sample (so they are final: the detectors have seen the return
to rest) and were not returned before. `finish()` flushes the rest. Memory is bounded by the
window (WINDOW_S of samples, whatever the recording's length), and because the same code runs
on the same samples, the events equal the offline run's (within 0.1 s) when the mounting is the
same: pass the patient's known mounting; otherwise it is estimated from the samples seen so far
and frozen as soon as it is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loadmon.analysis.orientation import Mounting
from loadmon.analysis.pipeline import Event, analyze_arrays
from loadmon.analysis.prepare import FloatArray

#: Analysis window (s): longer than the longest hold plus its rests on either side.
WINDOW_S = 240.0
#: Re-run the detectors after this much new data (s).
STEP_S = 2.0
#: Events are final once they ended this long before the newest sample (s).
GUARD_S = 4.0
#: Event types streamed (exercise events; posture bouts are left to the offline run).
STREAMED = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")


@dataclass
class StreamingAnalyzer:
    """Incremental rep/hold/hop detection with bounded memory."""

    sample_rate_hz: float
    exercise: str | None = None
    mounting: Mounting | None = None
    window_s: float = WINDOW_S
    step_s: float = STEP_S
    guard_s: float = GUARD_S
    _t: list[FloatArray] = field(default_factory=list)
    _acc: list[FloatArray] = field(default_factory=list)
    _gyro: list[FloatArray] = field(default_factory=list)
    _has_gyro: bool | None = None
    _last_run_t: float = -np.inf
    _emitted: list[Event] = field(default_factory=list)
    _newest: float = -np.inf

    def feed(
        self, t: FloatArray, acc: FloatArray, gyro: FloatArray | None = None
    ) -> list[Event]:
        """Add samples (t in s, acc in g, gyro in °/s); returns newly final events."""
        t = np.asarray(t, dtype=np.float64)
        if t.size == 0:
            return []
        if self._has_gyro is None:
            self._has_gyro = gyro is not None
        self._t.append(t)
        self._acc.append(np.asarray(acc, dtype=np.float64).reshape(-1, 3))
        if self._has_gyro:
            if gyro is None:
                raise ValueError("gyro samples stopped arriving mid-stream")
            self._gyro.append(np.asarray(gyro, dtype=np.float64).reshape(-1, 3))
        self._newest = float(t[-1])
        if self._newest - self._last_run_t < self.step_s:
            return []
        self._last_run_t = self._newest
        return self._run(final=False)

    def finish(self) -> list[Event]:
        """Run once more over what is buffered and return every event not yet returned."""
        if not self._t:
            return []
        return self._run(final=True)

    @property
    def events(self) -> list[Event]:
        """Everything returned so far, in time order."""
        return sorted(self._emitted, key=lambda e: e.start_s)

    @property
    def buffered_samples(self) -> int:
        return int(sum(x.size for x in self._t))

    def _buffer(self) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        t = np.concatenate(self._t)
        acc = np.concatenate(self._acc)
        gyro = np.concatenate(self._gyro) if self._has_gyro else None
        keep = t >= self._newest - self.window_s
        if not keep.all():
            t, acc = t[keep], acc[keep]
            gyro = None if gyro is None else gyro[keep]
        self._t, self._acc = [t], [acc]
        self._gyro = [] if gyro is None else [gyro]
        return t, acc, gyro

    def _run(self, final: bool) -> list[Event]:
        t, acc, gyro = self._buffer()
        if t.size < 16:
            return []
        a = analyze_arrays(
            t, acc, gyro, self.sample_rate_hz, exercise=self.exercise, mounting=self.mounting
        )
        if self.mounting is None and a.mounting.known:
            self.mounting = a.mounting
        limit = np.inf if final else self._newest - self.guard_s
        new: list[Event] = []
        for e in a.events:
            if e.type not in STREAMED or e.end_s > limit:
                continue
            if not final and e.start_s < float(t[0]) + self.guard_s:
                continue  # too close to the window's start to be judged on full context
            if any(
                p.type == e.type and p.start_s < e.end_s and e.start_s < p.end_s
                for p in self._emitted
            ):
                continue
            new.append(e)
        self._emitted.extend(new)
        return new
