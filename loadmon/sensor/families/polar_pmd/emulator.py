"""Provides the emulated Polar Verity Sense / H10: PMD control point and measurement frames."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import numpy as np
from bumble import gatt
from bumble.device import Connection
from numpy.typing import NDArray

from loadmon.profiles import DeviceProfile
from loadmon.recording import POLAR_EPOCH_UNIX_NS, Recording
from loadmon.sensor.families.polar_pmd import decode as pmd
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.emulators import C, EmulatedSensor, FloatArray, gatt_char, gatt_uuid

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
        self.cp = gatt_char(
            profile.gatt.control,
            C.Properties.READ | C.Properties.WRITE | C.Properties.INDICATE,
            C.READABLE | C.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_features, write=self._on_cp_write),
        )
        self.data = gatt_char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(gatt_uuid(self.profile.gatt.service), [self.cp, self.data])]

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


Emulator = PolarPmdSensor
