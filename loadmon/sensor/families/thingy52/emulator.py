"""Provides the emulated Thingy:52: the motion configuration and raw-data notifications."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from bumble import att, gatt
from bumble.device import Connection

from loadmon.profiles import DeviceProfile
from loadmon.recording import Recording
from loadmon.sensor.families.thingy52 import decode as th
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.emulators import C, EmulatedSensor, FloatArray, gatt_char, gatt_uuid

#: ATT application error the emulated Thingy returns for a motion rate outside 5–200 Hz.
APP_ERROR_OUT_OF_RANGE = 0x80


class ThingySensor(EmulatedSensor):
    """Thingy:52 motion service: 9-byte config (motion_freq_hz), raw data on CCCD enable."""

    default_name = "Thingy"

    def __init__(self, profile: DeviceProfile, recording: Recording, **kw: Any) -> None:
        super().__init__(profile, recording, **kw)
        self.config = [1000, 500, 500, 10, 1]  # MOTION_DEFAULT_CONFIG
        self.rate_hz = 10.0
        self.cfg = gatt_char(
            profile.gatt.control,
            C.Properties.READ | C.Properties.WRITE,
            C.READABLE | C.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_config, write=self._write_config),
        )
        self.raw = gatt_char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")
        self.raw.on(C.EVENT_SUBSCRIPTION, self._on_subscription)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(gatt_uuid(self.profile.gatt.service), [self.cfg, self.raw])]

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


Emulator = ThingySensor
