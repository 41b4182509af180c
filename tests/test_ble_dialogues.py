"""Session dialogues as the devices expect them, end to end on the virtual radio.

Movesense with the gyro off (`/Meas/Acc`), MetaMotion S (BMI270) told apart by its module
info, the Verity's SDK mode and started measurements surviving a dropped link, and the first
frame after a reconnect placed from its own clock.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from loadmon import storage
from loadmon.profiles import DeviceProfile, get_profile
from loadmon.recording import Recording
from loadmon.sensor.record import Recorder, RecordResult
from loadmon.sensor.stream import SensorStream, StreamOptions
from loadmon.sensor.virtual.backend import VirtualBleakClient, VirtualBleakScanner
from loadmon.sensor.virtual.emulators import EmulatedSensor, Faults, TickClock, make_sensor
from tests.test_ble_virtual import align, source

SPEED = 10.0


async def record(
    profile: DeviceProfile,
    src: Recording,
    db: storage.Database,
    *,
    duration_s: float,
    gyro: bool = True,
    chip: str | None = None,
    faults: Faults | None = None,
    speed: float = SPEED,
) -> tuple[RecordResult, SensorStream, EmulatedSensor]:
    # Without faults that wait in real time, both run on the emulator's tick clock: host
    # scheduling cannot move arrival times.
    clock = TickClock() if faults is None else None
    sensor = make_sensor(profile, src, speed=speed, faults=faults, chip=chip, clock=clock)
    await sensor.attach()
    try:
        pid = storage.add_patient(db, f"p{time.monotonic_ns()}")
        opts = StreamOptions(rate_hz=int(src.sample_rate_hz), time_scale=speed, gyro=gyro)
        stream = SensorStream(profile, sensor.name, opts, client_backend=VirtualBleakClient,
                              scanner_backend=VirtualBleakScanner, clock=clock)
        result = await Recorder(db, pid, stream).run(duration_s=duration_s)
    finally:
        await sensor.close()
    return result, stream, sensor


async def test_movesense_without_gyro_subscribes_acc_and_decodes_every_sample(
    fresh_db: storage.Database,
) -> None:
    prof = get_profile("movesense")
    src = source(52, 12.0)
    result, _stream, sensor = await record(prof, src, fresh_db, duration_s=10.0, gyro=False)
    assert sensor.kind == "Acc" and sensor.max_n == 4  # type: ignore[attr-defined]
    assert result.status == "complete" and result.malformed == 0
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert stored.gyro is None and stored.n_samples >= 10 * 52 - 8
    i0 = align(stored, src)
    np.testing.assert_allclose(stored.acc, src.acc[i0 : i0 + stored.n_samples], atol=1e-4)


async def test_movesense_imu6_at_104_hz_reassembles_data_part2(fresh_db: storage.Database) -> None:
    prof = get_profile("movesense")
    src = source(104, 8.0)
    result, _, sensor = await record(prof, src, fresh_db, duration_s=6.0)
    assert sensor.max_n == 8 and result.malformed == 0  # type: ignore[attr-defined]
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert stored.n_samples >= 6 * 104 - 16 and stored.gyro is not None
    i0 = align(stored, src)
    np.testing.assert_allclose(stored.gyro, src.gyro[i0 : i0 + stored.n_samples], atol=2e-3)  # type: ignore[index]


async def test_metamotion_s_is_told_apart_and_streams(fresh_db: storage.Database) -> None:
    prof = get_profile("metamotion")
    src = source(50, 10.0)
    result, stream, sensor = await record(prof, src, fresh_db, duration_s=8.0, chip="bmi270")
    assert stream.session.chip == "bmi270"  # type: ignore[attr-defined]
    assert sensor.acc_rate == 50 and sensor.acc_range == 8  # type: ignore[attr-defined]
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert result.malformed == 0 and stored.n_samples >= 8 * 50 - 10
    i0 = align(stored, src)
    np.testing.assert_allclose(stored.acc, src.acc[i0 : i0 + stored.n_samples], atol=1 / 4096)


async def test_verity_sdk_mode_survives_a_drop_and_is_stopped_at_close(
    fresh_db: storage.Database,
) -> None:
    """At 208 Hz SDK mode is needed. After the drop the sensor still has it on and its
    measurements still started (ALREADY_IN_STATE): the session restarts them, and at close
    it stops SDK mode, which it switched on before the drop."""
    prof = get_profile("polar-verity-sense")
    src = source(208, 14.0)
    faults = Faults(drop_link_at_s=4.0, away_s=0.3)
    result, stream, sensor = await record(prof, src, fresh_db, duration_s=10.0, faults=faults)
    assert sensor.drops == 1 and result.reconnects == 1 and result.status == "complete"
    assert stream.session.sdk and not sensor.sdk_mode  # type: ignore[attr-defined]
    assert not sensor.active  # type: ignore[attr-defined]
    assert stream.session.unmatched_replies == 0  # type: ignore[attr-defined]


async def test_short_drop_samples_after_reconnect_at_sensor_rate_and_gap_is_the_outage(
    fresh_db: storage.Database,
) -> None:
    """At real time: a 0.5 s outage is shorter than a frame, so a frame spaced from the last
    stamp before the drop would look plausible (the bug this guards against)."""
    prof = get_profile("polar-verity-sense")
    fs = 52
    src = source(fs, 9.0)
    faults = Faults(drop_link_at_s=3.0, away_s=0.5)
    result, _stream, sensor = await record(prof, src, fresh_db, duration_s=8.0, faults=faults,
                                          speed=1.0)
    assert sensor.drops == 1 and result.reconnects == 1
    gaps = storage.list_gaps(fresh_db, result.recording_id)
    assert len(gaps) == 1
    a, b = gaps[0]
    stored = storage.load_recording(fresh_db, result.recording_id)
    i0 = align(stored, src)
    after = stored.t >= b - 1e-3
    # Samples after the reconnect: spaced at the sensor's rate, from its own clock (times are
    # stored to 0.1 ms)...
    np.testing.assert_allclose(np.diff(stored.t[after]), 1 / fs, atol=1.5e-4)
    # ...and each one is the source sample of that time, so the gap is the real outage.
    k = np.rint(stored.t[after] * fs).astype(int) + i0
    np.testing.assert_allclose(stored.acc[after], src.acc[k], atol=1e-3)
    lost = round((b - a) * fs) - 1  # samples the outage swallowed
    assert lost >= 0.5 * fs
    assert stored.n_samples + lost + i0 >= round((stored.t[-1] - stored.t[0]) * fs)


def test_timeline_restarts_device_clock_spacing_after_a_link_loss() -> None:
    """The first frame after a reconnect is spaced at the rate from its own stamp, even when
    the span to the last stamp before the drop looks like a plausible frame (< 50 % off)."""
    from loadmon.sensor.blocks import SampleBlock
    from loadmon.sensor.stream import Timeline

    fs, n = 52.0, 60
    tl = Timeline("device_ns_last", fs)
    last_before = 100.0
    tl.place("acc", SampleBlock(np.zeros((n, 3)), None, 0.0, int(last_before * 1e9), "last"))
    tl.reset_arrival()  # the link-lost marker
    t_last = last_before + n / fs + 0.5  # a 0.5 s outage before this frame's first sample
    times = tl.place("acc", SampleBlock(np.zeros((n, 3)), None, 0.0, int(t_last * 1e9), "last"))
    np.testing.assert_allclose(np.diff(times), 1 / fs, atol=1e-9)
    assert times[0] - last_before == pytest.approx(0.5 + 1 / fs, abs=1e-6)


@pytest.mark.parametrize(("rate", "rng", "config"), [(100, 500, "13 03 28 02"),
                                                      (25, 2000, "13 03 26 00"),
                                                      (200, 125, "13 03 29 04")])
def test_bmi270_gyro_commands_are_the_metawear_sdks(rate: int, rng: int, config: str) -> None:
    """The MetaMotion S gyro dialogue, byte for byte as MetaWear-SDK-Cpp writes it
    (src/metawear/sensor/cpp/gyro_bosch.cpp at f67699e: mbl_mw_gyro_bmi270_write_config sends
    `13 03` + GyroBoschConfig {gyr_odr:4, gyr_bwp:2 = 2, :2, gyr_range:3, :5}, ODR codes
    25 Hz = 6 … (gyro_bosch.h), ranges 2000 dps = 0 … 125 dps = 4; _start `13 01 01`,
    _enable_rotation_sampling `13 02 01 00`; GyroBmi270Register in gyro_bosch_register.h puts
    the packed data at 0x05, where the BMI160 has 0x07). The config bytes are the BMI160's."""
    from loadmon.sensor.families.metawear.dialogue import MetaWearSession

    def hexes(cmds: list[bytes]) -> list[str]:
        return [c.hex(" ") for c in cmds]

    prof = get_profile("metamotion")
    for chip, packed in (("bmi270", "05"), ("bmi160", "07")):
        session = MetaWearSession(prof, StreamOptions(rate_hz=rate, gyro_range=rng))
        session.chip = chip
        on, off = hexes(session._commands(True)), hexes(session._commands(False))
        assert on[4:] == [config, f"13 {packed} 01", "13 02 01 00", "13 01 01"], chip
        assert off[3:] == ["13 01 00", "13 02 00 01", f"13 {packed} 00"], chip
