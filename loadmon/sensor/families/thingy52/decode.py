"""Provides the Thingy:52 motion-service decoders: the 18-byte raw characteristic and the config.

Raw data is int16 acc 6Q10 (g = v/1024), gyro 11Q5 (°/s = v/32), compass 12Q4 (µT = v/16),
per the firmware's m_motion.c; the 9-byte config holds motion_freq_hz (PROTOCOLS.md 4).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from loadmon.errors import DecodeError
from loadmon.sensor.blocks import DecodeSettings, FloatArray, SampleBlock

if TYPE_CHECKING:
    from loadmon.profiles import DeviceProfile

RAW_LEN = 18
CONFIG_FORMAT = "<HHHHB"
CONFIG_LEN = 9
ACC_SCALE = 1 / 1024
GYRO_SCALE = 1 / 32
COMPASS_SCALE = 1 / 16


def decode_raw(payload: bytes) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One raw notification → (acc g, gyro °/s, compass µT), each (1, 3)."""
    if len(payload) != RAW_LEN:
        raise DecodeError(f"Thingy:52 raw motion data must be {RAW_LEN} bytes, got {len(payload)}")
    v = np.array(struct.unpack("<9h", payload), dtype=np.float64)
    return v[None, 0:3] * ACC_SCALE, v[None, 3:6] * GYRO_SCALE, v[None, 6:9] * COMPASS_SCALE


def parse_config(data: bytes) -> tuple[int, int, int, int, int]:
    """(pedometer ms, temperature-compensation ms, compass ms, motion Hz, wake on motion)."""
    if len(data) != CONFIG_LEN:
        raise DecodeError(f"Thingy:52 motion config must be {CONFIG_LEN} bytes, got {len(data)}")
    return struct.unpack(CONFIG_FORMAT, data)  # type: ignore[return-value]


def build_config(pedometer_ms: int, temp_ms: int, compass_ms: int, motion_hz: int,
                 wake_on_motion: int) -> bytes:
    return struct.pack(CONFIG_FORMAT, pedometer_ms, temp_ms, compass_ms, motion_hz, wake_on_motion)


def block(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock:
    """One raw-data notification: accelerometer and gyro (the compass is not kept)."""
    acc, gyro, _ = decode_raw(payload)
    return SampleBlock(acc, gyro, received_at)
