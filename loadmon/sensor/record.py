"""Provides the recorder: stream a sensor into the database, committing at least once a second.

Samples go in with `storage.append_samples` inside `db.atomic()` (BEGIN IMMEDIATE) every
`FLUSH_S`, together with any gaps (a dropped link as "link lost") and the running totals of
the `recordings` row, so `kill -9` loses at most the last second and never leaves a
half-written block. A busy database (another writer's transaction) is retried a few times and
then at the next tick, with nothing lost, so it never ends a recording. A clean stop
(duration, SIGINT/SIGTERM, end of a replay) flushes and marks the row `complete` or
`interrupted`; a killed writer's row is closed by `loadmon.recovery` on the next open.
`loadmon record` and the dashboard's Live screen both record through this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from loadmon import recovery, storage
from loadmon.errors import LoadmonError, StorageError
from loadmon.recording import Recording
from loadmon.sensor.stream import AccSamples, Gap, Samples, SensorStream

FLUSH_S = 0.5
#: Attempts per flush when the database is busy, and the pause between them (s).
BUSY_ATTEMPTS = 3
BUSY_PAUSE_S = 0.05
#: The recorder's own busy timeout while recording (ms).
RECORDER_BUSY_TIMEOUT_MS = 200


@dataclass(frozen=True)
class RecordResult:
    recording_id: int
    n_samples: int
    duration_s: float
    gaps: int
    malformed: int
    reconnects: int
    status: str


class Recorder:
    """Owns one `recordings` row and appends what a `SensorStream` yields."""

    def __init__(
        self,
        db: storage.Database,
        patient_id: int,
        stream: SensorStream,
        *,
        placement: str = "thigh",
        source: str | None = None,
        on_status: Callable[[Recorder], None] | None = None,
        on_samples: Callable[[Samples], None] | None = None,
        on_ahead: Callable[[AccSamples], None] | None = None,
        flush_s: float = FLUSH_S,
        extra: Mapping[str, str | None] | None = None,
    ) -> None:
        self.db = db
        self.patient_id = patient_id
        self.stream = stream
        self.placement = placement
        self.source = source
        self.on_status = on_status
        self.on_samples = on_samples
        self.on_ahead = on_ahead
        self.flush_s = flush_s
        #: Stored in the row's `meta.extra` (e.g. the guided exercise); None values are left out.
        self.extra = {k: v for k, v in (extra or {}).items() if v is not None}
        #: Flushes that found the database busy (their samples went in with a later one).
        self.busy_retries = 0
        self.recording_id: int | None = None
        self.n_samples = 0
        self.n_gaps = 0
        self.last_t = 0.0
        self._pending: list[Samples] = []
        #: Samples already committed as small blocks since the last merge, and the first
        #: seq among those blocks: they are rewritten as one block every BLOCK_SAMPLES.
        self._unmerged: list[Samples] = []
        self._unmerged_n = 0
        self._merge_seq: int | None = None
        self._gaps: list[Gap] = []
        self._start_set = False
        self._db_error: sqlite3.Error | None = None
        self._keep_open = False

    @property
    def has_gyro(self) -> bool:
        return self.stream.session.use_gyro

    def _scales(self) -> tuple[float, float]:
        # The sensor's own step: samples are whole multiples of it, so storage is lossless.
        return self.stream.session.storage_steps()

    def _create_row(self) -> int:
        acc_scale, gyro_scale = self._scales()
        empty = Recording(
            t=np.zeros(0),
            acc=np.zeros((0, 3)),
            gyro=np.zeros((0, 3)) if self.has_gyro else None,
            sample_rate_hz=self.stream.rate_hz,
            start=datetime.now(UTC),
            device=self.stream.profile.id,
            placement=self.placement,
            extra={"recorded_with": "loadmon record", "clock": self.stream.profile.clock,
                   **self.extra, "writer": recovery.writer_info()},
            source=self.source,
            acc_resolution=acc_scale,
            gyro_resolution=gyro_scale,
        )
        with self.db.atomic():
            rid = storage.create_recording(self.db, self.patient_id, empty, status="recording")
        return rid

    def flush(self, status: str | None = None) -> bool:
        """Commit pending samples, gaps and totals in one transaction.

        A busy database is tried BUSY_ATTEMPTS times, then left for the next flush (False),
        losing nothing. Any other failure (disk full, read-only) is rolled back and a one-line
        `StorageError` says what is kept, e.g. "disk full: recording 2 kept up to 160 s"."""
        if self.recording_id is None:
            return True
        for attempt in range(BUSY_ATTEMPTS):
            state = (list(self._pending), list(self._gaps), list(self._unmerged),
                     self._unmerged_n, self._merge_seq, self.n_samples, self.last_t,
                     self.n_gaps, self._start_set)
            try:
                self._flush(status)
                return True
            except sqlite3.Error as e:
                (self._pending, self._gaps, self._unmerged, self._unmerged_n, self._merge_seq,
                 self.n_samples, self.last_t, self.n_gaps, self._start_set) = state
                busy = isinstance(e, sqlite3.OperationalError) and (
                    "locked" in str(e) or "busy" in str(e)
                )
                if not busy:
                    self._db_error = e
                    raise self._db_failure() from None
                self.busy_retries += 1
                if attempt + 1 < BUSY_ATTEMPTS:
                    time.sleep(BUSY_PAUSE_S * (attempt + 1))
        return False

    def _db_failure(self) -> LoadmonError:
        """The one line for the last database failure, with what is committed now."""
        assert self._db_error is not None
        kept = (
            f"recording {self.recording_id} kept up to {self.last_t:.0f} s"
            if self.n_samples
            else f"recording {self.recording_id} has no samples"
        )
        return storage.explain_db_error(self._db_error, kept)

    def _flush(self, status: str | None) -> None:
        pending, self._pending = self._pending, []
        gaps, self._gaps = self._gaps, []
        acc_scale, gyro_scale = self._scales()
        with self.db.atomic():
            if pending:
                if self._merge_seq is None:
                    row = self.db.execute(
                        "SELECT coalesce(max(seq), -1) + 1 FROM sample_blocks "
                        "WHERE recording_id = ?", [self.recording_id]
                    ).fetchone()
                    self._merge_seq = int(row[0])
                self._append(pending, acc_scale, gyro_scale)
                self._unmerged.extend(pending)
                self._unmerged_n += sum(int(p.t.size) for p in pending)
                self.n_samples += sum(int(p.t.size) for p in pending)
                self.last_t = float(pending[-1].t[-1])
            if self._unmerged and (
                self._unmerged_n >= storage.BLOCK_SAMPLES or status is not None
            ):
                # Many half-second blocks become one (as imports store them), atomically.
                self.db.execute(
                    "DELETE FROM sample_blocks WHERE recording_id = ? AND seq >= ?",
                    [self.recording_id, self._merge_seq],
                )
                self._append(self._unmerged, acc_scale, gyro_scale)
                self._unmerged, self._unmerged_n, self._merge_seq = [], 0, None
            for g in gaps:
                self.db.table("gaps").insert(
                    {"recording_id": self.recording_id, "start_s": g.start_s,
                     "end_s": g.end_s, "reason": g.reason}
                )
            self.n_gaps += len(gaps)
            update: dict[str, object] = {
                "n_samples": self.n_samples,
                "duration_s": (self.last_t + 1.0 / self.stream.rate_hz) if self.n_samples else 0.0,
            }
            if not self._start_set and self.stream.start_unix is not None:
                update["start"] = datetime.fromtimestamp(self.stream.start_unix, UTC).isoformat()
                self._start_set = True
            if status is not None:
                update["status"] = status
            assert self.recording_id is not None
            self.db.table("recordings").update(self.recording_id, update)

    def close(self, status: str) -> None:
        """Mark the row `status` (after `run(keep_open=True)`); waits for a busy database."""
        if self.recording_id is None:
            return
        with self.db.atomic():
            self.db.table("recordings").update(self.recording_id, {"status": status})

    def _append(self, parts: list[Samples], acc_scale: float, gyro_scale: float) -> None:
        assert self.recording_id is not None
        t = np.concatenate([p.t for p in parts])
        acc = np.concatenate([p.acc for p in parts])
        gyro = (
            np.concatenate([p.gyro for p in parts if p.gyro is not None])
            if self.has_gyro
            else None
        )
        storage.append_samples(
            self.db, self.recording_id, t, acc, gyro, acc_scale=acc_scale, gyro_scale=gyro_scale
        )

    def _take(self, item: Samples) -> None:
        self._pending.append(item)
        if self.on_samples is not None:
            self.on_samples(item)

    async def run(
        self,
        *,
        duration_s: float | None = None,
        stop: asyncio.Event | None = None,
        keep_open: bool = False,
    ) -> RecordResult:
        """Record until `duration_s` of sensor time, `stop` is set, or the stream ends.

        With `keep_open` the row stays `recording` after the last flush until `close(status)`:
        a caller that analyses the session first (CLI, Live screen) closes it once the
        analysis is saved, so a kill in between leaves it to recovery, never unanalysed.
        """
        self._keep_open = keep_open
        stop = stop or asyncio.Event()
        if self.stream.client is None:
            await self.stream.open()
        self.recording_id = self._create_row()
        # Wait briefly for another writer, then retry at the next tick: a long wait would
        # stall the event loop that receives the notifications.
        (old_timeout,) = self.db.execute("PRAGMA busy_timeout").fetchone()
        self.db.execute(f"PRAGMA busy_timeout = {RECORDER_BUSY_TIMEOUT_MS}")
        try:
            return await self._run(duration_s, stop)
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(old_timeout)}")

    async def _run(self, duration_s: float | None, stop: asyncio.Event) -> RecordResult:
        assert self.recording_id is not None
        limit = duration_s

        async def consume() -> None:
            async for item in self.stream:
                if isinstance(item, AccSamples):
                    # only with StreamOptions.acc_ahead; Samples bring them again to store
                    if self.on_ahead is not None:
                        self.on_ahead(item)
                    continue
                if isinstance(item, Gap):
                    if limit is None or item.start_s < limit:
                        self._gaps.append(item)
                    continue
                if limit is not None:
                    keep = item.t < limit - 0.5 / self.stream.rate_hz
                    if not keep.all():
                        item = Samples(
                            item.t[keep], item.acc[keep],
                            None if item.gyro is None else item.gyro[keep],
                        )
                        if item.t.size:
                            self._take(item)
                        return
                self._take(item)

        consumer = asyncio.ensure_future(consume())
        consumer.add_done_callback(lambda _f: stop.set())
        status = "complete"
        error: BaseException | None = None
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.flush_s)
                self.flush()
                if self.on_status is not None:
                    self.on_status(self)
        except asyncio.CancelledError:
            status = "interrupted"
            raise
        except StorageError:
            status = "failed"  # said below, with what the last flush could still keep
        finally:
            if consumer.done() and not consumer.cancelled() and consumer.exception() is not None:
                error = consumer.exception()
                status = "failed"
            elif not consumer.done() and duration_s is not None:
                status = "interrupted"
            await self.stream.aclose()
            if not consumer.done():
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(consumer, 2.0)
            final = None if self._keep_open and error is None else status
            with contextlib.suppress(StorageError):  # said below, with what is kept
                while not self.flush(status=final):
                    await asyncio.sleep(self.flush_s)  # the last samples must go in
        if self._db_error is not None:
            raise self._db_failure()
        if error is not None:
            if isinstance(error, LoadmonError):
                raise error
            raise error
        st = self.stream.stats
        return RecordResult(
            self.recording_id,
            self.n_samples,
            (self.last_t + 1.0 / self.stream.rate_hz) if self.n_samples else 0.0,
            self.n_gaps,
            st.malformed,
            st.reconnects,
            status,
        )
