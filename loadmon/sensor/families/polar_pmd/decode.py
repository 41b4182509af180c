"""Provides the Polar PMD decoders: data frames (raw, delta-compressed) and control-point replies.

Layouts follow polar-ble-sdk (PmdDataFrame.kt, BlePMDClient.parseDeltaFramesAll,
PmdControlPointResponse.kt, PmdSetting.kt); see ../shared/ble/PROTOCOLS.md section 1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from loadmon.errors import DecodeError
from loadmon.sensor.blocks import DecodeSettings, SampleBlock

if TYPE_CHECKING:
    from loadmon.profiles import DeviceProfile

IntArray = NDArray[np.int64]

MEASUREMENT_TYPES = {0: "ECG", 1: "PPG", 2: "ACC", 3: "PPI", 5: "GYRO", 6: "MAG", 7: "SKIN_TEMP",
                     9: "SDK_MODE"}
STATUS = {
    0: "SUCCESS",
    1: "INVALID_OP_CODE",
    2: "INVALID_MEASUREMENT_TYPE",
    3: "NOT_SUPPORTED",
    4: "INVALID_LENGTH",
    5: "INVALID_PARAMETER",
    6: "ALREADY_IN_STATE",
    7: "INVALID_RESOLUTION",
    8: "INVALID_SAMPLE_RATE",
    9: "INVALID_RANGE",
    10: "INVALID_MTU",
    11: "INVALID_NUMBER_OF_CHANNELS",
    12: "INVALID_STATE",
    13: "DEVICE_IN_CHARGER",
    14: "DISK_FULL",
}
# Setting types (PmdSetting.kt) and their value widths in bytes.
SAMPLE_RATE, RESOLUTION, RANGE, RANGE_MILLIUNIT, CHANNELS, FACTOR, SECURITY = range(7)
SETTING_WIDTH = {SAMPLE_RATE: 2, RESOLUTION: 2, RANGE: 2, RANGE_MILLIUNIT: 4, CHANNELS: 1,
                 FACTOR: 4, SECURITY: 16}
OP_GET_SETTINGS, OP_START, OP_STOP = 1, 2, 3
#: Measurement type code of SDK mode (`02 09` starts it, `03 09` stops it).
SDK_MODE = 9
HEADER_LEN = 10


@dataclass(frozen=True, eq=False)
class PmdFrame:
    """One decoded data frame: samples oldest first, timestamp of the LAST sample."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    #: (n, channels): raw integers for compressed / integer frames, floats for float frames.
    samples: NDArray[np.float64]


#: Frame types each measurement type can send (bit 7 = delta-compressed), per the SDK's
#: AccData.kt / GyrData.kt parsers: ACC raw 0/1/2 (int8/16/24 mG) and compressed 0x80 / 0x81;
#: GYRO only compressed (0x80 int16 × FACTOR, 0x81 float32 bit patterns × FACTOR).
FRAME_TYPES: dict[int, frozenset[int]] = {
    2: frozenset({0x00, 0x01, 0x02, 0x80, 0x81}),
    5: frozenset({0x80, 0x81}),
}
MG_PER_G = 1000.0


def decode_frame(
    payload: bytes, *, resolution_bits: int = 16, channels: int = 3, factor: float | None = None
) -> PmdFrame:
    """Decode a PMD data-characteristic notification into sensor counts (no unit conversion).

    Delta frames give integers × `factor` (None → 1.0, as the SDK does); raw frames give their
    integers as-is; GYRO 0x81 gives the float32 values the deltas rebuild. `to_units` turns
    these into g and °/s.
    """
    if len(payload) < HEADER_LEN + 1:
        raise DecodeError(f"PMD frame too short ({len(payload)} bytes, need > {HEADER_LEN})")
    mtype = payload[0] & 0x3F
    (ts,) = struct.unpack_from("<Q", payload, 1)
    ftype = payload[9]
    compressed = bool(ftype & 0x80)
    body = payload[HEADER_LEN:]
    if compressed and mtype == 5 and ftype & 0x7F == 1:
        # GYRO compressed type 1: 32-bit IEEE-754 bit patterns, deltas added as integers.
        bits = parse_delta_frames(body, channels=channels, resolution_bits=32, unsigned_ref=True)
        vals = (bits & 0xFFFFFFFF).astype("<u4").view("<f4").astype(np.float64)
        if not np.isfinite(vals).all():
            raise DecodeError("PMD gyro frame 0x81 rebuilds NaN or infinite values")
        vals = vals * (1.0 if factor is None else factor)
    elif compressed:
        ints = parse_delta_frames(body, channels=channels, resolution_bits=resolution_bits)
        vals = ints.astype(np.float64) * (1.0 if factor is None else factor)
    else:
        vals = _raw_frame(body, ftype & 0x7F, mtype, channels)
    return PmdFrame(mtype, int(ts), ftype & 0x7F, compressed, vals)


def to_units(
    payload: bytes,
    *,
    factor: float | None,
    resolution_bits: int = 16,
    channels: int = 3,
) -> PmdFrame:
    """Decode a frame into g (ACC) or °/s (GYRO) exactly as polar-ble-sdk scales it.

    ACC raw 0/1/2: mG, no FACTOR. ACC 0x80: counts × FACTOR in g (the SDK's "× FACTOR × 1000"
    mG). ACC 0x81: counts × FACTOR in mG. GYRO 0x80: counts × FACTOR °/s; GYRO 0x81: float32
    × FACTOR °/s. FACTOR is what the start response carried, 1.0 when it carried none.
    """
    if len(payload) < HEADER_LEN + 1:
        raise DecodeError(f"PMD frame too short ({len(payload)} bytes, need > {HEADER_LEN})")
    mtype, ftype = payload[0] & 0x3F, payload[9]
    allowed = FRAME_TYPES.get(mtype)
    if allowed is None:
        raise DecodeError(f"PMD measurement type {mtype} carries no motion samples")
    if ftype not in allowed:
        name = MEASUREMENT_TYPES.get(mtype, str(mtype))
        raise DecodeError(
            f"PMD {name} frame type {ftype:#04x} is not one the SDK parses "
            f"({', '.join(f'{t:#04x}' for t in sorted(allowed))})"
        )
    f = 1.0 if factor is None else factor
    fr = decode_frame(
        payload, resolution_bits=resolution_bits, channels=channels,
        factor=None if not ftype & 0x80 else f,
    )
    vals = fr.samples
    if mtype == 2 and (not fr.compressed or fr.frame_type == 1):
        vals = vals / MG_PER_G  # raw frames and compressed type 1 are mG
    return PmdFrame(fr.measurement_type, fr.timestamp_ns, fr.frame_type, fr.compressed, vals)


def _raw_frame(body: bytes, ftype: int, mtype: int, channels: int) -> NDArray[np.float64]:
    if mtype == 5 and ftype == 1:
        width, dtype = 4, "<f4"
    elif ftype in (0, 1, 2):
        width, dtype = ftype + 1, ""
    else:
        raise DecodeError(f"unsupported PMD frame type {ftype} for measurement {mtype}")
    step = width * channels
    if len(body) == 0 or len(body) % step:
        raise DecodeError(
            f"PMD raw frame type {ftype}: {len(body)} payload bytes is not a multiple of {step}"
        )
    if dtype:
        return np.frombuffer(body, dtype=dtype).astype(np.float64).reshape(-1, channels)
    if width == 3:
        b = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return v.astype(np.float64).reshape(-1, channels)
    dt = {1: "<i1", 2: "<i2"}[width]
    return np.frombuffer(body, dtype=dt).astype(np.float64).reshape(-1, channels)


def _sign_extend(v: IntArray, bits: int) -> IntArray:
    return np.where(v >= (1 << (bits - 1)), v - (1 << bits), v)


def parse_delta_frames(
    body: bytes, *, channels: int, resolution_bits: int, unsigned_ref: bool = False
) -> IntArray:
    """Reference sample, then blocks of `deltaBits, count, packed deltas` (LSB-first).

    `unsigned_ref` reads the reference without sign extension and wraps sums to the
    resolution, as the SDK does for float-encoded channels (GYRO 0x81: 32-bit patterns).
    """
    ref_len = channels * ((resolution_bits + 7) // 8)
    if len(body) < ref_len:
        raise DecodeError(f"delta frame shorter than its reference sample ({len(body)} bytes)")
    ref = np.array(
        [int.from_bytes(body[i : i + ref_len // channels], "little")
         for i in range(0, ref_len, ref_len // channels)],
        dtype=np.int64,
    )
    rows = [(ref if unsigned_ref else _sign_extend(ref, resolution_bits))[None, :]]
    prev = rows[0][0]
    pos = ref_len
    while pos < len(body):
        if pos + 2 > len(body):
            raise DecodeError(f"delta frame: truncated block header at byte {pos}")
        bits, count = body[pos], body[pos + 1]
        pos += 2
        if bits == 0 or bits > 32 or count == 0:
            raise DecodeError(f"delta frame: bad block (delta bits {bits}, count {count})")
        nbytes = (count * channels * bits + 7) // 8
        if pos + nbytes > len(body):
            raise DecodeError(
                f"delta frame: block needs {nbytes} bytes, only {len(body) - pos} left"
            )
        raw = np.frombuffer(body, dtype=np.uint8, count=nbytes, offset=pos)
        pos += nbytes
        allbits = np.unpackbits(raw, bitorder="little")[: count * channels * bits]
        weights = (1 << np.arange(bits, dtype=np.int64))
        deltas = _sign_extend(allbits.reshape(-1, bits).astype(np.int64) @ weights, bits)
        block = prev + np.cumsum(deltas.reshape(count, channels), axis=0)
        if unsigned_ref:
            block = block & ((1 << resolution_bits) - 1)
        rows.append(block)
        prev = block[-1]
    return np.concatenate(rows, axis=0)


# ---- control point ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CpResponse:
    opcode: int
    measurement_type: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_name(self) -> str:
        return STATUS.get(self.status, f"UNKNOWN_{self.status}")


def parse_cp_response(data: bytes) -> CpResponse:
    """`F0 opcode type status more params…` (a short reply has no `more`)."""
    if len(data) < 4 or data[0] != 0xF0:
        raise DecodeError(f"not a PMD control-point response: {data.hex(' ')}")
    more = bool(data[4]) if len(data) > 4 else False
    return CpResponse(data[1], data[2] & 0x3F, data[3], more, bytes(data[5:]))


def parse_settings(params: bytes) -> dict[int, list[float]]:
    """TLVs `type count value×count` → {setting type: values} (FACTOR as float32)."""
    out: dict[int, list[float]] = {}
    pos = 0
    while pos < len(params):
        if pos + 2 > len(params):
            raise DecodeError(f"PMD settings: truncated at byte {pos}")
        st, count = params[pos], params[pos + 1]
        pos += 2
        width = SETTING_WIDTH.get(st)
        if width is None:
            raise DecodeError(f"PMD settings: unknown setting type {st}")
        if pos + width * count > len(params):
            raise DecodeError(f"PMD settings: setting {st} needs {width * count} bytes")
        vals: list[float] = []
        for _ in range(count):
            chunk = params[pos : pos + width]
            pos += width
            if st == FACTOR:
                vals.append(struct.unpack("<f", chunk)[0])
            elif st == SECURITY:
                vals.append(float(len(chunk)))
            else:
                vals.append(float(int.from_bytes(chunk, "little")))
        out[st] = vals
    return out


def start_factor(resp: CpResponse) -> float | None:
    """The FACTOR a start response carries (`05 01 <float32>` or a bare float32), if any."""
    p = resp.params
    if len(p) >= 6 and p[0] == FACTOR:
        return float(struct.unpack_from("<f", p, 2)[0])
    if len(p) == 4:
        return float(struct.unpack("<f", p)[0])
    if len(p) >= 1 and p[0] == FACTOR:
        raise DecodeError(f"PMD start response: truncated FACTOR ({p.hex(' ')})")
    return None


def build_settings_request(measurement_type: int) -> bytes:
    return bytes([OP_GET_SETTINGS, measurement_type])


def build_start_request(measurement_type: int, settings: dict[int, int]) -> bytes:
    """`02 type` + one TLV per setting with count 1 (CHANNELS is one byte, others u16)."""
    out = bytearray([OP_START, measurement_type])
    for st in (SAMPLE_RATE, RESOLUTION, RANGE, CHANNELS):
        if st in settings:
            out += bytes([st, 1]) + int(settings[st]).to_bytes(SETTING_WIDTH[st], "little")
    return bytes(out)


def build_stop_request(measurement_type: int) -> bytes:
    return bytes([OP_STOP, measurement_type])


def parse_features(data: bytes) -> set[str]:
    """Feature read `0F mask…` → names of the measurement types the sensor offers."""
    if len(data) < 2 or data[0] != 0x0F:
        raise DecodeError(f"not a PMD feature read: {bytes(data).hex(' ')}")
    mask = int.from_bytes(data[1:3], "little")
    return {MEASUREMENT_TYPES[b] for b in MEASUREMENT_TYPES if mask >> b & 1}


def block(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock:
    """One PMD frame in g / °/s, checked against the measurements the session started."""
    p = profile.params
    if len(payload) < 1:
        raise DecodeError("empty PMD frame")
    mtype = payload[0] & 0x3F
    acc_type, gyro_type = int(p["acc_type"]), int(p.get("gyro_type", -1))
    started = s.started
    if started is None:
        started = frozenset({acc_type} | ({gyro_type} if profile.has_gyro and s.gyro else set()))
    if mtype not in started:
        names = ", ".join(MEASUREMENT_TYPES.get(t, str(t)) for t in sorted(started))
        raise DecodeError(
            f"PMD frame of measurement type {mtype} "
            f"({MEASUREMENT_TYPES.get(mtype, '?')}), but only {names} was started"
        )
    factor = s.acc_factor if mtype == acc_type else s.gyro_factor
    fr = to_units(
        payload,
        factor=factor,
        resolution_bits=int(p["resolution_bits"]),
        channels=int(p["channels"]),
    )
    if mtype == acc_type:
        return SampleBlock(fr.samples, None, received_at, fr.timestamp_ns, "last")
    return SampleBlock(None, fr.samples, received_at, fr.timestamp_ns, "last")
