"""Time-stamping and acc/gyro pairing of the stream, without a radio."""

from __future__ import annotations

import numpy as np
import pytest

from loadmon.sensor.blocks import SampleBlock
from loadmon.sensor.stream import MAX_UNPAIRED_S, Merger, Timeline


def _block(n: int, **kw: object) -> SampleBlock:
    return SampleBlock(np.zeros((n, 3)), None, **kw)  # type: ignore[arg-type]


def test_polar_timestamp_is_the_last_sample_and_spacing_follows_the_device() -> None:
    tl = Timeline("device_ns_last", 52.0)
    first = tl.place("acc", _block(10, device_time_ns=10_000_000_000))
    assert first[-1] == 10.0 and np.allclose(np.diff(first), 1 / 52)
    # The device's clock runs 0.1 % fast: the SDK's (ts_k − ts_{k−1}) / N follows it.
    second = tl.place("acc", _block(52, device_time_ns=round((10 + 1.001) * 1e9)))
    assert np.allclose(np.diff(second), 1.001 / 52) and second[0] > first[-1]


def test_movesense_timestamp_is_the_first_sample_and_wraps() -> None:
    tl = Timeline("device_ms_first", 52.0)
    a = tl.place("acc", _block(4, device_time_ns=(2**32 - 20) * 1_000_000))
    b = tl.place("acc", _block(4, device_time_ns=57 * 1_000_000))  # uint32 ms wrapped
    assert a[0] == (2**32 - 20) / 1000 and abs(b[0] - a[0] - 0.077) < 1e-6


def test_arrival_clock_follows_the_lower_envelope_of_bursty_arrivals() -> None:
    fs = 50.0
    tl = Timeline("arrival", fs)
    rng = np.random.default_rng(3)
    grid = []
    for k in range(500):  # notifications of one sample, delivered in bursts of 1–4
        true_t = 100.0 + k / fs
        arrival = true_t + 0.004 + (3 - k % 4) / fs + rng.uniform(0, 0.003)
        grid.append(tl.place("acc", SampleBlock(np.zeros((1, 3)), None, received_at=arrival)))
    t = tl.to_time("acc", np.concatenate(grid))
    assert not tl.settling
    assert np.allclose(np.diff(t), 1 / fs)
    # The origin settles near the earliest arrivals (4 ms latency), not the burst average.
    assert abs((t[-1] - (100.0 + 499 / fs)) - 0.004) < 0.5 / fs


def test_merger_pairs_by_time_and_drops_unpaired_leaders() -> None:
    m = Merger(52.0, want_gyro=True)
    ident = lambda _k, g: g  # noqa: E731
    t = np.arange(20) / 52
    m.add("acc", t, np.arange(60.0).reshape(20, 3))
    m.add("gyro", t[3:15] + 0.001, -np.arange(36.0).reshape(12, 3))
    et, _, eg = m.pop(ident)
    assert et.size == 12 and et[0] == t[3]
    assert eg is not None and np.array_equal(eg[:, 0], -np.arange(0, 36, 3.0))
    et, _, _ = m.pop(ident, force=True)
    assert et.size == 5


def test_merger_memory_is_bounded_when_a_stream_is_silent() -> None:
    m = Merger(52.0, want_gyro=True)
    t = np.arange(20 * 52) / 52
    m.add("acc", t, np.zeros((t.size, 3)))
    et, _, _ = m.pop(lambda _k, g: g)
    assert et.size == 0 and m.acc[0][-1] - m.acc[0][0] <= MAX_UNPAIRED_S


async def test_link_lost_is_reported_even_when_older_frames_are_decoded_after_the_drop() -> None:
    """Frames queued before a drop but decoded after it must not hide the drop.

    The Verity sends ACC and GYRO in separate, out-of-phase frames. When the link drops, the
    frames already queued are still to be decoded while the supervisor reconnects; the gap
    that follows is "link lost" (not "packet loss"), and acc samples whose gyro partner was
    lost are not paired with gyro from after the drop.
    """
    import asyncio
    from typing import Any, cast

    from bleak import BleakClient

    from loadmon.profiles import get_profile
    from loadmon.sensor.stream import Gap, Samples, SensorStream, StreamOptions
    from loadmon.sensor.virtual import encoders as enc

    prof = get_profile("polar-verity-sense")
    fs, epoch_ns = 52, 800_000_000_000_000_000
    acc_t, gyro_t = int(prof.params["acc_type"]), int(prof.params["gyro_type"])
    stream = SensorStream(prof, "no radio", StreamOptions(rate_hz=fs))

    def frame(mtype: int, k0: int, n: int, value: int) -> None:
        ts = epoch_ns + round((k0 + n - 1) / fs * 1e9)
        ints = np.full((n, 3), value, dtype=np.int64)
        stream._on_data(None, bytearray(enc.encode_delta_frame(mtype, ts, ints)))

    # Before the drop: ACC up to sample 311 (6 s), GYRO only up to 239 (its frame is pending).
    frames = [(k0 + 51, acc_t, k0, 52) for k0 in range(0, 312, 52)]
    frames += [(k0 + 79, gyro_t, k0, 80) for k0 in range(0, 240, 80)]
    for _, mtype, k0, n in sorted(frames):  # in the order the sensor sends them
        frame(mtype, k0, n, 100 if mtype == acc_t else 16)
    stream._on_disconnect(cast(BleakClient, None))

    async def reconnect(fresh: bool = False) -> None:  # back 5 s later, gyro of 1600
        for k0 in range(572, 832, 52):
            frame(acc_t, k0, 52, 100)
            frame(gyro_t, k0, 52, 1600)
        stream._lost.clear()

    stream._connect = reconnect  # type: ignore[method-assign]
    stream.client = cast(Any, object())
    supervisor = asyncio.ensure_future(stream._supervise())
    for _ in range(5):  # the supervisor runs before the consumer reaches the old frames
        await asyncio.sleep(0)
    stream._queue.put_nowait(None)
    items = [item async for item in stream.items()]
    stream._closed = True
    supervisor.cancel()

    gaps = [i for i in items if isinstance(i, Gap)]
    assert [g.reason for g in gaps] == ["link lost"]
    assert stream.stats.reconnects == 1 and stream.stats.unpaired_dropped > 0
    samples = [i for i in items if isinstance(i, Samples)]
    before = np.concatenate([s.gyro for s in samples if s.t[-1] <= gaps[0].start_s])  # type: ignore[misc]
    after = np.concatenate([s.gyro for s in samples if s.t[0] >= gaps[0].end_s])  # type: ignore[misc]
    factor = stream.session.settings.gyro_factor or 1.0  # no FACTOR in a start reply: 1.0
    assert np.allclose(before, 16 * factor) and np.allclose(after[:200], 1600 * factor)
    assert gaps[0].start_s == pytest.approx(239 / fs) and gaps[0].end_s == pytest.approx(572 / fs)


async def test_acc_ahead_yields_acc_without_waiting_for_gyro_and_pairs_later() -> None:
    """With acc_ahead, each acc sample is yielded once as soon as its frame is decoded, and
    again, paired with its gyro, once the (later) gyro frame is in."""
    from typing import Any, cast

    from loadmon.profiles import get_profile
    from loadmon.sensor.stream import AccSamples, Samples, SensorStream, StreamOptions
    from loadmon.sensor.virtual import encoders as enc

    prof = get_profile("polar-verity-sense")
    fs, epoch_ns = 52, 800_000_000_000_000_000
    acc_t, gyro_t = int(prof.params["acc_type"]), int(prof.params["gyro_type"])
    stream = SensorStream(prof, "no radio", StreamOptions(rate_hz=fs, acc_ahead=True))
    stream.client = cast(Any, object())

    def frame(mtype: int, k0: int, n: int) -> bytes:
        ts = epoch_ns + round((k0 + n - 1) / fs * 1e9)
        ints = np.column_stack([np.arange(k0, k0 + n)] * 3).astype(np.int64)
        return enc.encode_delta_frame(mtype, ts, ints if mtype == acc_t else -ints)

    # ACC frames of 60 samples, GYRO frames of 90: the gyro lags by up to 1.7 s.
    frames = [(k0 + 59, acc_t, k0, 60) for k0 in range(0, 540, 60)]
    frames += [(k0 + 89, gyro_t, k0, 90) for k0 in range(0, 540, 90)]
    log: list[Any] = []
    #: Last acc and last paired sample out, right after each ACC frame (by its last sample).
    reached: dict[int, tuple[int, int]] = {}
    for _, mtype, k0, n in sorted(frames):
        stream._on_data(None, bytearray(frame(mtype, k0, n)))
        while not stream._queue.empty():
            pkt = stream._queue.get_nowait()
            assert pkt is not None
            log += stream._handle(pkt)
        if mtype == acc_t:
            last = [round(i.t[-1] * fs) for i in log if isinstance(i, AccSamples)] or [-1]
            pair = [round(i.t[-1] * fs) for i in log if isinstance(i, Samples)] or [-1]
            reached[k0 + n - 1] = (last[-1], pair[-1])
    log += stream._drain(force=True)

    ahead = [i for i in log if isinstance(i, AccSamples)]
    paired = [i for i in log if isinstance(i, Samples)]
    t_ahead = np.concatenate([i.t for i in ahead])
    t_paired = np.concatenate([i.t for i in paired])
    assert np.array_equal(t_ahead, t_paired)  # every sample once each way, in order
    assert t_paired.size == 540 and np.allclose(np.diff(t_paired), 1 / fs)
    a_ahead = np.concatenate([i.acc for i in ahead])
    assert np.array_equal(a_ahead, np.concatenate([i.acc for i in paired]))
    gyro = np.concatenate([i.gyro for i in paired])  # type: ignore[misc]
    factor = stream.session.settings.gyro_factor or 1.0  # no FACTOR in a start reply: 1.0
    assert np.allclose(gyro[:, 0], -np.arange(540) * factor)
    # After the first pairing, acc comes out with the frame that holds it, not with the gyro:
    # when the ACC frame ending at sample 419 is in, the paired samples stop at 359 (the last
    # GYRO frame) but the acc ones reach 419.
    assert all(reached[last][0] == last for last in range(119, 540, 60))
    assert reached[419] == (419, 359)
