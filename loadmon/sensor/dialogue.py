"""Provides `Session`: the command dialogue that starts and stops one sensor family's stream.

Each family's `dialogue.py` (loadmon.sensor.families) subclasses it; the stream picks the
family's `Dialogue` from the families table. A session talks to a bleak client and holds the
decode settings the dialogue established (ranges, rate, FACTORs, the chip).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loadmon.profiles import DeviceProfile
from loadmon.sensor.blocks import DecodeSettings

if TYPE_CHECKING:
    from bleak import BleakClient

    from loadmon.sensor.stream import StreamOptions


class Session:
    """The command dialogue that starts and stops one sensor family's stream."""

    def __init__(self, profile: DeviceProfile, opts: StreamOptions) -> None:
        self.profile = profile
        self.opts = opts
        self.control: asyncio.Queue[bytes] = asyncio.Queue()
        acc_range = opts.acc_range or profile.acc.default_range
        gyro_range = opts.gyro_range or (profile.gyro.default_range if profile.gyro else None)
        self.settings = DecodeSettings(
            acc_factor=profile.acc.resolution or None,
            gyro_factor=(profile.gyro.resolution or None) if profile.gyro else None,
            acc_range=acc_range,
            gyro_range=gyro_range,
            rate_hz=self.rate,
            gyro=self.use_gyro,
        )

    @property
    def rate(self) -> int:
        return self.opts.rate_hz or self.profile.acc.default_rate_hz

    @property
    def use_gyro(self) -> bool:
        return self.opts.gyro and self.profile.has_gyro

    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:
        """Best effort: the link may already be gone."""

    def storage_steps(self) -> tuple[float, float]:
        """The sensor's own step in g and °/s, so stored samples are whole multiples of it."""
        from loadmon import storage

        acc = self.settings.acc_factor or storage.DEFAULT_ACC_SCALE_G
        gyro = self.settings.gyro_factor or storage.DEFAULT_GYRO_SCALE_DPS
        return acc, gyro
