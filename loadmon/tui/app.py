"""Provides LoadmonApp and make_app(): the dashboard shared by `loadmon tui`, demos and tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from loadmon.errors import InputError, LoadmonError
from loadmon.tui.data import DashboardData
from loadmon.tui.dialogs.error import ErrorDialog
from loadmon.tui.messages import DataChanged, OpenDay
from loadmon.tui.screens.help import HelpScreen
from loadmon.tui.screens.live import LiveScreen
from loadmon.tui.screens.log_entry import LogEntryScreen
from loadmon.tui.screens.patient import PatientScreen
from loadmon.tui.screens.sessions import SessionsScreen
from loadmon.tui.screens.today import TodayScreen
from loadmon.tui.screens.trend import TrendScreen


class LoadmonApp(App[None]):
    """The patient's day, the trend, the physio's log, live sessions, patient and log entry."""

    CSS_PATH = "app.tcss"
    TITLE = "loadmon"
    ENABLE_COMMAND_PALETTE = False
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "today": TodayScreen,
        "trend": TrendScreen,
        "sessions": SessionsScreen,
        "live": LiveScreen,
        "patient": PatientScreen,
        "log": LogEntryScreen,
    }
    DEFAULT_MODE = "today"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('today')", "Today"),
        Binding("2", "switch_mode('trend')", "Trend"),
        Binding("3", "switch_mode('sessions')", "Sessions"),
        Binding("4", "switch_mode('live')", "Live"),
        Binding("5", "switch_mode('patient')", "Patient"),
        Binding("6", "switch_mode('log')", "Log"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, data: DashboardData, source: str | None = None) -> None:
        super().__init__()
        self.data = data
        self.source = source
        self.day: date = data.today
        self.pending_open: OpenDay | None = None
        self.show_day_numbers = True
        #: A quit is under way (it waits for a live session to be analysed and saved).
        self.quitting = False
        #: Quits and SIGINTs that came while a quit was waiting for the save (ignored).
        self.quits_ignored = 0

    def on_mount(self) -> None:
        # SIGINT (kill -INT, or Ctrl-C where the terminal sends it) quits the way `q` does:
        # a live session is saved first, and a second one during the saving is ignored.
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGINT, lambda: self.call_later(self.action_quit)
                )
        if self.data.patient is None:
            self.push_screen(
                ErrorDialog(
                    "No patient",
                    f"The database {self.data.db_path} has no patients.\n"
                    "Add one with 'loadmon patient add NAME --protocol ...', "
                    "or try 'loadmon demo'.",
                    fatal=True,
                )
            )
        else:
            self.sub_title = self.data.patient

    def on_unmount(self) -> None:
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        self.data.close()

    def live_screen(self) -> LiveScreen | None:
        """The Live screen, if it was ever opened (its session may run in another mode)."""
        for screen in self._screen_stacks.get("live", []):
            if isinstance(screen, LiveScreen):
                return screen
        return None

    async def action_quit(self) -> None:
        """Quit; a live session is stopped, analysed and saved first (a second quit or Ctrl-C
        while it saves is ignored, so the end-of-session analysis is never cut short)."""
        if self.quitting:
            self.quits_ignored += 1
            self.notify("still saving the live session; loadmon quits when it is saved",
                        severity="warning")
            return
        self.quitting = True
        live = self.live_screen()
        if live is not None and live.busy:
            self.notify("saving the live session before quitting…")
            self.run_worker(self._quit_after(live), group="quit")
            return
        self.exit()

    async def _quit_after(self, live: LiveScreen) -> None:
        await live.finish()
        self.exit()

    def report_error(self, error: Exception, *, fatal: bool = False) -> None:
        """Recoverable library errors become a notification; others an ErrorDialog."""
        if isinstance(error, InputError) and not fatal:
            self.notify(str(error), severity="error", title="Not saved", markup=False)
        elif isinstance(error, LoadmonError) and not fatal:
            self.notify(str(error), severity="error", markup=False)
        else:
            self.push_screen(ErrorDialog("Error", str(error), fatal=fatal))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_open_day(self, message: OpenDay) -> None:
        self.pending_open = message
        if self.current_mode == "sessions":
            self.screen.post_message(DataChanged("open-day"))
        else:
            self.switch_mode("sessions")

    def on_data_changed(self, message: DataChanged) -> None:
        pass


def make_app(
    db_path: str | Path | None = None,
    patient: str | None = None,
    source: str | None = None,
    *,
    today: date | None = None,
    data: DashboardData | None = None,
) -> LoadmonApp:
    """The dashboard for `patient` (default: the first) in the database at `db_path`.

    `source` preselects the live sensor (e.g. 'virtual:polar-verity-sense' or a replay file);
    `today` pins the date shown (tests and screenshots); `data` replaces the data layer.
    """
    return LoadmonApp(data or DashboardData(db_path, patient, today), source)
