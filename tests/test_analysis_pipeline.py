"""Pipeline tests: the analysis JSON contract, the CLI, mounting memory, import, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loadmon import storage
from loadmon.analysis.orientation import Mounting
from loadmon.analysis.pipeline import analyze, recall_mounting, remember_mounting
from loadmon.analysis.streaming import STREAMED, StreamingAnalyzer
from loadmon.cli import cli
from loadmon.recording import read_recording

DATA = Path(__file__).parent / "data" / "recordings"
EVENT_TYPES = {
    "bridge_rep", "bridge_hold", "rdl_rep", "hop", "sitting", "standing", "lying", "walking",
    "running", "cycling", "nonwear",
}


def test_json_matches_the_contract() -> None:
    a = analyze(read_recording(DATA / "hops_25hz_acconly_random_axes.csv"))
    d = json.loads(json.dumps(a.to_dict()))
    assert {"recording", "events", "sets", "summary"} <= set(d)
    assert d["recording"]["duration_s"] > 0 and d["recording"]["sample_rate_hz"] == 25.0
    for e in d["events"]:
        assert e["type"] in EVENT_TYPES
        assert isinstance(e["start_s"], float) and e["end_s"] >= e["start_s"]
        if e["type"] == "hop":
            assert {"flight_s", "contact_s", "height_m"} <= set(e)
    for s in d["sets"]:
        assert s["exercise"] in {"bridge", "bridge_hold", "rdl", "hops"}
        assert isinstance(s["reps"], int)
    assert a.version and "hops" in a.parameters and "posture" in a.parameters
    assert "hops" in a.summary_line()


def test_cli_analyze_summary_json_and_bad_file(tmp_path: Path) -> None:
    runner = CliRunner()
    f = DATA / "bridges_52hz_left_anterior.csv"
    r = runner.invoke(cli, ["analyze", str(f)])
    assert r.exit_code == 0, r.output
    assert "bridge reps" in r.output
    r = runner.invoke(cli, ["analyze", str(f), "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["sets"][0]["exercise"] == "bridge"
    r = runner.invoke(cli, ["analyze", str(f), "--json", "--exercise", "bridge"])
    assert json.loads(r.output)["recording"]["exercise"] == "bridge"
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n")
    r = runner.invoke(cli, ["analyze", str(bad)])
    assert r.exit_code == 2
    assert len(r.output.strip().splitlines()) == 1


def test_mounting_memory_roundtrip(fresh_db: storage.Database) -> None:
    rec = read_recording(DATA / "bridges_52hz_left_anterior.csv")
    a = analyze(rec)
    pid = storage.add_patient(fresh_db, "ann")
    rid = storage.save_recording(fresh_db, pid, rec)
    assert recall_mounting(fresh_db, pid, rec.device) is None
    remember_mounting(fresh_db, pid, rid, rec.device, a)
    m = recall_mounting(fresh_db, pid, rec.device)
    assert m is not None and m.known and m.source == "recalled"
    assert np.allclose(m.u, a.mounting.u, atol=1e-4)
    assert recall_mounting(fresh_db, pid, "other-device") is None


def test_recalled_mounting_enables_free_running_on_floor_only_recording() -> None:
    rec = read_recording(DATA / "bridges_52hz_left_anterior.csv")
    full = analyze(rec)
    reps = full.events_of("bridge_rep")
    floor = rec.slice_time(reps[0].start_s - 4.0, reps[-1].end_s + 3.0)
    recalled = Mounting(
        full.mounting.long_axis, full.mounting.anterior_axis,
        full.mounting.anterior_sign_known, 0.8, "recalled",
    )
    a = analyze(floor, mounting=recalled)
    assert a.mounting.source == "recalled"
    assert len(a.events_of("bridge_rep")) == len(reps)


def test_import_stores_the_analysis(db_path: Path) -> None:
    runner = CliRunner()
    f = DATA / "hops_25hz_acconly_random_axes.csv"
    r = runner.invoke(cli, ["import", str(f), "-p", "bob", "--create", "--db", str(db_path)])
    assert r.exit_code == 0, r.output
    assert "hops" in r.output
    db = storage.open_db(db_path)
    assert storage.events_for(db, 1, ["hop"])
    assert db["mountings"].count == 1


def test_streaming_equals_offline_within_100ms() -> None:
    rec = read_recording(DATA / "bridges_52hz_left_anterior.csv")
    off = analyze(rec)
    want = [e for e in off.events if e.type in STREAMED]
    sa = StreamingAnalyzer(rec.sample_rate_hz, mounting=off.mounting, window_s=60.0)
    got_live = []
    for i in range(0, rec.n_samples, 52):
        j = i + 52
        got_live += sa.feed(rec.t[i:j], rec.acc[i:j], None if rec.gyro is None else rec.gyro[i:j])
        assert sa.buffered_samples <= 61 * 52 + 52  # bounded by the window
    got = got_live + sa.finish()
    assert len(got_live) >= len(want) - 2  # most reps appear before the end
    assert len(got) == len(want)
    for e in want:
        assert any(
            g.type == e.type and abs(g.start_s - e.start_s) <= 0.1 and abs(g.end_s - e.end_s) <= 0.1
            for g in got
        ), e


@pytest.mark.parametrize("exercise", ["bridge", "bridge_hold", "rdl", "hops"])
def test_guided_mode_runs_for_every_exercise(exercise: str) -> None:
    a = analyze(read_recording(DATA / "rdl_52hz_right_lateral.csv"), exercise=exercise)
    assert a.exercise == exercise
    if exercise == "rdl":
        assert len(a.events_of("rdl_rep")) == 6


def test_chunked_analysis_matches_whole() -> None:
    from loadmon.analysis.pipeline import analyze_in_chunks

    rec = read_recording(DATA / "bridges_52hz_left_anterior.csv")
    whole = analyze(rec)
    parts = analyze_in_chunks(rec.t, rec.acc, rec.gyro, rec.sample_rate_hz,
                              chunk_s=30.0, overlap_s=40.0)
    assert [(s.exercise, s.reps) for s in parts.sets] == [
        (s.exercise, s.reps) for s in whole.sets
    ]
    walk_w = sum(e.end_s - e.start_s for e in whole.events_of("walking"))
    walk_p = sum(e.end_s - e.start_s for e in parts.events_of("walking"))
    assert abs(walk_w - walk_p) < 2.0
