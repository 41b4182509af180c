"""Provides `loadmon analyze`: run the detectors on a recording file (show or print JSON), or
on a stored recording (`--recording ID`: close an interrupted one and save its analysis)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from loadmon.cli import db_option
from loadmon.errors import InputError
from loadmon.recording import read_recording


@click.command("analyze")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the analysis JSON (DESIGN.md).")
@click.option(
    "--exercise",
    type=click.Choice(["bridge", "bridge_hold", "rdl", "hops"]),
    default=None,
    help="Guided mode: the recording holds only this exercise (no upright period needed).",
)
@click.option("--recording", "recording_id", type=int, default=None,
              help="Analyse a stored recording and save the result (closing it if a killed "
                   "recorder left it open).")
@db_option
def analyze_cmd(
    file: Path | None,
    as_json: bool,
    exercise: str | None,
    recording_id: int | None,
    db_path: str | None,
) -> None:
    """Recognise bridges, holds, RDLs, hops, sitting and posture in a recording file."""
    if (file is None) == (recording_id is None):
        raise InputError("give a recording FILE or --recording ID (one of them)")
    if recording_id is not None:
        _analyze_stored(recording_id, exercise, db_path)
        return
    assert file is not None
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


def _analyze_stored(recording_id: int, exercise: str | None, db_path: str | None) -> None:
    import json as json_mod

    from loadmon import recovery, storage
    from loadmon.importing import analyze_stored

    db = storage.open_db(db_path, create=False)
    row = storage.get_recording_row(db, recording_id)
    if row["status"] == "recording" and recovery.writer_alive(
        json_mod.loads(row["meta"] or "{}")
    ):
        raise InputError(f"recording {recording_id} is still being recorded; analyse it when "
                         "the recorder has stopped")
    recovery.close_recording(db, recording_id, only_if_recording=False)
    if exercise is None:
        exercise = (json_mod.loads(row["meta"] or "{}").get("extra") or {}).get("exercise")
    summary = analyze_stored(db, recording_id, exercise=exercise)
    status = storage.get_recording_row(db, recording_id)["status"]
    click.echo(f"recording {recording_id} [{status}]: {summary or 'too few samples to analyse'}")


def register(group: click.Group) -> None:
    group.add_command(analyze_cmd)
