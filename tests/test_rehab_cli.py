"""The rehab commands through click: protocols, patient, phase, prescribe, log, status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadmon.cli import cli
from loadmon.protocols import PROTOCOLS_DIR


@pytest.fixture
def run(db_path: Path) -> object:
    runner = CliRunner()

    def _run(*args: str) -> tuple[int, str, str]:
        r = runner.invoke(cli, [*args, "--db", str(db_path)] if args[0] not in ("protocols",)
                          else list(args))  # fmt: skip
        return r.exit_code, r.stdout, r.stderr

    return _run


def _ok(res: tuple[int, str, str]) -> str:
    code, out, err = res
    assert code == 0, (out, err)
    return out


def _bad(res: tuple[int, str, str], words: str) -> None:
    code, out, err = res
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ") and words in lines[0], err


def test_protocols_list_show_check(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _ok(run("protocols"))
    for pid in ("proximal-hamstring-tendinopathy", "ischial-tuberosity-enthesopathy",
                "ischiofemoral-impingement", "iliopsoas-tendinopathy"):  # fmt: skip
        assert pid in out
    assert len(json.loads(_ok(run("protocols", "--json")))) == 4
    out = _ok(run("protocols", "show", "proximal-hamstring-tendinopathy"))
    assert "Phase 1: Isometrics" in out and "tempo 3 s each way" in out
    data = json.loads(_ok(run("protocols", "show", "iliopsoas-tendinopathy", "--json")))
    assert data["id"] == "iliopsoas-tendinopathy" and "1" in data["phases"]
    src = PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml"
    copy = tmp_path / "copy.toml"
    copy.write_text(src.read_text())
    assert "ok:" in _ok(run("protocols", "check", str(copy)))
    copy.write_text(src.read_text().replace("max_daily_min = 360", "max_daily_min = -5", 1))
    _bad(
        run("protocols", "check", str(copy)),
        "phases.0.sitting.max_daily_min: expected a number >= 0",
    )
    _bad(run("protocols", "show", "tennis-elbow"), "no protocol 'tennis-elbow'")


def test_patient_phase_log_status_flow(run) -> None:  # type: ignore[no-untyped-def]
    _ok(run("patient", "add", "ann", "--protocol", "proximal-hamstring-tendinopathy",
            "--phase", "1", "--start", "2026-01-05"))  # fmt: skip
    rows = json.loads(_ok(run("patient", "list", "--json")))
    assert rows == [{"name": "ann", "protocol": "proximal-hamstring-tendinopathy", "phase": "1",
                     "phase_since": "2026-01-05", "start_date": "2026-01-05"}]  # fmt: skip
    assert "ann" in _ok(run("patient", "list"))
    for d in range(5, 12):
        _ok(run("log", "set", "ann", "--exercise", "bridge_hold", "--reps", "10",
                "--hold-s", "45", "--date", f"2026-01-{d:02d}"))  # fmt: skip
        _ok(run("log", "pain", "ann", "--during", "2", "--next-morning", "1",
                "--date", f"2026-01-{d:02d}"))  # fmt: skip
    _ok(run("log", "pain", "ann", "--during", "6", "--date", "2026-01-11"))
    _ok(run("log", "rpe", "ann", "--rpe", "4", "--minutes", "20", "--date", "2026-01-11"))
    _ok(run("log", "visa-h", "ann", "52", "--date", "2026-01-05"))
    _ok(run("log", "intervention", "ann", "--kind", "shockwave", "--date", "2026-01-06"))
    _ok(run("log", "set", "ann", "--exercise", "hops", "--reps", "20", "--date", "2026-01-11"))
    _ok(run("phase", "set", "ann", "2", "--date", "2026-01-12", "--note", "holds pain-free"))
    _ok(run("prescribe", "ann", "--exercise", "rdl", "--kg", "20", "--date", "2026-01-12"))
    hist = _ok(run("phase", "history", "ann"))
    assert "2026-01-12  phase 2  holds pain-free" in hist
    s = json.loads(_ok(run("status", "ann", "--date", "2026-01-11", "--json")))
    assert s["phase"] == "1" and s["loads"]["isometric_s"]["value"] == 450.0
    rules = {w["rule"] for w in s["warnings"]}
    assert {"pain.during", "phase.plyometric_early"} <= rules
    text = _ok(run("status", "ann", "--date", "2026-01-11"))
    assert "phase 1 (Isometrics)" in text
    # Two voices: the patient's next step on the [severity] line, the physio's detail below it.
    assert "[alarm] Hops / low-level plyometrics is not part of your programme yet" in text
    assert "    phase.plyometric_early: Hops / low-level plyometrics" in text
    assert json.loads(_ok(run("status", "ann", "--date", "2026-01-12", "--json")))["phase"] == "2"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("log", "pain", "ann", "--during", "11"), "during: expected 0 to 10, got 11"),
        (("log", "pain", "ann", "--during", "lots"), "--during: expected a number, got 'lots'"),
        (("log", "pain", "ann"), "give --during and/or --next-morning"),
        (("log", "rpe", "ann", "--rpe", "12"), "rpe: expected 0 to 10"),
        (("log", "rpe", "ann", "--rpe", "5", "--minutes", "-3"), "minutes: expected 0 to 600"),
        (("log", "set", "ann", "--exercise", "nordic", "--reps", "5"), "'nordic' is not in"),
        (("log", "set", "ann", "--exercise", "bridge", "--reps", "2.5"), "expected a whole number"),
        (("log", "set", "ann", "--exercise", "bridge", "--reps", "0"), "reps: expected 1 to 1000"),
        (("log", "set", "ann", "--exercise", "bridge_hold", "--reps", "5"), "give --hold-s"),
        (("log", "set", "ann", "--exercise", "bridge", "--reps", "5", "--kg", "-1"),
         "kg: expected 0 to 500"),
        (("log", "visa-h", "ann", "101"), "VISA-H: expected 0 to 100"),
        (("log", "intervention", "ann", "--kind", "steroid"), "kind: expected one of"),
        (("log", "pain", "ann", "--during", "3", "--date", "2026-02-30"),
         "--date: expected a date"),
        (("log", "pain", "bob", "--during", "3"), "no patient called 'bob'"),
        (("phase", "set", "ann", "7"), "has no phase '7'"),
        (("phase", "set", "ann", "2", "--date", "2025-01-01"), "before ann's start date"),
        (("patient", "add", "ann", "--protocol", "proximal-hamstring-tendinopathy"),
         "already exists"),
        (("patient", "add", "cy", "--protocol", "knee"), "no protocol 'knee'"),
        (("patient", "add", "cy", "--protocol", "iliopsoas-tendinopathy", "--timezone", "Mars"),
         "timezone: expected an IANA name"),
        (("status", "ann", "--date", "2025-12-01"), "before ann's start date"),
        (("prescribe", "ann", "--exercise", "rdl", "--kg", "heavy"), "--kg: expected a number"),
    ],
)
def test_bad_values_exit_2_with_one_line(run, args: tuple[str, ...], words: str) -> None:  # type: ignore[no-untyped-def]
    _ok(run("patient", "add", "ann", "--protocol", "proximal-hamstring-tendinopathy",
            "--start", "2026-01-05"))  # fmt: skip
    _bad(run(*args), words)


def test_set_protocol_for_an_imported_patient(run, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    from loadmon import storage

    db = storage.open_db(db_path)
    storage.add_patient(db, "imp")  # as `loadmon import --create` does: no protocol
    db.close()
    _bad(run("status", "imp", "--date", "2026-01-05"), "loadmon patient set-protocol imp")
    _ok(run("patient", "set-protocol", "imp", "iliopsoas-tendinopathy", "--phase", "1",
            "--start", "2026-01-05"))  # fmt: skip
    s = json.loads(_ok(run("status", "imp", "--date", "2026-01-06", "--json")))
    assert s["protocol"] == "iliopsoas-tendinopathy" and s["phase"] == "1"


def test_physio_protocol_file_for_a_patient(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml"
    mine = tmp_path / "my_pht.toml"
    mine.write_text(src.read_text().replace("max_bout_min = 30", "max_bout_min = 20", 1))
    _ok(run("patient", "add", "dee", "--protocol", str(mine), "--phase", "0",
            "--start", "2026-01-05"))  # fmt: skip
    s = json.loads(_ok(run("status", "dee", "--date", "2026-01-05", "--json")))
    assert s["protocol"] == "proximal-hamstring-tendinopathy"
    assert s["sitting"]["limit_bout_min"] == 20.0
