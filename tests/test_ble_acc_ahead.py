"""Accelerometer samples ahead of gyro, end to end: a virtual Verity through sensor_chunks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from loadmon.recording import write_loadmon_csv
from loadmon.tui.data import SampleChunk, sensor_chunks
from tests.test_ble_virtual import source

SPEED = 10.0


async def test_verity_acc_comes_ahead_of_gyro_and_the_paired_chunks_keep_the_gyro(
    tmp_path: Path,
) -> None:
    src_file = tmp_path / "src.csv"
    src = source(52, 20.0)
    write_loadmon_csv(src, src_file)
    paired: list[tuple[float, SampleChunk]] = []
    ahead: list[tuple[float, SampleChunk]] = []
    async for chunk in sensor_chunks(
        "virtual:polar-verity-sense",
        src_file,
        speed=SPEED,
        paired=lambda c: paired.append((time.monotonic(), c)),
    ):
        assert chunk.gap_s == 0 and chunk.gyro is None
        ahead.append((time.monotonic(), chunk))
    assert paired and all(c.gyro is not None for _, c in paired)
    t_ahead = np.concatenate([c.t for _, c in ahead])
    t_paired = np.concatenate([c.t for _, c in paired])
    assert np.all(np.diff(t_ahead) > 0) and np.all(np.diff(t_paired) > 0)
    assert t_paired.size >= 18 * 52 and np.isin(t_paired, t_ahead).all()
    np.testing.assert_array_equal(
        np.concatenate([c.acc for _, c in ahead])[np.isin(t_ahead, t_paired)],
        np.concatenate([c.acc for _, c in paired]),
    )
    gyro = np.concatenate([c.gyro for _, c in paired if c.gyro is not None])
    i0 = int(
        np.argmin([np.abs(src.acc[i : i + 5] - paired[0][1].acc[:5]).max() for i in range(30)])
    )
    assert src.gyro is not None
    np.testing.assert_allclose(gyro, src.gyro[i0 : i0 + gyro.shape[0]], atol=0.04)
    # How long after its acc each sample's paired version came (host s; × SPEED = sensor s).
    when_ahead = np.concatenate([np.full(c.t.size, w) for w, c in ahead])
    when_paired = np.concatenate([np.full(c.t.size, w) for w, c in paired])
    lead = when_paired - when_ahead[np.isin(t_ahead, t_paired)]
    assert lead.min() >= 0
    # Where the GYRO frame is the later one, the acc came that much earlier (here about a
    # quarter of the samples, by up to about 1 s of sensor time).
    assert np.mean(lead * SPEED > 0.1) > 0.1 and lead.max() * SPEED > 0.5
