"""Provides the decoded-sample types shared by every decoder (no radio, no bleak)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """The samples of one notification: acc in g and/or gyro in °/s, oldest first.

    `device_time_ns` is the sensor's own clock when the packet carries one (Polar: ns since
    2000-01-01 of the LAST sample; Movesense: ms of the FIRST sample, as ns); `time_ref` says
    which sample it belongs to. `received_at` is the host time the notification arrived.
    """

    acc: FloatArray | None
    gyro: FloatArray | None
    received_at: float = 0.0
    device_time_ns: int | None = None
    time_ref: str = "none"

    @property
    def n(self) -> int:
        a = self.acc if self.acc is not None else self.gyro
        return 0 if a is None else int(a.shape[0])

    @property
    def kind(self) -> str:
        if self.acc is not None and self.gyro is not None:
            return "imu"
        return "acc" if self.acc is not None else "gyro"


@dataclass(frozen=True)
class DecodeSettings:
    """What the start dialogue told us and the packets do not repeat (FACTOR, ranges)."""

    acc_factor: float | None = None
    gyro_factor: float | None = None
    acc_range: int | None = None
    gyro_range: int | None = None
    rate_hz: float | None = None
    extra: dict[str, float] = field(default_factory=dict)
    #: Whether the gyro was subscribed (Movesense: `/Meas/Acc` bodies carry no gyro block).
    gyro: bool = True
    #: Polar: the measurement types the start dialogue started; a frame of another type is
    #: malformed. None: any type the profile knows.
    started: frozenset[int] | None = None
    #: MetaWear: the motion chip the board reported (BMI160 or BMI270); None → the profile's.
    chip: str | None = None
