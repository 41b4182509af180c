"""Provides live streaming from a BLE sensor: connect, start, decode, time-stamp, reconnect.

`SensorStream` is an async iterator of `Samples` (t s, acc g, gyro °/s) and `Gap` items (and,
with `StreamOptions.acc_ahead`, `AccSamples` that do not wait for gyro). The bleak notify
callbacks only time-stamp and enqueue a `RawPacket`; one consumer task decodes.
Time comes from the sensor's clock where the protocol has one (Polar: ns since 2000 of the
LAST sample; Movesense: ms of the FIRST), else from arrival time with rate-based spacing and
slow drift correction. A dropped link sets an Event (the stream reconnects by itself,
bleak-retry-connector) and enqueues a link-lost marker behind the packets that arrived before
it, so the consumer sees the drop in arrival order and the missing span comes out as a `Gap`
with reason "link lost".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak import BleakClient
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from loadmon.errors import DecodeError, DeviceError
from loadmon.profiles import DeviceProfile
from loadmon.recording import GAP_FACTOR, POLAR_EPOCH_UNIX_NS
from loadmon.sensor import families
from loadmon.sensor.blocks import FloatArray, SampleBlock
from loadmon.sensor.decoding import StreamDecoder
from loadmon.sensor.dialogue import Session
from loadmon.sensor.scan import find_device

#: Arrival-time clocks: a jump larger than this (s, sensor time) is a gap, not jitter...
ARRIVAL_GAP_S = 1.0
#: ...and never less than this much host time (a stalled event loop is not a gap).
HOST_HICCUP_S = 0.5
#: Arrival-time clocks: fraction of a late packet's delay corrected (slow drift, not jitter).
DRIFT_GAIN = 0.001
#: Arrival-time clocks: sensor seconds of arrivals used to fix the origin before emitting.
SETTLE_S = 2.0
#: Acc (or gyro) waiting this long (s) for its partner stream is dropped, not buffered forever.
MAX_UNPAIRED_S = 5.0
#: Reconnect attempts back off from BACKOFF_S, doubling, to at most MAX_BACKOFF_S.
BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0
#: `RawPacket.source` of the marker the disconnect callback enqueues (no payload).
LINK_LOST = "link lost"


@dataclass(frozen=True)
class RawPacket:
    """What a notify callback hands over: the bytes, where from, and when they arrived."""

    source: str  # "data", "control" or LINK_LOST (a marker: the link dropped here)
    payload: bytes
    received_at: float


@dataclass(frozen=True, eq=False)
class Samples:
    """Decoded samples on the recording's time axis (s since the first sample)."""

    t: FloatArray
    acc: FloatArray
    gyro: FloatArray | None


@dataclass(frozen=True, eq=False)
class AccSamples:
    """Accelerometer samples ahead of their gyro partners (`StreamOptions.acc_ahead`).

    Same time axis as `Samples`. Each acc sample comes once as `AccSamples`, as soon as its
    packet is decoded (at the latest just before the `Samples` that carries it); it comes
    again, paired with gyro, in a later `Samples` (unless its partner was lost with the link).
    """

    t: FloatArray
    acc: FloatArray


@dataclass(frozen=True)
class Gap:
    start_s: float
    end_s: float
    reason: str


@dataclass
class StreamStats:
    samples: int = 0
    gaps: int = 0
    malformed: int = 0
    reconnects: int = 0
    packets: int = 0
    last_t: float = 0.0
    connected: bool = False
    #: Host seconds the last outage lasted (link lost → streaming again).
    last_outage_s: float = 0.0
    #: Samples of one kind (acc or gyro) whose partner was lost with the link, not stored.
    unpaired_dropped: int = 0
    #: Observed samples per second of sensor time over the last few seconds.
    rate_hz: float = 0.0
    recent: list[tuple[float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class StreamOptions:
    rate_hz: int | None = None
    acc_range: int | None = None
    gyro_range: int | None = None
    gyro: bool = True
    #: Sensor seconds per host second (a replayed virtual sensor at --speed X runs X times faster).
    time_scale: float = 1.0
    #: Give up reconnecting after this many host seconds.
    reconnect_timeout_s: float = 60.0
    scan_timeout_s: float = 10.0
    #: Also yield `AccSamples` as soon as acc packets are decoded, not waiting for the gyro
    #: packets they are paired with (for consumers that need only the accelerometer live, such
    #: as guided RDL and bridge counting; the Verity sends ACC and GYRO in separate frames).
    acc_ahead: bool = False


# ---- time-stamping ------------------------------------------------------------------------


class Timeline:
    """Sensor time (s) of every sample, per measurement kind, from device or arrival clocks."""

    def __init__(self, clock: str, rate_hz: float, time_scale: float = 1.0) -> None:
        self.clock = clock
        self.fs = float(rate_hz)
        # A replay at --speed X magnifies host hiccups X times in sensor time.
        self.gap_s = max(ARRIVAL_GAP_S, HOST_HICCUP_S * time_scale)
        self.last: dict[str, float] = {}
        self.origins: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self._wrap_ms = 0
        self.settle_until: dict[str, float] = {}
        self.last_arrival = 0.0

    def reset_arrival(self) -> None:
        """After a link loss every clock restarts from the next packet: arrival grids, and the
        device clocks' previous-frame stamps (the first frame after a reconnect is spaced at
        the sensor's rate from its own stamp, not across the outage)."""
        self.count.clear()
        self.last.clear()

    def place(self, kind: str, block: SampleBlock) -> FloatArray:
        n = block.n
        period = 1.0 / self.fs
        if self.clock == "device_ns_last" and block.device_time_ns is not None:
            t_last = block.device_time_ns / 1e9
            prev = self.last.get(kind)
            dt = period
            if prev is not None:
                span = t_last - prev
                if span > 0 and abs(span - n * period) < 0.5 * n * period:
                    dt = span / n  # the SDK's (ts_k − ts_{k−1}) / N
            times = t_last - dt * np.arange(n - 1, -1, -1, dtype=np.float64)
        elif self.clock == "device_ms_first" and block.device_time_ns is not None:
            ms_ = block.device_time_ns // 1_000_000 + self._wrap_ms
            prev = self.last.get(kind)
            if prev is not None and ms_ / 1000 < prev - 3600:
                self._wrap_ms += 1 << 32  # uint32 ms wrapped (every ~49.7 days)
                ms_ += 1 << 32
            times = ms_ / 1000 + period * np.arange(n, dtype=np.float64)
        else:
            self.last_arrival = block.received_at
            times = self._arrival(kind, n, block.received_at)
        self.last[kind] = float(times[-1])
        return times

    def _arrival(self, kind: str, n: int, arrival: float) -> FloatArray:
        """Sample indices on a rate-spaced grid per kind (returned as k / fs); see `to_time`.

        Each kind's origin follows the lower envelope of its arrival times (a sample cannot
        arrive before it was measured; notifications come late and in bursts, never early),
        plus a very slow upward creep for clock drift. Separately streamed kinds (MetaWear acc
        and gyro) get their own origin and are paired by time later.
        """
        fs = self.fs
        if kind not in self.origins:
            self.origins[kind] = arrival - (n - 1) / fs
            self.settle_until[kind] = arrival + SETTLE_S
        origin = self.origins[kind]
        if kind not in self.count:
            start = round((arrival - origin) * fs) - n + 1
        else:
            start = self.count[kind]
            err = arrival - (origin + (start + n - 1) / fs)
            if err > self.gap_s:
                start = round((arrival - origin) * fs) - n + 1
            elif err < 0:
                settling = arrival < self.settle_until[kind]
                self.origins[kind] = origin + (err if settling else max(err, -0.1 / fs))
            else:
                self.origins[kind] = origin + min(DRIFT_GAIN * err, 0.01 / fs)
        self.count[kind] = start + n
        return (start + np.arange(n, dtype=np.float64)) / fs

    @property
    def settling(self) -> bool:
        """Arrival clocks hold samples back until the first second has fixed the origin."""
        if self.clock != "arrival":
            return False
        if not self.origins:
            return True
        return any(self.last_arrival < u for u in self.settle_until.values())

    def to_time(self, kind: str, grid: FloatArray) -> FloatArray:
        """Sensor time of grid times (identity for device clocks)."""
        if kind not in self.origins:
            kind = "acc"  # one IMU block: gyro shares the acc grid
        if self.clock != "arrival" or kind not in self.origins:
            return grid
        return grid + self.origins[kind]


class Merger:
    """Pairs separately streamed acc and gyro samples by time (within half a period)."""

    def __init__(self, rate_hz: float, want_gyro: bool) -> None:
        self.tol = 0.5 / rate_hz
        self.want_gyro = want_gyro
        self.acc: tuple[FloatArray, FloatArray] = (np.zeros(0), np.zeros((0, 3)))
        self.gyro: tuple[FloatArray, FloatArray] = (np.zeros(0), np.zeros((0, 3)))

    def add(self, kind: str, t: FloatArray, v: FloatArray) -> None:
        bt, bv = self.acc if kind == "acc" else self.gyro
        merged = (np.concatenate([bt, t]), np.concatenate([bv, v]))
        if kind == "acc":
            self.acc = merged
        else:
            self.gyro = merged

    def clear(self) -> int:
        """Forget everything buffered (a dropped link); returns how many samples that was.

        Called once every pairable sample has been popped: what is left has no partner yet,
        and pairing it with samples from after the drop would interpolate across the gap.
        """
        n = self.acc[0].size + self.gyro[0].size
        self.acc = (np.zeros(0), np.zeros((0, 3)))
        self.gyro = (np.zeros(0), np.zeros((0, 3)))
        return n

    def pop(
        self, to_time: Callable[[str, FloatArray], FloatArray], *, force: bool = False
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Paired samples ready to emit (sensor time, acc, gyro); the rest stay buffered."""
        at, av = self.acc
        if not self.want_gyro:
            self.acc = (np.zeros(0), np.zeros((0, 3)))
            return to_time("acc", at), av, None
        gta, gv = self.gyro
        # Pair on sensor time; buffers keep grid times so origins may still move.
        at_grid = at
        at = to_time("acc", at)
        gt = to_time("gyro", gta)
        if at.size == 0 or gt.size == 0:
            if force:
                self.acc = (np.zeros(0), np.zeros((0, 3)))
            # One stream silent: keep memory bounded; the hole becomes a gap downstream.
            for name, (bt, bv) in (("acc", self.acc), ("gyro", self.gyro)):
                times = to_time(name, bt)
                if times.size and times[-1] - times[0] > MAX_UNPAIRED_S:
                    keep = times >= times[-1] - MAX_UNPAIRED_S
                    setattr(self, name, (bt[keep], bv[keep]))
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        # Acc samples before the first gyro sample have no partner: drop them.
        keep = at >= gt[0] - self.tol
        at, av = at[keep], av[keep]
        ready = at <= gt[-1] + self.tol
        if force:
            ready[:] = True
        et, ea = at[ready], av[ready]
        j = np.clip(np.searchsorted(gt, et), 1, max(gt.size - 1, 1))
        if gt.size == 1:
            eg = np.repeat(gv[:1], et.size, axis=0)
        else:
            left, right = gt[j - 1], gt[j]
            nearest = np.where(np.abs(et - left) <= np.abs(right - et), j - 1, j)
            exact = np.abs(gt[nearest] - et) <= self.tol
            eg = gv[nearest].copy()
            if not exact.all():
                interp = np.column_stack([np.interp(et, gt, gv[:, k]) for k in range(3)])
                eg[~exact] = interp[~exact]
        self.acc = (at_grid[keep][~ready], av[~ready])
        if et.size:
            keep_g = gt > et[-1] + self.tol
            # Keep one sample before the frontier for interpolation.
            first = max(int(np.argmax(keep_g)) - 1, 0) if keep_g.any() else gt.size - 1
            self.gyro = (gta[first:], gv[first:])
        return et, ea, eg


# ---- the stream ---------------------------------------------------------------------------------


Item = Samples | AccSamples | Gap


class SensorStream:
    """Connects, starts the sensor, and yields `Samples` and `Gap`s until closed.

    `async for item in stream:`; `await stream.aclose()` (or leaving `async with`) stops the
    sensor and disconnects. `stats` is live. Pass bleak backends for the virtual radio.
    """

    def __init__(
        self,
        profile: DeviceProfile,
        target: str | BLEDevice,
        options: StreamOptions | None = None,
        *,
        client_backend: type[BaseBleakClient] | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.profile = profile
        #: Host seconds for arrival stamps and outage timing: the running event loop's
        #: clock unless injected (virtual time in tests).
        self._host_clock = clock
        self.target = target
        #: What to scan for on a reconnect: the name or address the caller gave.
        self._query = target.address if isinstance(target, BLEDevice) else target
        self.opts = options or StreamOptions()
        if self.opts.rate_hz is not None:
            profile.check_rate(self.opts.rate_hz)
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self.session: Session = families.dialogue(profile.family)(profile, self.opts)
        self.rate_hz = float(self.session.rate)
        self.stats = StreamStats()
        self.t0: float | None = None
        #: UTC seconds of t = 0 (absolute for Polar, host clock otherwise).
        self.start_unix: float | None = None
        self.client: BleakClient | None = None
        self._queue: asyncio.Queue[RawPacket | None] = asyncio.Queue()
        self._lost = asyncio.Event()
        self._closed = False
        self._link_lost_since_last = False
        self._timeline = Timeline(profile.clock, self.rate_hz, self.opts.time_scale)
        self._merger = Merger(self.rate_hz, self.session.use_gyro)
        self._decoder = StreamDecoder(profile, self.session.settings)
        self._malformed_before = 0
        self._supervisor: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._last_t: float | None = None
        #: Time (s, recording axis) of the last sample yielded as AccSamples (acc_ahead).
        self._ahead_t = -np.inf

    def host_time(self) -> float:
        if self._host_clock is not None:
            return self._host_clock()
        return asyncio.get_running_loop().time()

    def clock(self) -> float:
        """Sensor-time-scaled host clock that arrival stamps use."""
        return self.host_time() * self.opts.time_scale

    # -- connection management --

    async def _find(self, fresh: bool = False) -> BLEDevice:
        """The sensor's BLEDevice; `fresh` re-scans for it (after a drop BlueZ may hold a
        stale one, and bleak-retry-connector asks `ble_device_callback` for the newest)."""
        if isinstance(self.target, BLEDevice) and not fresh:
            return self.target
        query = self._query
        found = await find_device(query, self.opts.scan_timeout_s, backend=self.scanner_backend)
        self.target = found
        return found

    async def _connect(self, fresh: bool = False) -> None:
        device = await self._find(fresh)
        kw: dict[str, Any] = {}
        if self.client_backend is not None:
            kw["backend"] = self.client_backend
        try:
            client = await establish_connection(
                BleakClientWithServiceCache,
                device,
                device.name or device.address,
                disconnected_callback=self._on_disconnect,
                max_attempts=3,
                ble_device_callback=self._latest_device,
                **kw,
            )
        except (BleakError, TimeoutError) as e:
            raise DeviceError(f"cannot connect to {device.name or device.address}: {e}") from None
        self.client = client
        self._malformed_before += self._decoder.malformed
        self._decoder = StreamDecoder(self.profile, self.session.settings)
        try:
            await self.session.start(client, self._on_data)
        except (BleakError, DecodeError, DeviceError) as e:
            with contextlib.suppress(Exception):
                await client.disconnect()
            self.client = None
            if isinstance(e, DeviceError):
                raise
            raise DeviceError(f"{self.profile.name}: starting the stream failed: {e}") from None
        self._malformed_before += self._decoder.malformed
        self._decoder = StreamDecoder(self.profile, self.session.settings)
        self._lost.clear()
        self.stats.connected = True

    def _latest_device(self) -> BLEDevice:
        """bleak-retry-connector's `ble_device_callback`: the BLEDevice of the latest scan."""
        assert isinstance(self.target, BLEDevice)
        return self.target

    def _on_disconnect(self, client: BleakClient) -> None:
        """Disconnect callback: enqueue an ordered marker and wake the supervisor."""
        if not self._closed:  # our own disconnect in aclose() is no link loss
            self._queue.put_nowait(RawPacket(LINK_LOST, b"", self.clock()))
        self._lost.set()

    def _on_data(self, _char: Any, data: bytearray) -> None:
        """Notify callback: time-stamp and enqueue, nothing else."""
        self._queue.put_nowait(RawPacket("data", bytes(data), self.clock()))

    async def _supervise(self) -> None:
        """Reconnect whenever the link drops, until closed."""
        try:
            while not self._closed:
                await self._lost.wait()
                if self._closed:
                    return
                self.stats.connected = False
                # The consumer marks the gap and resets the clocks when it reaches the
                # LINK_LOST marker, after the packets that arrived before the drop.
                lost_at = self.host_time()
                deadline = lost_at + self.opts.reconnect_timeout_s
                attempt = 0
                while not self._closed:
                    try:
                        await self._connect(fresh=True)
                        self.stats.reconnects += 1
                        self.stats.last_outage_s = self.host_time() - lost_at
                        break
                    except (DeviceError, BleakError, TimeoutError) as e:
                        if self.host_time() > deadline:
                            raise DeviceError(
                                f"lost {self.profile.name} and could not reconnect within "
                                f"{self.opts.reconnect_timeout_s:g} s: {e}"
                            ) from None
                        await asyncio.sleep(min(BACKOFF_S * 2**attempt, MAX_BACKOFF_S))
                        attempt += 1
        except asyncio.CancelledError:
            raise  # aclose(): a normal end, not an error for the consumer
        except Exception as e:  # surfaced to the consumer
            self._error = e
            self._queue.put_nowait(None)

    # -- iteration --

    async def __aenter__(self) -> SensorStream:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        await self._connect()
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._lost.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        client = self.client
        if client is not None and client.is_connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.session.stop(client), 3.0)
            with contextlib.suppress(Exception):
                await client.disconnect()
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Item]:
        return self.items()

    async def items(self) -> AsyncIterator[Item]:
        """Decoded samples and gaps, in time order, until `aclose()`."""
        if self.client is None:
            await self.open()
        while True:
            pkt = await self._queue.get()
            if pkt is None:
                for item in self._drain(force=True):
                    yield item
                if self._error is not None:
                    raise self._error
                return
            for item in self._handle(pkt):
                yield item

    def _handle(self, pkt: RawPacket) -> list[Item]:
        if pkt.source == LINK_LOST:
            self._link_lost()
            return []
        block = self._decoder.feed(pkt.payload, pkt.received_at)
        self.stats.malformed = self._malformed_before + self._decoder.malformed
        self.stats.packets += 1
        if block is None or block.n == 0:
            return []
        if block.acc is not None and block.gyro is not None:
            times = self._timeline.place("acc", block)
            self._merger.add("acc", times, block.acc)
            self._merger.add("gyro", times, block.gyro)
        elif block.acc is not None:
            self._merger.add("acc", self._timeline.place("acc", block), block.acc)
        elif block.gyro is not None:
            if not self.session.use_gyro:
                return []
            self._merger.add("gyro", self._timeline.place("gyro", block), block.gyro)
        out = self._drain()
        if self.opts.acc_ahead and self.t0 is not None and not self._timeline.settling:
            # The acc samples still waiting in the merger for their gyro partners.
            grid, acc = self._merger.acc
            out += self._ahead(self._timeline.to_time("acc", grid) - self.t0, acc)
        return out

    def _ahead(self, rel: FloatArray, acc: FloatArray) -> list[Item]:
        """AccSamples of the acc samples (recording time `rel`) not yielded ahead yet."""
        new = rel > self._ahead_t + 1e-9
        if self._last_t is not None:
            new &= rel > self._last_t + 1e-9
        if not new.any():
            return []
        self._ahead_t = float(rel[new][-1])
        return [AccSamples(rel[new], acc[new])]

    def _link_lost(self) -> None:
        """The marker: every packet from before the drop has been handled."""
        self._link_lost_since_last = True
        self._timeline.reset_arrival()
        self._decoder.reset()
        if not self._timeline.settling:
            # Everything pairable has been emitted; the rest lost its partner with the link.
            # (While an arrival clock settles nothing was emitted yet: keep it all.)
            self.stats.unpaired_dropped += self._merger.clear()

    def _drain(self, force: bool = False) -> list[Item]:
        if self._timeline.settling and not force:
            return []
        t, acc, gyro = self._merger.pop(self._timeline.to_time, force=force)
        if t.size == 0:
            return []
        out: list[Item] = []
        if self.t0 is None:
            self.t0 = float(t[0])
            self.start_unix = self._start_unix(float(t[0]))
        rel = t - self.t0
        # Never go backwards (a device clock reset, or jitter right after a reconnect).
        if self._last_t is not None:
            keep = rel > self._last_t + 1e-9
            rel, acc = rel[keep], acc[keep]
            gyro = None if gyro is None else gyro[keep]
            if rel.size == 0:
                return []
            step = rel[0] - self._last_t
            if step > GAP_FACTOR / self.rate_hz:
                reason = "link lost" if self._link_lost_since_last else "packet loss"
                out.append(Gap(self._last_t, float(rel[0]), reason))
                self.stats.gaps += 1
        self._link_lost_since_last = False
        inner = np.flatnonzero(np.diff(rel) > GAP_FACTOR / self.rate_hz)
        for i in inner:
            out.append(Gap(float(rel[i]), float(rel[i + 1]), "packet loss"))
            self.stats.gaps += 1
        if self.opts.acc_ahead:
            out += self._ahead(rel, acc)  # those not yielded ahead yet (the first ones)
        self._last_t = float(rel[-1])
        self.stats.samples += int(rel.size)
        self.stats.last_t = self._last_t
        self._update_rate(rel)
        out.append(Samples(rel, acc, gyro))
        return out

    def _update_rate(self, rel: FloatArray) -> None:
        r = self.stats.recent
        r.append((float(rel[-1]), int(rel.size)))
        while len(r) > 2 and r[-1][0] - r[0][0] > 5.0:
            r.pop(0)
        if len(r) >= 2 and r[-1][0] > r[0][0]:
            self.stats.rate_hz = sum(n for _, n in r[1:]) / (r[-1][0] - r[0][0])

    def _start_unix(self, first: float) -> float:
        if self.profile.clock == "device_ns_last":
            unix = first + POLAR_EPOCH_UNIX_NS / 1e9
            if unix > 1.5e9:  # a plausible absolute time (not the H10's 2019 reset clock)
                return unix
        lag = 0.0
        if self.profile.clock == "arrival":
            lag = (self.clock() - first) / self.opts.time_scale
        return time.time() - max(lag, 0.0)


async def stream_samples(
    profile: DeviceProfile,
    target: str | BLEDevice,
    options: StreamOptions | None = None,
    *,
    client_backend: type[BaseBleakClient] | None = None,
    scanner_backend: type[BaseBleakScanner] | None = None,
    stop: Callable[[], Awaitable[Any]] | None = None,
) -> AsyncIterator[Item]:
    """Async iterator of `Samples` / `Gap` from a sensor, for live screens (TUI).

    Ends when `stop()` (an awaitable factory) completes, or when the caller stops iterating.
    """
    stream = SensorStream(
        profile, target, options, client_backend=client_backend, scanner_backend=scanner_backend
    )
    await stream.open()
    stopper: asyncio.Task[Any] | None = None
    if stop is not None:
        async def _stop() -> None:
            await stop()
            await stream.aclose()

        stopper = asyncio.ensure_future(_stop())
    try:
        async for item in stream:
            yield item
    finally:
        if stopper is not None:
            stopper.cancel()
        await stream.aclose()
