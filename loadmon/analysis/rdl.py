"""Provides the Romanian deadlift (RDL) detector with eccentric and concentric durations.

An RDL is a standing hip hinge: the thigh stays near vertical and pitches forward by about
10–35° (the knees soften while the hips go back), slowly (heavy slow resistance ≈ 3 s each
way), in the sagittal plane, and returns. Squats and sit-to-stand take the thigh towards
horizontal (> MAX_PEAK_DEG); walking and stairs move fast (movement above MAX_MOVEMENT_G);
lunges pitch the trailing thigh backwards (rejected when the anterior sign is known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loadmon.analysis.excursions import find_excursions
from loadmon.analysis.orientation import Mounting, inclination_deg
from loadmon.analysis.prepare import WORK_HZ, FloatArray, runs, unit

#: Upright spans: inclination below this (deg).
UPRIGHT_DEG = 60.0
#: Pitch excursion limits (deg) and hysteresis.
MIN_PITCH_DEG = 8.0
MAX_PEAK_DEG = 50.0
#: Tempo limits (s): each phase at least, the whole rep at most.
MIN_PHASE_S = 0.6
MAX_REP_S = 20.0
#: Slow movement only: mean std of |acc| over the rep (g).
MAX_MOVEMENT_G = 0.1
#: ... and nowhere in the rep or MARGIN_S around it above this (g): no steps.
MAX_PEAK_MOVEMENT_G = 0.15
MARGIN_S = 1.0
MAX_ML_FRACTION = 0.6
BASELINE_WINDOW_S = 60.0

PARAMETERS = {
    "upright_deg": UPRIGHT_DEG,
    "min_pitch_deg": MIN_PITCH_DEG,
    "max_peak_deg": MAX_PEAK_DEG,
    "min_phase_s": MIN_PHASE_S,
    "max_rep_s": MAX_REP_S,
    "max_movement_g": MAX_MOVEMENT_G,
    "max_peak_movement_g": MAX_PEAK_MOVEMENT_G,
    "margin_s": MARGIN_S,
    "max_ml_fraction": MAX_ML_FRACTION,
    "baseline_window_s": BASELINE_WINDOW_S,
}


@dataclass(frozen=True)
class RdlRep:
    start_s: float
    end_s: float
    eccentric_s: float
    concentric_s: float
    pitch_deg: float


def guided_mounting(gdir: FloatArray, std_mag: FloatArray) -> Mounting:
    """For a recording of standing RDLs only: the rest between reps is upright standing."""
    quiet = std_mag < 0.05
    g = gdir[quiet] if quiet.sum() >= 20 else gdir
    c = unit(np.median(g, axis=0)[None, :])[0]
    for _ in range(3):
        near = g @ c > np.cos(np.radians(10))
        if near.sum() < 10:
            break
        c = unit(g[near].mean(axis=0)[None, :])[0]
    return Mounting(long_axis=(float(c[0]), float(c[1]), float(c[2])), confidence=0.5,
                    source="guided-rdl")


def sagittal_pitch(gdir: FloatArray, m: Mounting) -> FloatArray | None:
    """Signed forward pitch of the thigh (deg) in the sagittal plane, when the anterior axis is
    known: unlike the inclination it does not fold over when the thigh passes vertical."""
    a = m.a
    if a is None:
        return None
    out: FloatArray = np.degrees(np.arctan2(gdir @ a, gdir @ m.u))
    return out


def detect_rdl(
    tw: FloatArray, gdir: FloatArray, std_mag: FloatArray, m: Mounting
) -> list[RdlRep]:
    """RDL reps in the upright spans of a recording whose mounting is known."""
    inc = inclination_deg(gdir, m)
    a_ax = m.a if m.anterior_sign_known else None
    ml = m.m
    pitch = sagittal_pitch(gdir, m)
    out: list[RdlRep] = []
    for a, b in runs(inc < UPRIGHT_DEG):
        if b - a < 3 * WORK_HZ:
            continue
        s = inc[a:b] if pitch is None else pitch[a:b]
        if pitch is not None and not m.anterior_sign_known:
            med = float(np.median(s))
            if med - float(np.percentile(s, 2)) > float(np.percentile(s, 98)) - med:
                s = -s
        slow = std_mag[a:b] < MAX_PEAK_MOVEMENT_G
        if not slow.any():
            continue
        for e in find_excursions(
            s, MIN_PITCH_DEG, dt=1.0 / WORK_HZ, keep=slow, times=tw[a:b]
        ):
            i0, i1, ip = a + e.start, a + e.end, a + e.peak
            if float(inc[ip]) > MAX_PEAK_DEG:
                continue
            if e.rise_s < MIN_PHASE_S or e.fall_s < MIN_PHASE_S:
                continue
            if e.t_end - e.t_start > MAX_REP_S:
                continue
            m0 = max(0, i0 - int(MARGIN_S * WORK_HZ))
            m1 = min(std_mag.size, i1 + int(MARGIN_S * WORK_HZ) + 1)
            if float(np.mean(std_mag[i0 : i1 + 1])) > MAX_MOVEMENT_G:
                continue
            if float(np.max(std_mag[m0:m1])) > MAX_PEAK_MOVEMENT_G:
                continue  # steps just before or after: the start or end of walking
            dg = gdir[ip] - gdir[i0]
            nrm = float(np.linalg.norm(dg))
            if ml is not None and nrm > 1e-6 and abs(float(dg @ ml)) / nrm > MAX_ML_FRACTION:
                continue
            if a_ax is not None and float(dg @ a_ax) < 0:
                continue  # pitched backwards: a trailing lunge leg, not a hinge
            out.append(
                RdlRep(
                    round(e.t_start, 2),
                    round(e.t_end, 2),
                    round(e.rise_s, 2),
                    round(e.fall_s, 2),
                    round(e.amplitude_deg, 1),
                )
            )
    return out
