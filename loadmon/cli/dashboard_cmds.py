"""Provides the dashboard commands: `loadmon tui` and `loadmon demo`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import platformdirs

from loadmon import storage
from loadmon.cli import bad_input, db_option, root_db


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def run_dashboard(app: Any, *, headless: bool = False) -> None:
    """Run the dashboard; a crash (or a fatal dialog) exits non-zero, never 0."""
    app.run(headless=headless)
    code = app.return_code
    if code:
        raise click.exceptions.Exit(int(code))


def default_demo_path() -> Path:
    return Path(platformdirs.user_data_dir("loadmon", appauthor=False)) / "demo.db"


@click.command("tui")
@click.option("--patient", "-p", default=None, help="Patient to open (default: the first).")
@click.option(
    "--source",
    default=None,
    help="Preselect the live source: a replay file for the virtual sensor.",
)
@db_option
def tui_cmd(patient: str | None, source: str | None, db_path: str | None) -> None:
    """Open the dashboard: today, trend, sessions, live, patient and log screens."""
    from loadmon.tui.app import make_app

    path = Path(db_path) if db_path else storage.default_db_path()
    if not path.exists():
        raise bad_input(f"no database at {path}; import a recording first or try 'loadmon demo'")
    db = storage.open_db(path, create=False)
    if patient is not None:
        storage.get_patient(db, patient)  # NotFoundError → a clean message
    db.close()
    if not _interactive():
        raise bad_input("loadmon tui needs an interactive terminal")
    run_dashboard(make_app(path, patient, source))


@click.command("demo")
@click.option("--no-open", is_flag=True, help="Build the demo database but do not open it.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to build it (default: demo.db in the user data directory; LOADMON_DB is "
    "ignored so the demo never lands on your own database).",
)
@click.pass_context
def demo_cmd(ctx: click.Context, no_open: bool, db_path: str | None) -> None:
    """Build a demo database (8 weeks of a PHT patient) and open the dashboard on it.

    Without --db the demo goes to demo.db in the user data directory (never your own
    loadmon.db). With no terminal (e.g. under CI) it only prints what it built.
    """
    from loadmon.demo import build_demo

    db_path = db_path or root_db(ctx)
    path = Path(db_path) if db_path else default_demo_path()
    summary = build_demo(path)
    for line in summary.lines():
        click.echo(line)
    if no_open:
        return
    if not _interactive():
        click.echo(f"not a terminal; open it with: loadmon tui --db {path}")
        return
    from loadmon.tui.app import make_app

    run_dashboard(make_app(path, summary.patient))


def register(group: click.Group) -> None:
    group.add_command(tui_cmd)
    group.add_command(demo_cmd)
