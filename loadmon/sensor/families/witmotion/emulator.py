"""Provides the emulated WitMotion BWT901BLE: `FF AA` writes, register reads, data packets."""

from __future__ import annotations

from typing import Any

import numpy as np
from bumble import gatt
from bumble.device import Connection

from loadmon.profiles import DeviceProfile
from loadmon.recording import Recording
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.emulators import C, EmulatedSensor, FloatArray, gatt_char, gatt_uuid

#: WitMotion's register-read command `FF AA 27 <reg> 00` (the SDKs' ReadReg).
READ_REGISTER = 0x27


class WitMotionSensor(EmulatedSensor):
    """WitMotion BWT901BLE5.0: `FF AA` register writes (unlock, rate, save), 0x55 0x61 stream."""

    default_name = "WT901BLE67"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.codes = {int(v): int(k) for k, v in profile.params["rate_codes"].items()}
        self.rate_hz = 10.0  # factory default (UNCONFIRMED in the vendor notes)
        self.unlocked = False
        self.notify = gatt_char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.write = gatt_char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_write),
        )
        self.notify.on(C.EVENT_SUBSCRIPTION, self._on_subscription)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(gatt_uuid(self.profile.gatt.service), [self.notify, self.write])]

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


Emulator = WitMotionSensor
