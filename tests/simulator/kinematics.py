"""Provides rotations, smooth motion profiles, leg geometry and the rigid-body sensor kinematics.

Everything here is plain physics with no knowledge of any detector: trajectories go in,
specific force (g) and angular rate (°/s) of a point on a rigid thigh come out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

F = NDArray[np.float64]

G = 9.80665
#: Segment lengths (m): hip centre → knee, knee → ankle, ankle height above the floor.
THIGH_L = 0.42
SHANK_L = 0.43
ANKLE_H = 0.05
STAND_HIP_Z = THIGH_L + SHANK_L + ANKLE_H
#: Lateral offset of a hip centre from the pelvis midline (m).
HIP_HALF_WIDTH = 0.09


# ------------------------------------------------------------------------------------------
# Rotations (world z up; a body/thigh frame has x anterior, y left, z toward the head)


def _rot(axis: int, angle_rad: ArrayLike) -> F:
    a = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def rot_x(a: ArrayLike) -> F:
    return _rot(0, a)


def rot_y(a: ArrayLike) -> F:
    return _rot(1, a)


def rot_z(a: ArrayLike) -> F:
    return _rot(2, a)


def deg(x: ArrayLike) -> F:
    return np.deg2rad(np.asarray(x, dtype=np.float64))


#: Whole-body base postures: columns are the body x (anterior), y (left), z (head) in world.
UPRIGHT = np.eye(3)
SUPINE = rot_y(deg(-90.0))
PRONE = rot_y(deg(90.0))
SIDE_LEFT_DOWN = SUPINE @ rot_z(deg(90.0))
SIDE_RIGHT_DOWN = SUPINE @ rot_z(deg(-90.0))


def thigh_rotation(
    base: F, flex_deg: ArrayLike, abd_deg: ArrayLike, rot_deg: ArrayLike, side: float
) -> F:
    """Thigh frame in world: base posture · flexion · abduction · internal rotation.

    `side` is +1 for the left leg, -1 for the right, so abduction moves the knee away from the
    midline and internal rotation turns the front of the thigh toward it on either leg. At zero
    angles the thigh frame equals the body frame (long axis toward the head).
    """
    r = rot_y(-deg(flex_deg)) @ rot_x(side * deg(abd_deg)) @ rot_z(-side * deg(rot_deg))
    return np.asarray(base @ r)


def random_rotation(rng: np.random.Generator) -> F:
    """A uniformly distributed random rotation matrix (from a random unit quaternion)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def rotvec_to_matrix(v: F) -> F:
    """Rodrigues: rotation vectors (..., 3) in rad → matrices (..., 3, 3)."""
    v = np.asarray(v, dtype=np.float64)
    th = np.linalg.norm(v, axis=-1)[..., None, None]
    k = np.zeros((*v.shape[:-1], 3, 3))
    k[..., 0, 1], k[..., 0, 2] = -v[..., 2], v[..., 1]
    k[..., 1, 0], k[..., 1, 2] = v[..., 2], -v[..., 0]
    k[..., 2, 0], k[..., 2, 1] = -v[..., 1], v[..., 0]
    safe = np.where(th < 1e-12, 1.0, th)
    a = np.where(th < 1e-12, 1.0, np.sin(safe) / safe)
    b = np.where(th < 1e-12, 0.5, (1 - np.cos(safe)) / safe**2)
    return np.asarray(np.eye(3) + a * k + b * (k @ k))


def matrix_to_rotvec(r: F) -> F:
    """Inverse of `rotvec_to_matrix` for one matrix (angles < 180°)."""
    c = np.clip((np.trace(r) - 1) / 2, -1.0, 1.0)
    th = float(np.arccos(c))
    w = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    if th < 1e-9:
        return w / 2
    if np.pi - th < 1e-6:  # 180°: axis from the symmetric part
        m = (r + np.eye(3)) / 2
        axis = m[int(np.argmax(np.diag(m)))]
        return np.asarray(th * axis / np.linalg.norm(axis))
    return np.asarray(w * th / (2 * np.sin(th)))


def slerp(r0: F, r1: F, u: F) -> F:
    """Rotations from r0 to r1 along the shortest path; u in [0, 1] (any shape)."""
    v = matrix_to_rotvec(r0.T @ r1)
    return np.asarray(r0 @ rotvec_to_matrix(np.asarray(u)[..., None] * v))


# ------------------------------------------------------------------------------------------
# Smooth profiles


def minjerk(u: ArrayLike) -> F:
    """Minimum-jerk 0→1 profile (zero velocity and acceleration at both ends), like reaching."""
    x = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x * x)


def keyframes(t: F, times: Sequence[float], values: Sequence[float] | F) -> F:
    """Piecewise minimum-jerk motion through (time, value) knots, at rest at every knot."""
    tk = np.asarray(times, dtype=np.float64)
    vk = np.asarray(values, dtype=np.float64)
    if tk.size == 1:
        return np.full((t.size, *vk.shape[1:]), vk[0])
    i = np.clip(np.searchsorted(tk, t, side="right") - 1, 0, tk.size - 2)
    span = np.maximum(tk[i + 1] - tk[i], 1e-9)
    u = minjerk((t - tk[i]) / span)
    if vk.ndim > 1:
        u = u[:, None]
    return np.asarray(vk[i] + (vk[i + 1] - vk[i]) * u)


def ramp_envelope(t: F, total: float, ramp: float) -> F:
    """0→1→0 window with minimum-jerk ramps, so a cyclic motion starts and ends at rest."""
    ramp = max(min(ramp, total / 2), 1e-3)
    return np.asarray(minjerk(t / ramp) * minjerk((total - t) / ramp))


def smooth_noise(
    t: F, rng: np.random.Generator, amp: float, fmin: float, fmax: float, n: int = 6
) -> F:
    """Band-limited random wander (sum of sinusoids), std ≈ amp: sway, drift, tremor."""
    if amp == 0.0 or t.size == 0:
        return np.zeros_like(t)
    freqs = np.exp(rng.uniform(np.log(fmin), np.log(fmax), n))
    phases = rng.uniform(0, 2 * np.pi, n)
    weights = rng.uniform(0.5, 1.0, n)
    out = np.zeros_like(t)
    for f, p, w in zip(freqs, phases, weights, strict=True):
        out += w * np.sin(2 * np.pi * f * t + p)
    return np.asarray(out * amp / np.sqrt(0.5 * np.sum(weights**2)))


def damped_ringing(
    t: F, onsets: Sequence[float], amp_m: Sequence[float] | float, freq_hz: float, tau_s: float
) -> F:
    """Soft-tissue wobble after impacts: sum of damped sinusoid displacements (m)."""
    out = np.zeros_like(t)
    amps = np.broadcast_to(np.asarray(amp_m, dtype=np.float64), (len(onsets),))
    dt = t[1] - t[0] if t.size > 1 else 1.0
    span = int(np.ceil(6 * tau_s / dt))
    for t0, a in zip(onsets, amps, strict=True):
        i0 = int(np.searchsorted(t, t0))
        if i0 >= t.size:
            continue
        s = t[i0 : i0 + span] - t0
        # sin starts at 0 displacement; (1 - e^{-s/τr}) softens the start so velocity is finite.
        out[i0 : i0 + span] += (
            a * np.exp(-s / tau_s) * np.sin(2 * np.pi * freq_hz * s) * (1 - np.exp(-s / 0.004))
        )
    return out


def impact_dips(t: F, onsets: Sequence[float], depth_m: float, sigma_s: float) -> F:
    """Brief Gaussian dips of the body (m) at foot strikes: the sharp upward deceleration peak
    (depth/σ² ≈ 0.3–0.6 g) with the small lobes either side that real heel strikes show."""
    out = np.zeros_like(t)
    if t.size < 2:
        return out
    dt = t[1] - t[0]
    half = int(np.ceil(5 * sigma_s / dt))
    for t0 in onsets:
        i = int(np.searchsorted(t, t0))
        lo, hi = max(0, i - half), min(t.size, i + half)
        out[lo:hi] += depth_m * np.exp(-0.5 * ((t[lo:hi] - t0) / sigma_s) ** 2)
    return out


# ------------------------------------------------------------------------------------------
# Leg geometry (sagittal plane): foot fixed, shank tilt q, thigh flexion p (degrees)


def hip_from_leg(p_deg: ArrayLike, q_deg: ArrayLike) -> tuple[F, F]:
    """Hip (forward x, height z) relative to the ankle on the floor, from thigh and shank angles.

    p: thigh flexion (knee ahead of the hip), q: shank forward tilt (knee ahead of the ankle).
    """
    p, q = deg(p_deg), deg(q_deg)
    x = SHANK_L * np.sin(q) - THIGH_L * np.sin(p)
    z = ANKLE_H + SHANK_L * np.cos(q) + THIGH_L * np.cos(p)
    return np.asarray(x), np.asarray(z)


_P_TABLE = np.linspace(0.0, 130.0, 1301)
_DEPTH_TABLE = STAND_HIP_Z - hip_from_leg(_P_TABLE, 0.6 * _P_TABLE)[1]


def squat_flex_for_depth(depth_m: ArrayLike) -> F:
    """Thigh flexion (°) of a squat-like crouch (shank tilt 0.6·p) lowering the hip by depth."""
    return np.asarray(np.interp(np.maximum(depth_m, 0.0), _DEPTH_TABLE, _P_TABLE))


# ------------------------------------------------------------------------------------------
# Vertical (and horizontal) whole-body dynamics for gait with flight phases and jumps


class BodyDynamics:
    """Builds a centre-of-mass-like hip trajectory phase by phase with exact discrete physics.

    Positions are integrated with leapfrog so that the second difference of the position
    equals the acceleration that was designed: flight phases are exact free fall (a = −g),
    ground contacts are smooth force profiles solved to reach the requested take-off velocity
    and height change, with an optional impact spike at touch-down.
    """

    def __init__(self, fs: float, z0: float) -> None:
        self.fs = fs
        self.dt = 1.0 / fs
        self.acc: list[F] = []
        self.z = z0
        self.v = 0.0  # velocity at the half step before the next sample
        self.a_last = 0.0
        self.n = 0
        self.z_trace: list[F] = []

    @property
    def t(self) -> float:
        return self.n * self.dt

    def _push(self, a: F) -> None:
        v = self.v + np.cumsum(a) * self.dt
        # z_k = z_0 + dt * sum_{m<k} v_{m+1/2}; v_{m+1/2} = v_{-1/2} + dt * sum_{j<=m} a_j
        z = self.z + self.dt * np.concatenate([[0.0], np.cumsum(v)[:-1]])
        self.z_trace.append(z)
        self.acc.append(a)
        self.z = float(z[-1] + v[-1] * self.dt)
        self.v = float(v[-1])
        self.a_last = float(a[-1]) if a.size else self.a_last
        self.n += a.size

    def _samples(self, duration: float) -> int:
        return max(round(duration * self.fs), 1)

    def hold_samples(self, n: int) -> None:
        if n > 0:
            self._push(np.zeros(n))

    def hold(self, duration: float) -> None:
        """Stand still (the current velocity must already be ~0)."""
        self._push(np.zeros(self._samples(duration)))

    def flight(self, duration: float) -> None:
        self._push(np.full(self._samples(duration), -G))

    def move(self, duration: float, dz: float) -> None:
        """A minimum-jerk rise or dip by dz starting and ending at rest (e.g. a countermovement)."""
        n = self._samples(duration)
        u = np.arange(n) / n
        a = dz * (60 * u - 180 * u**2 + 120 * u**3) / duration**2
        self._push(a)

    def contact(
        self,
        duration: float,
        v_out: float,
        dz: float,
        a_out: float,
        spike_ms2: float = 0.0,
        spike_at: float = 0.02,
        spike_width: float = 0.01,
    ) -> None:
        """A ground contact: force profile reaching velocity v_out after moving dz.

        The acceleration starts at the previous value, ends at a_out (−g for a take-off), carries
        an impact spike near touch-down, and two half-wave terms are solved (exactly, in the
        discrete scheme) to meet the velocity and displacement targets.
        """
        n = self._samples(duration)
        s = np.arange(n) * self.dt
        a0 = self.a_last + (a_out - self.a_last) * s / duration
        if spike_ms2:
            a0 = a0 + spike_ms2 * np.exp(-0.5 * ((s - spike_at) / spike_width) ** 2)
        b1 = np.sin(np.pi * s / duration)
        b2 = np.sin(2 * np.pi * s / duration)
        dt = self.dt
        # Δv = dt Σ a;   Δz = n dt v_in + dt² Σ (n - j) a_j   (leapfrog)
        w = (n - np.arange(n)).astype(np.float64)
        dv_need = v_out - self.v
        dz_need = dz - n * dt * self.v
        m = np.array([[b1.sum() * dt, b2.sum() * dt], [dt * dt * (w @ b1), dt * dt * (w @ b2)]])
        rhs = np.array([dv_need - a0.sum() * dt, dz_need - dt * dt * (w @ a0)])
        c1, c2 = np.linalg.solve(m, rhs)
        self._push(a0 + c1 * b1 + c2 * b2)

    def result(self) -> tuple[F, F]:
        """(z, a_z) arrays for all phases so far."""
        return np.concatenate(self.z_trace), np.concatenate(self.acc)


def integrate_velocity(u: F, fs: float, x0: float = 0.0) -> F:
    """Position from a velocity series (x_{k+1} = x_k + u_k dt), so a = Δu/dt exactly."""
    return np.asarray(x0 + np.concatenate([[0.0], np.cumsum(u[:-1])]) / fs)


# ------------------------------------------------------------------------------------------
# Sensor kinematics


def sensor_kinematics(
    p_hip: F,
    r_thigh: F,
    r_mount: F,
    lever: F,
    fs: float,
    tissue: F | None = None,
    chunk: int = 400_000,
) -> tuple[F, F]:
    """Specific force (g) and angular rate (°/s) in the sensor frame at the internal rate.

    p_hip (n, 3) world hip centre; r_thigh (n, 3, 3) thigh frame in world; r_mount (3, 3) sensor
    axes in the thigh frame; lever (3,) sensor position in the thigh frame (from the hip);
    tissue (n, 3) extra world displacement of the sensor (soft-tissue wobble). The acceleration
    is the second difference of the sensor's world position, so centripetal and tangential
    terms of the lever arm are included automatically; f = Rᵀ(a − g), ω = vee(Rᵀ Ṙ).
    """
    n = p_hip.shape[0]
    f_out = np.empty((n, 3))
    w_out = np.empty((n, 3))
    for i0 in range(0, n, chunk):
        i1 = min(n, i0 + chunk)
        j0, j1 = max(0, i0 - 1), min(n, i1 + 1)
        rt = r_thigh[j0:j1]
        rs = rt @ r_mount
        ps = p_hip[j0:j1] + rt @ lever
        if tissue is not None:
            ps = ps + tissue[j0:j1]
        a = _second_diff(ps, fs)
        a[:, 2] += G
        f = np.einsum("nji,nj->ni", rs, a) / G
        drs = np.gradient(rs, axis=0) * fs if rs.shape[0] > 1 else np.zeros_like(rs)
        wm = np.swapaxes(rs, 1, 2) @ drs
        w = 0.5 * np.stack(
            [wm[:, 2, 1] - wm[:, 1, 2], wm[:, 0, 2] - wm[:, 2, 0], wm[:, 1, 0] - wm[:, 0, 1]],
            axis=1,
        )
        f_out[i0:i1] = f[i0 - j0 : i0 - j0 + (i1 - i0)]
        w_out[i0:i1] = np.rad2deg(w[i0 - j0 : i0 - j0 + (i1 - i0)])
    return f_out, w_out


def _second_diff(x: F, fs: float) -> F:
    a = np.zeros_like(x)
    if x.shape[0] >= 3:
        a[1:-1] = (x[2:] - 2 * x[1:-1] + x[:-2]) * fs * fs
        a[0] = a[1]
        a[-1] = a[-2]
    return a
