"""CLI: import, recordings, export-recording; clean one-line errors; no damage on failure."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon import storage
from loadmon.cli import cli
from loadmon.recording import read_recording
from tests.test_recording import INVALID


def _good_csv(path: Path, n: int = 500, gyro: bool = True) -> Path:
    rng = np.random.default_rng(3)
    head = "# loadmon-csv 1\n# device: polar-verity-sense\n# sample_rate_hz: 52\n"
    head += "# start: 2026-11-20T09:00:00+00:00\n"
    head += "t,ax,ay,az,gx,gy,gz\n" if gyro else "t,ax,ay,az\n"
    rows = []
    for k in range(n):
        a = rng.normal(0, 0.05, 3) + [0, 0, 1]
        g = rng.normal(0, 5, 3)
        row = f"{k / 52:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}"
        if gyro:
            row += f",{g[0]:.3f},{g[1]:.3f},{g[2]:.3f}"
        rows.append(row + "\n")
    path.write_text(head + "".join(rows))
    return path


def _digest(db_file: Path) -> str:
    db = storage.open_db(db_file)
    dump = "\n".join(db.conn.iterdump())
    db.close()
    return hashlib.sha256(dump.encode()).hexdigest()


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_help_lists_the_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in ("import", "recordings", "export-recording"):
        assert name in out


def test_help_runs_as_a_real_process_without_textual_import() -> None:
    """`loadmon --help` must not pay for the TUI: textual is imported only by loadmon.tui."""
    code = (
        "import sys; from loadmon.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual imported at CLI start'\n"
        "assert 'bleak' not in sys.modules, 'bleak imported at CLI start'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout


def test_import_list_and_export_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    src = _good_csv(tmp_path / "rec.csv")
    code, out, err = run("import", str(src), "--patient", "Ann", "--create", "--db", str(db))
    assert code == 0, err
    assert "imported rec.csv as recording 1 for Ann" in out
    code, out, _ = run("recordings", "--json", "--db", str(db))
    [row] = json.loads(out)
    for key in ("id", "patient", "start", "duration_s", "sample_rate_hz", "device"):
        assert key in row
    assert row["patient"] == "Ann" and row["sample_rate_hz"] == 52.0
    assert row["device"] == "polar-verity-sense"
    assert row["start"].startswith("2026-11-20T09:00:00")
    code, _, _ = run("export-recording", "1", "--out", str(tmp_path / "back.csv"), "--db", str(db))
    assert code == 0
    a, b = read_recording(src), read_recording(tmp_path / "back.csv")
    np.testing.assert_allclose(a.acc, b.acc, atol=1e-9)
    assert a.gyro is not None and b.gyro is not None
    np.testing.assert_allclose(a.gyro, b.gyro, atol=1e-9)
    np.testing.assert_allclose(a.t, b.t, atol=1e-9)


def test_recordings_filter_by_patient_and_human_table(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    src = _good_csv(tmp_path / "rec.csv", gyro=False)
    run("import", str(src), "-p", "Ann", "--create", "--no-analyze", "--db", str(db))
    # The same samples again (for another patient) need --allow-duplicate.
    run("import", str(src), "-p", "Bob", "--create", "--no-analyze", "--allow-duplicate",
        "--db", str(db))  # fmt: skip
    code, out, _ = run("recordings", "--patient", "Bob", "--json", "--db", str(db))
    assert code == 0
    assert [r["patient"] for r in json.loads(out)] == ["Bob"]
    code, out, _ = run("recordings", "--db", str(db))
    assert code == 0
    assert "Ann" in out and "Bob" in out and "(acc only)" in out


@pytest.mark.parametrize("case", sorted(INVALID))
def test_every_invalid_file_exits_2_with_one_line_and_leaves_db_unchanged(
    case: str, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    good = _good_csv(tmp_path / "good.csv")
    assert run("import", str(good), "-p", "Ann", "--create", "--db", str(db))[0] == 0
    before = _digest(db)
    text, expected = INVALID[case]
    bad = tmp_path / "bad.csv"
    if case == "binary":
        bad.write_bytes(text.encode("latin-1"))
    else:
        bad.write_text(text)
    code, _out, err = run("import", str(bad), "-p", "Ann", "--db", str(db))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in err
    assert _digest(db) == before


def test_unknown_patient_without_create_exits_2_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    storage.open_db(db).close()
    before = _digest(db)
    code, _, err = run("import", str(_good_csv(tmp_path / "g.csv")), "-p", "Zed", "--db", str(db))
    assert code == 2 and "no patient called 'Zed'" in err and "--create" in err
    assert _digest(db) == before


def test_usage_errors_exit_2() -> None:
    assert run("import")[0] == 2
    assert run("export-recording", "notanumber", "--out", "x.csv")[0] == 2
    assert run("no-such-command")[0] == 2


def test_export_of_a_missing_recording_is_a_clean_error(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    storage.open_db(db).close()
    code, _, err = run("export-recording", "7", "--out", str(tmp_path / "x.csv"), "--db", str(db))
    assert code == 2 and err.strip() == "Error: no recording with id 7 (see 'loadmon recordings')"


def test_internal_failure_exits_1_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("unexpected")

    storage.open_db(tmp_path / "l.db").close()  # listing never creates a database
    monkeypatch.setattr(storage, "list_recordings", broken)
    code, _, err = run("recordings", "--db", str(tmp_path / "l.db"))
    assert code == 1
    assert err.strip().splitlines() == [
        "Error: internal error: RuntimeError: unexpected (run with --debug for details)"
    ]


def test_db_option_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("LOADMON_DB", str(env_db))
    src = _good_csv(tmp_path / "rec.csv", n=100)
    assert run("import", str(src), "-p", "Ann", "--create", "--no-analyze")[0] == 0
    assert env_db.exists()
    assert storage.list_recordings(storage.open_db(env_db))[0]["patient"] == "Ann"


DEMO_DATA = Path(__file__).resolve().parents[1] / "loadmon" / "demo_data"


def test_guided_import_counts_only_the_named_exercise(tmp_path: Path) -> None:
    """`import --exercise rdl`: a set of 5 simulated RDLs (with no walking to learn the
    mounting from) is stored as RDL reps with their tempo, and as nothing else."""
    db_file = tmp_path / "g.db"
    res = CliRunner().invoke(
        cli,
        ["import", str(DEMO_DATA / "rdl_set.csv"), "-p", "G", "--create", "--exercise", "rdl",
         "--db", str(db_file)],
    )
    assert res.exit_code == 0, res.output
    db = storage.open_db(db_file)
    types = dict(db.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())
    assert 4 <= types.get("rdl_rep", 0) <= 6
    assert not {"bridge_rep", "bridge_hold", "hop"} & set(types)
    tempo = db.execute(
        "SELECT json_extract(data, '$.eccentric_s') FROM events WHERE type = 'rdl_rep'"
    ).fetchall()
    assert all(2.0 <= float(t[0]) <= 4.0 for t in tempo)  # simulated at 3 s down


def test_guided_import_of_an_unknown_exercise_changes_nothing(tmp_path: Path) -> None:
    db_file = tmp_path / "g.db"
    storage.open_db(db_file).close()
    before = _digest(db_file)
    res = CliRunner().invoke(
        cli,
        ["import", str(DEMO_DATA / "rdl_set.csv"), "-p", "G", "--create", "--exercise", "squat",
         "--db", str(db_file)],
    )
    assert res.exit_code == 2 and "--exercise" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert _digest(db_file) == before
