"""Provides the sensor commands: devices (list, decode), scan, and record (real or virtual)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from loadmon import storage
from loadmon.cli import db_option
from loadmon.errors import InputError


@click.group("devices", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def devices_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the supported sensor profiles (devices/*.toml)."""
    if ctx.invoked_subcommand is not None:
        return
    from loadmon.profiles import load_profiles

    profiles = load_profiles()
    if as_json:
        click.echo(json.dumps([_profile_dict(p) for p in profiles], indent=1))
        return
    click.echo(f"{'profile':<22} {'sensor':<26} {'rates (Hz)':<24} {'gyro':<5} clock")
    for p in profiles:
        rates = ",".join(str(r) for r in p.acc.rates_hz)
        if p.acc.rate_range_hz:
            rates = f"{p.acc.rate_range_hz[0]}–{p.acc.rate_range_hz[1]}"
        click.echo(
            f"{p.id:<22} {p.name:<26} {rates:<24} {'yes' if p.has_gyro else 'no':<5} {p.clock}"
        )


def _profile_dict(p: Any) -> dict[str, Any]:
    return {
        "profile": p.id,
        "name": p.name,
        "vendor": p.vendor,
        "family": p.family,
        "name_patterns": list(p.name_patterns),
        "acc_rates_hz": list(p.acc.rates_hz),
        "acc_ranges_g": list(p.acc.ranges),
        "gyro_ranges_dps": list(p.gyro.ranges) if p.gyro else None,
        "clock": p.clock,
    }


@devices_cmd.command("decode")
@click.argument("profile")
@click.argument("hex_payloads", metavar="HEX...", nargs=-1, required=True)
@click.option("--factor", type=click.FloatRange(1e-9, 1e3), default=None,
              help="Polar FACTOR from the start response (default: none, i.e. 1.0 as the SDK).")
@click.option("--no-gyro", is_flag=True,
              help="The sensor was subscribed to the accelerometer only (Movesense /Meas/Acc).")
@click.option("--acc-range", type=click.IntRange(1, 100000), default=None,
              help="Configured ± g (MetaWear scale).")
@click.option("--gyro-range", type=click.IntRange(1, 100000), default=None,
              help="Configured ± °/s (MetaWear scale).")
@click.option("--chip", type=click.Choice(["bmi160", "bmi270"]), default=None,
              help="MetaWear motion chip: bmi160 (MetaMotion RL/C) or bmi270 (MetaMotion S).")
def decode_cmd(
    profile: str,
    hex_payloads: tuple[str, ...],
    factor: float | None,
    no_gyro: bool,
    acc_range: int | None,
    gyro_range: int | None,
    chip: str | None,
) -> None:
    """Decode notifications (hex bytes, one argument each, in arrival order) and print their
    samples as JSON. Several arguments are decoded as one stream (Movesense DATA + DATA_PART2)."""
    from dataclasses import replace

    from loadmon.errors import DecodeError
    from loadmon.profiles import get_profile
    from loadmon.sensor.decoding import StreamDecoder, default_settings

    prof = get_profile(profile)
    payloads = []
    for hex_payload in hex_payloads:
        cleaned = "".join(hex_payload.split()).replace(":", "").replace("-", "")
        try:
            payloads.append(bytes.fromhex(cleaned))
        except ValueError:
            raise InputError(
                f"HEX must be hexadecimal bytes like '02 00 01 ...', got {hex_payload!r}"
            ) from None
    if acc_range is not None and acc_range not in prof.acc.ranges:
        raise InputError(f"--acc-range must be one of {list(prof.acc.ranges)} for {prof.id}")
    if gyro_range is not None and (prof.gyro is None or gyro_range not in prof.gyro.ranges):
        allowed = list(prof.gyro.ranges) if prof.gyro else "none (no gyro)"
        raise InputError(f"--gyro-range must be one of {allowed} for {prof.id}")
    base = default_settings(prof)
    s = replace(
        base,
        acc_factor=factor if factor is not None else base.acc_factor,
        gyro_factor=factor if factor is not None else base.gyro_factor,
        acc_range=acc_range or base.acc_range,
        gyro_range=gyro_range or base.gyro_range,
        gyro=not no_gyro,
        chip=chip,
    )
    dec = StreamDecoder(prof, s)
    out: dict[str, Any] = {}
    acc_rows: list[list[float]] = []
    gyro_rows: list[list[float]] = []
    for payload in payloads:
        try:
            block = dec.decode_strict(payload, 0.0)
        except DecodeError as e:
            raise InputError(f"cannot decode as {prof.id}: {e}") from None
        if block is None:
            continue
        if block.acc is not None:
            acc_rows += [[round(float(v), 6) for v in row] for row in block.acc]
        if block.gyro is not None:
            gyro_rows += [[round(float(v), 5) for v in row] for row in block.gyro]
        if block.device_time_ns is not None and "t" not in out:
            if prof.clock == "device_ns_last":
                from loadmon.recording import POLAR_EPOCH_UNIX_NS

                out["t"] = (block.device_time_ns + POLAR_EPOCH_UNIX_NS) / 1e9
            else:
                out["t"] = block.device_time_ns / 1e9
            out["t_ref"] = block.time_ref
    if dec.waiting:
        raise InputError(f"cannot decode as {prof.id}: the last packet is a first part; "
                         "pass its DATA_PART2 too")
    if not acc_rows and not gyro_rows:
        out = {"message": "not a sample packet (a command reply)"}
    else:
        if acc_rows:
            out = {"acc_g": acc_rows, **out}
        if gyro_rows:
            out = {**({"acc_g": acc_rows} if acc_rows else {}), "gyro_dps": gyro_rows,
                   **{k: v for k, v in out.items() if k != "acc_g"}}
    try:
        text = json.dumps(out, allow_nan=False)
    except ValueError:
        raise InputError(
            f"cannot decode as {prof.id}: the payload decodes to non-finite values"
        ) from None
    click.echo(text)


@click.command("scan")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to listen.")
@click.option("--virtual", is_flag=True, help="Scan the virtual radio (one emulator per profile).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def scan_cmd(timeout: float, virtual: bool, as_json: bool) -> None:
    """List nearby sensors that match a device profile."""
    found = asyncio.run(_scan(timeout, virtual))
    if as_json:
        click.echo(json.dumps(
            [{"address": f.address, "name": f.name, "rssi": f.rssi, "profile": f.profile.id}
             for f in found], indent=1))
        return
    if not found:
        click.echo("no matching sensors found")
        return
    for f in found:
        click.echo(f"{f.address}  {f.rssi:>4} dBm  {f.name:<26} {f.profile.id}")


async def _scan(timeout: float, virtual: bool) -> list[Any]:
    from loadmon.sensor.scan import scan

    if not virtual:
        return await scan(timeout)
    from loadmon.profiles import load_profiles
    from loadmon.sensor.virtual.backend import VirtualBleakScanner
    from loadmon.sensor.virtual.emulators import demo_recording, make_sensor

    sensors = []
    for p in load_profiles():
        s = make_sensor(p, demo_recording(p.acc.default_rate_hz, 5.0))
        await s.attach()
        sensors.append(s)
    try:
        return await scan(min(timeout, 1.0), backend=VirtualBleakScanner)
    finally:
        for s in sensors:
            await s.close()


@click.command("record")
@click.option("--device", "-d", "device", required=True,
              help="Sensor address or name, or virtual:PROFILE for an emulated sensor.")
@click.option("--profile", default=None, help="Device profile (default: from the sensor's name).")
@click.option("--patient", "-p", required=True, help="Patient the recording belongs to.")
@click.option("--create", is_flag=True, help="Create the patient if it does not exist.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--rate", type=int, default=None, help="Sample rate in Hz (default: profile's).")
@click.option("--no-gyro", is_flag=True, help="Accelerometer only.")
@click.option("--replay", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="virtual: the recording the emulated sensor plays (default: a demo signal).")
@click.option("--speed", type=float, default=1.0, show_default=True,
              help="virtual: play the replay this many times faster than real time.")
@click.option("--reps/--no-reps", "show_reps", default=None,
              help="Show reps, holds and hops as they happen (default: on a terminal).")
@click.option("--fault-drop-at", type=float, default=None, hidden=True)
@click.option("--fault-malformed-every", type=int, default=0, hidden=True)
@click.option("--fault-lose-every", type=int, default=0, hidden=True)
@click.option("--fault-cp-error", type=int, default=None, hidden=True)
@db_option
def record_cmd(
    device: str,
    profile: str | None,
    patient: str,
    create: bool,
    duration: float | None,
    rate: int | None,
    no_gyro: bool,
    replay: Path | None,
    speed: float,
    show_reps: bool | None,
    fault_drop_at: float | None,
    fault_malformed_every: int,
    fault_lose_every: int,
    fault_cp_error: int | None,
    db_path: str | None,
) -> None:
    """Stream a sensor into the database, showing sample rate and gaps live."""
    from loadmon.sensor.virtual.emulators import Faults

    if speed <= 0:
        raise InputError("--speed must be positive")
    if duration is not None and duration <= 0:
        raise InputError("--duration must be positive")
    faults = Faults(
        drop_link_at_s=fault_drop_at,
        malformed_every=fault_malformed_every,
        lose_every=fault_lose_every,
        cp_error=fault_cp_error,
    )
    from loadmon.profiles import get_profile
    from loadmon.recording import read_recording

    # Validate everything we can before touching the database.
    named = profile or (device.split(":", 1)[1] if device.startswith("virtual:") else None)
    if named is not None:
        prof = get_profile(named)
        if rate is not None:
            prof.check_rate(rate)
    source_rec = read_recording(replay) if replay is not None else None
    db = storage.open_db(db_path)
    row = storage.find_patient(db, patient)
    if row is None and not create:
        raise InputError(
            f"no patient called {patient!r}; add them with 'loadmon patient add' or pass --create"
        )
    pid = int(row["id"]) if row is not None else storage.add_patient(db, patient)
    with _analysis_shielded():
        result, recorder = asyncio.run(
            _record(db, pid, device, profile, duration, rate, not no_gyro, source_rec, speed,
                    faults, sys.stdout.isatty() if show_reps is None else show_reps)
        )
        _save_analysed(db, result, recorder, patient)


def _save_analysed(db: storage.Database, result: Any, recorder: Any, patient: str) -> None:
    """Say what was recorded, analyse it and close the recording (SIGINT is shielded)."""
    msg = (
        f"recorded {result.n_samples} samples ({result.duration_s:.1f} s) as recording "
        f"{result.recording_id} for {patient}: {result.gaps} gap(s), "
        f"{result.malformed} malformed packet(s) skipped, {result.reconnects} reconnect(s)"
    )
    if result.status != "complete":
        msg += f" [{result.status}]"
    from loadmon.importing import analyze_stored

    click.echo(msg)
    summary = analyze_stored(db, result.recording_id) if result.n_samples > 1 else ""
    recorder.close(result.status)
    if summary:
        click.echo(summary)


def _still_saving(_sig: int, _frame: Any) -> None:
    click.echo("still saving the analysis; it will stop by itself in a moment", err=True)


@contextlib.contextmanager
def _analysis_shielded() -> Iterator[None]:
    """Ctrl-C after the one that stopped the recording is ignored until the analysis is
    saved (one line says so); the samples are stored already and the analysis takes
    seconds. `_record` hands SIGINT over to `_still_saving` the moment its stream ends, and
    the handler from before is put back here at the end."""
    old = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


async def _record(
    db: storage.Database,
    patient_id: int,
    device: str,
    profile_name: str | None,
    duration: float | None,
    rate: int | None,
    gyro: bool,
    source_rec: Any,
    speed: float,
    faults: Any,
    show_reps: bool = False,
) -> Any:
    from loadmon.sensor.record import Recorder
    from loadmon.sensor.source import open_source

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tty = sys.stdout.isatty()
    try:
        async with open_source(device, profile=profile_name, replay=source_rec, speed=speed,
                               rate_hz=rate, gyro=gyro, faults=faults,
                               on_end=stop.set) as src:
            live = _LiveReps(src.stream.rate_hz) if show_reps else None

            def show(rec: Recorder) -> None:
                if live is not None:
                    for ev in live.poll():
                        click.echo(("\r" if tty else "") + ev)
                st = rec.stream.stats
                line = (
                    f"recording {rec.recording_id}: {st.last_t:7.1f} s  {st.rate_hz:6.1f} Hz  "
                    f"{rec.n_samples} samples stored  {st.gaps} gap(s)  "
                    f"{st.malformed} bad packet(s)"
                    + ("" if st.connected else "  [reconnecting]")
                )
                click.echo(("\r" + line) if tty else line, nl=not tty)

            recorder = Recorder(db, patient_id, src.stream, source=src.label, on_status=show,
                                on_samples=live.add if live is not None else None)
            result = await recorder.run(duration_s=duration, stop=stop, keep_open=True)
            return result, recorder
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        # From here to the saved analysis a Ctrl-C is told to wait, never obeyed.
        signal.signal(signal.SIGINT, _still_saving)
        if tty:
            click.echo("")


class _LiveReps:
    """Reps, holds and hops as they become final: the Live screen's counter
    (`loadmon.analysis.streaming.LiveCounter`), fed the same way."""

    def __init__(self, rate_hz: float) -> None:
        self.pending: list[Any] = []
        self.counter: Any = None
        try:
            from loadmon.analysis.streaming import LiveCounter
        except ImportError:
            return
        self.counter = LiveCounter(rate_hz)

    def add(self, samples: Any) -> None:
        if self.counter is not None:
            self.pending.append(samples)

    def poll(self) -> list[str]:
        if self.counter is None:
            return []
        out = []
        pending, self.pending = self.pending, []
        try:
            for s in pending:
                for ev in self.counter.feed(s.t, s.acc, s.gyro):
                    out.append(f"  {ev.type.replace('_', ' ')}: {ev.start_s:.1f}–{ev.end_s:.1f} s")
        except Exception as e:  # live counting must never stop a recording
            self.counter = None
            out.append(f"  (live rep counting stopped: {e})")
        return out


def register(group: click.Group) -> None:
    group.add_command(devices_cmd)
    group.add_command(scan_cmd)
    group.add_command(record_cmd)
