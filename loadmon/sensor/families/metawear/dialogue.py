"""Provides the MetaWear dialogue: module info (BMI160 or BMI270), then each sensor's registers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bleak import BleakClient

from loadmon.errors import DecodeError, DeviceError
from loadmon.profiles import DeviceProfile
from loadmon.sensor.dialogue import Session
from loadmon.sensor.families.metawear import decode as mw
from loadmon.sensor.stream import StreamOptions


class MetaWearSession(Session):
    """Reads the accelerometer's module info to tell MetaMotion S (BMI270) from RL/C (BMI160),
    then configures and starts each sensor with that chip's registers and codes."""

    INFO_TIMEOUT_S = 2.0

    def __init__(self, profile: DeviceProfile, opts: StreamOptions) -> None:
        super().__init__(profile, opts)
        self.chip = str(profile.params.get("chip", "bmi160"))
        acc_lsb, gyro_lsb = mw.scales(profile, self.settings)
        self.settings = replace(self.settings, acc_factor=1.0 / acc_lsb,
                                gyro_factor=1.0 / gyro_lsb)

    def _codes(self, table: str) -> Any:
        p = self.profile.params
        chip_table = p.get(self.chip)
        if chip_table is not None and table in chip_table:
            return chip_table[table]
        return p[table]

    def _commands(self, on: bool) -> list[bytes]:
        out: list[bytes] = []
        kinds = [("acc", mw.ACC)]
        if self.use_gyro:
            kinds.append(("gyro", mw.GYRO))
        for kind, module in kinds:
            packed = mw.REGISTERS[self.chip][module][1]
            if on:
                rng = self.settings.acc_range if kind == "acc" else self.settings.gyro_range
                odr = self._codes(f"{kind}_odr_codes").get(str(self.rate))
                rcode = self._codes(f"{kind}_range_codes").get(str(rng))
                if odr is None or rcode is None:
                    raise DeviceError(
                        f"{self.profile.name}: no {kind} code for {self.rate} Hz / ±{rng}"
                    )
                out += [
                    mw.cmd(module, 0x03, int(odr), int(rcode)),
                    mw.cmd(module, packed, 1),
                    mw.cmd(module, 0x02, 1, 0),
                    mw.cmd(module, 0x01, 1),
                ]
            else:
                out += [mw.cmd(module, 0x01, 0), mw.cmd(module, 0x02, 0, 1),
                        mw.cmd(module, packed, 0)]
        return out

    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        g = self.profile.gatt
        info: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def route(char: Any, data: bytearray) -> None:
            if data[:2] == bytes([mw.ACC, mw.MODULE_INFO]):
                if not info.done():
                    info.set_result(bytes(data))
                return
            on_data(char, data)

        await client.start_notify(g.data, route)
        await client.write_gatt_char(g.control, mw.cmd(mw.ACC, mw.MODULE_INFO), response=True)
        try:
            reply = await asyncio.wait_for(info, self.INFO_TIMEOUT_S)
        except TimeoutError:
            raise DeviceError(f"{self.profile.name} did not answer the module-info read") from None
        try:
            self.chip = mw.parse_module_info(reply)
        except DecodeError as e:
            raise DeviceError(f"{self.profile.name}: {e}") from None
        self.settings = replace(self.settings, chip=self.chip)
        for c in self._commands(True):
            await client.write_gatt_char(g.control, c, response=True)

    async def stop(self, client: BleakClient) -> None:
        with contextlib.suppress(Exception):
            for c in self._commands(False):
                await client.write_gatt_char(self.profile.gatt.control, c, response=True)


Dialogue = MetaWearSession
