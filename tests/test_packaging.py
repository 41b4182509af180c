"""Shipped data files, a physio's own protocol folder, and the `--db` / `-V` conventions.

The wheel itself is built, installed outside the tree and run by `.ci/wheel-smoke` (CI).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from loadmon import protocols
from loadmon.cli import cli
from loadmon.data import shipped_dir
from loadmon.profiles import devices_dir

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_reads_the_top_level_source_folders() -> None:
    assert shipped_dir("protocols") == REPO / "protocols"
    assert devices_dir() == REPO / "devices"


def test_the_build_copies_every_data_file_into_the_package(tmp_path: Path) -> None:
    """setup.py's build_py puts protocols/ and devices/ under loadmon/data/ (the wheel's tree)."""
    out = tmp_path / "lib"
    r = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    for kind in ("protocols", "devices"):
        shipped = sorted(p.name for p in (out / "loadmon" / "data" / kind).glob("*.toml"))
        assert shipped == sorted(p.name for p in (REPO / kind).glob("*.toml"))
    assert (out / "loadmon" / "data" / "__init__.py").is_file()
    manifest = (REPO / "MANIFEST.in").read_text()
    assert "recursive-include protocols *.toml" in manifest


def _own_copy(folder: Path, new_name: str) -> Path:
    src = (protocols.PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "proximal_hamstring_tendinopathy.toml"
    out.write_text(re.sub(r'(?m)^name = ".*"$', f'name = "{new_name}"', src, count=1))
    return out


def test_a_physios_protocol_folder_hides_the_shipped_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "clinic-protocols"
    path = _own_copy(own, "PHT, our clinic's version")
    monkeypatch.setenv("LOADMON_PROTOCOLS", str(own))
    p = protocols.get_protocol("proximal-hamstring-tendinopathy")
    assert p.path == path and p.name == "PHT, our clinic's version"
    listed = {x.id: x for x in protocols.list_protocols()}
    assert len(listed) == 4
    assert listed["proximal-hamstring-tendinopathy"].path == path
    out = CliRunner().invoke(cli, ["protocols"]).stdout
    assert "our clinic's version" in out


def test_the_user_config_folder_is_read_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOADMON_PROTOCOLS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = _own_copy(tmp_path / "cfg" / "loadmon" / "protocols", "From the config dir")
    assert protocols.get_protocol("proximal-hamstring-tendinopathy").path == path


def test_db_before_or_after_the_command(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    r = CliRunner().invoke(cli, ["--db", str(db), "patient", "add", "Ann", "--protocol",
                                 "proximal-hamstring-tendinopathy"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert db.exists()
    after = CliRunner().invoke(cli, ["patient", "list", "--db", str(db)])
    assert "Ann" in after.stdout
    # After the command wins over before it.
    other = tmp_path / "other.db"
    r = CliRunner().invoke(cli, ["--db", str(other), "patient", "list", "--db", str(db)])
    assert "Ann" in r.stdout and not other.exists()


def test_dash_capital_v_prints_the_version() -> None:
    r = CliRunner().invoke(cli, ["-V"])
    assert r.exit_code == 0 and r.stdout.startswith("loadmon, version ")


def test_tui_on_a_missing_database_is_a_user_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["tui", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 2 and "no database at" in r.stderr


def _all_commands(group: click.Group, prefix: str = "loadmon") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out += _all_commands(cmd, f"{prefix} {name}")
        else:
            out.append((f"{prefix} {name}", cmd))
    return out


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in _all_commands(cli)
        for p in cmd.params
        if isinstance(p, click.Option) and not p.help and not p.hidden  # hidden: test faults
    ]
    assert missing == []


def test_every_command_that_opens_the_database_takes_db() -> None:
    import inspect

    for path, cmd in _all_commands(cli):
        src = inspect.getsource(cmd.callback) if cmd.callback else ""
        if "open_db(" in src:
            assert any(p.name == "db_path" for p in cmd.params), path


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["report", "Ann", "--from", "last week", "--out", "x.html"], "--from: expected a date"),
        (["export", "Ann", "--format", "xlsx", "--out", "d"], "'xlsx' is not one of"),
        (["import", "x.csv", "-p", "Ann", "--exercise", "squat"], "'squat' is not one of"),
        (["status", "Ann", "--date", "2026-13-01"], "--date: expected a date"),
    ],
)
def test_dates_are_dates_and_choices_are_choices(argv: list[str], words: str) -> None:
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr


def test_dash_v_logs_what_loadmon_does_on_stderr() -> None:
    from loadmon.demo import DEMO_DATA

    quiet = CliRunner().invoke(cli, ["analyze", str(DEMO_DATA / "bridge_set.csv")])
    assert quiet.exit_code == 0 and "INFO" not in quiet.stderr
    r = CliRunner().invoke(cli, ["-v", "analyze", str(DEMO_DATA / "bridge_set.csv")])
    assert r.exit_code == 0
    assert "INFO loadmon.recording: reading" in r.stderr and "as loadmon-csv" in r.stderr
    r = CliRunner().invoke(cli, ["--debug", "analyze", str(DEMO_DATA / "bridge_set.csv")])
    assert "DEBUG loadmon.csvtable:" in r.stderr and "rows parsed" in r.stderr


def test_patient_add_after_import_create_points_to_set_protocol(tmp_path: Path) -> None:
    from loadmon.demo import DEMO_DATA

    db = str(tmp_path / "z.db")
    run = CliRunner().invoke
    r = run(cli, ["--db", db, "import", str(DEMO_DATA / "bridge_set.csv"), "-p", "Zed",
                  "--create", "--no-analyze"])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run(cli, ["--db", db, "patient", "add", "Zed", "--protocol", "iliopsoas-tendinopathy"])
    assert r.exit_code == 2
    assert "loadmon patient set-protocol Zed iliopsoas-tendinopathy" in r.stderr
    r = run(cli, ["--db", db, "patient", "set-protocol", "Zed", "iliopsoas-tendinopathy"])
    assert r.exit_code == 0, r.output
    assert run(cli, ["--db", db, "status", "Zed"]).exit_code == 0


def test_a_closed_pipe_is_no_internal_error() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "loadmon", "devices"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: nobody reads
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait()
    assert "internal error" not in err and "Traceback" not in err, err
