"""Provides the physio's outputs: `loadmon report` (one HTML file) and `loadmon export`."""

from __future__ import annotations

import click

from loadmon import storage
from loadmon.cli import db_option
from loadmon.cli.rehab_cmds import DATE


def _period_options(f: click.decorators.FC) -> click.decorators.FC:
    f = click.option(
        "--to", "end", type=DATE, default=None,
        help="Last day (YYYY-MM-DD; default the patient's today).",
    )(f)  # fmt: skip
    return click.option(
        "--from", "start", type=DATE, default=None,
        help="First day (YYYY-MM-DD; default the start date).",
    )(f)  # fmt: skip


@click.command("report")
@click.argument("name")
@_period_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(),
    help="HTML file to write (self-contained: open it in any browser or print it on A4).",
)
@db_option
def report_cmd(
    name: str, start: str | None, end: str | None, out: str, db_path: str | None
) -> None:
    """Write NAME's report: phases, adherence, loads, ratios, warnings, sessions, symptoms."""
    from loadmon import report  # numpy/matplotlib: imported only when needed

    db = storage.open_db(db_path, create=False)
    path = report.write_report(db, name, out, start=start, end=end)
    click.echo(f"wrote {path}")


@click.command("export")
@click.argument("name")
@_period_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="File format of the tables.",
)
@click.option("--out", "out", required=True, type=click.Path(), help="Directory for the tables.")
@db_option
def export_cmd(
    name: str, start: str | None, end: str | None, fmt: str, out: str, db_path: str | None
) -> None:
    """Export NAME's events, sets, daily loads, log entries and warnings as tidy tables."""
    from loadmon import export

    db = storage.open_db(db_path, create=False)
    for path in export.write(db, name, out, fmt, start=start, end=end):
        click.echo(f"wrote {path}")


def register(group: click.Group) -> None:
    group.add_command(report_cmd)
    group.add_command(export_cmd)
