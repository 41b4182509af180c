"""Provides the Movesense gatt_sensordata_app decoders: DATA notifications (Acc, IMU6) and replies.

`[type][ref][body]`; DATA bodies are a uint32 ms timestamp of the FIRST sample, then N acc
vectors (float32 m/s²) and, for IMU6, N gyro vectors (°/s), block-ordered (PROTOCOLS.md 2).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from loadmon.errors import DecodeError
from loadmon.sensor.blocks import DecodeSettings, FloatArray, SampleBlock

if TYPE_CHECKING:
    from loadmon.profiles import DeviceProfile

STANDARD_GRAVITY = 9.80665
TYPE_RESULT, TYPE_DATA, TYPE_DATA_PART2 = 1, 2, 3
#: Body layouts by subscription: vectors per sample (acc then gyro, block-ordered for IMU6).
KINDS = {"Acc": 1, "Gyro": 1, "IMU6": 2}
#: Largest notification the firmware sends (its 158-byte buffer, "MTU − 3" at MTU 161).
MAX_PACKET = 158
CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE = 0, 1, 2


def subscription_kind(gyro: bool) -> str:
    """What loadmon subscribes to: `/Meas/IMU6` with the gyro, `/Meas/Acc` without."""
    return "IMU6" if gyro else "Acc"


def body_fits(body_len: int, kind: str) -> bool:
    """Whether a DATA body of this length is a whole `/Meas/<kind>` notification."""
    per = 12 * KINDS[kind]
    return body_len >= 4 + per and (body_len - 4) % per == 0


def decode_data(
    payload: bytes, *, kind: str = "IMU6", imu6: bool | None = None
) -> tuple[int, int, FloatArray | None, FloatArray | None]:
    """DATA notification → (ref, ms timestamp of first sample, acc g or None, gyro °/s or None).

    `kind` is the subscribed resource: "Acc" (m/s² vectors), "Gyro" (°/s vectors) or "IMU6"
    (N acc vectors, then N gyro vectors). A reassembled DATA + DATA_PART2 pair decodes the same.
    """
    if imu6 is not None:
        kind = "IMU6" if imu6 else "Acc"
    if kind not in KINDS:
        raise DecodeError(f"Movesense: unknown subscription {kind!r}")
    if len(payload) < 2 or payload[0] != TYPE_DATA:
        raise DecodeError(f"Movesense: not a DATA notification: {payload[:8].hex(' ')}")
    body = payload[2:]
    per = 12 * KINDS[kind]
    if not body_fits(len(body), kind):
        raise DecodeError(
            f"Movesense: DATA body of {len(body)} bytes is not 4 + N×{per} (/Meas/{kind}; "
            "a first part waiting for its DATA_PART2?)"
        )
    n = (len(body) - 4) // per
    (ts,) = struct.unpack_from("<I", body, 0)
    vals = np.frombuffer(body, dtype="<f4", offset=4).astype(np.float64)
    if not np.isfinite(vals).all():
        raise DecodeError("Movesense: DATA carries NaN or infinite values")
    first = vals[: 3 * n].reshape(n, 3)
    if kind == "Acc":
        return payload[1], int(ts), first / STANDARD_GRAVITY, None
    if kind == "Gyro":
        return payload[1], int(ts), None, first
    return payload[1], int(ts), first / STANDARD_GRAVITY, vals[3 * n :].reshape(n, 3)


def join_parts(part1: bytes, part2: bytes) -> bytes:
    """DATA (type 2) + DATA_PART2 (type 3, same ref) → one DATA notification."""
    if len(part2) < 3 or part2[0] != TYPE_DATA_PART2 or part1[:1] != bytes([TYPE_DATA]):
        raise DecodeError("Movesense: DATA_PART2 without the DATA it continues")
    if part1[1] != part2[1]:
        raise DecodeError(
            f"Movesense: DATA_PART2 of reference {part2[1]} continues reference {part1[1]}"
        )
    return bytes(part1) + bytes(part2[2:])


def split_packet(payload: bytes, limit: int = MAX_PACKET) -> list[bytes]:
    """A DATA notification longer than the firmware's buffer → DATA + DATA_PART2 (emulator)."""
    if len(payload) <= limit:
        return [payload]
    return [payload[:limit], bytes([TYPE_DATA_PART2, payload[1]]) + payload[limit:]]


def parse_result(payload: bytes) -> tuple[int, bytes]:
    """COMMAND_RESULT `01 ref body` → (ref, body); HELLO replies 'Hello'."""
    if len(payload) < 2 or payload[0] != TYPE_RESULT:
        raise DecodeError(f"Movesense: not a command result: {payload[:8].hex(' ')}")
    return payload[1], bytes(payload[2:])


def result_status(body: bytes) -> int | None:
    """The HTTP-style status of a subscribe result: uint16 (GSP: little-endian; the 2.1.x
    sample's "no free slot" is written `01 FB`, i.e. 507 big-endian); None if none."""
    if len(body) < 2:
        return None
    le, be = int.from_bytes(body[:2], "little"), int.from_bytes(body[:2], "big")
    return le if 100 <= le < 600 else be if 100 <= be < 600 else le


def build_hello(ref: int) -> bytes:
    return bytes([CMD_HELLO, ref])


def build_subscribe(ref: int, path: str) -> bytes:
    """`01 ref path NUL`: the GSP client terminates the path (the 2.1.x sample reads it as a
    C string, so the NUL is harmless there)."""
    return bytes([CMD_SUBSCRIBE, ref]) + path.encode("utf-8") + b"\x00"


def build_unsubscribe(ref: int) -> bytes:
    return bytes([CMD_UNSUBSCRIBE, ref])


def block(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock | None:
    """One whole DATA notification (a result is no samples; DATA_PART2 needs its DATA)."""
    if payload[:1] == bytes([TYPE_RESULT]):
        return None
    if payload[:1] == bytes([TYPE_DATA_PART2]):
        raise DecodeError("Movesense: DATA_PART2 without the DATA it continues")
    kind = subscription_kind(s.gyro and profile.has_gyro)
    _, ts_ms, acc, gyro = decode_data(payload, kind=kind)
    return SampleBlock(acc, gyro, received_at, ts_ms * 1_000_000, "first")
