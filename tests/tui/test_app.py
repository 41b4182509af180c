"""Pilot tests: every screen and form of the dashboard, including invalid entries."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, Tree

from loadmon import storage
from loadmon.recording import Recording, write_loadmon_csv
from loadmon.tui.app import LoadmonApp, make_app
from loadmon.tui.dialogs.confirm import ConfirmDialog
from loadmon.tui.dialogs.error import ErrorDialog
from loadmon.tui.screens.help import HelpScreen
from loadmon.tui.screens.live import LiveScreen
from loadmon.tui.widgets.alert_list import AlertList
from loadmon.tui.widgets.load_gauge import LoadGauges
from loadmon.tui.widgets.rep_counter import RepCounter
from loadmon.tui.widgets.trend_chart import TrendChart
from tests.tui.snapshot_app import TODAY, canned_app, demo_db, real_app

SIZE = (120, 40)


async def click(pilot: Pilot[Any], selector: str) -> None:
    """Click a button (a pressed Button ignores clicks during its 0.2 s press effect)."""
    await pilot.pause(0.25)
    await pilot.click(selector)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def apply(pilot: Pilot[Any], app: LoadmonApp) -> None:
    app.screen.query_one("#to", Input).focus()
    await pilot.press("enter")


async def session_saved(pilot: Pilot[Any], live: LiveScreen, timeout: float = 300.0) -> None:
    """Wait for the live session's worker to end (stream over, analysed, saved). The bound
    is only a backstop against a hang and fails loudly; nothing goes on regardless."""
    worker = live.session
    assert worker is not None, "no live session was started"
    try:
        await asyncio.wait_for(worker.wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"the live session did not end within {timeout:.0f} s") from None
    await pilot.pause()


def text_of(app: LoadmonApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def db_rows(path: Path, sql: str, params: list[Any] | None = None) -> list[Any]:
    db = storage.open_db(path)
    try:
        return list(db.execute(sql, params or []).fetchall())
    finally:
        db.close()


async def test_today_shows_the_day_against_the_phase(tmp_path: Path) -> None:
    app = canned_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = text_of(app, "#today-title")
        assert "Sam Rivera" in title and "phase 2" in title and "Fri 20 Nov 2026" in title
        assert "pain and RPE not reported" in text_of(app, "#today-prompt")
        gauges = app.screen.query_one(LoadGauges)
        assert gauges.loads["rdl_kg"]["status"] == "above"
        sets = text_of(app, "#today-sets")
        assert "RDL" in sets and "sitting" in sets
        assert len(app.screen.query_one(AlertList).warnings) == 3
        await pilot.press("p")
        await settle(pilot)
        assert "Thu 19 Nov 2026" in text_of(app, "#today-title")
        await pilot.press("n", "n")
        await settle(pilot)
        assert "Sat 21 Nov 2026" in text_of(app, "#today-title")
        await pilot.press("t")
        await settle(pilot)
        assert "Fri 20 Nov 2026" in text_of(app, "#today-title")


async def test_warning_opens_the_day_in_sessions(tmp_path: Path) -> None:
    app = canned_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        alerts = app.screen.query_one(AlertList)
        alerts.focus()
        alerts.highlighted = 2  # the tempo warning (its set)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "sessions"
        assert app.screen.query_one("#from", Input).value == "2026-11-20"
        assert app.screen.query_one("#to", Input).value == "2026-11-20"


async def test_trend_cycles_categories_and_weeks(tmp_path: Path) -> None:
    app = canned_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        chart = app.screen.query_one(TrendChart)
        assert len(chart.series["dates"]) == 56
        first = text_of(app, "#trend-title")
        await pilot.press("c")
        await pilot.pause()
        assert text_of(app, "#trend-title") != first
        await pilot.press("w")
        await settle(pilot)
        assert len(chart.series["dates"]) == 28
        rendered = str(chart.render())
        assert "1.5" in rendered and "▲phase 2" not in rendered  # phase change is > 4 weeks ago
        await pilot.press("w", "w")
        await settle(pilot)
        assert "▲phase 2" in str(chart.render())


async def test_sessions_filters_and_drills_down(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        tree: Tree[str] = app.screen.query_one(Tree)
        assert len(tree.root.children) > 5
        # invalid date: an inline message, nothing reloaded
        app.screen.query_one("#from", Input).value = "2026-13-01"
        await click(pilot, "#apply")
        await pilot.pause()
        err = app.screen.query_one("#sessions-error", Static)
        assert err.display and "not a date" in str(err.render())
        # 'to' before 'from'
        app.screen.query_one("#from", Input).value = "2026-11-20"
        app.screen.query_one("#to", Input).value = "2026-11-10"
        await apply(pilot, app)
        await pilot.pause()
        assert "before" in str(err.render())
        # the tempo-lapse day, RDLs only
        app.screen.query_one("#from", Input).value = "2026-11-14"
        app.screen.query_one("#to", Input).value = "2026-11-14"
        app.screen.query_one("#exercise", Select).value = "rdl"
        await apply(pilot, app)
        await settle(pilot)
        assert not err.display
        sessions = tree.root.children
        assert len(sessions) == 1
        sets = sessions[0].children
        assert len(sets) == 3 and all("rdl" in str(s.label) for s in sets)
        reps = [str(r.label) for r in sets[0].children]
        assert len(reps) == 8 and all("tempo" in r for r in reps)
        # sitting bouts only
        app.screen.query_one("#exercise", Select).value = "sitting"
        await apply(pilot, app)
        await settle(pilot)
        labels = [str(c.label) for c in tree.root.children[0].children]
        assert labels and all("sitting" in lab for lab in labels)


async def test_patient_changes_phase_only_when_confirmed(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    path = demo_db(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        assert "current phase 2" in text_of(app, "#patient-info")
        # no phase picked
        await click(pilot, "#phase-change")
        await pilot.pause()
        assert "pick the new phase" in text_of(app, "#phase-error")
        app.screen.query_one("#phase-select", Select).value = "3"
        app.screen.query_one("#phase-date", Input).value = "20-11-2026"
        await click(pilot, "#phase-change")
        await pilot.pause()
        assert "not a date" in text_of(app, "#phase-error")
        app.screen.query_one("#phase-date", Input).value = "2026-11-20"
        await click(pilot, "#phase-change")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert len(db_rows(path, "SELECT * FROM phase_history")) == 2
        await click(pilot, "#phase-change")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert db_rows(path, "SELECT phase FROM phase_history ORDER BY id DESC LIMIT 1") == [("3",)]
        assert "current phase 3" in text_of(app, "#patient-info")


async def test_patient_prescription_validates_and_saves(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    path = demo_db(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        app.screen.query_one("#presc-exercise", Select).value = "rdl"
        await pilot.pause()
        assert app.screen.query_one("#presc-kg", Input).value == "10"
        app.screen.query_one("#presc-kg", Input).value = "heavy"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a number" in text_of(app, "#presc-error")
        app.screen.query_one("#presc-kg", Input).value = "900"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "between 0 and 500" in text_of(app, "#presc-error")
        app.screen.query_one("#presc-kg", Input).value = "22.5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        presc = json.loads(db_rows(path, "SELECT prescription FROM patients")[0][0])
        assert presc["exercises"]["rdl"]["kg"] == 22.5


async def test_log_forms_refuse_bad_values_and_save_good_ones(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    path = demo_db(tmp_path)
    before = len(db_rows(path, "SELECT * FROM log_entries"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await settle(pilot)
        assert app.screen.query_one("#log-date", Input).value == "2026-11-20"
        during = app.screen.query_one("#pain-during", Input)
        during.focus()
        await pilot.press("1", "1")
        await pilot.pause()
        msg = app.screen.query_one("#pain-during-msg", Static)
        assert msg.display and "0 to 10" in str(msg.render())
        await pilot.press("enter")
        await settle(pilot)
        assert len(db_rows(path, "SELECT * FROM log_entries")) == before
        during.value = "3"
        app.screen.query_one("#pain-morning", Input).value = "2"
        await click(pilot, "#save-pain")
        await settle(pilot)
        rows = db_rows(path, "SELECT kind, data FROM log_entries ORDER BY id DESC LIMIT 1")
        assert rows[0][0] == "pain" and json.loads(rows[0][1])["during"] == 3
        # RPE: bad date then good
        app.screen.query_one("#log-tabs").active = "tab-rpe"
        await pilot.pause()
        app.screen.query_one("#log-date", Input).value = "yesterday"
        app.screen.query_one("#rpe-value", Input).value = "6"
        await click(pilot, "#save-rpe")
        await pilot.pause()
        assert app.screen.query_one("#log-date-msg", Static).display
        app.screen.query_one("#log-date", Input).value = "2026-11-20"
        app.screen.query_one("#rpe-minutes", Input).value = "40"
        await click(pilot, "#save-rpe")
        await settle(pilot)
        assert db_rows(path, "SELECT kind FROM log_entries ORDER BY id DESC LIMIT 1") == [("rpe",)]
        # a manual set: no exercise, then a hold without its duration (library refuses)
        app.screen.query_one("#log-tabs").active = "tab-set"
        await pilot.pause()
        app.screen.query_one("#set-reps", Input).value = "5"
        await click(pilot, "#save-set")
        await settle(pilot)
        n = len(db_rows(path, "SELECT * FROM log_entries"))
        app.screen.query_one("#set-exercise", Select).value = "bridge_hold"
        await click(pilot, "#save-set")
        await settle(pilot)
        assert len(db_rows(path, "SELECT * FROM log_entries")) == n
        app.screen.query_one("#set-hold", Input).value = "40"
        await click(pilot, "#save-set")
        await settle(pilot)
        assert len(db_rows(path, "SELECT * FROM log_entries")) == n + 1
        # VISA-H out of range, then fine
        app.screen.query_one("#log-tabs").active = "tab-visa"
        await pilot.pause()
        app.screen.query_one("#visa-score", Input).value = "101"
        await click(pilot, "#save-visa")
        await pilot.pause()
        assert "0 to 100" in str(app.screen.query_one("#visa-score-msg", Static).render())
        app.screen.query_one("#visa-score", Input).value = "74"
        await click(pilot, "#save-visa")
        await settle(pilot)
        assert db_rows(path, "SELECT kind FROM log_entries ORDER BY id DESC LIMIT 1") == [
            ("visa_h",)
        ]


async def test_logging_pain_clears_the_prompt(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "pain" in text_of(app, "#today-prompt")
        await pilot.press("l")
        await settle(pilot)
        app.screen.query_one("#pain-during", Input).value = "2"
        await click(pilot, "#save-pain")
        await settle(pilot)
        await pilot.press("escape", "1")
        await settle(pilot)
        prompt = app.screen.query_one("#today-prompt", Static)
        assert "pain" not in str(prompt.render()).splitlines()[0]  # line 2: the check-in


async def test_check_in_form_raises_the_red_flag_and_ack_clears_it(tmp_path: Path) -> None:
    from textual.widgets import Checkbox

    app = real_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Weekly check-in" not in text_of(app, "#today-prompt")  # checked in 6 days ago
        await pilot.press("n")  # a week after the demo's last check-in: it is due
        await settle(pilot)
        assert "Weekly check-in" in text_of(app, "#today-prompt")
        await pilot.press("l")
        await settle(pilot)
        app.screen.query_one("#log-tabs").active = "tab-check"
        await pilot.pause()
        count = "SELECT count(*) FROM log_entries WHERE kind = 'check_in'"
        before = db_rows(app.data.db_path, count)
        await click(pilot, "#save-check")  # nothing ticked: not saved
        await settle(pilot)
        assert db_rows(app.data.db_path, count) == before
        app.screen.query_one("#flag-numbness", Checkbox).value = True
        await click(pilot, "#save-check")
        await settle(pilot)
        rows = db_rows(app.data.db_path, "SELECT date, data FROM log_entries "
                       "WHERE kind = 'check_in' ORDER BY id DESC LIMIT 1")  # fmt: skip
        assert rows == [("2026-11-21", '{"red_flags": ["numbness"]}')]
        await pilot.press("escape", "1")
        await settle(pilot)
        assert "Weekly check-in" not in text_of(app, "#today-prompt")
        alerts = app.screen.query_one("#today-warnings")
        assert any(w["rule"] == "red_flag.numbness" and "phone your clinic today" in w["patient"]
                   for w in alerts.warnings)  # fmt: skip
        i = next(k for k, w in enumerate(alerts.warnings) if w["rule"] == "red_flag.numbness")
        alerts.focus()
        alerts.highlighted = i
        await pilot.press("a")
        await settle(pilot)
        rows = db_rows(app.data.db_path, "SELECT data FROM log_entries WHERE kind = 'ack'")
        assert len(rows) == 1 and '"rule": "red_flag.numbness"' in rows[0][0]


async def test_help_and_quit(tmp_path: Path) -> None:
    app = canned_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_empty_database_shows_a_fatal_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.db", today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert "no patients" in str(app.screen.query_one("#dialog-message", Static).render())
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 1


async def test_unknown_patient_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    app = make_app(demo_db(tmp_path), "Nobody", today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("Nobody" in n.message for n in app._notifications)


def replay_file(tmp_path: Path, seconds: float = 10.0, rate: float = 52.0) -> Path:
    """A smooth random thigh-like signal (the virtual sensor streams it like a real one)."""
    rng = np.random.default_rng(3)
    n = int(seconds * rate)
    walk = np.cumsum(rng.normal(0, 1, (n, 6)), axis=0)
    walk -= walk.mean(axis=0)
    walk /= np.abs(walk).max(axis=0)
    acc = np.round(walk[:, :3] * 0.5 + [0, 0, 1], 4)
    gyro = np.round(walk[:, 3:] * 100, 3)
    rec = Recording(
        t=np.arange(n) / rate,
        acc=acc,
        gyro=gyro,
        sample_rate_hz=rate,
        device="polar-verity-sense",
        start=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    path = tmp_path / "replay.csv"
    write_loadmon_csv(rec, path)
    return path


async def test_live_replays_a_file_and_stop_saves_it(tmp_path: Path) -> None:
    path = demo_db(tmp_path)
    before = len(db_rows(path, "SELECT * FROM recordings"))
    app = make_app(path, source=str(replay_file(tmp_path)), today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        live = app.screen
        assert isinstance(live, LiveScreen)
        live.speed = 10.0
        await pilot.press("s")
        await session_saved(pilot, live)
        assert live.n_received >= 515, [n.message for n in app._notifications]
        await click(pilot, "#live-stop")  # ended already: says where it was saved
        await pilot.pause()
        assert "saved as recording" in text_of(app, "#live-signal")
        assert any(f"saved as recording {live.saved_id}" in n.message
                   for n in app._notifications)
    assert len(db_rows(path, "SELECT * FROM recordings")) == before + 1


async def replay_guided(
    pilot: Pilot[Any], app: LoadmonApp, exercise: str, speed: float
) -> LiveScreen:
    """Open Live, pick the guided `exercise`, start the replay and wait until it has ended
    and the session is saved."""
    await pilot.press("4")
    await settle(pilot)
    live = app.screen
    assert isinstance(live, LiveScreen)
    live.speed = speed
    live.query_one("#live-exercise", Select).value = exercise
    await pilot.press("s")
    await session_saved(pilot, live)
    return live


async def test_a_guided_live_set_is_saved_as_that_exercise(tmp_path: Path) -> None:
    """A guided RDL set counted live is stored with a guided RDL analysis: the saved reps are
    the counter's reps, and nothing is taken for a bridge."""
    path = demo_db(tmp_path)
    replay = Path(__file__).resolve().parents[2] / "loadmon" / "demo_data" / "rdl_set.csv"
    app = make_app(path, source=str(replay), today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        live = await replay_guided(pilot, app, "rdl", speed=20.0)
        assert "saved as recording" in text_of(app, "#live-signal")
        shown = live.query_one(RepCounter).count
    rid = db_rows(path, "SELECT max(id) FROM recordings")[0][0]
    types = dict(db_rows(path, "SELECT type, count(*) FROM events WHERE recording_id = ? "
                               "GROUP BY type", [rid]))
    assert types.get("rdl_rep", 0) >= 4, types
    assert not {"bridge_rep", "bridge_hold", "hop"} & set(types)
    assert types["rdl_rep"] == shown  # one set: the counter shows what was saved


async def test_quit_during_a_live_session_saves_it_then_exits(tmp_path: Path) -> None:
    """`q` mid-session: the session is stopped, analysed and saved before the app exits, and
    the session's worker never touches the screen's widgets once they are gone."""
    path = demo_db(tmp_path)
    app = make_app(path, source=str(replay_file(tmp_path, seconds=120.0)), today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        live = app.screen
        assert isinstance(live, LiveScreen)
        await pilot.press("s")
        for _ in range(6000):  # until samples are stored (a backstop of minutes, then fail)
            rec = live.recorder
            if rec is not None and rec.recording_id is not None and rec.n_samples > 0:
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError("the live session stored nothing")
        await pilot.press("q")
        await session_saved(pilot, live)
        rid = live.saved_id
    assert rid is not None and app._exit and app.return_code == 0
    (status,) = db_rows(path, "SELECT status FROM recordings WHERE id = ?", [rid])[0]
    assert status == "complete"
    assert db_rows(path, "SELECT count(*) FROM analyses WHERE recording_id = ?", [rid]) == [(1,)]


async def test_live_refuses_a_missing_replay_file(tmp_path: Path) -> None:
    app = make_app(demo_db(tmp_path), source=str(tmp_path / "nope.csv"), today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert any("not found" in n.message for n in app._notifications)
        assert isinstance(app.screen, LiveScreen) and app.screen.recorder is None


@pytest.mark.parametrize("day", [date(2026, 11, 20), date(2026, 10, 1)])
def test_real_data_layer_day(tmp_path: Path, day: date) -> None:
    from loadmon.tui.data import DashboardData

    data = DashboardData(demo_db(tmp_path), None, TODAY)
    status = data.day_status(day)
    assert status["patient"] == "Sam Rivera"
    assert {"date", "phase", "loads", "warnings"} <= set(status)
    assert data.day_sets(day)
    data.close()


async def test_live_counts_reps_and_cues_tempo(tmp_path: Path) -> None:
    """A guided RDL set replayed (5× real time) through the virtual sensor: reps appear."""
    rdl = Path(__file__).resolve().parents[2] / "loadmon" / "demo_data" / "rdl_fast_set.csv"
    app = make_app(demo_db(tmp_path), source=str(rdl), today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        live = await replay_guided(pilot, app, "rdl", speed=5.0)
        counter = live.query_one(RepCounter)
        assert counter.exercise == "rdl" and counter.count >= 4
        assert "slow down" in str(live.query_one("#rc-cue", Static).render())
        assert all(lat < 5.0 for lat in live.latencies)  # sanity only; timing is benchmarked
