"""Runs the real dashboard in tmux against the demo database and checks the rendered text.

This is the end-to-end check a user sees: `loadmon demo --no-open`, then `loadmon tui` in a
real terminal (tmux), reading the screen back with `capture-pane`. Skipped without tmux.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One private tmux server (its own socket) running one command in a 120×40 pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"env {exports} {shlex.join(command)}"
        self.run("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", line)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, pattern: str, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} never appeared; the screen was:\n{text}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux(f"loadmon-test-{os.getpid()}-{time.monotonic_ns()}")
    yield t
    t.kill()


def test_dashboard_in_tmux_shows_the_demo_patient(tmux: Tmux, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = {**os.environ, "LOADMON_DB": str(db)}
    built = subprocess.run(
        [sys.executable, "-m", "loadmon", "demo", "--no-open", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert built.returncode == 0, built.stderr
    assert "Sam Rivera" in built.stdout
    term_env = {
        "TERM": "xterm-256color",
        "LOADMON_DB": str(db),
        "COLUMNS": "120",
        "LINES": "40",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    tmux.start([sys.executable, "-m", "loadmon", "tui", "--db", str(db)], term_env)
    today = tmux.wait_for(r"Sam Rivera.*phase 2")
    assert "Heavy slow resistance" in today
    # a warning with its reason: on Today, or in the Sessions list of the last week
    tmux.keys("3")
    sessions = tmux.wait_for(r"Warnings in range")
    sessions = tmux.wait_for(r"(caution|alarm|info) 20\d\d-\d\d-\d\d")
    assert re.search(r"rule ", sessions)
    # a set from the log: expand the newest session and find a set line
    tmux.wait_for(r"\d+ sets \d+ reps")
    tmux.keys("e")
    expanded = tmux.wait_for(r"(rdl|bridge\w*) +\d+")
    assert re.search(r"(rdl|bridge_hold|bridge) +\d+", expanded)
    tmux.keys("q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "t" in tmux.run("list-sessions", "-F", "#S").split():
        time.sleep(0.2)
    assert "t" not in tmux.run("list-sessions", "-F", "#S").split(), "q did not quit"
