"""Provides the WitMotion dialogue: unlock, rate, save written without response, 100 ms apart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak import BleakClient

from loadmon.errors import DeviceError
from loadmon.sensor.dialogue import Session
from loadmon.sensor.families.witmotion import decode as wm


class WitMotionSession(Session):
    """Unlock, rate, save, as WitMotion's SDKs write them: without response, 100 ms apart."""

    PAUSE_S = 0.1

    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        g, p = self.profile.gatt, self.profile.params
        code = p["rate_codes"].get(str(self.rate))
        if code is None:
            raise DeviceError(f"{self.profile.name}: no rate code for {self.rate} Hz")
        for cmd in (
            bytes(p["unlock"]),
            wm.build_write(int(p["rate_register"]), int(code)),
            bytes(p["save"]),
        ):
            await client.write_gatt_char(g.control, cmd, response=False)
            await asyncio.sleep(self.PAUSE_S)
        # Subscribe last: the sensor streams from the CCCD write, now at the new rate.
        await client.start_notify(g.data, on_data)


Dialogue = WitMotionSession
