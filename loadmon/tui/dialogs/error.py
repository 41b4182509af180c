"""Provides ErrorDialog: a modal for errors the user cannot recover from on this screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorDialog(ModalScreen[None]):
    """Shows `message`; OK (or Escape) dismisses it, and quits the app when `fatal`."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "OK")]

    def __init__(self, title: str, message: str, *, fatal: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.fatal = fatal

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Label(Text(self.title_text), id="dialog-title")
            yield Static(Text(self.message), id="dialog-message")
            yield Button("Quit" if self.fatal else "OK", variant="error", id="ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)
        if self.fatal:
            self.app.exit(return_code=1)
