"""Provides the emulated MetaWear (MetaMotion RL/C: BMI160, S: BMI270): module/register commands."""

from __future__ import annotations

from typing import Any

import numpy as np
from bumble import gatt
from bumble.device import Connection
from numpy.typing import NDArray

from loadmon.profiles import DeviceProfile
from loadmon.recording import Recording
from loadmon.sensor.families.metawear import decode as mw
from loadmon.sensor.virtual import encoders as enc
from loadmon.sensor.virtual.emulators import C, EmulatedSensor, FloatArray, gatt_char, gatt_uuid


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
        self.cmd = gatt_char(
            profile.gatt.control,
            C.Properties.WRITE | C.Properties.WRITE_WITHOUT_RESPONSE,
            C.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_command),
        )
        self.notify = gatt_char(profile.gatt.data, C.Properties.NOTIFY, C.READABLE, b"")

    def services(self) -> list[gatt.Service]:
        return [gatt.Service(gatt_uuid(self.profile.gatt.service), [self.cmd, self.notify])]

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


Emulator = MetaWearSensor
