"""Provides the Movesense gatt_sensordata_app decoders: DATA notifications (Acc, IMU6) and replies.

`[type][ref][body]`; DATA bodies are a uint32 ms timestamp of the FIRST sample, then N acc
vectors (float32 m/s²) and, for IMU6, N gyro vectors (°/s), block-ordered (PROTOCOLS.md 2).
"""

from __future__ import annotations

import struct

import numpy as np

from loadmon.decoders.base import FloatArray
from loadmon.errors import DecodeError

STANDARD_GRAVITY = 9.80665
TYPE_RESULT, TYPE_DATA = 1, 2
CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE = 0, 1, 2


def decode_data(payload: bytes, *, imu6: bool) -> tuple[int, int, FloatArray, FloatArray | None]:
    """DATA notification → (ref, ms timestamp of first sample, acc g, gyro °/s or None)."""
    if len(payload) < 2 or payload[0] != TYPE_DATA:
        raise DecodeError(f"Movesense: not a DATA notification: {payload[:8].hex(' ')}")
    body = payload[2:]
    per = 24 if imu6 else 12
    if len(body) < 4 + per or (len(body) - 4) % per:
        raise DecodeError(
            f"Movesense: DATA body of {len(body)} bytes is not 4 + N×{per} "
            f"({'IMU6' if imu6 else 'Acc'})"
        )
    n = (len(body) - 4) // per
    (ts,) = struct.unpack_from("<I", body, 0)
    vals = np.frombuffer(body, dtype="<f4", offset=4).astype(np.float64)
    acc = vals[: 3 * n].reshape(n, 3) / STANDARD_GRAVITY
    gyro = vals[3 * n :].reshape(n, 3) if imu6 else None
    if not np.isfinite(vals).all():
        raise DecodeError("Movesense: DATA carries NaN or infinite values")
    return payload[1], int(ts), acc, gyro


def parse_result(payload: bytes) -> tuple[int, bytes]:
    """COMMAND_RESULT `01 ref body` → (ref, body); HELLO replies 'Hello'."""
    if len(payload) < 2 or payload[0] != TYPE_RESULT:
        raise DecodeError(f"Movesense: not a command result: {payload[:8].hex(' ')}")
    return payload[1], bytes(payload[2:])


def build_hello(ref: int) -> bytes:
    return bytes([CMD_HELLO, ref])


def build_subscribe(ref: int, path: str) -> bytes:
    return bytes([CMD_SUBSCRIBE, ref]) + path.encode("utf-8")


def build_unsubscribe(ref: int) -> bytes:
    return bytes([CMD_UNSUBSCRIBE, ref])
