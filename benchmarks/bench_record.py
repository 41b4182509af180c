"""Provides the recording benchmark: CPU of recording a virtual Verity Sense at 208 Hz ACC + GYRO.

Honest split: the emulated sensor, its virtual controller and the central's controller run in
a child process (`--emulator`); the recorder process holds only what a real installation would
run on the host: bleak, Bumble's host stack (in place of BlueZ), decode, time-stamps and the
database. It talks to its controller over an HCI transport (TCP on localhost), as a host talks
to a radio chip. Printed figures:

1. recorder process CPU over the window, as % of one core (the acceptance figure, < 5 %);
2. of which decode + time-stamps + store, measured inside the recorder;
3. the emulator process's CPU (for scale);
4. cross-check: everything in one process (emulator, both stacks, recorder) — an upper bound.

Usage: python benchmarks/bench_record.py [seconds]   (default 20 s per run)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from loadmon import storage
from loadmon.profiles import get_profile
from loadmon.recording import Recording
from loadmon.sensor.record import Recorder
from loadmon.sensor.stream import SensorStream, StreamOptions
from loadmon.sensor.virtual.backend import VirtualBleakClient, VirtualBleakScanner, VirtualRadio
from loadmon.sensor.virtual.emulators import make_sensor

RATE = 208
LIMIT_PCT = 5.0
WARMUP_S = 2.0
NAME = "Polar Sense BENCH001"


def source(seconds: float) -> Recording:
    rng = np.random.default_rng(1)
    n = int((seconds + 20) * RATE)
    walk = np.cumsum(rng.normal(0, 1, (n, 6)), axis=0)
    walk -= walk.mean(axis=0)
    walk /= np.abs(walk).max(axis=0)
    return Recording(
        t=np.arange(n) / RATE,
        acc=np.round(walk[:, :3] * 2, 4),
        gyro=np.round(walk[:, 3:] * 300, 3),
        sample_rate_hz=RATE,
        start=datetime.now(UTC),
        device="bench",
    )


async def record(seconds: float, db_path: Path) -> tuple[float, float, int, float]:
    """Record for `seconds` after a warm-up: (CPU s, wall s, samples, decode+store CPU s)."""
    stream = SensorStream(get_profile("polar-verity-sense"), NAME, StreamOptions(rate_hz=RATE),
                          client_backend=VirtualBleakClient, scanner_backend=VirtualBleakScanner)
    spent = [0.0]
    handle, flush = stream._handle, Recorder.flush

    def timed_handle(pkt: Any) -> Any:
        c = time.process_time()
        try:
            return handle(pkt)
        finally:
            spent[0] += time.process_time() - c

    stream._handle = timed_handle  # type: ignore[method-assign]
    db = storage.open_db(db_path)
    rec = Recorder(db, storage.add_patient(db, f"bench{time.time_ns()}"), stream)

    def timed_flush(self: Recorder, status: str | None = None) -> None:
        c = time.process_time()
        try:
            flush(self, status)
        finally:
            spent[0] += time.process_time() - c

    rec.flush = timed_flush.__get__(rec)  # type: ignore[method-assign]
    stop = asyncio.Event()
    marks: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    def start_window() -> None:
        marks["c0"], marks["w0"], marks["n0"] = time.process_time(), time.perf_counter(), spent[0]

    def end_window() -> None:
        marks["c1"], marks["w1"], marks["n1"] = time.process_time(), time.perf_counter(), spent[0]
        stop.set()

    loop.call_later(WARMUP_S, start_window)
    loop.call_later(WARMUP_S + seconds, end_window)
    result = await rec.run(stop=stop)
    return (marks["c1"] - marks["c0"], marks["w1"] - marks["w0"], result.n_samples,
            marks["n1"] - marks["n0"])


async def emulator_main(port: int) -> None:
    """Child process: the sensor and both controllers; prints its CPU when told to stop."""
    radio = VirtualRadio.current()
    transport = await radio.serve_central(f"tcp-server:127.0.0.1:{port}")
    sensor = make_sensor(get_profile("polar-verity-sense"), source(60.0), name=NAME)
    await sensor.attach(radio)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    print("ready", flush=True)
    c0 = time.process_time()
    await done.wait()
    print(f"cpu {time.process_time() - c0:.4f}", flush=True)
    await sensor.close()
    await transport.close()


async def two_process(seconds: float, db_path: Path) -> tuple[float, float, int, float, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen([sys.executable, __file__, "--emulator", str(port)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the emulator process did not start")
        await VirtualRadio.current().use_hci_transport(f"tcp-client:127.0.0.1:{port}")
        t_child = time.perf_counter()
        cpu, wall, n, direct = await record(seconds, db_path)
        child_wall = time.perf_counter() - t_child
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=10)
        child_cpu = float(out.split()[-1])
        return cpu, wall, n, direct, 100 * child_cpu / child_wall
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


async def one_process(seconds: float, db_path: Path) -> float:
    sensor = make_sensor(get_profile("polar-verity-sense"), source(60.0), name=NAME)
    await sensor.attach()
    try:
        cpu, wall, _, _ = await record(seconds, db_path)
    finally:
        await sensor.close()
    return 100 * cpu / wall


def main() -> int:
    logging.getLogger("bumble").setLevel(logging.ERROR)  # teardown chatter
    if len(sys.argv) > 2 and sys.argv[1] == "--emulator":
        asyncio.run(emulator_main(int(sys.argv[2])))
        return 0
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall, n, direct, child_pct = asyncio.run(two_process(seconds, Path(tmp) / "a.db"))
        together = asyncio.run(one_process(seconds, Path(tmp) / "b.db"))
    pct = 100 * cpu / wall
    print(f"virtual Polar Verity Sense, ACC+GYRO at {RATE} Hz, {wall:.1f} s window, "
          f"{os.cpu_count()} CPUs")
    print(f"  stored {n} samples")
    print(f"  1. recorder process (bleak + Bumble host + decode + store): {pct:5.2f} % of one core")
    print(f"  2.   of which decode + time-stamps + store:                 "
          f"{100 * direct / wall:5.2f} %")
    print(f"  3. emulator process (sensor + virtual controllers):         {child_pct:5.2f} %")
    print(f"  4. cross-check, all in one process:                         {together:5.2f} %")
    ok = pct < LIMIT_PCT
    verdict = "PASS" if ok else "FAIL"
    print(f"  {verdict}: recorder {'<' if ok else '>='} {LIMIT_PCT:g} % of one core")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
