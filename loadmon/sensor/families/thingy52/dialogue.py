"""Provides the Thingy:52 dialogue: read the motion configuration, set the rate, subscribe."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.exc import BleakError

from loadmon.errors import DeviceError
from loadmon.sensor.dialogue import Session
from loadmon.sensor.families.thingy52 import decode as th


class ThingySession(Session):
    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        g = self.profile.gatt
        cfg = list(th.parse_config(bytes(await client.read_gatt_char(g.control))))
        cfg[int(self.profile.params["config_rate_field"])] = self.rate
        try:
            await client.write_gatt_char(g.control, th.build_config(*cfg), response=True)
        except BleakError as e:
            raise DeviceError(f"{self.profile.name} refused motion config: {e}") from None
        await client.start_notify(g.data, on_data)

    async def stop(self, client: BleakClient) -> None:
        with contextlib.suppress(Exception):
            await client.stop_notify(self.profile.gatt.data)


Dialogue = ThingySession
