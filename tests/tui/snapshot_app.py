"""Provides the deterministic apps the TUI tests use: the demo database with a pinned date.

Snapshots use `CannedData`, whose loads, ratios and warnings are fixed dicts in the shape
of `loadmon status --json`, so the pictures change only when the dashboard changes (not
when the load maths is retuned). Pilot tests that check integration use the real data.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from loadmon.demo import build_demo
from loadmon.tui.app import LoadmonApp, make_app
from loadmon.tui.data import DashboardData

TODAY = date(2026, 11, 20)
REPLAY = "loadmon/demo_data/bridge_set.csv"

CANNED_WARNINGS: list[dict[str, Any]] = [
    {
        "rule": "red_flag.numbness",
        "severity": "alarm",
        "patient": "You reported numbness or tingling in the leg. Stop the exercise programme "
        "for now and phone your clinic today so they can check you before you carry on.",
        "message": "red flag at check-in: numbness or tingling in the leg - possible sciatic "
        "nerve involvement; review before loading again",
        "numbers": {"red_flag": "numbness", "urgent": False},
        "source": "docs/evidence.md#red-flags",
        "since": "2026-11-18",
    },
    {
        "rule": "acwr.high",
        "severity": "caution",
        "patient": "In the last week you did far more weight lifted in Romanian deadlifts than "
        "you are used to over the last month. Keep the next sessions at your usual level.",
        "message": "RDL volume (reps x kg): acute:chronic 1.42 (> 1.3; acute 612 vs chronic 431)",
        "numbers": {"acute": 612.0, "chronic": 431.0, "ratio": 1.42},
        "source": "docs/evidence.md: Gabbett 2016, Williams et al. 2017",
    },
    {
        "rule": "tempo.fast",
        "severity": "caution",
        "patient": "Most of your Romanian deadlift reps were too quick. Count 3 seconds down "
        "and 3 seconds up.",
        "message": "8 of 24 RDL reps faster than the prescribed 3 s each way",
        "numbers": {"fast_reps": 8, "reps": 24, "tempo_s": 3.0, "set_id": "s160"},
        "source": "docs/evidence.md#proximal-hamstring-tendinopathy-stages; Beyer et al. 2015",
    },
]

CANNED_LOADS: dict[str, dict[str, Any]] = {
    "isometric_s": {"value": 0.0, "target": [0.0, 180.0], "status": "within"},
    "bridge_reps": {"value": 30.0, "target": [24.0, 45.0], "status": "within"},
    "rdl_kg": {"value": 480.0, "target": [200.0, 400.0], "status": "above"},
    "hop_contacts": {"value": 0.0, "target": [0.0, 0.0], "status": "within"},
    "sitting_min": {"value": 403.0, "target": [0.0, 360.0], "status": "above"},
    "srpe": {"value": 0.0, "target": [100.0, 300.0], "status": "below"},
}


class CannedData(DashboardData):
    """The demo database, with fixed status and history dicts (the library's contract)."""

    def day_status(self, day: date) -> dict[str, Any]:
        info = self.patient_info()
        return {
            "date": day.isoformat(),
            "patient": info["name"],
            "protocol": info["protocol"],
            "phase": "2",
            "loads": CANNED_LOADS,
            "ratios": {"rdl_kg": {"acute": 612.0, "chronic": 431.0, "ratio": 1.42}},
            "warnings": CANNED_WARNINGS,
        }

    def history(self, start: date, end: date) -> dict[str, Any]:
        n = (end - start).days + 1
        dates = [(start + timedelta(days=i)).isoformat() for i in range(n)]
        cats: dict[str, Any] = {}
        for k, (base, lo, hi) in enumerate(
            [(30.0, 24.0, 45.0), (300.0, 200.0, 400.0), (150.0, 60.0, 240.0)]
        ):
            values = [
                None if i % 7 == 6 else round(base * (0.7 + 0.5 * (1 + math.sin(i / 5 + k)) / 2), 1)
                for i in range(n)
            ]
            ratio = [
                None if i < 10 else round(1.0 + 0.45 * math.sin(i / 6 + k), 2) for i in range(n)
            ]
            cats[["bridge_reps", "rdl_kg", "isometric_s"][k]] = {
                "values": values,
                "low": [lo] * n,
                "high": [hi] * n,
                "ratio": ratio,
            }
        return {
            "dates": dates,
            "categories": cats,
            "phase_changes": [{"date": "2026-10-17", "phase": "2"}],
        }

    def warnings_between(self, start: date, end: date) -> list[dict[str, Any]]:
        return [{"date": TODAY.isoformat(), **w} for w in CANNED_WARNINGS]


def demo_db(directory: Path) -> Path:
    path = directory / "demo.db"
    if not path.exists():
        build_demo(path, today=TODAY)
    return path


def canned_app(directory: Path) -> LoadmonApp:
    path = demo_db(directory)
    return make_app(path, source=REPLAY, data=CannedData(path, None, TODAY))


def real_app(directory: Path) -> LoadmonApp:
    return make_app(demo_db(directory), source=REPLAY, today=TODAY)
