"""Provides `loadmon analyze`: run the detectors on a recording file and show or print JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from loadmon.recording import read_recording


@click.command("analyze")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the analysis JSON (DESIGN.md).")
@click.option(
    "--exercise",
    type=click.Choice(["bridge", "bridge_hold", "rdl", "hops"]),
    default=None,
    help="Guided mode: the recording holds only this exercise (no upright period needed).",
)
def analyze_cmd(file: Path, as_json: bool, exercise: str | None) -> None:
    """Recognise bridges, holds, RDLs, hops, sitting and posture in a recording file."""
    from loadmon.analysis.pipeline import analyze
    from loadmon.cli.recordings_cmds import show_notes

    rec = read_recording(file)
    show_notes(rec)
    result = analyze(rec, exercise=exercise)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1))
        return
    click.echo(f"{file.name}: {rec.duration_s / 60:.1f} min at {rec.sample_rate_hz:g} Hz"
               f"{', with gyro' if rec.has_gyro else ', accelerometer only'}")
    click.echo(result.summary_line())
    for st in result.sets:
        click.echo(
            f"  set {st.exercise:<12} {st.start_s:8.1f}–{st.end_s:8.1f} s  {st.reps:3d} "
            f"{'holds' if st.exercise == 'bridge_hold' else 'reps'}"
        )
    for sk in result.skipped:
        click.echo(f"  skipped {sk.stage}: {sk.reason}")


def register(group: click.Group) -> None:
    group.add_command(analyze_cmd)
