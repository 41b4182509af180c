"""Exports round-trip: re-reading the CSV or JSON tables gives the database's values."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from loadmon import export, status, storage
from loadmon.cli import cli
from loadmon.compare import STATUS_NAMES
from loadmon.demo import DEMO_PATIENT, build_demo

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "demo.db"
    build_demo(path, today=TODAY)
    return path


def run_export(demo: Path, out: Path, fmt: str, *extra: str) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "export",
            DEMO_PATIENT,
            "--format",
            fmt,
            "--to",
            TODAY.isoformat(),
            "--db",
            str(demo),
            "--out",
            str(out),
            *extra,
        ],
    )
    assert res.exit_code == 0, res.output


def read_back(out: Path, fmt: str, table: str) -> list[dict[str, Any]]:
    """Rows as a plain reader sees them: CSV cells parsed with json where they are numbers
    or literals, "" as no value; JSON as is."""
    if fmt == "json":
        rows: list[dict[str, Any]] = json.loads((out / f"{table}.json").read_text("utf-8"))
        return rows

    def cell(text: str) -> Any:
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return text

    return [{k: cell(v) for k, v in r.items()} for r in export.read_csv(out / f"{table}.csv")]


@pytest.fixture(scope="module", params=["csv", "json"])
def exported(
    request: pytest.FixtureRequest, demo: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    fmt = str(request.param)
    out = tmp_path_factory.mktemp(f"out-{fmt}")
    run_export(demo, out, fmt)
    return fmt, out


def test_events_round_trip(demo: Path, exported: tuple[str, Path]) -> None:
    fmt, out = exported
    db = storage.open_db(demo, create=False)
    rows = {r["event_id"]: r for r in read_back(out, fmt, "events")}
    stored = list(db.query("SELECT * FROM events WHERE start_utc < '2026-11-21'"))
    assert len(rows) == len(stored) > 1000
    for ev in stored:
        r = rows[ev["id"]]
        assert (r["type"], r["start_utc"], r["recording_id"]) == (
            ev["type"],
            ev["start_utc"],
            ev["recording_id"],
        )
        assert r["start_s"] == ev["start_s"] and r["end_s"] == ev["end_s"]  # exact
        for k, v in json.loads(ev["data"] or "{}").items():
            got = r.get(k, r.get(f"data_{k}", ev.get(k)))
            assert got == v, (ev["id"], k)


def test_sets_round_trip(demo: Path, exported: tuple[str, Path]) -> None:
    fmt, out = exported
    db = storage.open_db(demo, create=False)
    rows = read_back(out, fmt, "sets")
    sensor = {r["set_key"]: r for r in rows if r["source"] == "sensor"}
    stored = list(db.query("SELECT * FROM sets WHERE start_utc < '2026-11-21'"))
    assert len(sensor) == len(stored)
    for s in stored:
        r = sensor[f"s{s['id']}"]
        assert (r["exercise"], r["reps"], r["start_utc"]) == (
            s["exercise"],
            s["reps"],
            s["start_utc"],
        )
        ids = str(r["event_ids"] or "").split()
        assert len(ids) == s["reps"]  # each rep or hold is listed with its event id
    manual = [r for r in rows if r["source"] == "manual"]
    logged = db.execute(
        "SELECT count(*) FROM log_entries WHERE kind = 'set' AND date <= ?", [TODAY.isoformat()]
    ).fetchone()[0]
    assert len(manual) == logged > 0


def test_daily_loads_are_the_status_history(demo: Path, exported: tuple[str, Path]) -> None:
    fmt, out = exported
    db = storage.open_db(demo, create=False)
    start = db.execute("SELECT start_date FROM patients").fetchone()[0]
    hist = status.load_history(db, DEMO_PATIENT, start, TODAY)
    rows = read_back(out, fmt, "daily_loads")
    assert len(rows) == len(hist.days) * len(hist.loads)
    by = {(r["date"], r["category"]): r for r in rows}

    def same(got: Any, want: float) -> bool:
        return got is None if not math.isfinite(want) else got == want

    for i, day in enumerate(hist.days):
        for cat in hist.loads:
            r = by[(day, cat)]
            assert r["phase"] == hist.phase[i] or str(r["phase"]) == hist.phase[i]
            assert same(r["load"], float(hist.loads[cat][i]))
            if cat in hist.status:
                assert r["status"] == STATUS_NAMES[int(hist.status[cat][i])]
                assert same(r["low"], float(hist.low[cat][i]))
                assert same(r["compared"], float(hist.compared[cat][i]))
                assert same(r["adherence_28d"], float(hist.adherence_28d[cat][i]))
            if cat in hist.ratio:
                assert same(r["ratio"], float(hist.ratio[cat][i]))
                assert same(r["acute"], float(hist.acute[cat][i]))


def test_log_and_warnings_round_trip(demo: Path, exported: tuple[str, Path]) -> None:
    fmt, out = exported
    db = storage.open_db(demo, create=False)
    log = read_back(out, fmt, "log_entries")
    stored = list(
        db.query("SELECT * FROM log_entries WHERE date <= ? ORDER BY date, id", [TODAY.isoformat()])
    )
    assert [r["entry_id"] for r in log] == [e["id"] for e in stored]
    for r, e in zip(log, stored, strict=True):
        assert (r["date"], r["kind"]) == (e["date"], e["kind"])
        for k, v in json.loads(e["data"]).items():
            got = r[k]
            if isinstance(v, list | dict) and isinstance(got, str):
                got = json.loads(got)  # nested values are JSON text in the CSV (e.g. red flags)
            assert got == v, (e["id"], k)
    start = db.execute("SELECT start_date FROM patients").fetchone()[0]
    ws = status.warnings_between(db, DEMO_PATIENT, start, TODAY)
    got = read_back(out, fmt, "warnings")
    assert [(w["date"], w["rule"], w["message"], w["source"]) for w in got] == [
        (a.date, a.rule, a.message, a.source) for a in ws
    ]
    assert [json.loads(w["numbers"]) for w in got] == [a.numbers for a in ws]


def test_manifest_counts_every_table(exported: tuple[str, Path]) -> None:
    fmt, out = exported
    m = json.loads((out / "manifest.json").read_text("utf-8"))
    assert m["patient"] == DEMO_PATIENT and m["to"] == TODAY.isoformat()
    assert set(m["tables"]) == set(export.TABLE_NAMES)
    for name, t in m["tables"].items():
        rows = read_back(out, fmt, name)
        assert len(rows) == t["rows"]
        if rows:
            assert list(rows[0]) == t["columns"]


def test_export_window_and_bad_input(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "week"
    run_export(demo, out, "csv", "--from", "2026-11-10")
    days = {r["date"] for r in export.read_csv(out / "daily_loads.csv")}
    assert min(days) == "2026-11-10" and max(days) == "2026-11-20"
    run = CliRunner()
    res = run.invoke(
        cli,
        [
            "export",
            DEMO_PATIENT,
            "--format",
            "xml",
            "--db",
            str(demo),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "'csv', 'json'" in res.output
    assert not (tmp_path / "x").exists()
    f = tmp_path / "file"
    f.write_text("keep")
    res = run.invoke(cli, ["export", DEMO_PATIENT, "--db", str(demo), "--out", str(f)])
    assert res.exit_code == 2 and "not a directory" in res.output
    assert f.read_text() == "keep"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_csv_cells_keep_every_float_exactly(x: float) -> None:
    t = export.Table("t", ("x",), [{"x": x}])
    text = export.to_csv(t)
    assert float(text.splitlines()[1].strip('"')) == x
