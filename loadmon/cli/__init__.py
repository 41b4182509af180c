"""Provides the `loadmon` command: a thin click layer that parses, calls the library, shows.

Errors from the library (`LoadmonError`) become one line on stderr and exit code 2 for bad
input or 1 otherwise; anything unexpected is exit 1 with one line (`--debug` shows the
traceback).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import traceback
from typing import Any

import click

from loadmon import __version__
from loadmon.errors import InputError, LoadmonError


class CleanError(click.ClickException):
    """A ClickException whose exit code follows the LoadmonError it wraps."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


class LoadmonGroup(click.Group):
    """Translates library errors into one clean line at the edge."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for k, a in enumerate(args, start=1):
            if any("\udc80" <= c <= "\udcff" for c in a):  # bytes the shell passed un-decoded
                shown = a.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                raise CleanError(f"argument {k} ({shown}) is not UTF-8 text", 2)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            msg = " ".join(e.format_message().split())
            raise CleanError(f"{msg} (see 'loadmon --help')", 2) from e

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoadmonError as e:
            raise CleanError(str(e), e.exit_code) from e
        except sqlite3.Error as e:  # full disk, read-only or damaged file: one line, exit 1
            from loadmon.storage import explain_db_error

            err = explain_db_error(e)
            raise CleanError(str(err), err.exit_code) from e
        except click.UsageError as e:
            # A bad number, date, option or choice is bad input like any other: one line,
            # exit 2, with where to look instead of the usage screen.
            where = e.ctx.command_path if e.ctx is not None else "loadmon"
            msg = " ".join(e.format_message().split())
            raise CleanError(f"{msg} (see '{where} --help')", 2) from e
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None
        except BrokenPipeError:
            # The reader went away (`loadmon protocols | head -1`): stop quietly, as cat does.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None
        except Exception as e:
            logging.getLogger(__name__).debug("internal error", exc_info=True)
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            raise CleanError(
                f"internal error: {type(e).__name__}: {e} (run with --debug for details)", 1
            ) from e


DB_HELP = "Database file (default: loadmon.db in the user data directory; env LOADMON_DB)."


@click.group(cls=LoadmonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="loadmon")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=DB_HELP + " May also follow the command.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log what loadmon does on stderr (-v: steps, -vv: details).",
)
@click.option(
    "--debug", is_flag=True, help="Log everything and show tracebacks for internal errors."
)
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, verbose: int, debug: bool) -> None:
    """loadmon: exercise load monitoring for hamstring tendon rehabilitation.

    Reads a thigh-worn IMU, recognises bridges, holds, RDLs, hops and sitting, and compares
    each day's load with what the current rehab phase prescribes.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["db_path"] = db_path
    configure_logging(verbose, debug)


def configure_logging(verbose: int, debug: bool) -> None:
    """Route the `loadmon.*` module loggers to stderr at the level the flags ask for."""
    level = logging.DEBUG if debug or verbose >= 2 else logging.INFO if verbose else None
    logger = logging.getLogger("loadmon")
    for h in list(logger.handlers):
        if getattr(h, "_loadmon_cli", False):
            logger.removeHandler(h)
    if level is None:
        logger.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._loadmon_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def _resolve_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`--db` after the command wins, then `--db` before it, then LOADMON_DB."""
    if value is not None:
        return value
    root = ctx.find_root()
    if root.params.get("db_path"):
        return str(root.params["db_path"])
    return os.environ.get("LOADMON_DB") or None


def db_option(f: Any) -> Any:
    """`--db PATH` on every command that touches the database (also before the command)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        callback=_resolve_db,
        help=DB_HELP,
    )(f)


def root_db(ctx: click.Context) -> str | None:
    """The `--db` given before the command, if any (for commands that ignore LOADMON_DB)."""
    value = ctx.find_root().params.get("db_path")
    return str(value) if value else None


def bad_input(message: str) -> InputError:
    return InputError(message)


def _register() -> None:
    from loadmon.cli import recordings_cmds

    recordings_cmds.register(cli)
    # Feature command modules register themselves if present.
    for name in (
        "analysis_cmds",
        "sensor_cmds",
        "rehab_cmds",
        "dashboard_cmds",
        "report_cmds",
    ):
        try:
            mod = __import__(f"loadmon.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != f"loadmon.cli.{name}":
                raise
            continue
        mod.register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="loadmon", standalone_mode=True)
    sys.exit(0)
