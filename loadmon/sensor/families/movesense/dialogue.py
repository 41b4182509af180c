"""Provides the Movesense GSP dialogue: HELLO, SUBSCRIBE a NUL-terminated path, UNSUBSCRIBE."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bleak import BleakClient

from loadmon.errors import DeviceError
from loadmon.sensor.dialogue import Session
from loadmon.sensor.families.movesense import decode as ms


class MovesenseSession(Session):
    """HELLO, then SUBSCRIBE `/Meas/IMU6/<rate>` (or `/Meas/Acc/<rate>` without gyro).

    The path is NUL-terminated (GSP); results come on the data characteristic as
    `01 ref status…` and are taken out of the sample stream here. A subscribe result with an
    error status stops with one line; none at all is accepted (the 2.1.x sample acknowledges
    nothing, and GSP warns that delivery of responses is not guaranteed).
    """

    #: Seconds to wait for a HELLO / subscribe result before going on without one.
    RESULT_WAIT_S = 1.0

    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        g, p = self.profile.gatt, self.profile.params
        self.control = asyncio.Queue()

        def route(char: Any, data: bytearray) -> None:
            if data[:1] == bytes([ms.TYPE_RESULT]):
                self.control.put_nowait(bytes(data))
            else:
                on_data(char, data)

        await client.start_notify(g.data, route)
        ref = int(p["reference"])
        await client.write_gatt_char(g.control, ms.build_hello(ref), response=True)
        await self._result(ref)
        path = str(p["path_imu" if self.use_gyro else "path_acc"]).format(rate=self.rate)
        await client.write_gatt_char(g.control, ms.build_subscribe(ref, path), response=True)
        body = await self._result(ref)
        status = ms.result_status(body) if body is not None else None
        if status is not None and not 200 <= status < 300:
            raise DeviceError(f"{self.profile.name} refused subscription {path}: status {status}")

    async def _result(self, ref: int) -> bytes | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.RESULT_WAIT_S
        while True:
            try:
                raw = await asyncio.wait_for(self.control.get(), max(deadline - loop.time(), 0))
            except TimeoutError:
                return None
            got, body = ms.parse_result(raw)
            if got == ref:
                return body

    async def stop(self, client: BleakClient) -> None:
        with contextlib.suppress(Exception):
            ref = int(self.profile.params["reference"])
            await client.write_gatt_char(
                self.profile.gatt.control, ms.build_unsubscribe(ref), response=True
            )


Dialogue = MovesenseSession
