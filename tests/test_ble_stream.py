"""Time-stamping and acc/gyro pairing of the stream, without a radio."""

from __future__ import annotations

import numpy as np

from loadmon.decoders import SampleBlock
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
