"""Provides the byte encoders the emulated sensors speak (inverse of the families' decode.py).

Kept apart from the decoders so the round-trip tests check one against the other.
"""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

from loadmon.sensor.families.movesense import decode as ms
from loadmon.sensor.families.polar_pmd import decode as pmd

IntArray = NDArray[np.int64]


# ---- Polar PMD -------------------------------------------------------------------------------


def pmd_header(measurement_type: int, timestamp_ns: int, frame_type: int) -> bytes:
    return bytes([measurement_type]) + struct.pack("<Q", timestamp_ns) + bytes([frame_type])


def delta_bits_needed(deltas: IntArray) -> int:
    """Smallest two's-complement width holding every delta (at least 1 bit... 2 for ±1)."""
    if deltas.size == 0:
        return 1
    lo, hi = int(deltas.min()), int(deltas.max())
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def pack_bits(values: IntArray, bits: int) -> bytes:
    """Two's-complement `bits`-wide values packed LSB-first, in order."""
    v = values.astype(np.int64) & ((1 << bits) - 1)
    allbits = ((v[:, None] >> np.arange(bits, dtype=np.int64)) & 1).astype(np.uint8).ravel()
    return np.packbits(allbits, bitorder="little").tobytes()


def encode_delta_body(samples: IntArray, resolution_bits: int = 16) -> bytes:
    """Reference sample + one block of the minimal delta width (what the Verity sends)."""
    samples = np.asarray(samples, dtype=np.int64)
    n = samples.shape[0]
    width = (resolution_bits + 7) // 8
    ref = b"".join(int(x & ((1 << (8 * width)) - 1)).to_bytes(width, "little") for x in samples[0])
    out = bytearray(ref)
    if n > 1:
        d = np.diff(samples, axis=0).astype(np.int64)
        # Block counts are one byte: split long runs.
        for i in range(0, n - 1, 255):
            chunk = d[i : i + 255]
            bits = delta_bits_needed(chunk)
            out += bytes([bits, chunk.shape[0]]) + pack_bits(chunk.ravel(), bits)
    return bytes(out)


def delta_frame_size(samples: IntArray, resolution_bits: int = 16) -> int:
    n = samples.shape[0]
    ch = samples.shape[1]
    size = int(pmd.HEADER_LEN + ch * ((resolution_bits + 7) // 8))
    if n > 1:
        d = np.diff(np.asarray(samples, dtype=np.int64), axis=0).astype(np.int64)
        for i in range(0, n - 1, 255):
            chunk = d[i : i + 255]
            size += 2 + (int(chunk.size) * delta_bits_needed(chunk) + 7) // 8
    return size


def encode_delta_frame(
    measurement_type: int, timestamp_ns: int, samples: IntArray, resolution_bits: int = 16
) -> bytes:
    return pmd_header(measurement_type, timestamp_ns, 0x80) + encode_delta_body(
        samples, resolution_bits
    )


def encode_float_delta_frame(
    measurement_type: int, timestamp_ns: int, values: NDArray[np.float64]
) -> bytes:
    """Frame type 0x81 for GYRO: float32 bit patterns as 32-bit references, deltas between
    patterns as two's-complement integers (what the SDK's FLOAT_IEEE754 parser undoes)."""
    bits = np.asarray(values, dtype="<f4").view("<u4").astype(np.int64)
    ref = b"".join(int(x).to_bytes(4, "little") for x in bits[0])
    out = bytearray(ref)
    if bits.shape[0] > 1:
        d = np.diff(bits, axis=0)
        d = ((d + (1 << 31)) % (1 << 32)) - (1 << 31)  # wrap to int32
        for i in range(0, d.shape[0], 255):
            chunk = d[i : i + 255]
            nbits = delta_bits_needed(chunk)
            out += bytes([nbits, chunk.shape[0]]) + pack_bits(chunk.ravel(), nbits)
    return pmd_header(measurement_type, timestamp_ns, 0x81) + bytes(out)


def encode_raw_type1(timestamp_ns: int, mg: IntArray) -> bytes:
    """H10 ACC frame type 1: int16 x, y, z in mG."""
    return pmd_header(2, timestamp_ns, 0x01) + np.asarray(mg, dtype="<i2").tobytes()


def encode_cp_response(
    opcode: int, measurement_type: int, status: int, params: bytes = b"", more: int = 0
) -> bytes:
    head = bytes([0xF0, opcode, measurement_type, status])
    if opcode == pmd.OP_STOP and not params:
        return head + bytes([more])
    return head + bytes([more]) + params


def encode_settings(settings: dict[int, list[int]]) -> bytes:
    out = bytearray()
    for st, vals in settings.items():
        out += bytes([st, len(vals)])
        for v in vals:
            out += int(v).to_bytes(pmd.SETTING_WIDTH[st], "little")
    return bytes(out)


def encode_factor(factor: float) -> bytes:
    return bytes([pmd.FACTOR, 1]) + struct.pack("<f", factor)


# ---- Movesense -------------------------------------------------------------------------------


def encode_movesense_data(
    ref: int, ts_ms: int, acc_g: NDArray[np.float64], gyro_dps: NDArray[np.float64] | None
) -> bytes:
    """DATA notification: uint32 ms of first sample, acc (m/s²) then gyro (°/s), float32."""
    body = struct.pack("<I", ts_ms & 0xFFFFFFFF)
    body += (np.asarray(acc_g) * ms.STANDARD_GRAVITY).astype("<f4").tobytes()
    if gyro_dps is not None:
        body += np.asarray(gyro_dps).astype("<f4").tobytes()
    return bytes([ms.TYPE_DATA, ref]) + body


def encode_movesense_result(ref: int, body: bytes) -> bytes:
    return bytes([ms.TYPE_RESULT, ref]) + body


# ---- WitMotion, Thingy:52, MetaWear ------------------------------------------------------------


def encode_witmotion(acc_raw: IntArray, gyro_raw: IntArray, angle_raw: IntArray) -> bytes:
    """One `55 61` packet from int16 raw values."""
    vals = [*map(int, acc_raw), *map(int, gyro_raw), *map(int, angle_raw)]
    return b"\x55\x61" + struct.pack("<9h", *vals)


def encode_witmotion_register(register: int, values: list[int]) -> bytes:
    """A register-read reply `55 71 reg 00` + 8 int16 registers (20 bytes)."""
    return b"\x55\x71" + bytes([register & 0xFF, 0]) + struct.pack("<8h", *values)


def encode_thingy_raw(acc_raw: IntArray, gyro_raw: IntArray, compass_raw: IntArray) -> bytes:
    vals = [*map(int, acc_raw), *map(int, gyro_raw), *map(int, compass_raw)]
    return struct.pack("<9h", *vals)


def encode_metawear(module: int, register: int, raw: IntArray) -> bytes:
    """`module register` + int16 triples (one, or three for the packed registers)."""
    return bytes([module, register]) + np.asarray(raw, dtype="<i2").tobytes()


def quantise(values: NDArray[np.float64], step: float, bits: int = 16) -> IntArray:
    """Round to `step` and clamp to a signed `bits` integer, as the sensor's ADC would."""
    lim = (1 << (bits - 1)) - 1
    return np.clip(np.rint(np.asarray(values) / step), -lim - 1, lim).astype(np.int64)
