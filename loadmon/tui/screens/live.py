"""Provides LiveScreen: record a scanned or virtual sensor, count reps live, stop and save.

The session is recorded as it streams, through the same source factory and `Recorder` as
`loadmon record` (commits at least once a second), so a crash or `kill -9` of the dashboard
loses at most the last second; the next open of the database closes and analyses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RichLog, Select, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from loadmon.errors import LoadmonError
from loadmon.sessions import rep_detail
from loadmon.tui.data import (
    RETRACTED,
    VIRTUAL_PREFIX,
    LiveCounter,
    SampleChunk,
    live_sources,
    scan_sensors,
)
from loadmon.tui.messages import DataChanged, DeviceLost, RepDetected, SamplesArrived
from loadmon.tui.screens.base import DashScreen
from loadmon.tui.widgets.rep_counter import RepCounter

GUIDED = [("bridges", "bridge"), ("bridge holds", "bridge_hold"), ("RDLs", "rdl"), ("hops", "hops")]
REP_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
#: Guided exercises whose live counting needs no gyro: counted from accelerometer samples as
#: their frames arrive (StreamOptions.acc_ahead), not waiting for the gyro frames.
ACC_ONLY_EXERCISES = ("bridge", "rdl")


def default_replay() -> str:
    path = Path(__file__).resolve().parents[2] / "demo_data" / "bridge_set.csv"
    return str(path) if path.exists() else ""


class LiveScreen(DashScreen):
    """Signal quality, a rep counter per set, the hold against the prescription, a tempo cue."""

    AUTO_FOCUS = "#live-start"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop+save"),
        Binding("r", "scan", "Scan"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The session's recorder (None before the first start); samples go to the database.
        self.recorder: Any = None
        #: Samples received (and handed to the recorder) in this session.
        self.n_received = 0
        #: Sensor time (s) of the newest sample received.
        self.last_received_t = 0.0
        #: Recording id of the last saved session.
        self.saved_id: int | None = None
        self._stop_event: asyncio.Event | None = None
        self.started_wall: float | None = None
        self.started_utc: datetime | None = None
        self.rate_hz = 52.0
        self.speed = 1.0
        #: Sample rate to ask the sensor for (None: the profile's default). A faster rate
        #: fills a Polar frame sooner (it is sent only once full), so reps show sooner.
        self.rate_request: int | None = None
        self.latencies: list[float] = []
        self.events: list[dict[str, Any]] = []
        self.device = "polar-verity-sense"
        self._streaming = False
        self._replay_sensor: Any = None
        self._counter: LiveCounter | None = None
        #: (t of the newest sample, monotonic arrival) of each chunk, for latency figures.
        self.arrivals: list[tuple[float, float]] = []
        #: Seconds from the chunk holding a rep's end arriving to the rep being shown.
        self.tui_latencies: list[float] = []
        #: (event type, end_s, latency s) of every event shown, in the order shown.
        self.latency_log: list[tuple[str, float, float]] = []
        #: Events shown and then withdrawn when the stream ended (the final analysis differs).
        self.withdrawn: list[dict[str, Any]] = []
        #: The worker of the current (or last) session: recording, then analysing and saving.
        self.session: Worker[None] | None = None
        #: True from the end of the stream until the session is analysed and saved.
        self.saving = False

    @property
    def busy(self) -> bool:
        """A session is recording or still being analysed and saved: quitting waits for it."""
        return self._streaming

    async def finish(self) -> int | None:
        """Stop the session (if one runs) and wait until it is analysed and saved; returns
        its recording id. Quit calls this, so quitting mid-session never loses the analysis."""
        if self._streaming and self._stop_event is not None:
            self._stopped_by_user = True
            self._stop_event.set()
        worker = self.session
        if worker is not None:
            while worker.state == WorkerState.PENDING:
                await asyncio.sleep(0)
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        return self.saved_id

    def compose_body(self) -> ComposeResult:
        with Vertical(id="live"):
            with Horizontal(classes="form-row"):
                yield Label("Sensor", classes="form-label")
                yield Select(
                    [(label, sid) for label, sid in live_sources()],
                    prompt="pick a sensor (r scans)",
                    id="live-source",
                )
            with Horizontal(classes="form-row"):
                yield Label("Replay file", classes="form-label")
                yield Input(placeholder="recording to replay (virtual sensor)", id="live-replay")
            with Horizontal(classes="form-row"):
                yield Label("Guided set", classes="form-label")
                yield Select(GUIDED, prompt="recognise automatically", id="live-exercise")
                yield Button("Start", id="live-start", variant="success")
                yield Button("Stop + save", id="live-stop", variant="error", disabled=True)
            yield Static(id="live-signal")
            with Horizontal(id="live-main"):
                yield RepCounter(id="live-counter")
                yield RichLog(id="live-log", max_lines=200, markup=False, wrap=False)

    def on_mount(self) -> None:
        select: Select[str] = self.query_one("#live-source", Select)
        select.value = "virtual:polar-verity-sense"
        src = self.lapp.source
        replay = self.query_one("#live-replay", Input)
        if src and not src.startswith(VIRTUAL_PREFIX):
            replay.value = src
        else:
            replay.value = default_replay()
        self._signal("not streaming")
        self.query_one("#live-log", RichLog).border_title = "detected"

    def fetch(self) -> dict[str, Any]:
        info = self.data.patient_info()
        return {"targets": self.data.live_targets(info)}

    def show(self, result: dict[str, Any]) -> None:
        counter = self.query_one(RepCounter)
        targets = result["targets"]
        if targets.get("hold_s"):
            counter.hold_target_s = float(targets["hold_s"])
        if targets.get("tempo_s"):
            counter.tempo_target_s = float(targets["tempo_s"])
        counter.refresh_title()

    def _signal(self, text: str | Text) -> None:
        # The session's worker outlives the screen when the app is closing: nothing to show.
        for widget in self.query("#live-signal").results(Static):
            widget.update(text)

    # ------------------------------------------------------------------ scanning

    def action_scan(self) -> None:
        self._signal("scanning for sensors…")
        self.run_scan()

    @work(exclusive=True, group="scan")
    async def run_scan(self) -> None:
        try:
            found = await scan_sensors()
        except LoadmonError as e:
            self.lapp.report_error(e)
            return
        select: Select[str] = self.query_one("#live-source", Select)
        select.set_options([*found, *live_sources()])
        select.value = found[0][1] if found else "virtual:polar-verity-sense"
        self._signal(f"found {len(found)} sensor(s)")

    # ------------------------------------------------------------------ streaming

    @on(Button.Pressed, "#live-start")
    def action_start(self) -> None:
        if self._streaming:
            return
        select: Select[str] = self.query_one("#live-source", Select)
        source = select.value if isinstance(select.value, str) else "virtual:polar-verity-sense"
        replay = self.query_one("#live-replay", Input).value.strip() or None
        if source.startswith(VIRTUAL_PREFIX) and (replay is None or not Path(replay).is_file()):
            self.notify(
                f"replay file not found: {replay or '(none)'}", severity="error", markup=False
            )
            return
        self.device = source.split(":")[1] if ":" in source else source
        exercise_sel: Select[str] = self.query_one("#live-exercise", Select)
        exercise = exercise_sel.value if isinstance(exercise_sel.value, str) else None
        self.recorder = None
        self.n_received = 0
        self.last_received_t = 0.0
        self.saved_id = None
        self._stopped_by_user = False
        self._counter = None
        self.arrivals = []
        self.tui_latencies = []
        self.latencies = []
        self.latency_log = []
        self.withdrawn = []
        self.events = []
        self.query_one("#live-log", RichLog).clear()
        self.query_one("#live-start", Button).disabled = True
        self.query_one("#live-stop", Button).disabled = False
        self._streaming = True  # busy from here: a quit right now waits for the session
        self.session = self.stream(source, replay, exercise)

    @work(exclusive=True, group="live")
    async def stream(self, source: str, replay: str | None, exercise: str | None) -> None:
        """An async worker (bleak is asyncio): read the sensor, run the streaming detectors
        in a thread so the UI never waits on them, and post messages to the screen."""
        self._streaming = True
        try:
            await self._pump(source, replay, exercise)
        except LoadmonError as e:
            self.post_message(DeviceLost(str(e)))
        finally:
            self._streaming = False

    async def _pump(self, source: str, replay: str | None, exercise: str | None) -> None:
        """Record the session (loadmon.sensor: one source factory, one Recorder) and count
        reps from a queue the recorder's callbacks fill; analyse and close it at the end."""
        from loadmon.sensor.record import Recorder
        from loadmon.sensor.source import open_source
        from loadmon.sensor.stream import AccSamples, Samples

        self.started_wall = time.monotonic()
        self.started_utc = datetime.now(UTC).replace(microsecond=0)
        self._replay_sensor = None
        stop = self._stop_event = asyncio.Event()
        # Guided bridge and RDL sets are counted from the accelerometer alone: count from
        # accelerometer frames as they arrive; the paired acc+gyro samples are what is stored.
        acc_only = exercise in ACC_ONLY_EXERCISES
        queue: asyncio.Queue[SampleChunk | None] = asyncio.Queue()

        def keep_sensor(sensor: Any) -> None:
            self._replay_sensor = sensor

        async with open_source(
            source,
            replay=replay if source.startswith(VIRTUAL_PREFIX) else None,
            speed=self.speed if source.startswith(VIRTUAL_PREFIX) else 1.0,
            rate_hz=self.rate_request,
            acc_ahead=acc_only,
            on_end=stop.set,
            on_sensor=keep_sensor,
        ) as src:
            rate = src.stream.rate_hz
            self.rate_hz = rate

            def paired(s: Samples) -> None:
                self.n_received += int(s.t.size)
                self.last_received_t = float(s.t[-1])
                if not acc_only:
                    queue.put_nowait(SampleChunk(s.t, s.acc, s.gyro, rate))

            def ahead(a: AccSamples) -> None:
                queue.put_nowait(SampleChunk(a.t, a.acc, None, rate))

            mounting = await asyncio.to_thread(self.data.remembered_mounting, self.device)
            counter = LiveCounter(rate, exercise, mounting)
            self._counter = counter
            if not counter.available:
                self.post_message(DeviceLost(
                    "rep counting needs loadmon.analysis.streaming (not installed yet)",
                    ended=False,
                ))
            recorder = Recorder(
                self.data.db, self.data.patient_id(), src.stream, source=src.label,
                on_samples=paired, on_ahead=ahead if acc_only else None,
                extra={"recorded_with": "loadmon dashboard", "exercise": exercise},
            )
            self.recorder = recorder
            counting = asyncio.ensure_future(self._count(queue, counter, src.stream))
            try:
                result = await recorder.run(stop=stop, keep_open=True)
            finally:
                queue.put_nowait(None)
                await counting
        for ev in await asyncio.to_thread(counter.finish):
            self.post_message(RepDetected(ev))
        self.post_message(DeviceLost("the source ended" if not self._stopped_by_user
                                     else "stopped"))
        if result.n_samples == 0:
            recorder.close(result.status)
            self.post_message(DeviceLost("nothing recorded", ended=False))
            return
        self._signal("saving the session…")
        self.saving = True
        try:
            await asyncio.to_thread(self._analyse, result.recording_id, exercise)
            recorder.close(result.status)
        finally:
            self.saving = False
        self._saved(result.recording_id)

    _stopped_by_user = False

    async def _count(
        self, queue: asyncio.Queue[SampleChunk | None], counter: LiveCounter, stream: Any
    ) -> None:
        """Feed the live counter (in a thread, so the UI never waits on the detectors)."""
        n = 0
        while (chunk := await queue.get()) is not None:
            if chunk.t.size == 0:
                continue
            n += chunk.t.size
            last_t = float(chunk.t[-1])
            if n == chunk.t.size:
                self.started_wall = time.monotonic() - last_t / self.speed
            self.arrivals.append((last_t, time.monotonic()))
            rate = n / last_t if last_t > 1 else self.rate_hz
            self.post_message(SamplesArrived(n, rate, stream.stats.gaps, last_t))
            for ev in await asyncio.to_thread(counter.feed, chunk):
                self.post_message(RepDetected(ev))

    def _analyse(self, recording_id: int, exercise: str | None) -> None:
        """The end-of-session analysis (a guided set as its exercise), in a worker thread."""
        from loadmon.importing import analyze_stored

        try:
            analyze_stored(self.data.db, recording_id, exercise=exercise)
        except LoadmonError as e:
            self.app.call_from_thread(self.lapp.report_error, e)
        finally:
            self.data.close()

    def on_samples_arrived(self, message: SamplesArrived) -> None:
        self._signal(
            Text.assemble(
                ("● streaming  ", "bold green"),
                f"{message.rate_hz:5.1f} Hz  ·  {message.gaps} gaps  ·  "
                f"{message.elapsed_s / 60:02.0f}:{message.elapsed_s % 60:04.1f}  ·  "
                f"{message.n_samples} samples",
            )
        )

    async def on_rep_detected(self, message: RepDetected) -> None:
        ev = message.event
        if ev.get("type") not in REP_TYPES:
            return
        if ev.get(RETRACTED):
            await self._withdraw(ev)
            return
        self.events.append(ev)
        if "end_s" in ev:
            sensor = self._replay_sensor
            if sensor is not None:
                # wall seconds since the virtual sensor measured the rep's last sample
                lat = (float(sensor.replay_time()) - float(ev["end_s"])) / self.speed
            elif self.started_wall is not None:
                lat = time.monotonic() - (self.started_wall + float(ev["end_s"]) / self.speed)
            else:
                lat = float("nan")
            self.latencies.append(lat)
            end = float(ev["end_s"])
            self.latency_log.append((str(ev["type"]), end, lat))
            arrived = next((a for t, a in self.arrivals if t >= end), None)
            if arrived is not None:
                self.tui_latencies.append(time.monotonic() - arrived)
        self.query_one(RepCounter).add_event(ev)
        delay = f"  (+{self.latencies[-1]:.2f} s)" if self.latencies else ""
        self.query_one("#live-log", RichLog).write(
            f"{float(ev.get('end_s', 0)):7.1f} s  {rep_detail(ev)}{delay}"
        )

    async def _withdraw(self, ev: dict[str, Any]) -> None:
        """The final analysis (when the stream ends) does not confirm a rep shown live: drop it
        and count the set again from the reps that stand."""
        key = (ev.get("type"), ev.get("start_s"), ev.get("end_s"))
        kept = [e for e in self.events if (e.get("type"), e.get("start_s"), e.get("end_s")) != key]
        if len(kept) == len(self.events):
            return
        self.events = kept
        self.withdrawn.append(ev)
        old = self.query_one(RepCounter)
        counter = RepCounter(
            hold_target_s=old.hold_target_s, tempo_target_s=old.tempo_target_s, id="live-counter"
        )
        await old.remove()
        await self.query_one("#live-main", Horizontal).mount(counter, before=0)
        for e in self.events:
            counter.add_event(e)
        counter.refresh_title()
        self.query_one("#live-log", RichLog).write(
            f"{float(ev.get('end_s', 0)):7.1f} s  {rep_detail(ev)}  withdrawn: the final "
            "analysis of the whole set does not confirm it"
        )

    def on_device_lost(self, message: DeviceLost) -> None:
        if not message.ended:
            self.query_one("#live-log", RichLog).write(message.reason)
            return
        if self.saved_id is None:
            self._signal(Text(f"stopped: {message.reason}", style="yellow"))
        self.query_one("#live-start", Button).disabled = False
        self.query_one("#live-stop", Button).disabled = True

    @on(Button.Pressed, "#live-stop")
    def action_stop(self) -> None:
        """Stop recording; the session is saved (it is on disk already) and analysed."""
        if not self._streaming or self._stop_event is None:
            if self.saved_id is not None:
                self.notify(f"the session is saved as recording {self.saved_id}")
            else:
                self.notify("nothing recorded", severity="warning")
            return
        self._stopped_by_user = True
        self.query_one("#live-stop", Button).disabled = True
        self._stop_event.set()

    def _saved(self, rid: int) -> None:
        self.saved_id = rid
        self._signal(Text(f"stopped · saved as recording {rid}", style="bold green"))
        if self.is_attached:
            self.notify(f"session saved as recording {rid}", title="Saved")
            self.app.post_message(DataChanged("live"))
