"""A dashboard that crashes exits non-zero (issue 18: it used to exit 0)."""

from __future__ import annotations

import click
import pytest
from textual.app import App

from loadmon.cli.dashboard_cmds import run_dashboard


class _Crashing(App[None]):
    def on_mount(self) -> None:
        raise RuntimeError("boom")


class _Quitting(App[None]):
    def on_mount(self) -> None:
        self.exit()


def test_a_crashed_dashboard_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(click.exceptions.Exit) as e:
        run_dashboard(_Crashing(), headless=True)
    assert e.value.exit_code != 0


def test_a_dashboard_that_quits_normally_exits_zero() -> None:
    run_dashboard(_Quitting(), headless=True)
