"""Provides the MetaWear (MetaMotion) decoders: `[module][register][data]` messages.

MetaMotion RL/C carry a BMI160, MetaMotion S a BMI270; the board says which in its module-info
reply (`03 80 <implementation> <revision>`: 1 = BMI160, 4 = BMI270; MetaWear-SDK-Cpp). Data
registers per chip: BMI160 acc `03 04` / packed `03 1C`, gyro `13 05` / packed `13 07`;
BMI270 acc `03 04` / packed `03 05`, gyro `13 04` / packed `13 05`. int16 divided by the
range's LSB/g or LSB/(°/s) (PROTOCOLS.md 5; the SDK's test_accelerometer_bmi270.py).
"""

from __future__ import annotations

import numpy as np

from loadmon.decoders.base import FloatArray
from loadmon.errors import DecodeError

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
