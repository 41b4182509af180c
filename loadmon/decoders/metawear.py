"""Provides the MetaWear (MetaMotion, BMI160) decoders: `[module][register][data]` messages.

Streams: accelerometer `03 04` (one x,y,z) or packed `03 1C` (three), gyro `13 05` or packed
`13 07`; int16 divided by the range's LSB/g or LSB/(°/s) (PROTOCOLS.md 5).
"""

from __future__ import annotations

import numpy as np

from loadmon.decoders.base import FloatArray
from loadmon.errors import DecodeError

ACC, GYRO = 0x03, 0x13
ACC_DATA, ACC_PACKED = 0x04, 0x1C
GYRO_DATA, GYRO_PACKED = 0x05, 0x07


def decode_message(
    payload: bytes, *, acc_lsb_per_g: float, gyro_lsb_per_dps: float
) -> tuple[str, FloatArray]:
    """A data notification → ("acc", g) or ("gyro", °/s), (n, 3) oldest first."""
    if len(payload) < 2:
        raise DecodeError(f"MetaWear: message too short ({len(payload)} bytes)")
    module, register = payload[0], payload[1] & 0x7F
    body = payload[2:]
    if module == ACC and register in (ACC_DATA, ACC_PACKED):
        kind, scale = "acc", acc_lsb_per_g
    elif module == GYRO and register in (GYRO_DATA, GYRO_PACKED):
        kind, scale = "gyro", gyro_lsb_per_dps
    else:
        raise DecodeError(f"MetaWear: not a motion data message (module {module:#04x}, "
                          f"register {register:#04x})")
    want = 18 if register in (ACC_PACKED, GYRO_PACKED) else 6
    if len(body) != want:
        raise DecodeError(f"MetaWear: {kind} data must be {want} bytes, got {len(body)}")
    v = np.frombuffer(body, dtype="<i2").astype(np.float64).reshape(-1, 3)
    return kind, v / scale


def cmd(module: int, register: int, *data: int) -> bytes:
    return bytes([module, register, *data])
