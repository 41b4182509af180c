"""Provides emulated sensors: one Bumble GATT server per profile family, speaking its protocol.

Each emulator advertises like the real sensor, answers its command dialogue byte for byte
(PMD control point, Movesense commands, WitMotion `FF AA` writes, Thingy config + CCCD,
MetaWear module/register commands) and streams a Recording in real time × `speed`. Faults:
a dropped link, lost notifications, malformed packets, a control-point error response.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bumble import att, core, gatt
from bumble.device import Connection, Device
from numpy.typing import NDArray

from loadmon.decoders import metawear as mw
from loadmon.decoders import movesense as ms
from loadmon.decoders import polar_pmd as pmd
from loadmon.decoders import thingy52 as th
from loadmon.profiles import DeviceProfile
from loadmon.recording import POLAR_EPOCH_UNIX_NS, Recording
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.backend import VirtualRadio

FloatArray = NDArray[np.float64]
C = gatt.Characteristic
#: 2019-01-01T00:00:00Z in ns since 2000-01-01 (the H10's clock after a reset).
_H10_RESET_NS = 599_616_000_000_000_000
#: Largest PMD data frame of a real Verity (bytes): it "only sends the frame to the client when
#: it is filled with MTU size of data (232 bytes max)" (Polar maintainer, polar-ble-sdk issue
#: #439), whatever larger ATT MTU the client negotiates (the virtual link's is 517). At 52 Hz
#: that is 60–70 ACC samples a frame (≈ 1.2–1.4 s; issue #317 reports 71 samples every 1–2 s)
#: and more for a quiet GYRO stream (issue #439: 55–130 samples, 1–2.5 s). The default of
#: `PolarPmdSensor.max_frame_bytes`, so the emulated H10 uses it too (UNCONFIRMED for the H10).
PMD_MAX_FRAME_BYTES = 232
#: Longest span of samples one PMD frame holds before it is sent anyway (s, sensor time).
#: UNCONFIRMED: the vendor describes no such timer; without one a nearly still sensor (deltas
#: of 1–2 bits) would hold a frame for several seconds. 1.5 s sits inside the 1–2 s latency the
#: maintainers quote for 52 Hz; it mostly bounds the quiet GYRO stream.
MAX_FRAME_AGE_S = 1.5
#: ATT application error the emulated Thingy returns for a motion rate outside 5–200 Hz.
APP_ERROR_OUT_OF_RANGE = 0x80
#: WitMotion's register-read command `FF AA 27 <reg> 00` (the SDKs' ReadReg).
READ_REGISTER = 0x27
#: Real seconds between emulator ticks (each tick sends whatever samples fell due).
TICK_S = 0.004


@dataclass
class Faults:
    """What to break, for tests and demos."""

    #: Replay time (s) at which the sensor drops the link; it re-advertises after `away_s`.
    drop_link_at_s: float | None = None
    away_s: float = 0.5
    #: Lose every k-th data notification (0 = none).
    lose_every: int = 0
    #: Corrupt every k-th data notification (0 = none).
    malformed_every: int = 0
    #: Polar: answer start requests with this control-point status code.
    cp_error: int | None = None


class Replay:
    """The source recording resampled to the rate the sensor was configured for."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self._cache: dict[float, tuple[FloatArray, FloatArray, FloatArray]] = {}

    def at_rate(self, rate: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(t, acc g, gyro °/s) on the sensor's sample grid, t from 0."""
        if rate not in self._cache:
            rec = self.rec
            t = rec.t - rec.t[0]
            gyro = rec.gyro if rec.gyro is not None else np.zeros_like(rec.acc)
            if abs(rate - rec.sample_rate_hz) > 1e-9:
                grid = np.arange(0.0, t[-1] + 0.5 / rate, 1.0 / rate)
                acc = np.column_stack([np.interp(grid, t, rec.acc[:, k]) for k in range(3)])
                gyro = np.column_stack([np.interp(grid, t, gyro[:, k]) for k in range(3)])
                t = grid
            else:
                acc = rec.acc
            self._cache[rate] = (t, np.asarray(acc, float), np.asarray(gyro, float))
        return self._cache[rate]


class EmulatedSensor:
    """Base: advertising, connection bookkeeping, the replay clock and fault injection."""

    default_name = "Virtual sensor"

    def __init__(
        self,
        profile: DeviceProfile,
        recording: Recording,
        *,
        speed: float = 1.0,
        faults: Faults | None = None,
        name: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.profile = profile
        #: Host seconds (the running event loop's clock unless injected), so a test on
        #: virtual time moves the replay with it.
        self.clock = clock or _loop_time
        self.replay = Replay(recording)
        self.speed = float(speed)
        self.faults = faults or Faults()
        self.name = name or self.default_name
        self.device: Device | None = None
        self.address_string = ""
        self.connection: Connection | None = None
        self.finished = asyncio.Event()
        self.sent = self.lost = self.corrupted = self.drops = 0
        #: Replay time (s) at which the `drop_link_at_s` fault actually dropped the link.
        self.dropped_at_s: float | None = None
        self._t0: float | None = None
        self._resumed = False
        self._dropped = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stream_task: asyncio.Task[None] | None = None
        self.rate_hz = float(profile.acc.default_rate_hz)

    # ---- setup ----

    def services(self) -> list[gatt.Service]:
        raise NotImplementedError

    async def attach(self, radio: VirtualRadio | None = None) -> None:
        """Join the virtual link and start advertising."""
        radio = radio or VirtualRadio.current()
        dev = radio.new_device(self.name)
        dev.add_services(self.services())
        dev.on(Device.EVENT_CONNECTION, self._on_connection)
        await dev.power_on()
        self.device = dev
        self.address_string = dev.random_address.to_string(False)
        radio.peripherals.append(self)
        await self._advertise()

    async def _advertise(self) -> None:
        assert self.device is not None
        adv = core.AdvertisingData(
            [
                (core.AdvertisingData.FLAGS, bytes([0x06])),
                (core.AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            ]
        )
        scan = core.AdvertisingData(
            [
                (
                    core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    core.UUID(self.profile.gatt.service).to_bytes(force_128=True),
                )
            ]
        )
        await self.device.start_advertising(
            advertising_data=bytes(adv),
            scan_response_data=bytes(scan),
            advertising_interval_min=20,
            advertising_interval_max=20,
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, conn: Connection) -> None:
        self.connection = conn
        conn.on(Connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(conn))

    def _on_disconnection(self, conn: Connection) -> None:
        if self.connection is conn:
            self.connection = None
        self.stop_streaming()
        self.on_link_lost()
        delay = self.faults.away_s if self._dropped else 0.0
        self._spawn(self._readvertise(delay))

    async def _readvertise(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.device is not None and self.connection is None and not self.finished.is_set():
            with contextlib.suppress(Exception):
                await self._advertise()

    def on_link_lost(self) -> None:
        """Forget per-connection state (subscriptions, started streams)."""

    async def close(self) -> None:
        self.finished.set()
        self.stop_streaming()
        # Let in-flight HCI commands (re-advertising, indications) finish: cancelling one
        # mid-command leaves Bumble's host waiting on a dead future.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        for t in list(self._tasks):
            t.cancel()
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect()
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()

    # ---- replay clock and streaming ----

    def replay_time(self) -> float:
        if self._t0 is None:
            return 0.0
        return (self.clock() - self._t0) * self.speed

    def _on_subscription(self, conn: Connection, notify: bool, indicate: bool) -> None:
        """Sensors that stream as soon as the CCCD is written (WitMotion, Thingy:52)."""
        if notify:
            self.start_streaming()
        else:
            self.stop_streaming()

    def start_streaming(self) -> None:
        """Begin (or resume, after a reconnect) sending samples from the current replay time."""
        if self._t0 is None:
            self._t0 = self.clock()
        if self._stream_task is None or self._stream_task.done():
            self._stream_task = asyncio.ensure_future(self._stream())

    def stop_streaming(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    async def _stream(self) -> None:
        t, acc, gyro = self.replay.at_rate(self.rate_hz)
        idx = int(np.searchsorted(t, self.replay_time(), side="left")) if self._resumed else 0
        self._resumed = True
        try:
            while self.connection is not None:
                now = self.replay_time()
                due = int(np.searchsorted(t, now, side="right"))
                if due > idx:
                    await self.emit(t[idx:due], acc[idx:due], gyro[idx:due])
                    idx = due
                if idx >= len(t):
                    await self.flush()
                    self.finished.set()
                    return
                drop = self.faults.drop_link_at_s
                if drop is not None and not self._dropped and now >= drop:
                    self._dropped = True
                    self.dropped_at_s = now
                    self.drops += 1
                    conn = self.connection
                    if conn is not None:
                        await conn.disconnect()
                    return
                await asyncio.sleep(TICK_S)
                if isinstance(self.clock, TickClock):
                    self.clock.advance(TICK_S)
        except (core.BaseBumbleError, ConnectionError):
            return

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        """Packetise and send samples that fell due (family-specific)."""
        raise NotImplementedError

    async def flush(self) -> None:
        """Send any partly filled frame (end of the source)."""

    async def send(self, char: gatt.Characteristic[bytes], payload: bytes) -> None:
        """Notify one data packet, applying the lost / malformed faults."""
        conn = self.connection
        if conn is None or self.device is None:
            return
        self.sent += 1
        f = self.faults
        if f.lose_every and self.sent % f.lose_every == 0:
            self.lost += 1
            return
        if f.malformed_every and self.sent % f.malformed_every == 0:
            self.corrupted += 1
            payload = bytes([0xEE]) + payload[: max(1, len(payload) // 3)]
        await self.device.notify_subscriber(conn, char, payload)

    def _notify_enabled(self, char: gatt.Characteristic[bytes]) -> bool:
        if self.device is None or self.connection is None:
            return False
        cccd = self.device.gatt_server.read_cccd(self.connection, char)
        return bool(cccd[0] & 0x01)


class TickClock:
    """A host clock that only the emulator's streaming ticks move (TICK_S each), for tests:
    inject it into the emulator and the stream and the replay runs the same however busy the
    machine is (a stalled event loop stalls this clock too, so it is never taken for a gap)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


def _loop_time() -> float:
    """The running event loop's clock (monotonic, and virtual under a virtual-time loop)."""
    return asyncio.get_running_loop().time()


def _uuid(u: str) -> core.UUID:
    return core.UUID(u)


def _char(
    uuid: str, props: gatt.Characteristic.Properties, perms: Any, value: Any = b""
) -> gatt.Characteristic[bytes]:
    """A bumble characteristic holding bytes (a constant or read/write callbacks)."""
    ch: gatt.Characteristic[bytes] = gatt.Characteristic(_uuid(uuid), props, perms, value)
    return ch


# ---- Polar PMD ----------------------------------------------------------------------------------


class PolarPmdSensor(EmulatedSensor):
    """Polar Verity Sense / H10: PMD control point (feature read, settings, start, stop)."""

    #: Largest data frame (bytes), as the real Verity (PMD_MAX_FRAME_BYTES); never more than
    #: the link's ATT MTU − 3. None fills frames to the MTU (the virtual link's is 517).
    max_frame_bytes: int | None = PMD_MAX_FRAME_BYTES

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        self.default_name = "Polar Sense 0A1B2C3D" if profile.has_gyro else "Polar H10 0A1B2C3D"
        super().__init__(profile, recording, **kw)
        p = profile.params
        self.acc_type = int(p["acc_type"])
        self.gyro_type = int(p.get("gyro_type", -1))
        self.compressed = int(p["acc_frame"]) & 0x80 != 0
        self.active: dict[int, dict[int, int]] = {}
        self.sdk_mode = False
        self.pending: dict[int, list[tuple[float, NDArray[np.int64]]]] = {}
        self.factors: dict[int, float] = {}
        epoch_ns = int(recording.start.timestamp() * 1e9) - POLAR_EPOCH_UNIX_NS
        if epoch_ns < 0:
            # A replay with no real start time (before the Polar epoch, e.g. the 1970 default):
            # behave like a device whose clock was reset, as an H10 resets to 2019-01-01
            # after shutdown (polar-ble-sdk KnownIssues), rather than send unencodable stamps.
            epoch_ns = _H10_RESET_NS
        self.epoch_ns = epoch_ns
        self.cp = _char(
            profile.gatt.control,
            C.Properties.READ | C.Properties.WRITE | C.Properties.INDICATE,
            C.READABLE | C.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_features, write=self._on_cp_write),
        )
        self.data = _char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(_uuid(self.profile.gatt.service), [self.cp, self.data])]

    def _read_features(self, conn: Connection) -> bytes:
        """H10: ECG + ACC. Verity: PPG, ACC, PPI, GYRO, MAG (the spec's `0F 6E`) + SDK mode."""
        if not self.profile.has_gyro:
            return bytes([0x0F, 0x05, 0x00])
        return bytes([0x0F, 0x6E, 0x02])

    def _offer(self, mtype: int) -> tuple[list[int], list[int]]:
        """(rates, ranges) on offer: outside SDK mode the Verity offers only its defaults."""
        ch = self._channel(mtype)
        if self.compressed and not self.sdk_mode:
            return [ch.default_rate_hz], [ch.default_range]
        return list(ch.rates_hz), list(ch.ranges)

    def _channel(self, mtype: int) -> Any:
        return self.profile.acc if mtype == self.acc_type else self.profile.gyro

    def _settings(self, mtype: int) -> bytes:
        rates, ranges = self._offer(mtype)
        return enc.encode_settings(
            {
                pmd.SAMPLE_RATE: rates,
                pmd.RESOLUTION: [16],
                pmd.RANGE: ranges,
                **({pmd.CHANNELS: [3]} if self.compressed else {}),
            }
        )

    def _on_cp_write(self, conn: Connection, value: bytes) -> None:
        self._spawn(self._answer(conn, bytes(value)))

    async def _answer(self, conn: Connection, req: bytes) -> None:
        """Indicate the response; one longer than the MTU goes out in `more` continuations."""
        resp = self._handle(conn, req)
        room = max(conn.att_mtu - 3 - 5, 1)
        head, params = resp[:4], resp[5:]
        parts = [params[i : i + room] for i in range(0, len(params), room)] or [b""]
        for k, part in enumerate(parts):
            more = 1 if k < len(parts) - 1 else 0
            if self.device is None or self.connection is not conn:
                return
            with contextlib.suppress(Exception):
                await self.device.indicate_subscriber(conn, self.cp, head + bytes([more]) + part)

    def _handle(self, conn: Connection, req: bytes) -> bytes:
        if len(req) < 2:
            return enc.encode_cp_response(req[0] if req else 0, 0, 4)
        op, mtype = req[0], req[1] & 0x3F
        known = {self.acc_type} | ({self.gyro_type} if self.profile.has_gyro else set())
        if op not in (pmd.OP_GET_SETTINGS, pmd.OP_START, pmd.OP_STOP):
            return enc.encode_cp_response(op, mtype, 1)
        if mtype == pmd.SDK_MODE and self.compressed and op != pmd.OP_GET_SETTINGS:
            if self.active:
                return enc.encode_cp_response(op, mtype, 12)  # not while streaming
            want = op == pmd.OP_START
            if self.sdk_mode == want:
                return enc.encode_cp_response(op, mtype, 6)
            self.sdk_mode = want
            return enc.encode_cp_response(op, mtype, 0)
        if mtype not in known:
            return enc.encode_cp_response(op, mtype, 2)
        if op == pmd.OP_GET_SETTINGS:
            return enc.encode_cp_response(op, mtype, 0, self._settings(mtype))
        if op == pmd.OP_STOP:
            self.active.pop(mtype, None)
            return enc.encode_cp_response(op, mtype, 0)
        # Start.
        if self.faults.cp_error is not None:
            return enc.encode_cp_response(op, mtype, self.faults.cp_error)
        if conn.att_mtu < self.profile.min_mtu:
            return enc.encode_cp_response(op, mtype, 10)
        if not self._notify_enabled(self.data):
            return enc.encode_cp_response(op, mtype, 12)
        if mtype in self.active:
            return enc.encode_cp_response(op, mtype, 6)
        try:
            settings = pmd.parse_settings(req[2:])
        except Exception:
            return enc.encode_cp_response(op, mtype, 4)
        ch = self._channel(mtype)
        rate = int(settings.get(pmd.SAMPLE_RATE, [ch.default_rate_hz])[0])
        rng = int(settings.get(pmd.RANGE, [ch.default_range])[0])
        rates, ranges = self._offer(mtype)
        if rate not in rates:
            return enc.encode_cp_response(op, mtype, 8)
        if rng not in ranges:
            return enc.encode_cp_response(op, mtype, 9)
        if self.compressed and settings.get(pmd.CHANNELS, [3])[0] != 3:
            return enc.encode_cp_response(op, mtype, 11)
        if self.active and rate != self.rate_hz:
            return enc.encode_cp_response(op, mtype, 8)
        self.rate_hz = float(rate)
        self.active[mtype] = {pmd.SAMPLE_RATE: rate, pmd.RANGE: rng}
        self.pending[mtype] = []
        if not self.compressed:
            self.factors[mtype] = 0.001  # frame type 1: mG
            self.start_streaming()
            return enc.encode_cp_response(op, mtype, 0, b"\x01")
        if mtype == self.acc_type:
            # The Verity's own bytes at ±8 g (spec example), scaled for other ranges.
            f8 = struct.unpack("<f", bytes.fromhex("40DA7F39"))[0]
            factor = f8 * rng / 8
        else:
            factor = rng / 32768
        factor = struct.unpack("<f", struct.pack("<f", factor))[0]
        self.factors[mtype] = factor
        self.start_streaming()
        return enc.encode_cp_response(op, mtype, 0, enc.encode_factor(factor))

    def on_link_lost(self) -> None:
        """What a drop leaves behind, as on the Verity: the measurements stay started (a
        start after the reconnect is answered ALREADY_IN_STATE until they are stopped) and SDK
        mode stays on until a client stops it (`03 09`); frames not yet sent are lost."""
        self.pending = {m: [] for m in self.active}

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        for mtype in list(self.active):
            vals = acc if mtype == self.acc_type else gyro
            ints = enc.quantise(vals, self.factors[mtype])
            buf = self.pending.setdefault(mtype, [])
            for i in range(len(t)):
                buf.append((float(t[i]), ints[i]))
            await self._send_full_frames(mtype)

    def _ts(self, t: float) -> int:
        return self.epoch_ns + round(t * 1e9)

    def _frame(self, mtype: int, rows: list[tuple[float, NDArray[np.int64]]]) -> bytes:
        arr = np.array([r[1] for r in rows], dtype=np.int64)
        if self.compressed:
            return enc.encode_delta_frame(mtype, self._ts(rows[-1][0]), arr)
        return enc.encode_raw_type1(self._ts(rows[-1][0]), arr)

    def _size(self, rows: list[tuple[float, NDArray[np.int64]]]) -> int:
        if self.compressed:
            return enc.delta_frame_size(np.array([r[1] for r in rows], dtype=np.int64))
        return pmd.HEADER_LEN + 6 * len(rows)

    async def _send_full_frames(self, mtype: int) -> None:
        """Fill each frame up to the MTU (at most `max_frame_bytes`) before sending, as the
        Verity does."""
        conn = self.connection
        if conn is None:
            return
        limit = conn.att_mtu - 3
        if self.max_frame_bytes is not None:
            limit = min(limit, self.max_frame_bytes)
        buf = self.pending[mtype]
        # A quiet (highly compressible) stream would otherwise wait many seconds to fill a
        # frame; the Verity's observed latency is 1–2 s at 52 Hz (polar-ble-sdk issue #439).
        if buf and buf[-1][0] - buf[0][0] >= MAX_FRAME_AGE_S and self._size(buf) <= limit:
            await self.send(self.data, self._frame(mtype, buf))
            buf.clear()
            return
        while buf and self._size(buf) > limit:
            # Largest prefix that fits.
            lo, hi = 1, len(buf)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self._size(buf[:mid]) <= limit:
                    lo = mid
                else:
                    hi = mid - 1
            await self.send(self.data, self._frame(mtype, buf[:lo]))
            del buf[:lo]

    async def flush(self) -> None:
        for mtype, buf in self.pending.items():
            if buf:
                await self.send(self.data, self._frame(mtype, buf))
                buf.clear()


# ---- Movesense ----------------------------------------------------------------------------------


class MovesenseSensor(EmulatedSensor):
    """Movesense GATT sensor-data service: HELLO, SUBSCRIBE `/Meas/IMU6|Acc|Gyro/<rate>` with a
    NUL-terminated path (GSP; an unterminated one, as the 2.1.x sample sends, works too),
    a `01 ref status` result for each subscribe, DATA notifications of 4 samples (8 above 52 Hz)
    split into DATA + DATA_PART2 when longer than the firmware's 158-byte buffer."""

    default_name = "Movesense 174630000192"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.cmd = _char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_command),
        )
        self.data = _char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.sub_ref: int | None = None
        self.kind = "IMU6"
        self.per_packet = int(profile.params["max_samples_per_packet"])
        self.per_packet_fast = int(profile.params.get("fast_samples_per_packet", self.per_packet))
        self.max_n = self.per_packet
        self.buf: list[tuple[float, FloatArray, FloatArray]] = []
        self.clock_ms0 = 123_456  # device-relative ms at replay time 0

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(_uuid(self.profile.gatt.service), [self.cmd, self.data])]

    def _on_command(self, conn: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) < 2:
            return
        cmd, ref = v[0], v[1]
        if cmd == ms.CMD_HELLO:
            self._spawn(self.send_raw(enc.encode_movesense_result(ref, b"Hello")))
        elif cmd == ms.CMD_SUBSCRIBE:
            path = v[2:].split(b"\x00", 1)[0].decode("utf-8", "replace")
            status = self._subscribe(ref, path).to_bytes(2, "little")
            self._spawn(self.send_raw(enc.encode_movesense_result(ref, status)))
        elif cmd == ms.CMD_UNSUBSCRIBE and ref == self.sub_ref:
            self.sub_ref = None
            self.stop_streaming()

    def _subscribe(self, ref: int, path: str) -> int:
        """HTTP-style status of a subscribe: 200, 404 unknown path, 400 bad rate, 507 busy."""
        if self.sub_ref is not None and self.sub_ref != ref:
            return 507
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "Meas" or parts[1] not in ms.KINDS:
            return 404
        try:
            rate = int(parts[2])
        except ValueError:
            return 400
        if not self.profile.acc.supports_rate(rate):
            return 400
        self.kind = parts[1]
        self.rate_hz = float(rate)
        self.max_n = self.per_packet if rate <= 52 else self.per_packet_fast
        self.sub_ref = ref
        self.buf = []
        self.start_streaming()
        return 200

    async def send_raw(self, payload: bytes) -> None:
        if self.device is not None and self.connection is not None:
            with contextlib.suppress(Exception):
                await self.device.notify_subscriber(self.connection, self.data, payload)

    def on_link_lost(self) -> None:
        self.sub_ref = None
        self.buf = []

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        for i in range(len(t)):
            self.buf.append((float(t[i]), acc[i], gyro[i]))
            if len(self.buf) >= self.max_n:
                await self.flush()

    async def flush(self) -> None:
        if not self.buf or self.sub_ref is None:
            return
        ts = self.clock_ms0 + round(self.buf[0][0] * 1000)
        a = np.array([b[1] for b in self.buf])
        g = np.array([b[2] for b in self.buf])
        self.buf = []
        if self.kind == "Acc":
            payload = enc.encode_movesense_data(self.sub_ref, ts, a, None)
        elif self.kind == "Gyro":
            payload = enc.encode_movesense_data(self.sub_ref, ts, g / ms.STANDARD_GRAVITY, None)
        else:
            payload = enc.encode_movesense_data(self.sub_ref, ts, a, g)
        for part in ms.split_packet(payload):
            await self.send(self.data, part)


# ---- WitMotion ----------------------------------------------------------------------------------


class WitMotionSensor(EmulatedSensor):
    """WitMotion BWT901BLE5.0: `FF AA` register writes (unlock, rate, save), 0x55 0x61 stream."""

    default_name = "WT901BLE67"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.codes = {int(v): int(k) for k, v in profile.params["rate_codes"].items()}
        self.rate_hz = 10.0  # factory default (UNCONFIRMED in the vendor notes)
        self.unlocked = False
        self.notify = _char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.write = _char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_write),
        )
        self.notify.on(C.EVENT_SUBSCRIPTION, self._on_subscription)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(_uuid(self.profile.gatt.service), [self.notify, self.write])]

    def _on_write(self, conn: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) != 5 or v[:2] != b"\xff\xaa":
            return
        reg, val = v[2], v[3] | v[4] << 8
        if reg == READ_REGISTER:
            # `FF AA 27 reg 00` → `55 71 reg 00` + 8 int16 registers from reg on (all 0 but rate).
            regs = [0] * 8
            if val == int(self.profile.params["rate_register"]):
                regs[0] = next((c for c, hz in self.codes.items() if hz == self.rate_hz), 0)
            self._spawn(self.send(self.notify, enc.encode_witmotion_register(val, regs)))
        elif reg == 0x69 and val == 0xB588:
            self.unlocked = True
        elif reg == int(self.profile.params["rate_register"]) and val in self.codes:
            self.rate_hz = float(self.codes[val])
            if self._stream_task is not None:
                self.stop_streaming()
                self.start_streaming()

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        a = enc.quantise(acc, 16 / 32768)
        g = enc.quantise(gyro, 2000 / 32768)
        roll = np.degrees(np.arctan2(acc[:, 1], acc[:, 2]))
        pitch = np.degrees(np.arctan2(-acc[:, 0], np.hypot(acc[:, 1], acc[:, 2])))
        ang = enc.quantise(np.column_stack([roll, pitch, np.zeros_like(roll)]), 180 / 32768)
        for i in range(len(t)):
            await self.send(self.notify, enc.encode_witmotion(a[i], g[i], ang[i]))


# ---- Thingy:52 ----------------------------------------------------------------------------------


class ThingySensor(EmulatedSensor):
    """Thingy:52 motion service: 9-byte config (motion_freq_hz), raw data on CCCD enable."""

    default_name = "Thingy"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.config = [1000, 500, 500, 10, 1]  # MOTION_DEFAULT_CONFIG
        self.rate_hz = 10.0
        self.cfg = _char(
            profile.gatt.control,
            C.Properties.READ | C.Properties.WRITE,
            C.READABLE | C.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_config, write=self._write_config),
        )
        self.raw = _char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.raw.on(C.EVENT_SUBSCRIPTION, self._on_subscription)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(_uuid(self.profile.gatt.service), [self.cfg, self.raw])]

    def _read_config(self, conn: Connection) -> bytes:
        return th.build_config(*self.config)

    def _write_config(self, conn: Connection, value: bytes) -> None:
        if len(value) != th.CONFIG_LEN:
            raise att.ATT_Error(att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR)
        cfg = list(struct.unpack(th.CONFIG_FORMAT, bytes(value)))
        if not 5 <= cfg[3] <= 200:
            raise att.ATT_Error(APP_ERROR_OUT_OF_RANGE)
        self.config = cfg
        self.rate_hz = float(cfg[3])

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        a = enc.quantise(acc, 1 / 1024)
        g = enc.quantise(gyro, 1 / 32)
        zero = np.zeros(3, dtype=np.int64)
        for i in range(len(t)):
            await self.send(self.raw, enc.encode_thingy_raw(a[i], g[i], zero))


# ---- MetaWear -----------------------------------------------------------------------------------


class MetaWearSensor(EmulatedSensor):
    """MetaMotion: `[module][register][data]` commands; packed acc (03 1C) and gyro (13 07)."""

    default_name = "MetaWear"

    def __init__(
        self, profile: DeviceProfile, recording: Recording, *, chip: str = "bmi160", **kw: Any
    ) -> None:
        if chip == "bmi270" and kw.get("name") is None:
            kw["name"] = "MetaMotionS"
        super().__init__(profile, recording, **kw)
        p = profile.params
        self.chip = chip
        table = p.get(chip) or {}

        def codes(key: str) -> dict[int, int]:
            src = table[key] if key in table else p[key]
            return {int(v): int(k) for k, v in src.items()}

        self.acc_odr = codes("acc_odr_codes")
        self.gyro_odr = codes("gyro_odr_codes")
        self.acc_rng = codes("acc_range_codes")
        self.gyro_rng = codes("gyro_range_codes")
        self.packed = {m: regs[1] for m, regs in mw.REGISTERS[chip].items()}
        self.acc_lsb = {int(k): float(v) for k, v in p["acc_lsb_per_g"].items()}
        self.gyro_lsb = {int(k): float(v) for k, v in p["gyro_lsb_per_dps"].items()}
        self.acc_range, self.gyro_range = 8, 2000
        self.acc_rate = self.gyro_rate = 100.0
        self.state: dict[str, bool] = {}
        self.buf: dict[str, list[NDArray[np.int64]]] = {"acc": [], "gyro": []}
        self.cmd = _char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_command),
        )
        self.notify = _char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(_uuid(self.profile.gatt.service), [self.cmd, self.notify])]

    def _on_command(self, conn: Connection, value: bytes) -> None:
        v = bytes(value)
        if len(v) == 2:
            v += b"\x00"  # a read (`03 80`) has no data byte
        if len(v) < 3:
            return
        module, reg, data = v[0], v[1], v[2:]
        kind = {mw.ACC: "acc", mw.GYRO: "gyro"}.get(module)
        if kind is None:
            return
        if reg == mw.MODULE_INFO:
            impl = {"bmi160": 1, "bmi270": 4}[self.chip] if module == mw.ACC else (
                {"bmi160": 0, "bmi270": 1}[self.chip])
            self._spawn(self.send(self.notify, bytes([module, mw.MODULE_INFO, impl, 1])))
            return
        if reg == 0x03 and len(data) >= 2:  # config: odr/bw byte, range byte
            odr = (self.acc_odr if kind == "acc" else self.gyro_odr).get(data[0])
            rng = (self.acc_rng if kind == "acc" else self.gyro_rng).get(data[1])
            if odr is None or rng is None:
                return
            if kind == "acc":
                self.acc_rate, self.acc_range = float(odr), rng
            else:
                self.gyro_rate, self.gyro_range = float(odr), rng
        elif reg == self.packed[module]:
            self.state[f"{kind}_sub"] = data[0] == 1
        elif reg == 0x02:
            self.state[f"{kind}_int"] = data[0] == 1
        elif reg == 0x01:
            self.state[f"{kind}_on"] = data[0] == 1
        self.rate_hz = self.acc_rate
        if self._streaming("acc") or self._streaming("gyro"):
            self.start_streaming()
        else:
            self.stop_streaming()

    def _streaming(self, kind: str) -> bool:
        return all(self.state.get(f"{kind}_{k}") for k in ("sub", "int", "on"))

    def on_link_lost(self) -> None:
        self.state.clear()
        self.buf = {"acc": [], "gyro": []}

    async def emit(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        for kind, vals, lsb, reg, module in (
            ("acc", acc, self.acc_lsb[self.acc_range], self.packed[mw.ACC], mw.ACC),
            ("gyro", gyro, self.gyro_lsb[self.gyro_range], self.packed[mw.GYRO], mw.GYRO),
        ):
            if not self._streaming(kind):
                continue
            ints = enc.quantise(vals, 1.0 / lsb)
            buf = self.buf[kind]
            buf.extend(ints)
            while len(buf) >= 3:
                await self.send(self.notify, enc.encode_metawear(module, reg, np.array(buf[:3])))
                del buf[:3]


FAMILIES: dict[str, type[EmulatedSensor]] = {
    "polar_pmd": PolarPmdSensor,
    "movesense": MovesenseSensor,
    "witmotion": WitMotionSensor,
    "thingy52": ThingySensor,
    "metawear": MetaWearSensor,
}


def make_sensor(
    profile: DeviceProfile,
    recording: Recording,
    *,
    speed: float = 1.0,
    faults: Faults | None = None,
    name: str | None = None,
    chip: str | None = None,
    clock: Callable[[], float] | None = None,
) -> EmulatedSensor:
    """The emulator for a profile's family, replaying `recording` (`chip`: MetaWear's
    bmi160 for a MetaMotion RL/C, bmi270 for a MetaMotion S)."""
    kw: dict[str, Any] = {"speed": speed, "faults": faults, "name": name, "clock": clock}
    if chip is not None:
        kw["chip"] = chip
    return FAMILIES[profile.family](profile, recording, **kw)


def demo_recording(
    rate_hz: float = 52.0, duration_s: float = 120.0, *, device: str = "virtual"
) -> Recording:
    """A plausible thigh signal for `--device virtual:…` without `--replay`: still, then bridges."""
    from datetime import UTC, datetime

    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    phase = np.where(t > 5, 2 * math.pi * (t - 5) / 6.0, 0.0)
    tilt = np.radians(30) * (1 - np.cos(phase)) / 2
    acc = np.column_stack([np.sin(tilt), 0.02 * np.sin(2 * math.pi * 0.3 * t), np.cos(tilt)])
    gyro = np.column_stack(
        [np.zeros(n), np.degrees(np.gradient(tilt, t)), 0.5 * np.sin(2 * math.pi * 0.2 * t)]
    )
    return Recording(
        t=t,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=rate_hz,
        start=datetime.now(UTC).replace(microsecond=0),
        device=device,
    )
