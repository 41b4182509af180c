"""Live counting in a guided set: reps are shown as soon as they are final, whatever the sensor's
frame size, and the Live screen takes back a rep the final analysis does not confirm.

No wall-clock assertions: the latency itself is benchmarks/bench_tui.py's job.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
from textual.widgets import RichLog

from loadmon.recording import read_recording
from loadmon.tui.app import make_app
from loadmon.tui.data import RETRACTED, LiveCounter, SampleChunk
from loadmon.tui.messages import RepDetected
from loadmon.tui.screens.live import LiveScreen
from loadmon.tui.widgets.rep_counter import RepCounter
from tests.tui.snapshot_app import TODAY, demo_db

RDL_SET = Path(__file__).resolve().parents[2] / "loadmon" / "demo_data" / "rdl_set.csv"


def chunks_of(path: Path, frame_s: float) -> list[SampleChunk]:
    rec = read_recording(path)
    out = []
    edges = np.arange(0.0, float(rec.t[-1]) + frame_s, frame_s)
    for a, b in itertools.pairwise(edges):
        k = (rec.t >= a) & (rec.t < b)
        if k.any():
            gyro = None if rec.gyro is None else rec.gyro[k]
            out.append(SampleChunk(rec.t[k], rec.acc[k], gyro, rec.sample_rate_hz))
    return out


def run(counter: LiveCounter, chunks: list[SampleChunk]) -> list[tuple[dict[str, Any], float]]:
    """Events with the newest sample time of the chunk whose feed returned them."""
    out = []
    for c in chunks:
        out += [(ev, float(c.t[-1])) for ev in counter.feed(c)]
    return out


def test_guided_counter_shows_each_rdl_after_the_first_frame_past_its_settle_time() -> None:
    small = run(LiveCounter(52.0, "rdl"), chunks_of(RDL_SET, 0.1))
    big = run(LiveCounter(52.0, "rdl"), chunks_of(RDL_SET, 1.5))
    assert len(small) == len(big) >= 4
    for (a, at_a), (b, at_b) in zip(small, big, strict=True):
        # the same reps, found the same way, whatever the frame size...
        assert a["type"] == b["type"] == "rdl_rep"
        assert abs(a["end_s"] - b["end_s"]) <= 0.1
        # ...each shown with the first frame that holds 0.3 s of signal past its end
        assert at_a - a["end_s"] <= 0.3 + 0.1 + 0.1 + 1e-6
        assert at_b - b["end_s"] <= 0.3 + 0.1 + 1.5 + 1e-6
    # the first rep of the set did not wait for the third
    assert small[0][1] < small[2][0]["start_s"]


def test_finish_reports_withdrawn_reps_once() -> None:
    counter = LiveCounter(52.0, "rdl")
    shown = [ev for ev, _ in run(counter, chunks_of(RDL_SET, 0.5))]
    final = counter.finish()
    withdrawn = [ev for ev in final if ev.get(RETRACTED)]
    for ev in withdrawn:
        assert {k: v for k, v in ev.items() if k != RETRACTED} in shown
    assert counter.finish() == []  # a stop after the end of the stream changes nothing
    assert counter.feed(chunks_of(RDL_SET, 0.5)[0]) == []


async def test_live_screen_withdraws_a_rep_and_recounts(tmp_path: Path) -> None:
    app = make_app(demo_db(tmp_path), source=str(RDL_SET), today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        live = app.screen
        assert isinstance(live, LiveScreen)
        reps = [
            {
                "type": "rdl_rep",
                "start_s": 8.5 + 7 * k,
                "end_s": 13.2 + 7 * k,
                "eccentric_s": 3.0,
                "concentric_s": 3.0,
                "pitch_deg": 12.0,
            }
            for k in range(3)
        ]
        for ev in reps:
            live.post_message(RepDetected(ev))
        await pilot.pause()
        assert live.query_one(RepCounter).count == 3
        live.post_message(RepDetected({**reps[2], RETRACTED: True}))
        await pilot.pause()
        await pilot.pause()
        counter = live.query_one(RepCounter)
        assert counter.count == 2 and counter.exercise == "rdl"
        assert live.withdrawn == [{**reps[2], RETRACTED: True}]
        assert [e["end_s"] for e in live.events] == [13.2, 20.2]
        log = "\n".join(str(line.text) for line in live.query_one("#live-log", RichLog).lines)
        assert "withdrawn" in log
        # an unknown event's withdrawal changes nothing
        live.post_message(RepDetected({**reps[2], "start_s": 99.0, RETRACTED: True}))
        await pilot.pause()
        assert live.query_one(RepCounter).count == 2
