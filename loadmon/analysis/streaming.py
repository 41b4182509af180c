"""Provides live analysis: the offline detectors run on a sliding window as samples arrive.

`StreamingAnalyzer.feed(t, acc, gyro)` appends samples; every `step_s` of new data it runs the
detectors over the last `window_s` and returns the events that ended at least `guard_s` before
the newest sample (so they are final: the detectors have seen the return to rest) and were not
returned before. Memory is bounded by the window (`window_s` of samples, whatever the
recording's length).

Two rules decide when an event is final:

- free-running (no exercise given): the whole offline pipeline (`analyze_arrays`) runs every
  STEP_S and an event must have ended GUARD_S earlier, with every offline rule in force (an RDL
  counts only once its set has `sets.MIN_REPS["rdl"]` reps, so a lone bend-down never does);
- guided (the patient named the exercise): re-run every GUIDED_STEP_S, and an event is final once
  the thigh has been back at rest for SETTLE_S after its modelled end. RDLs come from the guided
  RDL stage (`rdl.guided_reps`) with the guided set rule (`rdl.GUIDED_MIN_SET_REPS`, one rep), so
  the first rep of a set shows as soon as it ends.

`finish()` runs the offline pipeline once more over the window and reconciles: it returns the
events not returned yet, and lists in `retracted` the ones returned earlier that the offline run
does not confirm (in the window; older ones can no longer be judged), while `events` takes the
offline run's times for the ones it confirms. Because the same code runs
on the same samples, what remains equals the offline run's events (within 0.1 s) when the
mounting is the same: pass the patient's known mounting; otherwise it is estimated from the
samples seen so far and frozen as soon as it is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from loadmon.analysis import orientation as orientation_mod
from loadmon.analysis import prepare as prepare_mod
from loadmon.analysis import rdl as rdl_mod
from loadmon.analysis.orientation import Mounting
from loadmon.analysis.pipeline import EXERCISES, Event, add_exercise, analyze_arrays
from loadmon.analysis.prepare import FloatArray

#: Analysis window (s): longer than the longest hold plus its rests on either side.
WINDOW_S = 240.0
#: Free-running: re-run the detectors after this much new data (s).
STEP_S = 2.0
#: Free-running: events are final once they ended this long before the newest sample (s).
GUARD_S = 4.0
#: Guided: re-run the detectors after this much new data (s): one run costs a few ms.
GUIDED_STEP_S = 0.1
#: Guided: an event is final once this much signal after its modelled end has been seen (s).
#: The end is where a minimum-jerk movement reaches rest; 0.3 s more (three 0.1 s work bins)
#: shows the thigh still at rest, so the stand-up is over rather than paused, and the
#: zero-phase gravity filter's edge (≈ 0.25 s at 2 Hz) no longer moves the rep's end.
SETTLE_S = 0.3
#: The detectors first run once this much signal is buffered (s): no complete rep is shorter.
MIN_SPAN_S = 1.0
#: Event types streamed (exercise events; posture bouts are left to the offline run).
STREAMED = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
#: On finish, a streamed event stands when the offline run has one of the same type whose
#: start and end are both within this (s); otherwise it is retracted (and the offline one,
#: if any, is returned).
RECONCILE_TOL_S = 0.5


@dataclass
class StreamingAnalyzer:
    """Incremental rep/hold/hop detection with bounded memory.

    `step_s` and `guard_s` default to the rule of the mode (free-running or guided, see the
    module notes); pass them to override.
    """

    sample_rate_hz: float
    exercise: str | None = None
    mounting: Mounting | None = None
    window_s: float = WINDOW_S
    step_s: float | None = None
    guard_s: float | None = None
    #: Events returned earlier that the final (offline) run did not confirm.
    retracted: list[Event] = field(default_factory=list)
    _t: list[FloatArray] = field(default_factory=list)
    _acc: list[FloatArray] = field(default_factory=list)
    _gyro: list[FloatArray] = field(default_factory=list)
    _has_gyro: bool | None = None
    _last_run_t: float = -np.inf
    _emitted: list[Event] = field(default_factory=list)
    _newest: float = -np.inf

    def __post_init__(self) -> None:
        if self.exercise is not None and self.exercise not in EXERCISES:
            raise ValueError(
                f"exercise must be one of {', '.join(EXERCISES)}, got {self.exercise!r}"
            )
        if self.step_s is None:
            self.step_s = STEP_S if self.exercise is None else GUIDED_STEP_S
        if self.guard_s is None:
            self.guard_s = GUARD_S if self.exercise is None else SETTLE_S

    @property
    def _step(self) -> float:
        return float(STEP_S if self.step_s is None else self.step_s)

    @property
    def _guard(self) -> float:
        return float(GUARD_S if self.guard_s is None else self.guard_s)

    def feed(self, t: FloatArray, acc: FloatArray, gyro: FloatArray | None = None) -> list[Event]:
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
        if self._newest - self._last_run_t < self._step - 1e-9:
            return []
        self._last_run_t = self._newest
        return self._run(final=False)

    def finish(self) -> list[Event]:
        """Run the offline pipeline once more over what is buffered and reconcile: return every
        event not yet returned; earlier ones it does not confirm go to `retracted`."""
        if not self._t:
            return []
        return self._run(final=True)

    @property
    def events(self) -> list[Event]:
        """Everything returned so far and not retracted, in time order."""
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

    def _detect(
        self, t: FloatArray, acc: FloatArray, gyro: FloatArray | None, final: bool
    ) -> list[Event]:
        """The events the rule in force finds in the window (and freeze a found mounting)."""
        if self.exercise == "rdl" and not final:
            events, m = self._guided_rdl(t, acc, gyro)
        else:
            a = analyze_arrays(
                t,
                acc,
                gyro,
                self.sample_rate_hz,
                exercise=self.exercise,
                mounting=self.mounting,
            )
            events, m = list(a.events), a.mounting
        if self.mounting is None and m.known:
            self.mounting = m
        return [e for e in events if e.type in STREAMED]

    def _guided_rdl(
        self, t: FloatArray, acc: FloatArray, gyro: FloatArray | None
    ) -> tuple[list[Event], Mounting]:
        """The pipeline's guided RDL stage alone, with the guided set rule."""
        p = prepare_mod.prepare(t, acc, gyro, self.sample_rate_hz)
        f = orientation_mod.epoch_features(p)
        fresh = orientation_mod.estimate_mounting(p, f)
        m = (
            orientation_mod.check_mounting(self.mounting, fresh)
            if self.mounting is not None
            else fresh
        )
        reps = rdl_mod.guided_reps(p, f, m)
        out: list[Event] = []
        add_exercise(
            out,
            [],
            "rdl",
            "rdl_rep",
            [(r.start_s, r.end_s, r.fields()) for r in reps],
            min_reps=rdl_mod.GUIDED_MIN_SET_REPS,
        )
        out.sort(key=lambda e: e.start_s)
        return out, m

    def _run(self, final: bool) -> list[Event]:
        t, acc, gyro = self._buffer()
        if t.size < 16 or float(t[-1] - t[0]) < MIN_SPAN_S:
            return []
        found = self._detect(t, acc, gyro, final)
        guard = self._guard
        judged_from = float(t[0]) + guard
        if final:
            self._reconcile(found, judged_from)
        limit = np.inf if final else self._newest - guard
        new: list[Event] = []
        for e in found:
            if e.end_s > limit:
                continue
            if not final and e.start_s < judged_from:
                continue  # too close to the window's start to be judged on full context
            if any(
                p.type == e.type and p.start_s < e.end_s and e.start_s < p.end_s
                for p in self._emitted
            ):
                continue
            new.append(e)
        self._emitted.extend(new)
        return new

    def _reconcile(self, final: list[Event], judged_from: float) -> None:
        """Retract returned events in the window that the final run does not confirm, and take
        the final run's times and fields for the ones it does (`events` then equals it)."""
        keep: list[Event] = []
        for e in self._emitted:
            if e.start_s < judged_from:
                keep.append(e)  # older than the window: no longer judged
                continue
            match = [f for f in final if _same(e, f)]
            if match:
                keep.append(min(match, key=lambda f: abs(f.start_s - e.start_s)))
            else:
                self.retracted.append(e)
        self._emitted = keep


def _same(a: Event, b: Event) -> bool:
    return (
        a.type == b.type
        and abs(a.start_s - b.start_s) <= RECONCILE_TOL_S
        and abs(a.end_s - b.end_s) <= RECONCILE_TOL_S
    )


#: Live counting, free-running (no exercise named): an event is shown once it ended
#: LIVE_GUARD_S before the newest sample, the detectors re-running every LIVE_STEP_S, with
#: every offline rule in force. Guided sets keep the guided rule (GUIDED_STEP_S, SETTLE_S).
LIVE_GUARD_S = 0.4
LIVE_STEP_S = 0.15


class LiveCounter:
    """The one live rep counter of `loadmon record` and the dashboard's Live screen.

    Samples are handed to a `StreamingAnalyzer` in step-sized pieces, as if they had arrived
    one by one, so what is found (and when) does not depend on how the sensor packs its
    frames. `finish()` is the offline run's verdict (withdrawn events, then new ones); only
    its first call does anything, and feeds after it are ignored. Thread-safe: the Live screen
    feeds in a worker thread and may finish from another.
    """

    def __init__(
        self, sample_rate_hz: float, exercise: str | None = None, mounting: Mounting | None = None
    ) -> None:
        import threading

        self.exercise = exercise
        guided = exercise is not None
        self.analyzer = StreamingAnalyzer(
            sample_rate_hz=sample_rate_hz,
            exercise=exercise,
            mounting=mounting,
            step_s=None if guided else LIVE_STEP_S,
            guard_s=None if guided else LIVE_GUARD_S,
        )
        self.piece_s = min(float(self.analyzer.step_s or LIVE_STEP_S), LIVE_STEP_S)
        self.finished = False
        self._lock = threading.Lock()

    def feed(self, t: FloatArray, acc: FloatArray, gyro: FloatArray | None = None) -> list[Event]:
        """Newly final events after these samples (oldest first)."""
        out: list[Event] = []
        with self._lock:
            if self.finished:
                return []
            i = 0
            while i < t.size:
                j = max(int(np.searchsorted(t, t[i] + self.piece_s, side="left")), i + 1)
                out.extend(self.analyzer.feed(t[i:j], acc[i:j], None if gyro is None
                                              else gyro[i:j]))
                i = j
        return out

    def finish(self) -> tuple[list[Event], list[Event]]:
        """(events shown earlier that the offline run withdraws, events not shown yet)."""
        with self._lock:
            if self.finished:
                return [], []
            self.finished = True
            new = self.analyzer.finish()
            return list(self.analyzer.retracted), new
