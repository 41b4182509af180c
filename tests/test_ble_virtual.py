"""End to end through the real bleak API on the virtual radio: every profile, faults, the CLI."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon import storage
from loadmon.cli import cli
from loadmon.errors import DeviceError
from loadmon.profiles import DeviceProfile, get_profile, load_profiles
from loadmon.recording import Recording, write_loadmon_csv
from loadmon.sensor.record import Recorder, RecordResult
from loadmon.sensor.stream import Samples, SensorStream, StreamOptions
from loadmon.sensor.virtual.backend import VirtualBleakClient, VirtualBleakScanner
from loadmon.sensor.virtual.emulators import EmulatedSensor, Faults, TickClock, make_sensor

SPEED = 10.0
#: On the tick clock host scheduling cannot move arrival times, so a replay can run faster
#: (each 4 ms tick then carries 0.12 s of sensor time). Not for MetaWear: it has no device
#: clock and its acc and gyro are paired by arrival, which a tick that long would blur.
TICK_SPEED = 30.0


def source(rate: float, duration_s: float, seed: int = 7) -> Recording:
    """A smooth random thigh signal inside every sensor's range, printed like loadmon-csv."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * rate)
    walk = np.cumsum(rng.normal(0, 1, (n, 6)), axis=0)
    kernel = np.ones(7) / 7
    sm = np.column_stack([np.convolve(walk[:, i], kernel, "same") for i in range(6)])
    sm -= sm.mean(axis=0)
    sm /= np.abs(sm).max(axis=0)
    acc = np.round(sm[:, :3] * 1.5, 4)
    gyro = np.round(sm[:, 3:] * 400, 3)
    return Recording(
        t=np.arange(n) / rate, acc=acc, gyro=gyro, sample_rate_hz=rate,
        start=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), device="source",
    )


async def run_virtual(
    profile: DeviceProfile,
    src: Recording,
    db: storage.Database,
    *,
    duration_s: float | None,
    faults: Faults | None = None,
    tick_clock: bool = False,
    speed: float = SPEED,
) -> tuple[RecordResult, SensorStream, EmulatedSensor]:
    """Record a virtual sensor at `speed` × real time; `tick_clock` puts both on the
    emulator's tick clock, so host scheduling cannot move arrival times (not for faults that
    wait in real time)."""
    clock = TickClock() if tick_clock else None
    sensor = make_sensor(profile, src, speed=speed, faults=faults, clock=clock)
    await sensor.attach()
    try:
        pid = storage.add_patient(db, f"p{time.monotonic_ns()}")
        stream = SensorStream(
            profile, sensor.name, StreamOptions(rate_hz=int(src.sample_rate_hz), time_scale=speed),
            client_backend=VirtualBleakClient, scanner_backend=VirtualBleakScanner, clock=clock,
        )
        result = await Recorder(db, pid, stream).run(duration_s=duration_s)
    finally:
        await sensor.close()
    return result, stream, sensor


def quantum(profile: DeviceProfile, stream: SensorStream) -> tuple[float, float]:
    s = stream.session.settings
    acc = s.acc_factor or profile.acc.resolution or 1e-4
    gyro = (s.gyro_factor or (profile.gyro.resolution if profile.gyro else 0) or 1e-3)
    return max(acc, 1e-4), max(gyro, 1e-3)


def source_index(stored: Recording, src: Recording, i: int) -> int:
    """Index of the source sample stored sample `i` is (nearest in acc and gyro)."""
    d = np.abs(src.acc - stored.acc[i]).max(axis=1)
    if stored.gyro is not None and src.gyro is not None:
        d = np.maximum(d, np.abs(src.gyro - stored.gyro[i]).max(axis=1) / 400)
    return int(np.argmin(d))


def align(stored: Recording, src: Recording) -> int:
    """Index of the source sample the stored recording starts at (match a 5-sample window)."""
    w = stored.acc[:5]
    errs = [np.abs(src.acc[i : i + 5] - w).max() for i in range(0, 30)]
    return int(np.argmin(errs))


def assert_paired_within_one_sample(
    stored: np.ndarray, src: np.ndarray, i0: int, tol: float
) -> None:
    """MetaWear streams acc and gyro as separate notifications with no device time, so they
    are paired by arrival time: every gyro row is the source's own row or a neighbour (one
    sample period, 10 ms at 100 Hz; at --speed 10 host jitter is magnified ten times), and
    nearly all are exact."""
    n = stored.shape[0]
    err = {lag: np.abs(stored - src[i0 + lag : i0 + lag + n]).max(axis=1)
           for lag in (-1, 0, 1) if i0 + lag >= 0}
    exact = err[0] <= tol
    near = np.logical_or.reduce([e <= tol for e in err.values()])
    assert near.all(), f"{int((~near).sum())} gyro rows are not within one sample of the source"
    assert exact.mean() >= 0.95, f"only {exact.mean():.1%} of gyro rows paired exactly"


@pytest.mark.parametrize("profile_id", sorted(p.id for p in load_profiles()))
async def test_sixty_seconds_replayed_equal_the_source(
    profile_id: str, fresh_db: storage.Database
) -> None:
    prof = get_profile(profile_id)
    rate = prof.acc.default_rate_hz
    src = source(rate, 61.0)
    speed = SPEED if prof.family == "metawear" else TICK_SPEED
    result, stream, _ = await run_virtual(prof, src, fresh_db, duration_s=60.0, tick_clock=True,
                                          speed=speed)
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert result.status == "complete" and result.gaps == 0 and result.malformed == 0
    i0 = align(stored, src)
    assert i0 <= 10  # only the samples before the second stream (gyro) started
    n = stored.n_samples
    assert n >= 60 * rate - 11
    assert stored.duration_s == pytest.approx(60.0, abs=2.5 / rate)
    ref = slice(i0, i0 + n)
    q_acc, q_gyro = quantum(prof, stream)
    np.testing.assert_allclose(stored.acc, src.acc[ref], rtol=0, atol=q_acc / 2 + 1e-7)
    if prof.has_gyro:
        assert stored.gyro is not None and src.gyro is not None
        tol = q_gyro / 2 + 1e-6
        if prof.family != "metawear":
            np.testing.assert_allclose(stored.gyro, src.gyro[ref], rtol=0, atol=tol)
        else:
            assert_paired_within_one_sample(stored.gyro, src.gyro, i0, tol)
    else:
        assert stored.gyro is None
    if prof.has_clock:
        # The sensor's own clock: every sample at its source time.
        dt = (stored.t - stored.t[0]) - (src.t[ref] - src.t[i0])
        assert np.abs(dt).max() < 1.0 / rate
    else:
        # Arrival time: consecutive source samples (checked above) one period apart on the
        # rate grid; where the grid sits follows the host's lag, which is scheduling (×10 at
        # --speed 10), so it is not asserted.
        np.testing.assert_allclose(np.diff(stored.t), 1.0 / rate, rtol=0, atol=0.25 / rate)
    if prof.family == "polar_pmd":
        assert not getattr(stream.session, "sdk", False)  # the defaults need no SDK mode
    blocks = fresh_db.execute("SELECT count(*) FROM sample_blocks").fetchone()[0]
    assert blocks == 1  # the half-second commits were merged at the end
    if prof.clock == "device_ns_last":  # Polar's clock is absolute: start is exact too
        offset = (stored.start - src.start).total_seconds() + stored.t[0] - src.t[i0]
        assert abs(offset) < 1e-5


@pytest.mark.parametrize("profile_id", ["polar-verity-sense", "thingy52"])
async def test_dropped_link_reconnects_and_gap_is_stored(
    profile_id: str, fresh_db: storage.Database
) -> None:
    prof = get_profile(profile_id)
    src = source(prof.acc.default_rate_hz, 25.0)
    faults = Faults(drop_link_at_s=6.0, away_s=0.5)
    result, stream, sensor = await run_virtual(prof, src, fresh_db, duration_s=18.0,
                                               faults=faults)
    assert sensor.drops == 1 and result.reconnects == 1
    assert stream.stats.last_outage_s < 5.0
    gaps = storage.list_gaps(fresh_db, result.recording_id)
    assert len(gaps) == 1
    a, b = gaps[0]
    assert b - a >= 0.5 * SPEED * 0.8  # away 0.5 s of host time at ×10
    # The samples either side of the gap are the source's last before the drop (whenever the
    # busy host let the emulator drop it) and its first after the reconnect.
    stored_ = storage.load_recording(fresh_db, result.recording_id)
    k_before = source_index(stored_, src, int(np.searchsorted(stored_.t, a + 1e-3)) - 1)
    k_after = source_index(stored_, src, int(np.searchsorted(stored_.t, b - 1e-3)))
    rate = prof.acc.default_rate_hz
    drop_k = sensor.dropped_at_s * rate  # type: ignore[operator]
    assert k_before <= drop_k + 1 < k_after
    reasons = [r["reason"] for r in fresh_db["gaps"].rows]
    assert reasons == ["link lost"]
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert stored.gaps() and stored.t[-1] > b


async def test_malformed_packets_are_counted_and_skipped(fresh_db: storage.Database) -> None:
    prof = get_profile("witmotion-bwt901ble")
    src = source(50, 12.0)
    sensor = make_sensor(prof, src, speed=SPEED, faults=Faults(malformed_every=10))
    await sensor.attach()
    stream = SensorStream(prof, sensor.name, StreamOptions(time_scale=SPEED),
                          client_backend=VirtualBleakClient, scanner_backend=VirtualBleakScanner)
    stop = asyncio.Event()

    async def all_received() -> None:
        """Stop once the replay is over and every notification sent has been handled, so
        the counts compare whatever the host's speed."""
        await sensor.finished.wait()
        while stream.stats.packets < sensor.sent:
            await asyncio.sleep(0.01)
        stop.set()

    watcher = asyncio.ensure_future(all_received())
    try:
        pid = storage.add_patient(fresh_db, "w")
        result = await Recorder(fresh_db, pid, stream).run(stop=stop)
    finally:
        watcher.cancel()
        await sensor.close()
    assert sensor.corrupted > 0 and result.malformed == sensor.corrupted
    stored = storage.load_recording(fresh_db, result.recording_id)
    # Every stored sample is a real one: corrupted packets are skipped, not misread.
    assert np.isin(np.round(stored.acc[:, 0] / (16 / 32768)),
                   np.round(src.acc[:, 0] / (16 / 32768))).all()


async def test_lost_polar_frames_become_packet_loss_gaps(fresh_db: storage.Database) -> None:
    prof = get_profile("polar-h10")
    src = source(50, 14.0)
    _, _, sensor = await run_virtual(prof, src, fresh_db, duration_s=12.0,
                                     faults=Faults(lose_every=4))
    assert sensor.lost >= 2
    rows = list(fresh_db["gaps"].rows)
    assert len(rows) == sensor.lost and {r["reason"] for r in rows} == {"packet loss"}


async def test_control_point_error_gives_a_clear_message(fresh_db: storage.Database) -> None:
    prof = get_profile("polar-verity-sense")
    with pytest.raises(DeviceError, match=r"refused ACC start: control-point error 9 "
                                          r"INVALID_RANGE"):
        await run_virtual(prof, source(52, 5.0), fresh_db, duration_s=2.0,
                          faults=Faults(cp_error=9))


def test_cli_record_virtual_replay_and_errors(tmp_path: Path) -> None:
    src_file = tmp_path / "src.csv"
    write_loadmon_csv(source(52, 8.0), src_file)
    db = tmp_path / "cli.db"
    runner = CliRunner()
    res = runner.invoke(cli, ["record", "--device", "virtual:movesense", "--replay", str(src_file),
                              "--speed", "20", "--patient", "ann", "--create", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "recorded 41" in res.output and "0 gap(s)" in res.output
    res = runner.invoke(cli, ["record", "--device", "virtual:polar-verity-sense", "--speed", "20",
                              "--duration", "2", "--patient", "ann", "--db", str(db),
                              "--fault-cp-error", "10"])
    assert res.exit_code == 1
    assert "control-point error 10 INVALID_MTU" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["record", "--device", "virtual:fitbit", "--patient", "ann",
                              "--db", str(db)])
    assert res.exit_code == 2 and "no device profile 'fitbit'" in res.output
    res = runner.invoke(cli, ["record", "--device", "virtual:thingy52", "--rate", "300",
                              "--patient", "ann", "--db", str(db)])
    assert res.exit_code == 2 and "cannot stream at 300 Hz" in res.output


def test_cli_record_stores_the_detected_reps_of_the_session(tmp_path: Path) -> None:
    """A live-recorded session is analysed when it ends, so it counts in the day's load.

    A sensor with its own clock (the Verity): at --speed 20 an arrival-time sensor's stamps
    would carry the host's scheduling ×20, and this test is about the analysis, not that."""
    fixture = Path(__file__).parent / "data" / "recordings" / "bridges_52hz_left_anterior.csv"
    truth = json.loads(
        (Path(__file__).parent / "data" / "expected" / "bridges_52hz_left_anterior.json")
        .read_text()
    )
    n_true = sum(1 for e in truth["events"] if e["type"] == "bridge_rep")
    db = tmp_path / "rec.db"
    res = CliRunner().invoke(cli, ["record", "--device", "virtual:polar-verity-sense", "--replay",
                                   str(fixture), "--speed", "20", "--no-reps", "--patient", "ann",
                                   "--create", "--db", str(db)])
    assert res.exit_code == 0, res.output
    d = storage.open_db(db)
    reps = d.execute("SELECT count(*) FROM events WHERE type = 'bridge_rep'").fetchone()[0]
    assert reps == n_true
    assert d.execute("SELECT count(*) FROM analyses").fetchone()[0] == 1


def test_cli_devices_list_and_decode() -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["devices"])
    assert res.exit_code == 0 and "polar-verity-sense" in res.output
    res = runner.invoke(cli, ["devices", "decode", "polar-verity-sense",
                              "02 00 00 00 00 00 00 00 00 80 D0 FF 65 01 E4 0F 08 01 FC 07 FF",
                              "--factor", "0.001"])
    assert res.exit_code == 0, res.output
    assert '"acc_g": [[-0.048, 0.357, 4.068], [-0.052, 0.364, 4.067]]' in res.output
    assert '"t": 946684800.0' in res.output
    res = runner.invoke(cli, ["scan", "--virtual", "--json"])
    assert res.exit_code == 0, res.output
    assert sorted(d["profile"] for d in json.loads(res.output)) == sorted(
        p.id for p in load_profiles()
    )
    res = runner.invoke(cli, ["devices", "decode", "thingy52", "zz"])
    assert res.exit_code == 2 and "hexadecimal" in res.output
    res = runner.invoke(cli, ["devices", "decode", "thingy52", "0102"])
    assert res.exit_code == 2 and "18 bytes" in res.output


async def test_stream_samples_iterator_for_live_screens() -> None:
    from loadmon.sensor.stream import stream_samples

    prof = get_profile("movesense")
    sensor = make_sensor(prof, source(52, 20.0), speed=SPEED)
    await sensor.attach()
    got = 0
    try:
        async for item in stream_samples(
            prof, sensor.name, StreamOptions(time_scale=SPEED),
            client_backend=VirtualBleakClient, scanner_backend=VirtualBleakScanner,
        ):
            assert isinstance(item, Samples) and item.acc.shape[1] == 3
            got += item.t.size
            if item.t[-1] > 5.0:
                break
    finally:
        await sensor.close()
    assert got >= 5 * 52


async def test_polar_refuses_to_start_below_mtu_232() -> None:
    from bleak import BleakClient, BleakScanner

    from loadmon.sensor.families.polar_pmd.dialogue import PolarSession

    prof = get_profile("polar-verity-sense")
    sensor = make_sensor(prof, source(52, 5.0))
    await sensor.attach()
    try:
        dev = await BleakScanner.find_device_by_name(sensor.name, timeout=2,
                                                     backend=VirtualBleakScanner)
        assert dev is not None
        async with BleakClient(dev, backend=VirtualBleakClient, virtual_mtu=23) as client:
            assert client.mtu_size == 23
            with pytest.raises(DeviceError, match="error 10 INVALID_MTU"):
                await PolarSession(prof, StreamOptions()).start(client, lambda c, d: None)
    finally:
        await sensor.close()


async def test_half_second_blocks_are_merged_atomically(
    fresh_db: storage.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "BLOCK_SAMPLES", 128)
    prof = get_profile("movesense")
    src = source(52, 8.0)
    result, _, _ = await run_virtual(prof, src, fresh_db, duration_s=6.0, tick_clock=True)
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert stored.n_samples == result.n_samples == 312
    np.testing.assert_allclose(stored.acc, src.acc[:312], atol=1e-4)
    seqs = [r[0] for r in fresh_db.execute("SELECT seq FROM sample_blocks ORDER BY seq")]
    assert seqs == list(range(len(seqs))) and len(seqs) <= 6  # not one per half-second commit


async def test_aclose_from_another_task_ends_iteration_cleanly() -> None:
    prof = get_profile("thingy52")
    sensor = make_sensor(prof, source(52, 20.0), speed=SPEED)
    await sensor.attach()
    stream = SensorStream(prof, sensor.name, StreamOptions(time_scale=SPEED),
                          client_backend=VirtualBleakClient, scanner_backend=VirtualBleakScanner)
    try:
        await stream.open()
        asyncio.get_running_loop().call_later(1.2, lambda: asyncio.ensure_future(stream.aclose()))
        n = sum([item.t.size async for item in stream if isinstance(item, Samples)])
    finally:
        await sensor.close()
    assert n > 52 and not stream.client.is_connected  # type: ignore[union-attr]


async def test_verity_uses_sdk_mode_only_beyond_its_defaults(fresh_db: storage.Database) -> None:
    prof = get_profile("polar-verity-sense")
    result, stream, sensor = await run_virtual(prof, source(208, 6.0), fresh_db, duration_s=4.0)
    assert stream.session.sdk and not sensor.sdk_mode  # type: ignore[attr-defined]
    assert result.n_samples >= 4 * 208 - 11  # switched on for the stream, off at the end
    assert stream.stats.rate_hz == pytest.approx(208, rel=0.02)


async def test_verity_replays_an_acc_only_file_without_a_start_time(
    fresh_db: storage.Database,
) -> None:
    """No start time (1970) and no gyro: the quiet gyro stream must still arrive whole."""
    from dataclasses import replace

    prof = get_profile("polar-verity-sense")
    src = replace(source(52.0, 21.0), gyro=None, start=datetime(1970, 1, 1, tzinfo=UTC))
    result, _, _ = await run_virtual(prof, src, fresh_db, duration_s=20.0, tick_clock=True)
    stored = storage.load_recording(fresh_db, result.recording_id)
    assert stored.duration_s == pytest.approx(20.0, abs=1.6)
    assert stored.gyro is not None and np.abs(stored.gyro).max() < 0.1
    assert stored.start.year == 2019  # the emulated clock behaves like a reset H10/Verity
