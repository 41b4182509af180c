"""Snapshots of every screen at 80×24 and 120×40 (re-record with `make snapshot-update`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.snapshot_app import canned_app

SIZES = [(80, 24), (120, 40)]
SCREENS = {
    "today": "1",
    "trend": "2",
    "sessions": "3",
    "live": "4",
    "patient": "5",
    "log": "6",
    "help": "question_mark",
}


def settle(key: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.press(key)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, tmp_path: Path, screen: str, size: tuple[int, int]) -> None:
    app = canned_app(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settle(SCREENS[screen]))
