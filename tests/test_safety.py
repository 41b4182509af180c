"""Safe when it matters, quiet when all is well: red flags, pain, flares, surgery, injections,
running, the kg of every set, load rules and milestones, on real SQLite files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon import alerts, patients, status, storage
from loadmon.cli import cli
from loadmon.recording import Recording

START = date(2026, 1, 5)  # a Monday
PHT = "proximal-hamstring-tendinopathy"


def day(d: int) -> str:
    return (START + timedelta(days=d)).isoformat()


def _patient(db: storage.Database, phase: str = "1", name: str = "p") -> str:
    patients.add_patient(db, name, PHT, phase=phase, start=START)
    return name


def _recording(db: storage.Database, name: str, d: int, events: list[dict[str, Any]],
               sets: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    pid = int(storage.get_patient(db, name)["id"])
    rec = Recording(
        t=np.arange(10) / 52.0,
        acc=np.zeros((10, 3)),
        sample_rate_hz=52.0,
        start=datetime(START.year, START.month, START.day, 7, tzinfo=UTC) + timedelta(days=d),
        device="test",
    )
    rid = storage.save_recording(db, pid, rec)
    storage.save_analysis(db, rid, {"events": events, "sets": sets or []}, version="t",
                          parameters={})  # fmt: skip


def _warnings(db: storage.Database, name: str, last: int) -> list[alerts.Alert]:
    return status.load_history(db, name, day(0), day(last)).warnings


def _days(ws: list[alerts.Alert], rule: str) -> list[int]:
    return sorted((date.fromisoformat(w.date) - START).days for w in ws if w.rule == rule)


def _holds(db: storage.Database, name: str, d: int, n: int = 10) -> None:
    patients.log_set(db, name, exercise="bridge_hold", reps=n, hold_s=45, on=day(d))


# --------------------------------------------------------------------------------------------
# Red flags


@pytest.fixture
def run(db_path: Path) -> Any:
    runner = CliRunner()

    def _run(*args: str) -> tuple[int, str, str]:
        r = runner.invoke(cli, [*args, "--db", str(db_path)])
        return r.exit_code, r.stdout, r.stderr

    return _run


def test_every_red_flag_is_an_alarm_that_says_what_to_do(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    for d, kind in enumerate(alerts.RED_FLAGS):
        patients.log_check_in(fresh_db, name, [kind], on=day(d))
        s = status.day_status(fresh_db, name, day(d))
        w = [w for w in s["warnings"] if w["rule"].startswith("red_flag") and "since" not in w]
        assert [(x["rule"], x["severity"]) for x in w] == [
            (f"red_flag.{kind.replace('-', '_')}", "alarm")
        ]
        assert "Stop the exercise programme" in w[0]["patient"]
        urgent = kind in ("saddle-anaesthesia", "bladder-bowel", "fever", "injection-redness")
        assert ("emergency department" in w[0]["patient"]) == urgent, kind
        assert ("phone your clinic today" in w[0]["patient"]) == (not urgent), kind


def test_check_in_cli_and_standing_until_acknowledged(run: Any) -> None:
    assert run("patient", "add", "ann", "--protocol", PHT, "--phase", "1",
               "--start", day(0))[0] == 0  # fmt: skip
    code, out, _ = run("log", "check-in", "ann", "--red-flag", "numbness",
                       "--red-flag", "bladder-bowel", "--date", day(3))  # fmt: skip
    assert code == 0 and "[alarm]" in out and "emergency" in out
    s = json.loads(run("status", "ann", "--date", day(5), "--json")[1])
    since = sorted((w["rule"], w["since"]) for w in s["warnings"] if "since" in w)
    assert since == [("red_flag.bladder_bowel", day(3)), ("red_flag.numbness", day(3))]
    assert run("warnings", "ack", "ann", "red_flag", "--note", "seen, GP today",
               "--date", day(5))[0] == 0  # fmt: skip
    s = json.loads(run("status", "ann", "--date", day(6), "--json")[1])
    assert not any(w["rule"].startswith("red_flag") for w in s["warnings"])
    assert run("log", "check-in", "ann", "--none", "--date", day(6))[0] == 0
    s = json.loads(run("status", "ann", "--date", day(8), "--json")[1])
    assert s["check_in"] == {"last": day(6), "due": False, "every_days": 7}
    s = json.loads(run("status", "ann", "--date", day(13), "--json")[1])
    assert s["check_in"]["due"] is True


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--red-flag", "headache"), "red-flag: expected one of night-pain"),
        (("--none", "--red-flag", "fever"), "not both"),
        ((), "give --red-flag KIND"),
    ],
)
def test_bad_check_in_is_one_line_exit_2(run: Any, args: tuple[str, ...], words: str) -> None:
    run("patient", "add", "ann", "--protocol", PHT, "--start", day(0))
    code, _, err = run("log", "check-in", "ann", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err


# --------------------------------------------------------------------------------------------
# Pain


def _pain_rules(ws: list[alerts.Alert]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for w in ws:
        if w.rule in ("pain.during", "pain.next_morning"):
            out.setdefault((date.fromisoformat(w.date) - START).days, []).append(
                (w.rule, w.severity)
            )
    return out


def test_pain_severity_scale(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)  # phase 1: pain during limit 3
    scores = {0: (2, 2), 1: (3, 3), 2: (4, 2), 3: (5, 2), 4: (2, 2), 5: (7, 2), 6: (2, 4),
              7: (2, 2), 8: (2, 2), 9: (2, 2)}  # fmt: skip
    for d, (during, morning) in scores.items():
        patients.log_pain(fresh_db, name, during=during, next_morning=morning, on=day(d))
    got = _pain_rules(_warnings(fresh_db, name, 9))
    assert got == {
        2: [("pain.during", "caution")],  # 4 > 3
        3: [("pain.during", "alarm")],  # 3 + 2
        5: [("pain.during", "alarm")],  # >= 7
        6: [("pain.next_morning", "alarm")],  # usual 2 + 2
    }  # day 1: next morning 3 is within +1 of the usual 2 (no warning)


def test_first_entry_is_checked_and_sets_the_usual(fresh_db: storage.Database) -> None:
    a = _patient(fresh_db, name="a")
    patients.log_pain(fresh_db, a, next_morning=5, on=day(0))  # no earlier score: >= 5/10
    b = _patient(fresh_db, name="b")
    patients.log_pain(fresh_db, b, next_morning=1, on=day(0))
    patients.log_pain(fresh_db, b, next_morning=3, on=day(1))  # the usual is the first entry
    assert _pain_rules(_warnings(fresh_db, a, 1)) == {0: [("pain.next_morning", "alarm")]}
    wb = _warnings(fresh_db, b, 1)
    assert _pain_rules(wb) == {1: [("pain.next_morning", "alarm")]}
    assert next(w for w in wb if w.rule == "pain.next_morning").numbers["usual"] == 1.0


def test_flare_switches_the_advice_until_settled_two_days(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db, phase="2")
    morning = [2, 2, 2, 2, 6, 2, 2, 3, 2, 2, 2, 2]  # day 4: alarm
    for d, m in enumerate(morning):
        during = 6 if d == 5 else 2  # day 5: above the limit of 5, so not settled yet
        patients.log_pain(fresh_db, name, during=during, next_morning=m, on=day(d))
    patients.log_set(fresh_db, name, exercise="rdl", reps=12, kg=20, on=day(6))
    ws = _warnings(fresh_db, name, len(morning) - 1)
    # Settled: day 6 (2), day 7 (3 = usual 2 + margin 1), so the flare ends after day 7.
    assert _days(ws, "pain.flare") == [5, 6, 7]
    flare = {(date.fromisoformat(w.date) - START).days: w for w in ws if w.rule == "pain.flare"}
    assert "only the gentle holds" in flare[5].patient and "no hops" in flare[5].patient
    assert flare[6].numbers["loaded_today"] == ["rdl_reps", "rdl_kg"]
    assert "Back to your plan tomorrow" in flare[7].patient
    # No "too little" nagging while the advice is isometrics only.
    assert not [d for d in _days(ws, "too_little.days_without") if 4 <= d <= 7]


def test_creeping_pain_is_caught_once(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    weekly = [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 2, 2, 3, 2, 2, 3, 2, 2]
    for d, m in enumerate(weekly):
        patients.log_pain(fresh_db, name, next_morning=m, on=day(d))
    ws = _warnings(fresh_db, name, len(weekly) - 1)
    days = _days(ws, "pain.creeping")
    assert len(days) == 1 and days[0] >= 14
    assert not any(w.severity == "alarm" for w in ws)  # each day within ±1 of the usual


# --------------------------------------------------------------------------------------------
# Surgery and injections


def test_surgery_suspends_conservative_rules(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    for d in range(10):
        _holds(fresh_db, name, d)
    patients.log_intervention(fresh_db, name, "surgery", on=day(10), note="hamstring repair")
    patients.log_set(fresh_db, name, exercise="rdl", reps=10, kg=10, on=day(16))  # phase 1
    patients.log_pain(fresh_db, name, during=8, on=day(16))
    ws = _warnings(fresh_db, name, 40)
    assert [(w.rule, w.severity) for w in ws if w.date == day(10)] == [
        ("surgery.post_op_protocol", "alarm")
    ]
    after = {w.rule for w in ws if w.date > day(10)}
    assert after == {"pain.during", "pain.flare"}  # pain still guides; nothing conservative
    s = status.day_status(fresh_db, name, day(16))
    assert s["care"]["suspended"] and s["care"]["since"] == day(10)
    assert s["prescribed"] == {}  # no "do your RDLs" after a repair
    assert any(w["rule"] == "surgery.post_op_protocol" and w["since"] == day(10)
               for w in s["warnings"])  # fmt: skip


def test_injection_window_rules_and_masked_pain(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db, phase="2")
    patients.set_prescription(fresh_db, name, "rdl", kg=10, on=day(0))
    for d in range(35):
        if d % 7 not in (0, 2, 4):  # Mon, Wed, Fri
            continue
        kg = 20.0 if d == 23 else None  # day 23: the same reps at twice the kg
        patients.log_set(fresh_db, name, exercise="rdl", reps=30, kg=kg, on=day(d))
        patients.log_set(fresh_db, name, exercise="bridge", reps=30, on=day(d))
        patients.log_set(fresh_db, name, exercise="prone_curl", reps=30, on=day(d))
    patients.log_intervention(fresh_db, name, "corticosteroid-injection", on=day(20))
    patients.set_phase(fresh_db, name, "3", on=day(24))  # 4 days after the injection
    patients.log_set(fresh_db, name, exercise="hops", reps=20, on=day(25))  # first exposure
    ws = _warnings(fresh_db, name, 34)
    got = {(w.rule, w.category) for w in ws if w.rule.startswith("injection.")}
    assert got == {("injection.load_jump", "rdl_kg"), ("injection.phase_advance", None),
                   ("injection.first_exposure", "hop_contacts")}  # fmt: skip
    assert all("until " + day(34) in w.patient for w in ws if w.rule.startswith("injection."))
    # Pain relief in the window is masked: it is no improvement (VISA-H has not improved).
    patients.log_visa_h(fresh_db, name, 50, on=day(0))
    patients.log_visa_h(fresh_db, name, 51, on=day(14))
    for d in range(35):
        patients.log_pain(fresh_db, name, during=5 if d < 20 else 1, on=day(d))
    s = status.day_status(fresh_db, name, day(22))
    assert s["log"]["pain"] and all(p["masked"] for p in s["log"]["pain"])
    assert _days(_warnings(fresh_db, name, 34), "milestone.reassess") == [28]


# --------------------------------------------------------------------------------------------
# Running, kg, load rules


def test_running_minutes_count_with_phase_rules(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    _recording(fresh_db, name, 3, [{"type": "running", "start_s": 0.0, "end_s": 12 * 60.0}])
    s = status.day_status(fresh_db, name, day(3))
    assert s["loads"]["running_min"]["today"] == 12.0
    assert [w["rule"] for w in s["warnings"]] == ["running.not_in_phase"]
    assert "walk or cycle instead" in s["warnings"][0]["patient"]
    patients.set_phase(fresh_db, name, "3", on=day(10))
    for d in (10, 12, 14):  # graded return to run: 15 min, within the 20 min day cap
        _recording(fresh_db, name, d, [{"type": "running", "start_s": 0.0, "end_s": 900.0}])
    _recording(fresh_db, name, 16, [{"type": "running", "start_s": 0.0, "end_s": 1800.0}])
    ws = _warnings(fresh_db, name, 16)
    assert _days(ws, "running.day_cap") == [16] and _days(ws, "running.week_cap") == [16]
    assert _days(ws, "running.not_in_phase") == [3]


def test_the_kg_entered_for_a_recorded_set_counts(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db, phase="2")
    patients.set_prescription(fresh_db, name, "rdl", kg=10, on=day(0))
    events, sets = [], []
    for s_i in range(4):
        a = 100.0 * s_i
        for r in range(12):
            events.append({"type": "rdl_rep", "start_s": a + 7 * r, "end_s": a + 7 * r + 6,
                           "eccentric_s": 3.0, "concentric_s": 3.0, "set_index": s_i})  # fmt: skip
        sets.append({"exercise": "rdl", "start_s": a, "end_s": a + 84, "reps": 12,
                     **({"kg": 30.0} if s_i < 3 else {})})  # the last set: no kg entered
    _recording(fresh_db, name, 1, events, sets)
    s = status.day_status(fresh_db, name, day(1))
    assert s["loads"]["rdl_kg"]["today"] == 3 * 12 * 30 + 12 * 10


def test_build_back_after_a_break_and_band_above(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    for d in range(0, 14):
        _holds(fresh_db, name, d)  # 450 s a day
    _holds(fresh_db, name, 22, n=14)  # 630 s after 8 days without: within band, over the dose
    _holds(fresh_db, name, 24, n=16)  # 720 s: above the phase 1 band 300-675
    ws = _warnings(fresh_db, name, 24)
    assert _days(ws, "load.build_back") == [22]
    bb = next(w for w in ws if w.rule == "load.build_back")
    assert bb.numbers["before_break"] == 450 and bb.numbers["break_days"] == 8
    assert _days(ws, "band.above") == [24]


def test_status_shows_ratios_only_with_the_reason(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    for d in range(40):
        _holds(fresh_db, name, d)
    early = status.day_status(fresh_db, name, day(5))["ratios"]["isometric_s"]
    assert early["used"] is False and "no chronic base yet" in early["reason"]
    late = status.day_status(fresh_db, name, day(39))["ratios"]
    assert late["isometric_s"]["used"] is True and late["isometric_s"]["reason"] is None
    assert "rdl_reps" not in late  # not an acute:chronic category: no ratio shown at all


def test_visa_h_drop_warns(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    for d, v in ((0, 60), (14, 66), (28, 55)):
        patients.log_visa_h(fresh_db, name, v, on=day(d))
    ws = _warnings(fresh_db, name, 30)
    drop = [w for w in ws if w.rule == "milestone.visa_h_drop"]
    assert [(w.date, w.numbers["drop"]) for w in drop] == [(day(28), 11.0)]


# --------------------------------------------------------------------------------------------
# Quiet when all is well

#: Next-morning and during pain moving ±1 around 2, two weeks' cycle.
STEADY = [2, 3, 2, 1, 2, 2, 3, 1, 2, 3, 2, 2, 1, 2]


def test_compliant_patient_is_quiet(fresh_db: storage.Database) -> None:
    """Six weeks exactly as prescribed (3 weeks of isometrics, then heavy slow resistance
    three times a week), pain steady: cautions on <= 3 of 42 days and no alarm."""
    name = _patient(fresh_db)
    patients.set_phase(fresh_db, name, "2", on=day(21))
    patients.set_prescription(fresh_db, name, "rdl", kg=20, on=day(21))
    for d in range(42):
        if d < 21:
            for _ in range(2):  # 2 sessions x 5 x 45 s
                patients.log_set(fresh_db, name, exercise="bridge_hold", reps=5, hold_s=45,
                                 on=day(d))  # fmt: skip
        elif d % 7 in (0, 2, 4):  # Mon, Wed, Fri
            for ex in ("rdl", "bridge", "prone_curl"):
                for _ in range(3):
                    patients.log_set(fresh_db, name, exercise=ex, reps=12, on=day(d))
            patients.log_rpe(fresh_db, name, rpe=5, minutes=40, on=day(d))
        p = STEADY[d % len(STEADY)]
        patients.log_pain(fresh_db, name, during=p, next_morning=p, on=day(d))
        if d % 7 == 0:
            patients.log_check_in(fresh_db, name, [], none=True, on=day(d))
        if d % 14 == 0:
            patients.log_visa_h(fresh_db, name, 55 + d / 2, on=day(d))
    ws = _warnings(fresh_db, name, 41)
    assert not [w for w in ws if w.severity == "alarm"], ws
    caution_days = {w.date for w in ws if w.severity == "caution"}
    assert len(caution_days) <= 3, ws


def test_report_shows_both_voices(fresh_db: storage.Database) -> None:
    import html

    from loadmon import report

    name = _patient(fresh_db)
    patients.log_check_in(fresh_db, name, ["sudden-pop"], on=day(2))
    page = html.unescape(report.render_html(report.collect(fresh_db, name, day(0), day(3))))
    w = next(a for a in _warnings(fresh_db, name, 3) if a.rule == "red_flag.sudden_pop")
    assert f"Patient: {w.patient}" in page.replace("<b>", "").replace("</b>", "")
    assert f"Clinician: {w.message}" in page.replace("<b>", "").replace("</b>", "")


def test_import_kg_counts_and_an_edit_afterwards_too(run: Any, db_path: Path) -> None:
    from loadmon.demo import DEMO_DATA

    assert run("patient", "add", "ann", "--protocol", PHT, "--phase", "2",
               "--start", "2026-11-01")[0] == 0  # fmt: skip
    assert run("prescribe", "ann", "--exercise", "rdl", "--kg", "10",
               "--date", "2026-11-01")[0] == 0  # fmt: skip
    code, _, err = run("import", str(DEMO_DATA / "rdl_set.csv"), "-p", "ann",
                         "--exercise", "rdl", "--kg", "30")  # fmt: skip
    assert code == 0, err
    db = storage.open_db(db_path)
    sql = "SELECT id, reps, start_utc, data FROM sets WHERE exercise = 'rdl'"
    rows = db.execute(sql).fetchall()
    assert rows and all(json.loads(r[3])["kg"] == 30 for r in rows)
    on = rows[0][2][:10]
    reps = sum(r[1] for r in rows)
    s = status.day_status(db, "ann", on)
    assert s["loads"]["rdl_kg"]["today"] == 30 * reps  # not the prescribed 10 kg
    assert run("log", "set-kg", "ann", str(rows[0][0]), "25")[0] == 0
    s = status.day_status(db, "ann", on)
    assert s["loads"]["rdl_kg"]["today"] == 25 * rows[0][1] + 30 * (reps - rows[0][1])
    code, _, err = run("log", "set-kg", "ann", "99999", "25")
    assert code == 2 and "no recorded set 99999" in err


def test_creeping_stiffness_is_caught_too(fresh_db: storage.Database) -> None:
    name = _patient(fresh_db)
    stiff = [1] * 7 + [2] * 7 + [3] * 7
    for d, st in enumerate(stiff):
        patients.log_pain(fresh_db, name, next_morning=2, stiffness=st, on=day(d))
    ws = [w for w in _warnings(fresh_db, name, 20) if w.rule == "pain.creeping"]
    assert [w.numbers["measure"] for w in ws] == ["stiffness"]
    assert "stiffness has been slowly rising" in ws[0].patient
