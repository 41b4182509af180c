"""Provides LoadmonApp and make_app(): the dashboard shared by `loadmon tui`, demos and tests."""

from __future__ import annotations

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

    def on_mount(self) -> None:
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
        self.data.close()

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
