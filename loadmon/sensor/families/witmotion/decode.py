"""Provides the WitMotion BWT901BLE decoders: 0x55 0x61 packets with resynchronisation.

The sensor streams 20-byte packets `55 61` + 9 × int16 with no checksum, timestamp or
counter; a notification may carry one or several, so we resync on the header (PROTOCOLS.md 3).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from loadmon.errors import DecodeError
from loadmon.sensor.blocks import DecodeSettings, FloatArray, SampleBlock

if TYPE_CHECKING:
    from loadmon.profiles import DeviceProfile

HEADER_DATA = b"\x55\x61"
HEADER_REG = b"\x55\x71"
PACKET_LEN = 20
ACC_SCALE = 16 / 32768
GYRO_SCALE = 2000 / 32768


def split_stream(buf: bytes) -> tuple[list[bytes], bytes, int]:
    """Cut a byte stream into whole packets: (data packets, unfinished tail, bytes skipped)."""
    packets: list[bytes] = []
    pos = skipped = 0
    n = len(buf)
    while pos < n:
        if buf[pos] != 0x55:
            nxt = buf.find(b"\x55", pos + 1)
            nxt = n if nxt < 0 else nxt
            skipped += nxt - pos
            pos = nxt
            continue
        if pos + 1 >= n:
            break
        head = buf[pos : pos + 2]
        if head not in (HEADER_DATA, HEADER_REG):
            skipped += 1
            pos += 1
            continue
        if pos + PACKET_LEN > n:
            break
        if head == HEADER_DATA:
            packets.append(bytes(buf[pos : pos + PACKET_LEN]))
        pos += PACKET_LEN
    return packets, bytes(buf[pos:]), skipped


def decode_packets(packets: list[bytes]) -> tuple[FloatArray, FloatArray]:
    """Whole `55 61` packets → (acc g, gyro °/s), one row per packet."""
    if not packets:
        raise DecodeError("WitMotion: no 0x55 0x61 packet in the notification")
    raw = np.array([struct.unpack_from("<9h", p, 2) for p in packets], dtype=np.float64)
    return raw[:, 0:3] * ACC_SCALE, raw[:, 3:6] * GYRO_SCALE


def build_write(register: int, value: int) -> bytes:
    """`FF AA reg lo hi` register write."""
    return bytes([0xFF, 0xAA, register, value & 0xFF, (value >> 8) & 0xFF])


def block(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock:
    """The whole packets of one notification (a live stream carries split ones over)."""
    packets, _, _ = split_stream(payload)
    acc, gyro = decode_packets(packets)
    return SampleBlock(acc, gyro, received_at)
