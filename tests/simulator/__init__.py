"""Provides a physics-based simulator of a thigh-worn IMU, with ground truth, for testing.

It models the body (hip path, thigh rotation about the hip, whole-body posture), computes
the true specific force and angular rate at a sensor strapped anywhere on the thigh, then
adds what a commodity BLE IMU does to them (filtering, noise, bias, quantisation, clipping,
jitter, packet loss). It knows nothing about loadmon's detectors, so it can test them.

    from tests.simulator import simulate, Segment, SensorSpec, Mounting, make_scenario
    rec, truth = simulate([Segment("standing", 10.0), Segment("bridge", reps=10)], seed=1)
    rec, truth = make_scenario("bridge_session", seed=7)
    python -m tests.simulator --scenario hop_session --seed 3 --out /tmp/hops.csv

Modelled:
- rigid thigh rotating about the hip (flexion, ab/adduction, axial rotation) on a hip centre
  that moves in the world; base postures upright / supine / prone / side-lying; heading;
- the sensor's world position (lever arm from the hip, on the skin surface) is differentiated
  twice, so gravity, hip acceleration, centripetal and tangential terms all appear; angular
  rate is vee(Rᵀ Ṙ) in the sensor frame; f = Rᵀ(a − g) in g (+1 g up at rest);
- flight is exact free fall (leapfrog-integrated a = −g); ground contacts are smooth force
  profiles solved to reach the take-off velocity and height, with an impact peak; soft-tissue
  wobble after impacts and heel strikes; leg geometry (foot fixed, shank and thigh angles)
  sets the hip path for squats, RDLs, sit-to-stands and jump dips; bridges pivot the thigh
  about a fixed knee;
- sensor: zero-phase anti-alias low-pass and decimation from an internal rate (≥ 400 Hz for
  moving segments), constant bias and scale error, white noise, clipping, quantisation,
  timestamp jitter, packet-loss gaps, optional gyro.

Simplified:
- activities are parametric joint-angle trajectories with random variability, not a
  musculoskeletal or balance model; only the instrumented thigh and hip are simulated;
- transitions between segments are minimum-jerk blends of pose (via kneeling and floor
  sitting when getting down to or up from the floor);
- quiet segments (standing, sitting, lying, non-wear) are computed at the output rate;
- sensor noise is white (no 1/f, no bias drift with temperature), filters are zero-phase,
  the clock is ideal apart from jitter (no drift).
"""

from tests.simulator.activities import ACTIVITIES, Segment
from tests.simulator.core import simulate
from tests.simulator.scenarios import SCENARIOS, make_scenario
from tests.simulator.sensor import Mounting, SensorSpec

__all__ = [
    "ACTIVITIES",
    "SCENARIOS",
    "Mounting",
    "Segment",
    "SensorSpec",
    "make_scenario",
    "simulate",
]
