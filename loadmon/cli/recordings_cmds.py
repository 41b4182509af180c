"""Provides the recording commands: import, recordings, export-recording."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click

from loadmon import storage
from loadmon.cli import db_option
from loadmon.cli.rehab_cmds import NUMBER
from loadmon.errors import InputError
from loadmon.recording import Recording, read_recording, write_loadmon_csv, write_parquet

EXERCISES = ("bridge", "bridge_hold", "rdl", "hops")


def show_notes(rec: Recording) -> None:
    """What the reader worked around (a cut last line, an estimated start), on stderr."""
    for note in rec.notes:
        click.echo(f"warning: {note}", err=True)


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--patient", "-p", required=True, help="Patient the recording belongs to.")
@click.option("--create", is_flag=True, help="Create the patient if it does not exist.")
@click.option("--no-analyze", is_flag=True, help="Store the samples only; skip the detectors.")
@click.option(
    "--exercise",
    type=click.Choice(EXERCISES),
    default=None,
    help="A guided set: count only this exercise.",
)
@click.option(
    "--allow-duplicate",
    is_flag=True,
    help="Store the samples even if the same samples are already stored.",
)
@click.option(
    "--kg",
    type=NUMBER,
    default=None,
    help="External load of the recorded sets (counts instead of the prescribed kg).",
)
@db_option
def import_cmd(
    file: Path,
    patient: str,
    create: bool,
    no_analyze: bool,
    exercise: str | None,
    kg: float | None,
    allow_duplicate: bool,
    db_path: str | None,
) -> None:
    """Import a recording: loadmon-csv, a Polar Sensor Logger *_ACC.txt, a phyphox CSV, or a
    Sensor Logger / phyphox zip or folder. Phone local times are read in the patient's zone."""
    from loadmon import importing
    from loadmon.patients import row_calendar

    zone = None
    path = Path(db_path) if db_path else storage.default_db_path()
    if path.exists():
        with contextlib.closing(storage.open_db(path, create=False)) as existing:
            row = storage.find_patient(existing, patient)
            zone = row_calendar(row).tz if row is not None else None
    rec = read_recording(file, zone=zone)  # validate fully before touching the database
    show_notes(rec)
    db = storage.open_db(db_path)
    result = importing.import_recording(
        db, rec, patient=patient, create_patient=create, analyze=not no_analyze,
        exercise=exercise, kg=kg, allow_duplicate=allow_duplicate,
    )  # fmt: skip
    msg = (
        f"imported {file.name} as recording {result.recording_id} for {patient}: "
        f"{rec.n_samples} samples, {rec.duration_s / 60:.1f} min at {rec.sample_rate_hz:g} Hz"
        f"{', with gyro' if rec.has_gyro else ', accelerometer only'}"
    )
    if result.gaps:
        msg += f", {result.gaps} gap(s)"
    click.echo(msg)
    for line in result.overlaps:
        click.echo(f"warning: recording {result.recording_id} {line}", err=True)
    if result.summary_line:
        click.echo(result.summary_line)


@click.command("recordings")
@click.option("--patient", "-p", default=None, help="Only this patient's recordings.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@db_option
def recordings_cmd(patient: str | None, as_json: bool, db_path: str | None) -> None:
    """List stored recordings."""
    db = storage.open_db(db_path, create=False)
    rows = storage.list_recordings(db, patient)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    if not rows:
        click.echo("no recordings")
        return
    click.echo(f"{'id':>4}  {'patient':<14} {'start':<25} {'min':>7} {'Hz':>6}  device")
    for r in rows:
        click.echo(
            f"{r['id']:>4}  {r['patient']:<14} {r['start']:<25} {r['duration_s'] / 60:>7.1f} "
            f"{r['sample_rate_hz']:>6g}  {r['device']}{'' if r['has_gyro'] else ' (acc only)'}"
        )


@click.command("export-recording")
@click.argument("recording_id", type=click.IntRange(1, 2**63 - 1))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: loadmon-csv, or Parquet if it ends in .parquet.",
)
@db_option
def export_recording_cmd(recording_id: int, out: Path, db_path: str | None) -> None:
    """Write a stored recording back out as loadmon-csv v1 (or Parquet, for research tools)."""
    db = storage.open_db(db_path, create=False)
    rec = storage.load_recording(db, recording_id)
    try:
        if out.suffix.lower() == ".parquet":
            write_parquet(rec, out)
        else:
            write_loadmon_csv(rec, out)
    except OSError as e:
        raise InputError(f"--out: cannot write {out}: {e.strerror or e}") from None
    click.echo(f"wrote {rec.n_samples} samples to {out}")


def register(group: click.Group) -> None:
    group.add_command(import_cmd)
    group.add_command(recordings_cmd)
    group.add_command(export_recording_cmd)
