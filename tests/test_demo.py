"""The demo database tells its story, builds quickly, and `loadmon demo` never hangs."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadmon import status, storage
from loadmon.cli import cli
from loadmon.demo import DEMO_PATIENT, build_demo
from loadmon.errors import InputError

TODAY = date(2026, 11, 20)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    build_demo(path, today=TODAY)
    return path


def rules(db: storage.Database, day: str) -> set[str]:
    return {w["rule"] for w in status.day_status(db, DEMO_PATIENT, day)["warnings"]}


def test_demo_has_eight_weeks_with_a_phase_change(demo: Path) -> None:
    db = storage.open_db(demo)
    phases = [r["phase"] for r in db.query("SELECT phase FROM phase_history ORDER BY start_date")]
    assert phases == ["1", "2"]
    days = {r[0][:10] for r in db.execute("SELECT start FROM recordings").fetchall()}
    assert len(days) == 56
    assert db["log_entries"].count > 50
    st = status.day_status(db, DEMO_PATIENT, TODAY)
    assert st["phase"] == "2" and st["loads"]


def test_demo_story_raises_its_warnings(demo: Path) -> None:
    db = storage.open_db(demo)
    hist = status.load_history(db, DEMO_PATIENT, "2026-09-26", TODAY)
    fired = {(w.date, w.rule) for w in hist.warnings}
    kinds = {rule.split(".")[0] for _, rule in fired}
    assert "tempo" in kinds  # the tempo lapse
    assert "sitting" in kinds  # the sitting-heavy week
    assert any(r.startswith(("acwr", "week")) for _, r in fired)  # the load spike
    assert any(d == "2026-11-14" and r.startswith("tempo") for d, r in fired)


def test_demo_keeps_its_teaching_moments_and_is_quiet_otherwise(demo: Path) -> None:
    from datetime import timedelta

    from loadmon.demo import DAYS, SITTING_WEEK, SPIKE_DAYS, TEMPO_LAPSE_DAY

    db = storage.open_db(demo)
    start = TODAY - timedelta(days=DAYS - 1)
    hist = status.load_history(db, DEMO_PATIENT, start, TODAY)

    def on(i: int) -> set[str]:
        return {w.rule for w in hist.warnings if w.date == (start + timedelta(days=i)).isoformat()}

    assert all("sitting.bout" in on(i) for i in SITTING_WEEK)  # the sitting week
    assert "first_exposure.cap" in on(SPIKE_DAYS[0])  # the spike
    assert "pain.next_morning" in on(SPIKE_DAYS[1])  # the flare: an alarm ...
    assert "pain.flare" in on(SPIKE_DAYS[1] + 2)  # ... then isometrics-only advice
    assert "tempo.fast" in on(TEMPO_LAPSE_DAY)  # the tempo lapse
    days = {w.date for w in hist.warnings}
    assert len(days) <= DAYS // 4, sorted(days)  # warnings on <= 25 % of the days


def test_demo_builds_in_a_few_seconds_and_refuses_a_real_database(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    build_demo(tmp_path / "d.db", today=TODAY)
    assert time.perf_counter() - t0 < 10  # generous: the machine is shared; typically < 1 s
    build_demo(tmp_path / "d.db", today=TODAY)  # rebuilding a demo file is fine
    real = tmp_path / "mine.db"
    db = storage.open_db(real)
    storage.add_patient(db, "Someone Else")
    db.close()
    with pytest.raises(InputError, match="not a loadmon demo"):
        build_demo(real, today=TODAY)


def test_demo_command_without_a_terminal_prints_and_returns(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert DEMO_PATIENT in result.output
    assert "not a terminal" in result.output
    result = CliRunner().invoke(cli, ["demo", "--no-open", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0 and "not a terminal" not in result.output


def test_demo_default_location_is_the_user_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--no-open"])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "xdg-data") in result.output


def test_tui_command_errors_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tui", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0 and "loadmon demo" in result.output
    build_demo(tmp_path / "d.db", today=TODAY)
    result = CliRunner().invoke(cli, ["tui", "--db", str(tmp_path / "d.db"), "-p", "Nobody"])
    assert result.exit_code == 2 and "Nobody" in result.output
    result = CliRunner().invoke(cli, ["tui", "--db", str(tmp_path / "d.db")])
    assert result.exit_code != 0 and "interactive terminal" in result.output


def test_todays_session_is_recorded_and_counted_by_the_detectors(demo: Path) -> None:
    """Today's session keeps its samples and its reps come from the detectors (guided sets
    of the bundled recordings: 8 bridges and 5 RDLs at about 3 s each way)."""
    db = storage.open_db(demo)
    recs = db.execute(
        "SELECT id, n_samples FROM recordings WHERE start >= ? AND n_samples > 0 ORDER BY start",
        [TODAY.isoformat()],
    ).fetchall()
    assert len(recs) == 2 and all(n > 1000 for _, n in recs)
    ids = [r[0] for r in recs]
    assert storage.load_recording(db, ids[0]).n_samples == recs[0][1]
    marks = ",".join("?" * len(ids))
    types = dict(db.execute(
        f"SELECT type, count(*) FROM events WHERE recording_id IN ({marks}) GROUP BY type", ids
    ).fetchall())
    assert types.get("bridge_rep") == 8 and types.get("rdl_rep") == 5, types
    tempo = db.execute(
        f"SELECT json_extract(data, '$.eccentric_s') FROM events WHERE type = 'rdl_rep' "
        f"AND recording_id IN ({marks})", ids
    ).fetchall()
    assert all(2.4 <= float(t) <= 3.6 for (t,) in tempo)
    st = status.day_status(db, DEMO_PATIENT, TODAY)
    assert st["loads"]["rdl_kg"]["today"] == 5 * 10.0  # 5 reps at the prescribed 10 kg
