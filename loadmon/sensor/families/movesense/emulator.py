"""Provides the emulated Movesense: GSP commands and results, 4-sample Acc / IMU6 packets."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from bumble import gatt
from bumble.device import Connection

from loadmon.profiles import DeviceProfile
from loadmon.recording import Recording
from loadmon.sensor.families.movesense import decode as ms
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.emulators import C, EmulatedSensor, FloatArray, gatt_char, gatt_uuid


class MovesenseSensor(EmulatedSensor):
    """Movesense GATT sensor-data service: HELLO, SUBSCRIBE `/Meas/IMU6|Acc|Gyro/<rate>` with a
    NUL-terminated path (GSP; an unterminated one, as the 2.1.x sample sends, works too),
    a `01 ref status` result for each subscribe, DATA notifications of 4 samples (8 above 52 Hz)
    split into DATA + DATA_PART2 when longer than the firmware's 158-byte buffer."""

    default_name = "Movesense 174630000192"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.cmd = gatt_char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_command),
        )
        self.data = gatt_char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.sub_ref: int | None = None
        self.kind = "IMU6"
        self.per_packet = int(profile.params["max_samples_per_packet"])
        self.per_packet_fast = int(profile.params.get("fast_samples_per_packet", self.per_packet))
        self.max_n = self.per_packet
        self.buf: list[tuple[float, FloatArray, FloatArray]] = []
        self.clock_ms0 = 123_456  # device-relative ms at replay time 0

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(gatt_uuid(self.profile.gatt.service), [self.cmd, self.data])]

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


Emulator = MovesenseSensor
