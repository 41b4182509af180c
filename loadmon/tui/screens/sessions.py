"""Provides SessionsScreen: the physio's log (sessions → sets → reps), filters, linked warnings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select, Static, Tree
from textual.widgets.tree import TreeNode

from loadmon.errors import InputError
from loadmon.sessions import rep_detail
from loadmon.tui.data import parse_day, warning_link
from loadmon.tui.messages import DataChanged, OpenDay, WarningChosen
from loadmon.tui.screens.base import DashScreen
from loadmon.tui.widgets.alert_list import AlertList

EXERCISE_FILTERS = ["bridge", "bridge_hold", "rdl", "hops", "sitting"]


def session_label(s: dict[str, Any]) -> Text:
    start = datetime.fromisoformat(str(s["local_start"]))  # the patient's wall clock
    text = Text()
    if s["kind"] == "manual":
        text.append(start.strftime("%a %d %b"), style="bold")
        text.append(" logged by hand", style="dim")
        return text
    text.append(start.strftime("%a %d %b %H:%M"), style="bold")
    if not s["sets"] and s["sitting"]:
        minutes = sum(b["minutes"] for b in s["sitting"])
        text.append(f" sitting {len(s['sitting'])}× {minutes:.0f} min", style="cyan")
        return text
    reps = sum(st["reps"] for st in s["sets"])
    text.append(f" {len(s['sets'])} sets {reps} reps", style="green")
    text.append(f" {s['duration_s'] / 60:.0f} min", style="dim")
    return text


class SessionsScreen(DashScreen):
    """Filter by date range and exercise; Enter on a warning opens the day and set behind it."""

    AUTO_FOCUS = "#sessions-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_filter", "Filter"),
        Binding("e", "expand_all", "Expand"),
        Binding("w", "focus_warnings", "Warnings"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.start: date | None = None
        self.end: date | None = None
        self.exercise: str | None = None
        self.highlight: str | None = None
        self.highlight_exercise: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sessions-filter"):
            yield Input(placeholder="from YYYY-MM-DD", id="from", max_length=10)
            yield Input(placeholder="to YYYY-MM-DD", id="to", max_length=10)
            yield Select([(e, e) for e in EXERCISE_FILTERS], prompt="all exercises", id="exercise")
            yield Button("Apply", id="apply", variant="primary")
        yield Static(id="sessions-error", classes="error-text")
        with Horizontal(id="sessions-main"):
            yield Tree("sessions", id="sessions-tree")
            with Vertical(id="sessions-warn-box"):
                yield Static("Warnings in range", classes="section")
                yield AlertList(with_date=True, id="sessions-warnings")

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.show_root = False
        self.query_one("#sessions-error", Static).display = False

    def on_screen_resume(self) -> None:
        self._take_pending()
        super().on_screen_resume()

    def _take_pending(self) -> None:
        pending = self.lapp.pending_open
        if pending is not None:
            self.lapp.pending_open = None
            day = parse_day(pending.day)
            self.start = self.end = day
            self.exercise = None
            self.highlight = pending.set_id
            self.highlight_exercise = pending.exercise
            self.query_one("#exercise", Select).clear()
        if self.end is None:
            self.end = self.lapp.day
            self.start = self.end - timedelta(days=6)
        self.query_one("#from", Input).value = str(self.start)
        self.query_one("#to", Input).value = str(self.end)

    def on_data_changed(self, message: DataChanged) -> None:
        self._take_pending()
        self.reload()

    def fetch(self) -> dict[str, Any]:
        assert self.start is not None and self.end is not None
        return {
            "sessions": self.data.sessions(self.start, self.end, self.exercise),
            "warnings": self.data.warnings_between(self.start, self.end),
        }

    def show(self, result: dict[str, Any]) -> None:
        tree: Tree[str] = self.query_one(Tree)
        tree.clear()
        target: TreeNode[str] | None = None
        sessions = result["sessions"]
        if not sessions:
            tree.root.add_leaf(Text("no sessions in this range", style="dim"))
        for s in reversed(sessions):
            node = tree.root.add(session_label(s), data=s["key"])
            for st in s["sets"]:
                label = Text()
                label.append(f"{st['exercise']:<11}", style="bold")
                label.append(f" {st['detail']}")
                snode = node.add(label, data=st["id"])
                for ev in st["items"]:
                    snode.add_leaf(rep_detail(ev), data=f"e{ev.get('id', '')}")
                if (self.highlight is not None and st["id"] == self.highlight) or (
                    target is None
                    and self.highlight is None
                    and self.highlight_exercise is not None
                    and st["exercise"] == self.highlight_exercise
                ):
                    target = snode
            for b in s["sitting"]:
                node.add_leaf(
                    Text(
                        f"sitting     {b['minutes']:.0f} min from {b['time']}",
                        style="cyan",
                    ),
                    data="sit",
                )
        if len(sessions) <= 3 or target is not None:
            for child in tree.root.children:
                child.expand()
        if target is not None:
            target.expand()
            tree.move_cursor(target)
            tree.focus()
        self.highlight = None
        self.highlight_exercise = None
        self.query_one(AlertList).set_warnings(result["warnings"])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter()

    def on_select_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.exercise = value if isinstance(value, str) else None

    def apply_filter(self) -> None:
        err = self.query_one("#sessions-error", Static)
        try:
            start = parse_day(self.query_one("#from", Input).value)
            end = parse_day(self.query_one("#to", Input).value)
            if end < start:
                raise InputError(f"'to' ({end}) is before 'from' ({start})")
            if (end - start).days > 366:
                raise InputError("pick a range of at most a year")
        except InputError as e:
            err.update(Text(str(e), style="bold red"))
            err.display = True
            return
        err.display = False
        self.start, self.end = start, end
        self.reload()

    def on_warning_chosen(self, message: WarningChosen) -> None:
        day, set_id, exercise = warning_link(message.warning)
        self.lapp.pending_open = OpenDay(day, set_id, exercise)
        self._take_pending()
        self.reload()

    def action_focus_filter(self) -> None:
        self.query_one("#from", Input).focus()

    def action_focus_warnings(self) -> None:
        self.query_one(AlertList).focus()

    def action_expand_all(self) -> None:
        for child in self.query_one(Tree).root.children:
            child.expand_all()
