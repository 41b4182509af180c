"""Provides the MetaWear (MetaMotion) decoders: `[module][register][data]` messages.

MetaMotion RL/C carry a BMI160, MetaMotion S a BMI270; the board says which in its module-info
reply (`03 80 <implementation> <revision>`: 1 = BMI160, 4 = BMI270; MetaWear-SDK-Cpp). Data
registers per chip: BMI160 acc `03 04` / packed `03 1C`, gyro `13 05` / packed `13 07`;
BMI270 acc `03 04` / packed `03 05`, gyro `13 04` / packed `13 05`. int16 divided by the
range's LSB/g or LSB/(°/s) (PROTOCOLS.md 5; the SDK's test_accelerometer_bmi270.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from loadmon.errors import DecodeError
from loadmon.sensor.blocks import DecodeSettings, FloatArray, SampleBlock

if TYPE_CHECKING:
    from loadmon.profiles import DeviceProfile

ACC, GYRO = 0x03, 0x13
ACC_DATA, ACC_PACKED = 0x04, 0x1C
GYRO_DATA, GYRO_PACKED = 0x05, 0x07
MODULE_INFO = 0x80
#: Accelerometer implementation codes of the module-info reply (MBL_MW_MODULE_ACC_TYPE_*).
ACC_IMPLEMENTATIONS = {1: "bmi160", 4: "bmi270"}
#: (data register, packed register) per chip and module.
REGISTERS: dict[str, dict[int, tuple[int, int]]] = {
    "bmi160": {ACC: (0x04, 0x1C), GYRO: (0x05, 0x07)},
    "bmi270": {ACC: (0x04, 0x05), GYRO: (0x04, 0x05)},
}


def parse_module_info(payload: bytes) -> str:
    """Module-info reply of the accelerometer `03 80 impl rev …` → "bmi160" or "bmi270"."""
    if len(payload) < 3 or payload[0] != ACC or payload[1] != MODULE_INFO:
        raise DecodeError(f"MetaWear: not an accelerometer module-info reply: {payload.hex(' ')}")
    chip = ACC_IMPLEMENTATIONS.get(payload[2])
    if chip is None:
        raise DecodeError(f"MetaWear: accelerometer implementation {payload[2]} is not supported "
                          "(1 = BMI160, MetaMotion RL/C; 4 = BMI270, MetaMotion S)")
    return chip


def decode_message(
    payload: bytes, *, acc_lsb_per_g: float, gyro_lsb_per_dps: float, chip: str = "bmi160"
) -> tuple[str, FloatArray]:
    """A data notification → ("acc", g) or ("gyro", °/s), (n, 3) oldest first."""
    if len(payload) < 2:
        raise DecodeError(f"MetaWear: message too short ({len(payload)} bytes)")
    module, register = payload[0], payload[1] & 0x7F
    body = payload[2:]
    regs = REGISTERS.get(chip)
    if regs is None:
        raise DecodeError(f"MetaWear: unknown motion chip {chip!r}")
    if module == ACC and register in regs[ACC]:
        kind, scale, packed = "acc", acc_lsb_per_g, register == regs[ACC][1]
    elif module == GYRO and register in regs[GYRO]:
        kind, scale, packed = "gyro", gyro_lsb_per_dps, register == regs[GYRO][1]
    else:
        raise DecodeError(f"MetaWear: not a motion data message (module {module:#04x}, "
                          f"register {register:#04x}, {chip.upper()})")
    want = 18 if packed else 6
    if len(body) != want:
        raise DecodeError(f"MetaWear: {kind} data must be {want} bytes, got {len(body)}")
    v = np.frombuffer(body, dtype="<i2").astype(np.float64).reshape(-1, 3)
    return kind, v / scale


def cmd(module: int, register: int, *data: int) -> bytes:
    return bytes([module, register, *data])


def chip_of(profile: DeviceProfile, s: DecodeSettings) -> str:
    """The board's motion chip: what its module-info reply said, else the profile's."""
    return s.chip or str(profile.params.get("chip", "bmi160"))


def scales(profile: DeviceProfile, s: DecodeSettings) -> tuple[float, float]:
    """LSB per g and per °/s for the configured ranges (the same on BMI160 and BMI270)."""
    p = profile.params
    ar = str(s.acc_range or profile.acc.default_range)
    gr = str(s.gyro_range or (profile.gyro.default_range if profile.gyro else 2000))
    try:
        return float(p["acc_lsb_per_g"][ar]), float(p["gyro_lsb_per_dps"][gr])
    except KeyError as e:
        raise DecodeError(f"{profile.id}: no scale for range {e.args[0]}") from None


def block(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock | None:
    """One data message in g or °/s; the module-info reply of the dialogue is no samples."""
    if payload[:2] == bytes([ACC, MODULE_INFO]):
        return None
    acc_lsb, gyro_lsb = scales(profile, s)
    kind, v = decode_message(
        payload, acc_lsb_per_g=acc_lsb, gyro_lsb_per_dps=gyro_lsb, chip=chip_of(profile, s)
    )
    return SampleBlock(v if kind == "acc" else None, v if kind == "gyro" else None, received_at)
