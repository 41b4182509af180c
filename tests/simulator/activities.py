"""Provides the activities: each turns a Segment into hip and thigh trajectories plus ground truth.

Every activity is written from how the body moves (joint angles, hip path, flight physics),
never from what a detector looks for. Coordinates are local: the person faces +x and starts
near the origin; `simulate` rotates and places each piece in the world.

Rep boundaries in the ground truth (times in s from the piece start, later on the `t` axis):

- bridge_rep: from the start of the pelvis lift (thigh leaves its hook-lying angle) to the
  moment it is back down; `top_s` is the pause at the top.
- bridge_hold: from the start of the lift to back down; `hold_s` is the time at the top
  (from reaching the top to starting the descent).
- rdl_rep: from the start of the hip hinge to upright again; `eccentric_s` = start of descent
  → bottom, `pause_s` = time at the bottom, `concentric_s` = leaving the bottom → upright.
- hop: `start_s` = take-off, `end_s` = landing, `flight_s` = their difference, `contact_s` =
  ground contact before this take-off (previous landing → take-off) or None for the first hop
  of a set. A drop from a box is a separate `drop` event (it has no take-off).
- look-alike reps (squat, lunge, sit_to_stand, bend_down, pelvic_tilt, knee_rolling): from the
  start of the movement to back at rest.
- posture/locomotion events (standing, sitting, lying, walking, running, cycling, stairs,
  nonwear): the whole segment, excluding the transitions `simulate` inserts between segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.simulator.kinematics import (
    HIP_HALF_WIDTH,
    PRONE,
    SIDE_LEFT_DOWN,
    SIDE_RIGHT_DOWN,
    STAND_HIP_Z,
    SUPINE,
    THIGH_L,
    UPRIGHT,
    BodyDynamics,
    F,
    G,
    damped_ringing,
    deg,
    hip_from_leg,
    impact_dips,
    integrate_velocity,
    keyframes,
    minjerk,
    ramp_envelope,
    random_rotation,
    rot_x,
    rot_y,
    rot_z,
    smooth_noise,
    squat_flex_for_depth,
    thigh_rotation,
)

Event = dict[str, Any]


@dataclass(frozen=True)
class Segment:
    """One block of a simulated recording: an activity and how long / how many reps.

    duration_s for continuous activities, reps for exercises (one Segment of an exercise is one
    set), holds and hold_s for bridge holds, tempo = (eccentric_s, concentric_s) for RDLs.
    Anything left unset is drawn from the seed. variant and opts by activity:

    - lying: variant supine | hook | prone | side
    - stairs: variant up | down
    - bridge: variant double | single_working | single_raised; opts slow (bool, 2–3.5 s each
      way), top_pause (bool, 2–5 s at the top)
    - bridge_hold: opts rest_s (rest between holds)
    - rdl: variant double | single_stance | single_free
    - single_leg_hop: variant instrumented | other (which leg hops)
    - pogo, forward_hop, lateral_hop, single_leg_hop: opts continuous (bool)
    """

    activity: str
    duration_s: float | None = None
    reps: int | None = None
    holds: int | None = None
    hold_s: float | None = None
    tempo: tuple[float, float] | None = None
    variant: str | None = None
    opts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Motion:
    """Trajectories of one piece at rate fs = k × output rate, and its ground truth."""

    fs: float
    k: int
    p: F  # (n, 3) hip centre of the instrumented leg, world (local) frame, m
    r: F  # (n, 3, 3) thigh frame in world
    posture: str  # upright | seated | floor | table | bike
    events: list[Event] = field(default_factory=list)
    sets: list[Event] = field(default_factory=list)
    tissue: F | None = None  # (n, 3) soft-tissue displacement of the sensor, m

    @property
    def n(self) -> int:
        return int(self.p.shape[0])


@dataclass
class Ctx:
    """What an activity needs to know: randomness, which leg, rates, how the sensor is worn."""

    rng: np.random.Generator
    side: float
    rate_hz: float
    k_dyn: int
    r_mount: F
    lever: F

    def k(self, dynamic: bool) -> int:
        return self.k_dyn if dynamic else 1

    def grid(self, duration: float, dynamic: bool = True) -> tuple[F, float, int]:
        """Time axis (whole output samples × k) for a piece of about `duration` seconds."""
        k = self.k(dynamic)
        n_out = max(2, round(duration * self.rate_hz))
        fs = self.rate_hz * k
        return np.arange(n_out * k) / fs, fs, k

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))


def _motion(
    ctx: Ctx,
    t: F,
    fs: float,
    k: int,
    hip: F,
    base: F,
    flex: F | float,
    abd: F | float,
    rot: F | float,
    posture: str,
    yaw: F | float = 0.0,
) -> Motion:
    r = thigh_rotation(base, flex, abd, rot, ctx.side)
    r = np.broadcast_to(r, (t.size, 3, 3))
    if np.ndim(yaw) or yaw != 0.0:
        r = rot_z(np.broadcast_to(np.asarray(yaw, dtype=np.float64), (t.size,))) @ r
    return Motion(fs=fs, k=k, p=hip, r=np.ascontiguousarray(r), posture=posture)


def _ev(etype: str, start: float, end: float, **extra: Any) -> Event:
    e: Event = {"type": etype, "start_s": float(start), "end_s": float(end)}
    e.update(extra)
    return e


def _set(exercise: str, events: list[Event], **extra: Any) -> Event:
    s: Event = {
        "exercise": exercise,
        "start_s": events[0]["start_s"],
        "end_s": events[-1]["end_s"],
        "reps": len(events),
    }
    s.update(extra)
    return s


# ------------------------------------------------------------------------------------------
# Quiet postures (generated at the output rate: their motion is slow)


def standing(ctx: Ctx, seg: Segment) -> Motion:
    """Quiet standing: postural sway, occasional weight shifts."""
    dur = seg.duration_s or ctx.u(5, 30)
    t, fs, k = ctx.grid(dur, dynamic=False)
    rng = ctx.rng
    kt, kv = _fidget_knots(ctx, t[-1], mean_gap=8.0, move=(0.6, 1.5), n_vals=4)
    shifts = keyframes(t, kt, kv * np.array([2.0, 2.0, 4.0, 0.02]))
    flex = ctx.u(0, 5) + shifts[:, 0] + smooth_noise(t, rng, 0.5, 0.05, 0.6)
    abd = -ctx.u(2, 7) + shifts[:, 1] + smooth_noise(t, rng, 0.4, 0.05, 0.6)
    rot = ctx.u(-5, 10) + shifts[:, 2]
    hip = np.column_stack(
        [
            shifts[:, 3] + smooth_noise(t, rng, 0.006, 0.05, 0.5),
            ctx.side * HIP_HALF_WIDTH + smooth_noise(t, rng, 0.006, 0.05, 0.5),
            STAND_HIP_Z - 0.01 + smooth_noise(t, rng, 0.001, 0.05, 0.5),
        ]
    )
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, rot, "upright")
    m.events.append(_ev("standing", 0.0, t[-1] + 1 / fs))
    return m


def _fidget_knots(
    ctx: Ctx, end: float, mean_gap: float, move: tuple[float, float], n_vals: int
) -> tuple[list[float], F]:
    """Knot times/values (unit spread) for posture changes: still, then a shift, then still."""
    times = [0.0]
    vals = [ctx.rng.normal(0, 1, n_vals)]
    while True:
        t0 = times[-1] + float(ctx.rng.exponential(mean_gap)) + 0.5
        dt = ctx.u(*move)
        if t0 + dt >= end:
            break
        times += [t0, t0 + dt]
        vals += [vals[-1], ctx.rng.normal(0, 1, n_vals)]
    return times, np.asarray(vals)


def sitting(ctx: Ctx, seg: Segment) -> Motion:
    """Sitting on a chair: thigh near horizontal (hip flexed ~90°), fidgets, crossed legs."""
    dur = seg.duration_s or ctx.u(30, 600)
    t, fs, k = ctx.grid(dur, dynamic=False)
    rng = ctx.rng
    times = [0.0]
    poses = [_sit_pose(ctx)]
    while True:
        t0 = times[-1] + min(float(rng.exponential(60.0)) + 3.0, 900.0)
        dt = ctx.u(0.8, 3.0)
        if t0 + dt >= t[-1]:
            break
        times += [t0, t0 + dt]
        poses += [poses[-1], _sit_pose(ctx)]
    pv = keyframes(t, times, np.asarray(poses))
    flex = pv[:, 0] + smooth_noise(t, rng, 0.4, 0.03, 0.5)
    abd = pv[:, 1] + smooth_noise(t, rng, 0.4, 0.03, 0.5)
    hip = np.column_stack(
        [
            pv[:, 3] + smooth_noise(t, rng, 0.002, 0.03, 0.3),
            ctx.side * HIP_HALF_WIDTH + smooth_noise(t, rng, 0.002, 0.03, 0.3),
            pv[:, 4] + smooth_noise(t, rng, 0.0005, 0.05, 0.5),
        ]
    )
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, pv[:, 2], "seated")
    m.events.append(_ev("sitting", 0.0, t[-1] + 1 / fs))
    return m


def _sit_pose(ctx: Ctx) -> list[float]:
    """(flex, abd, rot, hip x, hip z) of one sitting posture: normal, slumped, or legs crossed."""
    r = ctx.rng.random()
    if r < 0.15:  # instrumented leg crossed over the other: thigh pitched up, adducted
        return [ctx.u(100, 115), ctx.u(-18, -10), ctx.u(-15, 5), ctx.u(-0.03, 0.0), 0.50]
    if r < 0.25:  # the other leg crossed over this one
        return [ctx.u(85, 95), ctx.u(-5, 3), ctx.u(-10, 10), 0.0, 0.47]
    if r < 0.35:  # slumped, legs stretched out
        return [ctx.u(60, 75), ctx.u(-5, 10), ctx.u(-20, 5), ctx.u(0.03, 0.08), 0.45]
    return [ctx.u(80, 100), ctx.u(-5, 10), ctx.u(-15, 10), ctx.u(-0.02, 0.02), ctx.u(0.44, 0.50)]


def lying(ctx: Ctx, seg: Segment) -> Motion:
    """Lying supine (legs straight or hook-lying), prone or on a side; occasional shifts."""
    dur = seg.duration_s or ctx.u(30, 600)
    variant = seg.variant or str(ctx.rng.choice(["supine", "supine", "hook", "prone", "side"]))
    t, fs, k = ctx.grid(dur, dynamic=False)
    rng = ctx.rng
    if variant == "supine":
        base, flex0, abd0, rot0, z = SUPINE, ctx.u(0, 10), ctx.u(0, 10), ctx.u(-30, 5), 0.10
    elif variant == "hook":
        base, flex0, abd0, rot0, z = SUPINE, ctx.u(40, 55), ctx.u(0, 8), ctx.u(-10, 5), 0.10
    elif variant == "prone":
        base, flex0, abd0, rot0, z = PRONE, ctx.u(-5, 5), ctx.u(0, 10), ctx.u(-20, 20), 0.12
    elif variant == "side":
        down = rng.random() < 0.5  # lying on the instrumented side or the other
        left_down = (ctx.side > 0) == down
        base = SIDE_LEFT_DOWN if left_down else SIDE_RIGHT_DOWN
        flex0, abd0, rot0 = ctx.u(20, 60), ctx.u(-10, 0) if not down else 0.0, ctx.u(-10, 10)
        z = 0.15 if down else 0.32
    else:
        raise ValueError(f"lying variant must be supine|hook|prone|side, got {variant!r}")
    kt, kv = _fidget_knots(ctx, t[-1], mean_gap=90.0, move=(1.0, 3.0), n_vals=3)
    shifts = keyframes(t, kt, kv * np.array([3.0, 3.0, 8.0]))
    flex = flex0 + shifts[:, 0] + smooth_noise(t, rng, 0.2, 0.02, 0.3)
    abd = abd0 + shifts[:, 1] + smooth_noise(t, rng, 0.2, 0.02, 0.3)
    rot = rot0 + shifts[:, 2]
    hip = np.column_stack([np.zeros_like(t), np.full_like(t, ctx.side * HIP_HALF_WIDTH), z + 0 * t])
    hip += np.column_stack([smooth_noise(t, rng, 0.001, 0.02, 0.3) for _ in range(3)])
    m = _motion(ctx, t, fs, k, hip, base, flex, abd, rot, "floor")
    m.events.append(_ev("lying", 0.0, t[-1] + 1 / fs, variant=variant))
    return m


def nonwear(ctx: Ctx, seg: Segment) -> Motion:
    """Sensor off the body, lying still on a table: no motion at all, any orientation."""
    dur = seg.duration_s or ctx.u(60, 1800)
    t, fs, k = ctx.grid(dur, dynamic=False)
    rng = ctx.rng
    if rng.random() < 0.6:  # flat on one face, small tilt, any heading
        faces = [rot_y(0.0), rot_y(np.pi), rot_y(np.pi / 2), rot_y(-np.pi / 2)]
        faces += [rot_x(np.pi / 2), rot_x(-np.pi / 2)]
        r_s = rot_z(ctx.u(-np.pi, np.pi)) @ faces[int(rng.integers(6))]
        r_s = rot_x(deg(rng.normal(0, 1.5))) @ rot_y(deg(rng.normal(0, 1.5))) @ r_s
    else:
        r_s = random_rotation(rng)
    r_t = r_s @ ctx.r_mount.T
    p = np.tile(np.array([0.0, 0.0, 0.75]) - r_t @ ctx.lever, (t.size, 1))
    m = Motion(fs=fs, k=k, p=p, r=np.tile(r_t, (t.size, 1, 1)), posture="table")
    m.events.append(_ev("nonwear", 0.0, t[-1] + 1 / fs))
    return m


# ------------------------------------------------------------------------------------------
# Gait


def walking(ctx: Ctx, seg: Segment) -> Motion:
    """Level walking: 1.6–2.1 steps/s, hip flexion −10..+25°, pelvis bounce, heel strikes."""
    dur = seg.duration_s or ctx.u(10, 60)
    t, fs, k = ctx.grid(dur, dynamic=True)
    rng = ctx.rng
    env = ramp_envelope(t, t[-1], min(1.5, dur / 3))
    f_step = ctx.u(1.6, 2.1) * (1 + smooth_noise(t, rng, 0.02, 0.02, 0.2)) * env
    phi = 2 * np.pi * integrate_velocity(f_step / 2, fs)  # stride phase, 0 = this heel strike
    step_len = ctx.u(0.6, 0.78)
    step_phase = 2 * phi
    speed = step_len * f_step * (1 + 0.06 * np.sin(step_phase + 0.5) * env)
    yaw = _turns(ctx, t, every=12.0)
    fwd = integrate_velocity(speed * np.cos(yaw), fs)
    side = integrate_velocity(speed * np.sin(yaw), fs)
    lat = ctx.side * (HIP_HALF_WIDTH + 0.02 * np.sin(phi) * env)
    hip = np.column_stack(
        [
            fwd - np.sin(yaw) * lat,
            side + np.cos(yaw) * lat,
            STAND_HIP_Z - 0.01 - env * (0.012 + ctx.u(0.018, 0.03) * np.cos(step_phase)),
        ]
    )
    m_flex, a_flex = ctx.u(5, 10), ctx.u(17, 24)
    flex = ctx.u(0, 4) + env * (m_flex + a_flex * np.cos(phi) + 3 * np.cos(2 * phi + 0.8))
    abd = -ctx.u(2, 6) + env * 3 * np.cos(phi + 0.5) + smooth_noise(t, rng, 0.5, 0.1, 1)
    rot = env * 5 * np.cos(phi + 1.0)
    strikes = _phase_crossings(t, phi, env)
    others = _phase_crossings(t, phi + np.pi, env)
    sigma = ctx.u(0.025, 0.035)
    hip[:, 2] -= impact_dips(t, strikes, ctx.u(0.003, 0.005), sigma)
    hip[:, 2] -= impact_dips(t, others, ctx.u(0.002, 0.004), sigma)
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, rot, "upright", yaw=yaw)
    tissue = np.zeros((t.size, 3))
    tissue[:, 2] = damped_ringing(t, strikes, ctx.u(0.0003, 0.0006), ctx.u(12, 18), 0.035)
    tissue[:, 2] += damped_ringing(t, others, 0.00012, 15.0, 0.03)
    m.tissue = tissue
    m.events.append(_ev("walking", 0.0, t[-1] + 1 / fs))
    return m


def _turns(ctx: Ctx, t: F, every: float) -> F:
    """Heading (rad): straight lines with occasional turns while moving."""
    times, vals = [0.0], [0.0]
    while True:
        t0 = times[-1] + float(ctx.rng.exponential(every)) + 3.0
        dt = ctx.u(1.0, 2.5)
        if t0 + dt >= t[-1] - 3.0:
            break
        times += [t0, t0 + dt]
        vals += [vals[-1], vals[-1] + ctx.u(-np.pi, np.pi)]
    return keyframes(t, times, vals)


def _phase_crossings(t: F, phi: F, env: F) -> list[float]:
    """Times where a phase passes a multiple of 2π while the movement is under way."""
    cyc = np.floor(phi / (2 * np.pi))
    idx = np.flatnonzero((np.diff(cyc) > 0) & (env[1:] > 0.5)) + 1
    return [float(t[i]) for i in idx]


def running(ctx: Ctx, seg: Segment) -> Motion:
    """Running: 2.5–3 steps/s with flight phases (true free fall) and impacts at each contact."""
    dur = seg.duration_s or ctx.u(20, 120)
    rng = ctx.rng
    k = ctx.k_dyn
    fs = ctx.rate_hz * k
    cadence = ctx.u(2.5, 3.0)
    tc0 = ctx.u(0.20, 0.27)
    speed = ctx.u(2.4, 3.8)
    bd = BodyDynamics(fs, STAND_HIP_Z - 0.01)
    bd.hold(0.3)
    n_steps = max(4, int((dur - 1.0) * cadence))
    contacts: list[float] = []
    period = 1.0 / cadence
    for i in range(n_steps):
        ramp = float(minjerk(min(i, n_steps - 1 - i) / 4.0))
        tc = tc0 * (1 + rng.normal(0, 0.03)) + (1 - ramp) * 0.1
        tf = max(0.0, (period * (1 + rng.normal(0, 0.02)) - tc0) * ramp)
        own = i % 2 == 0
        spike = (ctx.u(1.5, 3.0) if own else ctx.u(0.7, 1.5)) * G * ramp
        contacts.append(bd.t)
        if i == n_steps - 1:
            bd.contact(0.4, 0.0, 0.0, 0.0, spike_ms2=spike, spike_width=0.012)
        else:
            bd.contact(tc, G * tf / 2, 0.0, -G if tf > 0 else 0.0, spike, spike_width=0.012)
            if tf > 0:
                bd.flight(tf)
    bd.hold(0.5)
    n = int(np.ceil(bd.n / k)) * k
    bd.hold_samples(n - bd.n)
    z, _ = bd.result()
    t = np.arange(n) / fs
    env = ramp_envelope(t, t[-1], 2.0)
    u = speed * env
    ci = np.arange(len(contacts))
    phi = np.pi * np.interp(t, contacts, ci, left=0.0, right=float(ci[-1]))
    fwd = integrate_velocity(u, fs)
    hip = np.column_stack([fwd, ctx.side * (HIP_HALF_WIDTH + 0.015 * np.sin(phi) * env), z])
    flex = ctx.u(0, 4) + env * (ctx.u(12, 18) + ctx.u(26, 32) * np.cos(phi + 0.4))
    abd = -ctx.u(2, 6) + env * 4 * np.cos(phi + 0.5) + smooth_noise(t, rng, 0.5, 0.1, 1)
    rot = env * 6 * np.cos(phi + 1.0)
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, rot, "upright")
    tissue = np.zeros((n, 3))
    tissue[:, 2] = damped_ringing(t, contacts[::2], ctx.u(0.0008, 0.0015), ctx.u(12, 20), 0.04)
    tissue[:, 0] = damped_ringing(t, contacts[::2], 0.0004, ctx.u(10, 16), 0.05)
    m.tissue = tissue
    m.events.append(_ev("running", 0.0, t[-1] + 1 / fs))
    return m


def stairs(ctx: Ctx, seg: Segment) -> Motion:
    """One flight of stairs up or down (variant), 17 cm risers, 28 cm treads."""
    direction = seg.variant or str(ctx.rng.choice(["up", "down"]))
    if direction not in ("up", "down"):
        raise ValueError(f"stairs variant must be up|down, got {direction!r}")
    up = direction == "up"
    f_step = ctx.u(1.3, 1.8) if up else ctx.u(1.5, 2.0)
    dur = seg.duration_s or (ctx.rng.integers(8, 17) / f_step + 2.0)
    t, fs, k = ctx.grid(dur, dynamic=True)
    rng = ctx.rng
    env = ramp_envelope(t, t[-1], 0.8)
    steps = integrate_velocity(f_step * env, fs)
    # Land on whole steps: stretch so the final count is an integer.
    steps *= max(1.0, np.floor(steps[-1])) / max(steps[-1], 1e-9)
    phi = np.pi * steps
    rise = 0.17 * steps * (1 if up else -1)
    hip = np.column_stack(
        [
            0.28 * steps,
            ctx.side * (HIP_HALF_WIDTH + 0.02 * np.sin(phi) * env),
            STAND_HIP_Z - 0.01 + rise - env * 0.015 * (1 + np.cos(2 * phi)),
        ]
    )
    if up:
        flex = ctx.u(0, 4) + env * (ctx.u(30, 36) + ctx.u(26, 32) * np.cos(phi))
    else:
        flex = ctx.u(0, 4) + env * (ctx.u(15, 22) + ctx.u(12, 18) * np.cos(phi))
    abd = -ctx.u(2, 6) + env * 3 * np.cos(phi + 0.5) + smooth_noise(t, rng, 0.5, 0.1, 1)
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, env * 4 * np.cos(phi), "upright")
    landings = _phase_crossings(t, phi, env)
    others = _phase_crossings(t, phi + np.pi, env)
    dip = ctx.u(0.002, 0.004) if up else ctx.u(0.004, 0.007)
    hip[:, 2] -= impact_dips(t, landings, dip, 0.03) + impact_dips(t, others, 0.7 * dip, 0.03)
    m.p = hip
    tissue = np.zeros((t.size, 3))
    amp = 0.0003 if up else 0.0008
    tissue[:, 2] = damped_ringing(t, landings, amp, ctx.u(12, 18), 0.035)
    m.tissue = tissue
    m.events.append(_ev("stairs", 0.0, t[-1] + 1 / fs, direction=direction))
    return m


def cycling(ctx: Ctx, seg: Segment) -> Motion:
    """Seated cycling: hip flexion cycles ~60–110° at 1–1.5 rev/s, road vibration."""
    dur = seg.duration_s or ctx.u(60, 600)
    t, fs, k = ctx.grid(dur, dynamic=True)
    rng = ctx.rng
    env = ramp_envelope(t, t[-1], 3.0)
    cad = ctx.u(1.0, 1.5) * (1 + smooth_noise(t, rng, 0.05, 0.01, 0.1)) * env
    phi = 2 * np.pi * integrate_velocity(cad, fs)
    flex = ctx.u(82, 88) + ctx.u(22, 27) * np.cos(phi)
    abd = ctx.u(2, 6) + 3 * np.sin(phi) * env
    rot = ctx.u(-5, 5) + 3 * np.sin(phi + 0.5) * env
    hip = np.column_stack(
        [
            smooth_noise(t, rng, 0.003, 0.05, 0.3),
            ctx.side * HIP_HALF_WIDTH + 0.004 * np.sin(phi) * env,
            0.95 + 0.004 * np.cos(2 * phi) * env,
        ]
    )
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, rot, "bike")
    tissue = np.column_stack(
        [smooth_noise(t, rng, 2e-5 * float(ctx.u(0.5, 1.5)), 8, 30, 8) * env for _ in range(3)]
    )
    m.tissue = tissue
    m.events.append(_ev("cycling", 0.0, t[-1] + 1 / fs))
    return m


# ------------------------------------------------------------------------------------------
# Hook-lying exercises and their floor look-alikes


def _hook_hip(e_deg: F, e0_deg: float, side: float) -> F:
    """Hip centre when the thigh pivots about a fixed knee (feet on the floor, supine)."""
    kx, kz = THIGH_L * np.cos(deg(e0_deg)), 0.10 + THIGH_L * np.sin(deg(e0_deg))
    e = deg(e_deg)
    return np.column_stack(
        [kx - THIGH_L * np.cos(e), np.full_like(e, side * HIP_HALF_WIDTH), kz - THIGH_L * np.sin(e)]
    )


def _rep_timeline(
    ctx: Ctx, n: int, phases: Callable[[int], list[tuple[float, float]]], lead: float, tail: float
) -> tuple[list[float], list[float], list[list[float]], float]:
    """Knot times/values from per-rep phases [(duration, value at its end), ...].

    Returns (times, values, per-rep knot times, total duration).
    """
    times, vals, reps = [0.0], [0.0], []
    tcur = lead
    times.append(tcur)
    vals.append(0.0)
    for i in range(n):
        knots = [tcur]
        for d, v in phases(i):
            tcur += d
            times.append(tcur)
            vals.append(v)
            knots.append(tcur)
        reps.append(knots)
    times.append(tcur + tail)
    vals.append(vals[-1])
    return times, vals, reps, tcur + tail


def bridge(ctx: Ctx, seg: Segment) -> Motion:
    """Glute bridges from hook-lying: the pelvis lifts until thigh and trunk are in line.

    variant: "double" (default), "single_working" (the instrumented leg pushes) or
    "single_raised" (the instrumented leg is held up, thigh near vertical).
    """
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(6, 13))
    variant = seg.variant or "double"
    slow = bool(seg.opts.get("slow", False))
    rng = ctx.rng
    e0 = ctx.u(30, 50)
    # Full bridge (thigh nearly in line with the trunk at the top), or a partial lift of 8–25°
    # (weak or painful), as real recordings often show.
    full = rng.random() < 0.65
    e_top = ctx.u(0, 15) if full else e0 - ctx.u(8, 25)
    long_top = bool(seg.opts.get("top_pause", rng.random() < 0.3))
    tops: list[float] = []

    def phases(i: int) -> list[tuple[float, float]]:
        up = ctx.u(2.0, 3.5) if slow else ctx.u(0.6, 1.5)
        down = ctx.u(2.0, 3.5) if slow else ctx.u(0.7, 1.8)
        top = ctx.u(2.0, 5.0) if long_top else ctx.u(0.0, 1.0)
        tops.append(top)
        rest = ctx.u(0.3, 2.0) + (ctx.u(3, 6) if rng.random() < 0.1 else 0.0)
        lift = e0 - e_top + rng.normal(0, 2.5)
        return [(up, lift), (top, lift), (down, 0.0), (rest, 0.0)]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1.5, 3.0), ctx.u(1.0, 2.5))
    t, fs, k = ctx.grid(total, dynamic=True)
    lift = keyframes(t, times, vals)
    e = e0 - lift
    hip = _hook_hip(e, e0, ctx.side)
    up_frac = lift / max(e0 - e_top, 1.0)
    wobble = 0.6 if variant == "double" else 1.5
    abd = ctx.u(0, 8) + smooth_noise(t, rng, 0.3, 0.05, 0.5)
    abd = abd + up_frac * smooth_noise(t, rng, wobble, 0.3, 2.0)
    tremor = up_frac * smooth_noise(t, rng, 0.03, 6.0, 12.0)
    flex = e + tremor
    if variant == "single_raised":
        trunk = np.rad2deg(np.arcsin(np.clip((hip[:, 2] - 0.10) / 0.5, 0, 1)))
        flex = ctx.u(75, 95) - trunk + smooth_noise(t, rng, 1.0, 0.1, 1.0) + tremor
        hip[:, 1] = ctx.side * HIP_HALF_WIDTH
    elif variant not in ("double", "single_working"):
        raise ValueError(
            f"bridge variant must be double|single_working|single_raised, got {variant!r}"
        )
    rot = ctx.u(-8, 5) + smooth_noise(t, rng, 0.5, 0.05, 0.5)
    m = _motion(ctx, t, fs, k, hip, SUPINE, flex, abd, rot, "floor")
    leg = {"double": "both", "single_working": "working", "single_raised": "raised"}[variant]
    for knots, top in zip(reps, tops, strict=True):
        m.events.append(_ev("bridge_rep", knots[0], knots[3], top_s=top, leg=leg))
    m.sets.append(_set("bridge", m.events, variant=variant))
    return m


def bridge_hold(ctx: Ctx, seg: Segment) -> Motion:
    """Isometric bridge holds: lift, hold the top (tremor, slight sag), lower, rest."""
    n = seg.holds if seg.holds is not None else (seg.reps or int(ctx.rng.integers(3, 6)))
    rng = ctx.rng
    e0, e_top = ctx.u(40, 50), ctx.u(0, 14)
    rest_s = seg.opts.get("rest_s")
    holds: list[float] = []

    def phases(i: int) -> list[tuple[float, float]]:
        target = seg.hold_s if seg.hold_s is not None else ctx.u(10, 60)
        hold = max(1.0, target * (1 + rng.normal(0, 0.03)))
        holds.append(hold)
        lift = e0 - e_top + rng.normal(0, 2.0)
        rest = float(rest_s) if rest_s is not None else ctx.u(10, 30)
        return [(ctx.u(1.0, 2.0), lift), (hold, lift), (ctx.u(1.0, 2.0), 0.0), (rest, 0.0)]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1.5, 3.0), 0.0)
    t, fs, k = ctx.grid(total, dynamic=True)
    lift = keyframes(t, times, vals)
    up_frac = lift / max(e0 - e_top, 1.0)
    sag = up_frac * smooth_noise(t, rng, 1.2, 0.02, 0.15) ** 2 / 1.2  # slow sag and re-lift
    e = e0 - lift + sag
    hip = _hook_hip(e, e0, ctx.side)
    fatigue = 1 + up_frac * np.clip(smooth_noise(t, rng, 0.5, 0.01, 0.05), -0.5, 1.0)
    tremor = up_frac * fatigue * smooth_noise(t, rng, ctx.u(0.02, 0.06), 6.0, 12.0, 10)
    abd = ctx.u(0, 8) + up_frac * smooth_noise(t, rng, 0.8, 0.1, 1.0) + tremor
    rot = ctx.u(-8, 5) + smooth_noise(t, rng, 0.5, 0.05, 0.5)
    m = _motion(ctx, t, fs, k, hip, SUPINE, e + tremor, abd, rot, "floor")
    for knots, hold in zip(reps, holds, strict=True):
        m.events.append(_ev("bridge_hold", knots[0], knots[3], hold_s=hold))
    m.sets.append(_set("bridge_hold", m.events))
    return m


def pelvic_tilt(ctx: Ctx, seg: Segment) -> Motion:
    """Pelvic tilts in hook-lying: the pelvis rocks a few degrees, the thigh only 2–5°."""
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(8, 16))
    e0 = ctx.u(40, 50)

    def phases(i: int) -> list[tuple[float, float]]:
        a = ctx.u(2, 5)
        return [(ctx.u(1.0, 2.5), a), (ctx.u(0, 2), a), (ctx.u(1.0, 2.5), 0.0), (ctx.u(0.3, 2), 0)]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1, 3), ctx.u(1, 2))
    t, fs, k = ctx.grid(total, dynamic=True)
    e = e0 - keyframes(t, times, vals)
    hip = _hook_hip(e, e0, ctx.side)
    abd = ctx.u(0, 8) + smooth_noise(t, ctx.rng, 0.3, 0.05, 0.5)
    m = _motion(ctx, t, fs, k, hip, SUPINE, e, abd, ctx.u(-8, 5), "floor")
    for knots in reps:
        m.events.append(_ev("pelvic_tilt", knots[0], knots[3]))
    return m


def knee_rolling(ctx: Ctx, seg: Segment) -> Motion:
    """Knee rolling in hook-lying: both knees drop to one side and back, alternating sides.

    For the instrumented thigh that is abduction with external rotation toward its own side
    and adduction with internal rotation toward the other: motion about the long axis and
    sideways, not the pitch of a bridge.
    """
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(6, 12))
    e0 = ctx.u(40, 50)
    first = 1.0 if ctx.rng.random() < 0.5 else -1.0
    sides: list[str] = []

    def phases(i: int) -> list[tuple[float, float]]:
        own = (first if i % 2 == 0 else -first) > 0
        sides.append("instrumented" if own else "other")
        a = ctx.u(30, 50) if own else -ctx.u(20, 35)
        return [
            (ctx.u(1.5, 3.0), a),
            (ctx.u(0, 1.5), a),
            (ctx.u(1.5, 3.0), 0.0),
            (ctx.u(0.2, 1), 0),
        ]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1, 3), ctx.u(1, 2))
    t, fs, k = ctx.grid(total, dynamic=True)
    roll = keyframes(t, times, vals)
    abd = ctx.u(0, 6) + roll
    rot = -0.4 * roll + ctx.u(-5, 5)  # toward own side: external rotation
    e = e0 - 0.1 * np.abs(roll) + smooth_noise(t, ctx.rng, 0.4, 0.05, 0.5)
    hip = _hook_hip(e, e0, ctx.side)
    hip[:, 2] += 0.0004 * np.abs(roll)
    m = _motion(ctx, t, fs, k, hip, SUPINE, e, abd, rot, "floor")
    for knots, s in zip(reps, sides, strict=True):
        m.events.append(_ev("knee_rolling", knots[0], knots[3], side=s))
    return m


# ------------------------------------------------------------------------------------------
# Standing exercises and their look-alikes (leg geometry: foot fixed, thigh p, shank q)


def _leg_motion(
    ctx: Ctx,
    t: F,
    fs: float,
    k: int,
    p: F,
    q: F,
    sway: float = 0.5,
    extra_x: F | None = None,
) -> Motion:
    """Upright motion from thigh flexion p and shank tilt q with the foot on the floor."""
    rng = ctx.rng
    x, z = hip_from_leg(p, q)
    x0, _ = hip_from_leg(0.0, 0.0)
    hip = np.column_stack(
        [
            x
            - x0
            + (extra_x if extra_x is not None else 0.0)
            + smooth_noise(t, rng, 0.004 * sway, 0.05, 0.5),
            ctx.side * HIP_HALF_WIDTH + smooth_noise(t, rng, 0.005 * sway, 0.05, 0.5),
            z - 0.01,
        ]
    )
    abd = -ctx.u(2, 6) + smooth_noise(t, rng, 0.8 * sway, 0.05, 0.8)
    rot = ctx.u(-5, 8) + smooth_noise(t, rng, 1.0 * sway, 0.05, 0.8)
    flex = p + smooth_noise(t, rng, 0.5 * sway, 0.05, 0.8)
    return _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, rot, "upright")


def rdl(ctx: Ctx, seg: Segment) -> Motion:
    """Romanian deadlifts: hip hinge with soft knees; the thigh pitches forward only 10–30°.

    tempo = (eccentric_s, concentric_s) sets the prescribed tempo (each rep varies ±10 %);
    without it a set is either slow (≈3 s each way) or brisk (≈1 s). variant: "double"
    (default), "single_stance" (instrumented leg on the floor), "single_free" (the
    instrumented leg lifts behind as the trunk tips forward).
    """
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(5, 11))
    rng = ctx.rng
    variant = seg.variant or "double"
    if seg.tempo is not None:
        ecc0, con0 = seg.tempo
    elif rng.random() < 0.6:
        ecc0, con0 = ctx.u(2.5, 4.0), ctx.u(2.0, 4.0)
    else:
        ecc0, con0 = ctx.u(0.9, 1.6), ctx.u(0.8, 1.4)
    p_max = ctx.u(10, 30) if variant != "single_free" else -ctx.u(55, 85)
    info: list[tuple[float, float, float]] = []

    def phases(i: int) -> list[tuple[float, float]]:
        ecc = ecc0 * (1 + rng.normal(0, 0.07))
        con = con0 * (1 + rng.normal(0, 0.07))
        pause = ctx.u(0.0, 0.8)
        info.append((ecc, pause, con))
        pv = p_max + rng.normal(0, 2.5)
        return [(ecc, pv), (pause, pv), (con, 0.0), (ctx.u(0.5, 2.0), 0.0)]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1.0, 3.0), ctx.u(0.5, 1.5))
    t, fs, k = ctx.grid(total, dynamic=True)
    p = keyframes(t, times, vals)
    sway = 0.5 if variant == "double" else 1.5
    if variant == "single_free":
        stance = np.abs(p) * 0.3  # the stance leg's hinge sets the hip path
        x, z = hip_from_leg(stance, 0.3 * stance)
        m = _leg_motion(ctx, t, fs, k, p, np.zeros_like(p), sway)
        m.p[:, 2] = z - 0.01
        m.p[:, 0] = x - hip_from_leg(0.0, 0.0)[0]
    elif variant in ("double", "single_stance"):
        m = _leg_motion(ctx, t, fs, k, p, 0.3 * p, sway)
    else:
        raise ValueError(f"rdl variant must be double|single_stance|single_free, got {variant!r}")
    for knots, (ecc, pause, con) in zip(reps, info, strict=True):
        m.events.append(
            _ev("rdl_rep", knots[0], knots[3], eccentric_s=ecc, concentric_s=con, pause_s=pause)
        )
    m.sets.append(_set("rdl", m.events, variant=variant))
    return m


def squat(ctx: Ctx, seg: Segment) -> Motion:
    """Body-weight squats to about parallel or deeper (look-alike of a bridge/RDL)."""
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(5, 13))
    p_max = ctx.u(75, 110)

    def phases(i: int) -> list[tuple[float, float]]:
        pv = p_max + ctx.rng.normal(0, 4)
        return [
            (ctx.u(1.0, 2.0), pv),
            (ctx.u(0, 0.5), pv),
            (ctx.u(0.8, 1.8), 0),
            (ctx.u(0.5, 2), 0),
        ]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(1, 2), ctx.u(0.5, 1.5))
    t, fs, k = ctx.grid(total, dynamic=True)
    p = keyframes(t, times, vals)
    m = _leg_motion(ctx, t, fs, k, p, 0.38 * p)
    for knots in reps:
        m.events.append(_ev("squat", knots[0], knots[3]))
    return m


def bend_down(ctx: Ctx, seg: Segment) -> Motion:
    """Bending to pick something up: a stoop (little thigh motion) or a squat-pick."""
    n = seg.reps if seg.reps is not None else 1
    kinds: list[str] = []

    def phases(i: int) -> list[tuple[float, float]]:
        stoop = ctx.rng.random() < 0.5
        kinds.append("stoop" if stoop else "squat")
        pv = ctx.u(10, 35) if stoop else ctx.u(70, 110)
        return [
            (ctx.u(0.8, 1.5), pv),
            (ctx.u(0.3, 1.5), pv),
            (ctx.u(0.8, 1.5), 0),
            (ctx.u(1, 4), 0),
        ]

    times, vals, reps, total = _rep_timeline(ctx, n, phases, ctx.u(0.5, 2), ctx.u(0.5, 1))
    t, fs, k = ctx.grid(total, dynamic=True)
    p = keyframes(t, times, vals)
    m = _leg_motion(ctx, t, fs, k, p, p * (0.2 + 0.2 * minjerk((p - 20) / 40)))
    for knots, kind in zip(reps, kinds, strict=True):
        m.events.append(_ev("bend_down", knots[0], knots[3], variant=kind))
    return m


def sit_to_stand(ctx: Ctx, seg: Segment) -> Motion:
    """Sit-to-stand reps from a chair: thigh horizontal → vertical → horizontal."""
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(5, 11))
    p_sit = ctx.u(85, 98)
    times, pv, qv = [0.0], [p_sit], [0.0]
    reps: list[tuple[float, float]] = []
    tcur = ctx.u(1.0, 2.5)
    times.append(tcur)
    pv.append(p_sit)
    qv.append(0.0)
    for _ in range(n):
        start = tcur
        rise = ctx.u(1.0, 2.0)
        times += [tcur + 0.35 * rise, tcur + rise]
        pv += [p_sit - 10, 0.0]
        qv += [ctx.u(10, 20), 0.0]
        tcur += rise + ctx.u(0.5, 2.5)
        times.append(tcur)
        pv.append(0.0)
        qv.append(0.0)
        down = ctx.u(1.3, 2.4)
        times += [tcur + 0.6 * down, tcur + down]
        pv += [p_sit - 15, p_sit]
        qv += [ctx.u(8, 15), 0.0]
        tcur += down
        reps.append((start, tcur))
        tcur += ctx.u(0.5, 3.0)
        times.append(tcur)
        pv.append(p_sit)
        qv.append(0.0)
    t, fs, k = ctx.grid(tcur + 0.5, dynamic=True)
    p = keyframes(t, times, pv)
    q = keyframes(t, times, qv)
    m = _leg_motion(ctx, t, fs, k, p, q, sway=0.3)
    m.posture = "seated"
    for a, b in reps:
        m.events.append(_ev("sit_to_stand", a, b))
    return m


def lunge(ctx: Ctx, seg: Segment) -> Motion:
    """Forward lunges, alternating legs: the instrumented thigh is the front or the back one."""
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(6, 13))
    rng = ctx.rng
    times, fv, xv, zv = [0.0], [0.0], [0.0], [0.0]
    roles: list[str] = []
    reps: list[tuple[float, float]] = []
    tcur = ctx.u(0.5, 1.5)
    times.append(tcur)
    fv.append(0.0)
    xv.append(0.0)
    zv.append(0.0)
    first_front = rng.random() < 0.5
    for i in range(n):
        front = first_front == (i % 2 == 0)
        roles.append("front" if front else "back")
        step, drop = ctx.u(0.3, 0.4), ctx.u(0.3, 0.42)
        start = tcur
        d1, d2, d3, d4 = ctx.u(0.5, 0.9), ctx.u(0.6, 1.0), ctx.u(0.0, 0.6), ctx.u(0.8, 1.4)
        f_mid, f_bot = (ctx.u(20, 35), ctx.u(80, 95)) if front else (-ctx.u(15, 25), -ctx.u(3, 12))
        times += [tcur + d1, tcur + d1 + d2, tcur + d1 + d2 + d3, tcur + d1 + d2 + d3 + d4]
        fv += [f_mid, f_bot, f_bot, 0.0]
        xv += [0.6 * step, step, step, 0.0]
        zv += [0.05, drop, drop, 0.0]
        tcur += d1 + d2 + d3 + d4
        reps.append((start, tcur))
        tcur += ctx.u(0.5, 2.0)
        times.append(tcur)
        fv.append(0.0)
        xv.append(0.0)
        zv.append(0.0)
    t, fs, k = ctx.grid(tcur + 0.5, dynamic=True)
    flex = keyframes(t, times, fv) + smooth_noise(t, rng, 0.8, 0.05, 0.8)
    hip = np.column_stack(
        [
            keyframes(t, times, xv),
            ctx.side * HIP_HALF_WIDTH + smooth_noise(t, rng, 0.006, 0.05, 0.5),
            STAND_HIP_Z - 0.01 - keyframes(t, times, zv),
        ]
    )
    abd = -ctx.u(2, 6) + smooth_noise(t, rng, 1.0, 0.05, 0.8)
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, flex, abd, ctx.u(-5, 8), "upright")
    for (a, b), role in zip(reps, roles, strict=True):
        m.events.append(_ev("lunge", a, b, instrumented=role))
    return m


# ------------------------------------------------------------------------------------------
# Hops and jumps


@dataclass
class _HopLog:
    takeoffs: list[float] = field(default_factory=list)
    landings: list[float] = field(default_factory=list)
    drops: list[tuple[float, float]] = field(default_factory=list)
    bumps: list[tuple[float, float, float]] = field(default_factory=list)


def _landing_spike(ctx: Ctx, instrumented_loaded: bool, hard: bool = True) -> float:
    """Impact peak (m/s²) on top of the smooth contact force: heel-first landings from a big
    jump hit hard, springy forefoot contacts barely at all."""
    peak = ctx.u(1.5, 4.0) if hard else ctx.u(0.5, 1.5)
    return peak * (1.0 if instrumented_loaded else 0.5) * G


def hops(ctx: Ctx, seg: Segment, kind: str) -> Motion:
    """All hop/jump forms on one whole-body dynamics model with true ballistic flight.

    pogo: continuous small ankle hops; cmj: countermovement jumps with a stick landing;
    drop_jump: step off a box, land, rebound; forward_hop / lateral_hop: hops with horizontal
    travel (continuous, or discrete with opts continuous=False); single_leg_hop: continuous
    hops on one leg (variant "instrumented" = on the sensor leg, "other" = sensor leg free).
    """
    n = seg.reps if seg.reps is not None else int(ctx.rng.integers(5, 16))
    rng = ctx.rng
    k = ctx.k_dyn
    fs = ctx.rate_hz * k
    z0 = STAND_HIP_Z - 0.01
    box = ctx.u(0.3, 0.45) if kind == "drop_jump" else 0.0
    bd = BodyDynamics(fs, z0 + box)
    log = _HopLog()
    # Which leg(s) take the landing: "both", or for single-leg hops the sensor leg or the other.
    if kind == "single_leg_hop":
        on_leg = seg.variant or str(rng.choice(["instrumented", "other"]))
        if on_leg not in ("instrumented", "other"):
            raise ValueError(f"single_leg_hop variant must be instrumented|other, got {on_leg!r}")
    else:
        on_leg = "both"
    loaded = on_leg != "other"
    continuous = bool(
        seg.opts.get(
            "continuous",
            kind in ("pogo", "lateral_hop", "single_leg_hop")
            or (kind == "forward_hop" and rng.random() < 0.5),
        )
    )
    if kind in ("cmj", "drop_jump"):
        continuous = False
    if kind == "pogo":
        tf0, tc0, d_toe = ctx.u(0.15, 0.35), ctx.u(0.15, 0.3), 0.05
    elif kind in ("single_leg_hop", "lateral_hop"):
        tf0, tc0, d_toe = ctx.u(0.15, 0.3), ctx.u(0.2, 0.35), 0.04
    elif kind == "forward_hop":
        tf0, tc0, d_toe = (
            (ctx.u(0.2, 0.35), ctx.u(0.2, 0.3), 0.04)
            if continuous
            else (ctx.u(0.35, 0.5), ctx.u(0.25, 0.35), 0.06)
        )
    else:  # cmj, drop_jump
        tf0, tc0, d_toe = ctx.u(0.4, 0.6), ctx.u(0.22, 0.32), 0.06
    flights = [tf0 * (1 + rng.normal(0, 0.06)) for _ in range(n)]
    contacts = [tc0 * (1 + rng.normal(0, 0.08)) for _ in range(n)]
    bd.hold(ctx.u(1.0, 2.5))
    # Horizontal travel per hop (forward x, sideways y) and when each flight happens.
    if kind == "forward_hop":
        travel = [(ctx.u(0.8, 1.5) if not continuous else ctx.u(0.4, 0.8), 0.0) for _ in range(n)]
    elif kind == "lateral_hop":
        w = ctx.u(0.3, 0.5)
        travel = [(0.0, w * (1 if i % 2 == 0 else -1)) for i in range(n)]
    elif kind == "single_leg_hop" and rng.random() < 0.5:
        travel = [(ctx.u(0.3, 0.6), 0.0) for _ in range(n)]
    else:
        travel = [(0.0, 0.0)] * n
    if continuous:
        bd.move(ctx.u(0.25, 0.4), -ctx.u(0.04, 0.1))
        bd.contact(contacts[0], G * flights[0] / 2, z0 + d_toe - bd.z, -G)
        for i in range(n):
            log.takeoffs.append(bd.t)
            bd.flight(flights[i])
            log.landings.append(bd.t)
            spike = _landing_spike(ctx, loaded, hard=i == n - 1)
            if i < n - 1:
                bd.contact(contacts[i + 1], G * flights[i + 1] / 2, 0.0, -G, spike, 0.02, 0.012)
            else:
                bd.contact(ctx.u(0.3, 0.45), 0.0, -ctx.u(0.08, 0.2), 0.0, spike, 0.02, 0.012)
        bd.move(ctx.u(0.5, 0.9), z0 - bd.z)
    else:
        for i in range(n):
            if kind == "drop_jump":
                t_step = ctx.u(0.4, 0.8)
                log.bumps.append((bd.t, bd.t + t_step, ctx.u(15, 35)))
                bd.hold(t_step)  # step off the edge
                drop_t = bd.t
                bd.flight(float(np.sqrt(2 * box / G)))
                log.drops.append((drop_t, bd.t))
                bd.contact(
                    contacts[i],
                    G * flights[i] / 2,
                    d_toe,
                    -G,
                    _landing_spike(ctx, loaded),
                    0.02,
                    0.012,
                )
            else:
                dip = ctx.u(0.2, 0.4)
                bd.move(ctx.u(0.4, 0.7), -dip)
                bd.contact(contacts[i], G * flights[i] / 2, z0 + d_toe - bd.z, -G)
            log.takeoffs.append(bd.t)
            bd.flight(flights[i])
            log.landings.append(bd.t)
            bd.contact(
                ctx.u(0.3, 0.45),
                0.0,
                -ctx.u(0.15, 0.3),
                0.0,
                _landing_spike(ctx, loaded),
                0.02,
                0.012,
            )
            bd.move(ctx.u(0.6, 1.1), z0 - bd.z)
            if kind == "drop_jump":
                bd.hold(ctx.u(1.0, 2.0))
                t_up = ctx.u(1.0, 1.6)
                lead = ctx.u(60, 80) if rng.random() < 0.5 else ctx.u(10, 25)
                log.bumps.append((bd.t - 0.3, bd.t + t_up, lead))
                bd.move(t_up, box)  # step back up onto the box
                if i == n - 1:
                    bd.hold(ctx.u(0.5, 1.0))
                    bd.move(ctx.u(0.8, 1.2), -box)  # step down to finish on the floor
            bd.hold(ctx.u(1.0, 3.0) + (ctx.u(2, 5) if rng.random() < 0.15 else 0.0))
    bd.hold(ctx.u(0.8, 1.5))
    n_int = int(np.ceil(bd.n / k)) * k
    bd.hold_samples(n_int - bd.n)
    z, _ = bd.result()
    t = np.arange(n_int) / fs
    # Horizontal: velocity ramps during each take-off contact, constant in flight, ramps down
    # (or over to the next hop) during landing: zero horizontal acceleration in the air.
    ux, uy = np.zeros(n_int), np.zeros(n_int)
    for i in range(n):
        a, b = log.takeoffs[i], log.landings[i]
        vx, vy = travel[i][0] / (b - a), travel[i][1] / (b - a)
        ramp_in = minjerk((t - (a - contacts[i] * 0.8)) / (contacts[i] * 0.8))
        ramp_out = 1 - minjerk((t - b) / 0.15)
        shape = np.where(t < a, ramp_in, np.where(t <= b, 1.0, ramp_out))
        ux += vx * shape
        uy += vy * shape
    x = integrate_velocity(ux, fs)
    y = integrate_velocity(uy, fs)
    # The first few cm of a dip are taken at the ankles; the thigh joins in as it deepens.
    ankle = ctx.u(0.02, 0.07) if continuous else 0.06  # stiff pogo vs. springy knees
    drop = np.maximum(z0 - z, 0.0)
    depth = drop - ankle * np.tanh(drop / ankle)
    if loaded:
        p = squat_flex_for_depth(depth) + ctx.u(2, 6) + smooth_noise(t, rng, 0.8, 0.1, 1.0)
        q = 0.6 * (p - 4)
        gx, _ = hip_from_leg(p, q)
        x = x + gx - hip_from_leg(0.0, 0.0)[0]
    else:
        p = ctx.u(35, 70) + 0.3 * squat_flex_for_depth(depth) + smooth_noise(t, rng, 3, 0.2, 2)
    for a0, a1, amp_deg in log.bumps:  # stepping off / back onto the box
        u = np.clip((t - a0) / (a1 - a0), 0.0, 1.0)
        p = p + amp_deg * np.sin(np.pi * u) ** 2
    hip = np.column_stack([x, ctx.side * HIP_HALF_WIDTH + y, z])
    abd = -ctx.u(2, 6) + smooth_noise(t, rng, 1.0, 0.1, 1.5)
    m = _motion(ctx, t, fs, k, hip, UPRIGHT, p, abd, ctx.u(-5, 8), "upright")
    tissue = np.zeros((n_int, 3))
    amp = ctx.u(0.0004, 0.0009) if loaded else ctx.u(0.0001, 0.0003)
    tissue[:, 2] = damped_ringing(t, log.landings, amp, ctx.u(12, 20), 0.04)
    tissue[:, 0] = damped_ringing(t, log.landings, amp * 0.4, ctx.u(10, 16), 0.05)
    if log.drops:
        tissue[:, 2] += damped_ringing(t, [d[1] for d in log.drops], amp, 15.0, 0.04)
    m.tissue = tissue
    for i in range(n):
        if kind == "drop_jump":
            d0, d1 = log.drops[i]
            m.events.append(_ev("drop", d0, d1, flight_s=d1 - d0))
        a, b = log.takeoffs[i], log.landings[i]
        contact: float | None
        if kind == "drop_jump":
            contact = a - log.drops[i][1]
        else:
            contact = None if i == 0 else a - log.landings[i - 1]
        m.events.append(_ev("hop", a, b, flight_s=b - a, contact_s=contact, kind=kind, leg=on_leg))
    hop_events = [e for e in m.events if e["type"] == "hop"]
    m.sets.append(_set("hops", hop_events, variant=kind))
    return m


# ------------------------------------------------------------------------------------------

Generator = Callable[[Ctx, Segment], Motion]


def _hop_kind(kind: str) -> Generator:
    def gen(ctx: Ctx, seg: Segment) -> Motion:
        return hops(ctx, seg, kind)

    gen.__doc__ = f"{kind} (see `hops`)."
    return gen


ACTIVITIES: dict[str, Generator] = {
    "standing": standing,
    "sitting": sitting,
    "lying": lying,
    "nonwear": nonwear,
    "walking": walking,
    "running": running,
    "stairs": stairs,
    "cycling": cycling,
    "bridge": bridge,
    "bridge_hold": bridge_hold,
    "pelvic_tilt": pelvic_tilt,
    "knee_rolling": knee_rolling,
    "rdl": rdl,
    "squat": squat,
    "bend_down": bend_down,
    "sit_to_stand": sit_to_stand,
    "lunge": lunge,
    **{
        kind: _hop_kind(kind)
        for kind in ("pogo", "cmj", "drop_jump", "forward_hop", "lateral_hop", "single_leg_hop")
    },
}
