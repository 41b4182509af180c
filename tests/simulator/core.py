"""Provides `simulate`: segments → body motion → thigh-sensor kinematics → a noisy Recording.

Each segment (and each transition between postures) is simulated as its own piece at a
multiple of the output rate, low-passed and decimated, then the pieces are joined and the
sensor's imperfections are applied to the whole recording.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import numpy as np

from loadmon.recording import Recording, find_gaps
from tests.simulator.activities import ACTIVITIES, Ctx, Motion, Segment
from tests.simulator.kinematics import (
    UPRIGHT,
    F,
    matrix_to_rotvec,
    minjerk,
    random_rotation,
    rot_z,
    sensor_kinematics,
    slerp,
    thigh_rotation,
)
from tests.simulator.sensor import (
    Mounting,
    SensorSpec,
    apply_imperfections,
    decimate,
    gap_mask,
    timestamps,
)

#: Default internal rate for moving segments (quiet ones run at the output rate).
DEFAULT_INTERNAL_HZ = 400.0


class _Pose:
    """End or start state of a piece in the world: hip position, thigh frame, posture, heading."""

    def __init__(self, p: F, r: F, posture: str, yaw: float) -> None:
        self.p, self.r, self.posture, self.yaw = p, r, posture, yaw


def simulate(
    segments: list[Segment],
    seed: int = 0,
    spec: SensorSpec | None = None,
    mounting: Mounting | None = None,
    start: datetime | None = None,
    internal_rate_hz: float | None = None,
    transitions: bool = True,
) -> tuple[Recording, dict[str, Any]]:
    """Simulate a thigh-IMU recording of `segments`; returns (Recording, ground-truth dict).

    The truth dict mirrors the analysis JSON: `recording`, `events`, `sets`, plus `segments`
    (every piece including transitions), `gaps`, `mounting`, `spec` and `seed`. All times are
    on the recording's `t` axis. Deterministic for a given seed and arguments.
    """
    spec = spec or SensorSpec()
    mounting = mounting or Mounting()
    rng = np.random.default_rng(seed)
    rate = float(spec.rate_hz)
    r_mount, lever = mounting.frames(rng)
    internal = internal_rate_hz or DEFAULT_INTERNAL_HZ
    k_dyn = max(1, math.ceil(internal / rate - 1e-9))
    ctx = Ctx(rng=rng, side=mounting.side, rate_hz=rate, k_dyn=k_dyn, r_mount=r_mount, lever=lever)

    acc_parts: list[F] = []
    gyro_parts: list[F] = []
    events: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    pieces: list[dict[str, Any]] = []
    n_out = 0
    prev: _Pose | None = None

    def emit(m: Motion, name: str) -> None:
        nonlocal n_out
        f, w = sensor_kinematics(m.p, m.r, r_mount, lever, m.fs, m.tissue)
        f, w = decimate(f, m.k), decimate(w, m.k)
        t0 = n_out / rate
        for e in m.events:
            events.append(_shift(e, t0))
        for s in m.sets:
            sets.append(_shift(s, t0))
        pieces.append({"activity": name, "start_s": t0, "end_s": t0 + f.shape[0] / rate})
        acc_parts.append(f)
        gyro_parts.append(w)
        n_out += f.shape[0]

    for seg in segments:
        gen = ACTIVITIES.get(seg.activity)
        if gen is None:
            raise ValueError(
                f"unknown activity {seg.activity!r}; known: {', '.join(sorted(ACTIVITIES))}"
            )
        _check(seg)
        m = gen(ctx, seg)
        yaw = _place(m, prev, rng)
        first = _Pose(m.p[0].copy(), m.r[0].copy(), m.posture, yaw)
        if prev is not None and transitions:
            emit(_transition(ctx, prev, first), "transition")
        emit(m, seg.activity)
        prev = _Pose(m.p[-1].copy(), m.r[-1].copy(), m.posture, yaw)
        del m

    if not acc_parts:
        raise ValueError("no segments to simulate")
    acc = np.concatenate(acc_parts)
    gyro = np.concatenate(gyro_parts)
    acc_parts.clear()
    gyro_parts.clear()
    acc, gyro, errors = apply_imperfections(acc, gyro, spec, rng)
    t = timestamps(acc.shape[0], spec, rng)
    keep, _ = gap_mask(acc.shape[0], spec, rng)
    if not keep.all():
        t, acc, gyro = t[keep], acc[keep], gyro[keep]
    rec = Recording(
        t=np.ascontiguousarray(t),
        acc=np.ascontiguousarray(acc),
        gyro=np.ascontiguousarray(gyro) if spec.gyro else None,
        sample_rate_hz=rate,
        start=start or datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        device=spec.device,
        placement="thigh",
        extra={"generator": "tests.simulator"},
        acc_resolution=spec.acc_lsb_g if spec.acc_lsb_g > 0 else 1e-4,
        gyro_resolution=spec.gyro_lsb_dps if spec.gyro_lsb_dps > 0 else 1e-3,
    )
    gaps = find_gaps(rec.t, rate)
    _mark_gaps(events, gaps)
    events.sort(key=lambda e: (e["start_s"], e["end_s"]))
    sets.sort(key=lambda s: s["start_s"])
    mount_info: dict[str, Any] = asdict(mounting)
    mount_info["sensor_axes_in_thigh"] = r_mount.tolist()
    mount_info["lever_m"] = lever.tolist()
    truth: dict[str, Any] = {
        "recording": {
            "duration_s": rec.duration_s,
            "sample_rate_hz": rate,
            "placement": "thigh",
            "n_samples": rec.n_samples,
            "has_gyro": rec.has_gyro,
            "start": rec.start.isoformat(),
            "internal_rate_hz": rate * k_dyn,
        },
        "events": events,
        "sets": sets,
        "segments": pieces,
        "gaps": [list(g) for g in gaps],
        "mounting": mount_info,
        "spec": asdict(spec),
        "sensor_errors": errors,
        "seed": seed,
    }
    return rec, truth


def _check(seg: Segment) -> None:
    """Reject segments that cannot be simulated, with a message naming the field."""
    for name in ("reps", "holds"):
        v = getattr(seg, name)
        if v is not None and v < 1:
            raise ValueError(f"{seg.activity}: {name} must be at least 1, got {v}")
    for name in ("duration_s", "hold_s"):
        v = getattr(seg, name)
        if v is not None and not v > 0:
            raise ValueError(f"{seg.activity}: {name} must be positive, got {v}")
    if seg.tempo is not None and not (seg.tempo[0] > 0 and seg.tempo[1] > 0):
        raise ValueError(f"{seg.activity}: tempo must be two positive durations, got {seg.tempo}")


def _mark_gaps(events: list[dict[str, Any]], gaps: list[tuple[float, float]]) -> None:
    """Add `gap_s` (seconds of the event lost to packet loss) to events that overlap a gap."""
    if not gaps:
        return
    for e in events:
        lost = sum(max(0.0, min(e["end_s"], b) - max(e["start_s"], a)) for a, b in gaps)
        if lost > 0:
            e["gap_s"] = round(lost, 4)


def _shift(d: dict[str, Any], t0: float) -> dict[str, Any]:
    out = dict(d)
    out["start_s"] = round(d["start_s"] + t0, 4)
    out["end_s"] = round(d["end_s"] + t0, 4)
    for key in ("hold_s", "eccentric_s", "concentric_s", "pause_s", "top_s", "flight_s"):
        if key in out and out[key] is not None:
            out[key] = round(float(out[key]), 4)
    if out.get("contact_s") is not None:
        out["contact_s"] = round(float(out["contact_s"]), 4)
    return out


def _place(m: Motion, prev: _Pose | None, rng: np.random.Generator) -> float:
    """Turn the piece to a new heading and move it to where the previous one ended."""
    if prev is None:
        yaw = float(rng.uniform(-np.pi, np.pi))
    elif prev.posture == "upright" and m.posture == "upright":
        yaw = prev.yaw + float(rng.uniform(-1.0, 1.0))  # turning round between activities
    else:
        yaw = prev.yaw + float(rng.uniform(-0.1, 0.1))  # settling on the floor, chair or table
    rz = rot_z(yaw)
    m.r = rz @ m.r
    m.p = m.p @ rz.T
    if m.tissue is not None:
        m.tissue = m.tissue @ rz.T
    if prev is not None:
        m.p[:, :2] += prev.p[:2] - m.p[0, :2]
    return yaw


def _transition(ctx: Ctx, a: _Pose, b: _Pose) -> Motion:
    """Move from pose a to pose b (getting down to the floor goes via kneeling and sitting)."""
    side = ctx.side
    poses: list[tuple[F, F]] = [(a.p, a.r)]
    upright = {"upright", "seated", "bike"}
    mid_xy = (a.p[:2] + b.p[:2]) / 2

    def kneel(yaw: float) -> tuple[F, F]:
        r = rot_z(yaw) @ thigh_rotation(UPRIGHT, 0.0, -3.0, 0.0, side)
        return np.array([*mid_xy, 0.50]), r

    def floor_sit(yaw: float) -> tuple[F, F]:
        r = rot_z(yaw) @ thigh_rotation(UPRIGHT, 85.0, 5.0, 0.0, side)
        return np.array([*mid_xy, 0.13]), r

    if a.posture in upright and b.posture == "floor":
        poses += [kneel(a.yaw), floor_sit(b.yaw)]
    elif a.posture == "floor" and b.posture in upright:
        poses += [floor_sit(a.yaw), kneel(b.yaw)]
    elif "table" in (a.posture, b.posture) and a.posture != b.posture:
        hand = np.array([*mid_xy, max(a.p[2], b.p[2]) + 0.2])
        poses.append((hand, random_rotation(ctx.rng)))
    poses.append((b.p, b.r))
    durs = []
    for (p0, r0), (p1, r1) in pairwise(poses):
        angle = float(np.linalg.norm(matrix_to_rotvec(r0.T @ r1)))
        dz = abs(float(p1[2] - p0[2]))
        dxy = float(np.linalg.norm(p1[:2] - p0[:2]))
        durs.append(ctx.u(0.85, 1.15) * (0.4 + 0.8 * angle + 1.5 * dz + 0.6 * min(dxy, 3.0)))
    total = sum(durs)
    k = ctx.k_dyn
    n = max(2, round(total * ctx.rate_hz)) * k
    fs = ctx.rate_hz * k
    t = np.arange(n) / fs
    scale = (n - 1) / fs / total
    edges = np.concatenate([[0.0], np.cumsum(durs) * scale])
    p_out = np.empty((n, 3))
    r_out = np.empty((n, 3, 3))
    for i, ((p0, r0), (p1, r1)) in enumerate(pairwise(poses)):
        sel = (t >= edges[i]) & ((t < edges[i + 1]) if i < len(durs) - 1 else (t <= t[-1]))
        u = minjerk((t[sel] - edges[i]) / (edges[i + 1] - edges[i]))
        p_out[sel] = p0 + (p1 - p0) * u[:, None]
        r_out[sel] = slerp(r0, r1, u)
    return Motion(fs=fs, k=k, p=p_out, r=r_out, posture=b.posture)
