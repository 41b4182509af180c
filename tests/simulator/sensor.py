"""Provides the sensor specification, the mounting on the thigh, and the sensor's imperfections.

The imperfections are what a commodity BLE IMU adds to the true kinematics: anti-alias
filtering and decimation, bias, scale error, white noise, range clipping, quantisation,
timestamp jitter and runs of lost packets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

from tests.simulator.kinematics import (
    F,
    deg,
    random_rotation,
    rot_x,
    rot_y,
    rot_z,
    rotvec_to_matrix,
)


@dataclass(frozen=True)
class SensorSpec:
    """What the simulated device outputs and how imperfect it is."""

    rate_hz: float = 52.0
    gyro: bool = True
    acc_noise_g: float = 0.008
    gyro_noise_dps: float = 0.2
    acc_lsb_g: float = 0.000244
    gyro_lsb_dps: float = 0.061
    acc_range_g: float = 8.0
    gyro_range_dps: float = 2000.0
    #: Standard deviations of the per-recording constant bias and scale-factor error.
    acc_bias_g: float = 0.01
    gyro_bias_dps: float = 0.5
    scale_error: float = 0.005
    #: Standard deviation of timestamp jitter (s); 0 = ideal clock.
    jitter_s: float = 0.0
    #: Packet-loss gaps: mean number per minute and the (min, max) length of each (s).
    gap_rate_per_min: float = 0.0
    gap_s: tuple[float, float] = (0.05, 2.0)
    device: str = "simulated-imu"

    @staticmethod
    def ideal(rate_hz: float = 52.0, gyro: bool = True) -> SensorSpec:
        """A perfect sensor (no noise, bias, quantisation or clipping): for physics checks."""
        return SensorSpec(
            rate_hz=rate_hz,
            gyro=gyro,
            acc_noise_g=0.0,
            gyro_noise_dps=0.0,
            acc_lsb_g=0.0,
            gyro_lsb_dps=0.0,
            acc_range_g=1e3,
            gyro_range_dps=1e6,
            acc_bias_g=0.0,
            gyro_bias_dps=0.0,
            scale_error=0.0,
        )

    @staticmethod
    def phone(rate_hz: float = 50.0) -> SensorSpec:
        """A phone-like accelerometer: ±2 g range, 1 mg steps, noisier, no gyro."""
        return SensorSpec(
            rate_hz=rate_hz, gyro=False, acc_noise_g=0.012, acc_lsb_g=0.001, acc_range_g=2.0
        )


@dataclass(frozen=True)
class Mounting:
    """Where and how the sensor sits on the thigh.

    site anterior/lateral puts the sensor's z axis out of the skin at the front/outside of the
    thigh and its x axis toward the hip; `around_deg` moves it around the thigh circumference
    (a rotation about the thigh's long axis), `roll_deg` turns the housing about the skin normal,
    `tilt_deg` tips it (strap not flat), and `random_axes` replaces the sensor's axes by an
    arbitrary rotation (`axes_rotvec_deg`, drawn from the simulation seed if None).
    """

    leg: str = "left"
    site: str = "anterior"
    roll_deg: float = 0.0
    around_deg: float = 0.0
    tilt_deg: tuple[float, float] = (0.0, 0.0)
    distance_m: float = 0.20
    random_axes: bool = False
    axes_rotvec_deg: tuple[float, float, float] | None = None

    @staticmethod
    def random(rng: np.random.Generator, random_axes: bool | None = None) -> Mounting:
        """Any leg, site and rotation, as a patient might strap it on."""
        if random_axes is None:
            random_axes = bool(rng.random() < 0.3)
        return Mounting(
            leg=str(rng.choice(["left", "right"])),
            site=str(rng.choice(["anterior", "lateral"])),
            roll_deg=float(rng.uniform(-180, 180)),
            around_deg=float(rng.uniform(-20, 20)),
            tilt_deg=(float(rng.normal(0, 4)), float(rng.normal(0, 4))),
            distance_m=float(rng.uniform(0.15, 0.25)),
            random_axes=random_axes,
        )

    @property
    def side(self) -> float:
        return 1.0 if self.leg == "left" else -1.0

    def frames(self, rng: np.random.Generator | None = None) -> tuple[F, F]:
        """(rotation of sensor axes in the thigh frame, sensor position in the thigh frame)."""
        if self.leg not in ("left", "right"):
            raise ValueError(f"leg must be 'left' or 'right', got {self.leg!r}")
        s = self.side
        if self.site == "anterior":
            normal = np.array([1.0, 0.0, 0.0])
            radius = 0.07
        elif self.site == "lateral":
            normal = np.array([0.0, s, 0.0])
            radius = 0.08
        else:
            raise ValueError(f"site must be 'anterior' or 'lateral', got {self.site!r}")
        x_axis = np.array([0.0, 0.0, 1.0])  # toward the hip
        base = np.column_stack([x_axis, np.cross(normal, x_axis), normal])
        around = rot_z(deg(self.around_deg))
        r = around @ base @ rot_z(deg(self.roll_deg))
        r = r @ rot_x(deg(self.tilt_deg[0])) @ rot_y(deg(self.tilt_deg[1]))
        if self.random_axes:
            if self.axes_rotvec_deg is not None:
                r = r @ rotvec_to_matrix(deg(np.asarray(self.axes_rotvec_deg)))
            else:
                r = r @ random_rotation(rng if rng is not None else np.random.default_rng(0))
        lever = around @ (radius * normal + np.array([0.0, 0.0, -self.distance_m]))
        return np.asarray(r), np.asarray(lever)


def decimate(x: F, k: int) -> F:
    """Anti-alias low-pass and keep every k-th sample (zero phase, edges held constant)."""
    if k == 1:
        return x
    return np.asarray(resample_poly(x, 1, k, axis=0, padtype="edge"))


def apply_imperfections(
    acc: F, gyro: F, spec: SensorSpec, rng: np.random.Generator
) -> tuple[F, F, dict[str, Any]]:
    """Bias, scale error, white noise, clipping and quantisation of both sensors (in place)."""
    n = acc.shape[0]
    acc_bias = rng.normal(0, spec.acc_bias_g, 3)
    gyro_bias = rng.normal(0, spec.gyro_bias_dps, 3)
    acc_scale = 1 + rng.normal(0, spec.scale_error, 3)
    gyro_scale = 1 + rng.normal(0, spec.scale_error, 3)
    # In place: a day at 208 Hz is hundreds of MB per array.
    for x, scale, bias, noise, rng_lim, lsb in (
        (acc, acc_scale, acc_bias, spec.acc_noise_g, spec.acc_range_g, spec.acc_lsb_g),
        (gyro, gyro_scale, gyro_bias, spec.gyro_noise_dps, spec.gyro_range_dps, spec.gyro_lsb_dps),
    ):
        x *= scale
        x += bias
        if noise > 0:
            x += rng.normal(0, noise, (n, 3))
        np.clip(x, -rng_lim, rng_lim, out=x)
        if lsb > 0:
            x /= lsb
            np.round(x, out=x)
            x *= lsb
    info = {
        "acc_bias_g": acc_bias.tolist(),
        "gyro_bias_dps": gyro_bias.tolist(),
        "acc_scale": acc_scale.tolist(),
        "gyro_scale": gyro_scale.tolist(),
    }
    return acc, gyro, info


def timestamps(n: int, spec: SensorSpec, rng: np.random.Generator) -> F:
    """Nominal sample times with optional jitter (kept strictly increasing)."""
    t = np.arange(n) / spec.rate_hz
    if spec.jitter_s > 0:
        lim = 0.4 / spec.rate_hz
        t = t + np.clip(rng.normal(0, spec.jitter_s, n), -lim, lim)
        t[0] = 0.0
    return np.asarray(t)


def gap_mask(
    n: int, spec: SensorSpec, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], list[int]]:
    """Mask of samples kept after packet loss (runs of 0.05–2 s), never the first or last."""
    keep = np.ones(n, dtype=bool)
    starts: list[int] = []
    minutes = n / spec.rate_hz / 60.0
    if spec.gap_rate_per_min <= 0 or n < 4:
        return keep, starts
    count = int(rng.poisson(spec.gap_rate_per_min * minutes))
    lo, hi = spec.gap_s
    for _ in range(count):
        length = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        m = max(1, round(length * spec.rate_hz))
        i0 = int(rng.integers(1, max(2, n - m - 1)))
        keep[i0 : min(n - 1, i0 + m)] = False
        starts.append(i0)
    return keep, starts
