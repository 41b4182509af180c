"""Provides RepCounter: the live set's exercise, rep count, hold timer and tempo cue."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Digits, Static

EXERCISE_OF = {
    "bridge_rep": "bridge",
    "bridge_hold": "bridge_hold",
    "rdl_rep": "rdl",
    "hop": "hops",
}


class RepCounter(Vertical):
    """Counts reps per set; shows the last hold against the prescribed hold and RDL tempo."""

    DEFAULT_CSS: ClassVar[str] = """
    RepCounter { height: auto; border: round $accent; padding: 0 1; }
    RepCounter Digits { width: auto; }
    """

    count: reactive[int] = reactive(0)

    def __init__(
        self,
        *,
        hold_target_s: float | None = None,
        tempo_target_s: float = 3.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.hold_target_s = hold_target_s
        self.tempo_target_s = tempo_target_s
        self.exercise: str | None = None
        self.set_number = 0
        self.last_end_s: float | None = None
        self.cue = Text("waiting for the first rep", style="dim")

    def compose(self) -> ComposeResult:
        yield Static(id="rc-title")
        yield Digits("0", id="rc-digits")
        yield Static(id="rc-cue")

    def on_mount(self) -> None:
        self._refresh()

    def add_event(self, ev: dict[str, Any]) -> None:
        """Count one detected event; a new exercise or a pause > 60 s starts a new set."""
        ex = EXERCISE_OF.get(str(ev.get("type")))
        if ex is None:
            return
        start = float(ev.get("start_s", 0.0))
        if ex != self.exercise or (self.last_end_s is not None and start - self.last_end_s > 60):
            self.exercise = ex
            self.set_number += 1
            self.count = 0
        self.last_end_s = float(ev.get("end_s", start))
        self.count += 1
        self.cue = self._cue(ev)
        self._refresh()

    def _cue(self, ev: dict[str, Any]) -> Text:
        t = ev.get("type")
        if t == "bridge_hold":
            hold = float(ev.get("hold_s", float(ev.get("end_s", 0)) - float(ev.get("start_s", 0))))
            if self.hold_target_s:
                ok = hold >= self.hold_target_s - 1
                return Text(
                    f"hold {hold:.0f} s of {self.hold_target_s:.0f} s prescribed",
                    style="green" if ok else "yellow",
                )
            return Text(f"hold {hold:.0f} s")
        if t == "rdl_rep":
            ecc, con = ev.get("eccentric_s"), ev.get("concentric_s")
            if ecc is None or con is None:
                return Text("RDL rep")
            slow = (
                float(ecc) >= self.tempo_target_s - 0.5 and float(con) >= self.tempo_target_s - 0.5
            )
            msg = f"tempo {float(ecc):.1f} s down / {float(con):.1f} s up"
            return Text(
                msg + ("  good" if slow else "  slow down"),
                style="green" if slow else "bold yellow",
            )
        if t == "hop":
            fl = ev.get("flight_s")
            return Text(f"flight {float(fl) * 1000:.0f} ms" if fl is not None else "hop")
        return Text("rep")

    def refresh_title(self) -> None:
        """Show the targets before the first rep."""
        if self.exercise is None:
            parts = []
            if self.hold_target_s:
                parts.append(f"holds {self.hold_target_s:.0f} s")
            parts.append(f"RDL tempo {self.tempo_target_s:.0f} s each way")
            self.cue = Text("prescribed: " + ", ".join(parts), style="dim")
            self._refresh()

    def _refresh(self) -> None:
        title = f"set {self.set_number}: {self.exercise}" if self.exercise else "no set yet"
        self.query_one("#rc-title", Static).update(Text(title, style="bold"))
        self.query_one("#rc-digits", Digits).update(str(self.count))
        self.query_one("#rc-cue", Static).update(self.cue)
