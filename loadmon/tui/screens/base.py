"""Provides DashScreen: the shared frame of every dashboard screen (header, footer, data access)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from loadmon.errors import LoadmonError
from loadmon.tui.data import DashboardData

if TYPE_CHECKING:
    from loadmon.tui.app import LoadmonApp


class DashScreen(Screen[None]):
    """A screen that (re)loads its data in a thread worker whenever it is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "unfocus", "Unfocus", show=False)]

    @property
    def lapp(self) -> LoadmonApp:
        return cast("LoadmonApp", self.app)

    @property
    def data(self) -> DashboardData:
        return self.lapp.data

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        # one-line form widgets keep every screen usable at 80×24
        for widget in self.query("Input, Select, Button"):
            widget.compact = True  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Fetch this screen's data off the UI thread, then `show` it."""
        self.run_worker(self._fetch_and_show, thread=True, exclusive=True, group="load")

    def _fetch_and_show(self) -> None:
        try:
            result = self.fetch()
        except LoadmonError as e:
            self.app.call_from_thread(self.lapp.report_error, e)
            return
        finally:
            self.data.close()  # this worker thread's connection
        self.app.call_from_thread(self.show, result)

    def fetch(self) -> Any:
        """Read what the screen shows (runs in a thread; no widget access)."""
        return None

    def show(self, result: Any) -> None:
        """Put fetched data on screen (UI thread)."""

    def action_unfocus(self) -> None:
        self.set_focus(None)
