"""Provides PatientScreen: protocol, phase history, confirmed phase changes, prescription edits."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from loadmon.errors import InputError, LoadmonError
from loadmon.tui.data import parse_day
from loadmon.tui.dialogs.confirm import ConfirmDialog
from loadmon.tui.screens.base import DashScreen

#: Prescription details a physio may edit: key → (label, type, min, max).
PRESCRIPTION_FIELDS: dict[str, tuple[str, type, float, float]] = {
    "kg": ("Load (kg)", float, 0, 500),
    "sets": ("Sets", int, 1, 20),
    "reps": ("Reps per set", int, 1, 200),
    "hold_s": ("Hold (s)", float, 1, 600),
    "tempo_s": ("Tempo each way (s)", float, 0.5, 20),
}


def parse_field(key: str, text: str) -> float | int | None:
    """The value typed for prescription `key` (None when blank), or InputError."""
    label, kind, lo, hi = PRESCRIPTION_FIELDS[key]
    text = text.strip()
    if not text:
        return None
    try:
        value: float | int = kind(text)
    except ValueError:
        raise InputError(
            f"{label}: {text!r} is not a {'whole ' if kind is int else ''}number"
        ) from None
    if not lo <= value <= hi:
        raise InputError(f"{label} must be between {lo:g} and {hi:g} (got {value:g})")
    return value


class PatientScreen(DashScreen):
    """The physio's view of one patient: protocol, phases and the prescription."""

    AUTO_FOCUS = "#phase-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save_prescription", "Save prescription")
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="patient"):
            yield Static(id="patient-info")
            with Horizontal(id="patient-cols"):
                with Vertical(id="phase-box"):
                    yield Static("Phase history", classes="section")
                    yield DataTable(id="phase-table", cursor_type="row", zebra_stripes=True)
                    with Horizontal(classes="form-row"):
                        yield Select([], prompt="new phase", id="phase-select")
                        yield Input(placeholder="from YYYY-MM-DD", id="phase-date", max_length=10)
                    yield Button("Change phase…", id="phase-change", variant="warning")
                    yield Static(id="phase-error", classes="error-text")
                with Vertical(id="presc-box"):
                    yield Static("Prescription (from the date above)", classes="section")
                    with Horizontal(classes="form-row"):
                        yield Label("Exercise", classes="form-label")
                        yield Select([], prompt="exercise", id="presc-exercise")
                    for key, (label, _kind, _lo, _hi) in PRESCRIPTION_FIELDS.items():
                        with Horizontal(classes="form-row"):
                            yield Label(label, classes="form-label")
                            yield Input(id=f"presc-{key}", classes="presc")
                    yield Button("Save prescription", id="presc-save", variant="primary")
                    yield Static(id="presc-error", classes="error-text")

    def on_mount(self) -> None:
        table = self.query_one("#phase-table", DataTable)
        table.add_columns("phase", "from", "note")
        for err in self.query(".error-text"):
            err.display = False

    def fetch(self) -> dict[str, Any]:
        info = self.data.patient_info()
        return {
            "info": info,
            "phases": self.data.phases(),
            "names": self.data.phase_names(),
            "exercises": self.data.exercises(),
            "prescribed": self.data.prescribed(info["phase"]),
        }

    def show(self, result: dict[str, Any]) -> None:
        info, names = result["info"], result["names"]
        text = Text()
        text.append(info["name"], style="bold")
        text.append(f"  protocol {info['protocol'] or '(none)'}")
        if info["start_date"]:
            text.append(f"  since {info['start_date']}", style="dim")
        phase = info["phase"]
        text.append(f"\ncurrent phase {phase} {names.get(str(phase), '')}", style="bold magenta")
        self.query_one("#patient-info", Static).update(text)
        table = self.query_one("#phase-table", DataTable)
        table.clear()
        for h in reversed(info["phase_history"]):
            table.add_row(  # Text, never markup: names and notes are user text
                Text(f"{h['phase']} {names.get(h['phase'], '')}"),
                Text(str(h["start_date"])),
                Text(str(h["note"] or "")),
            )
        select: Select[str] = self.query_one("#phase-select", Select)
        chosen = select.value
        select.set_options(
            [(Text(f"{p} {names.get(p, '')}".strip()), p) for p in result["phases"]]
        )
        if isinstance(chosen, str) and chosen in result["phases"]:
            select.value = chosen
        date_in = self.query_one("#phase-date", Input)
        if not date_in.value:
            date_in.value = self.lapp.day.isoformat()
        self.result = result
        ex_select: Select[str] = self.query_one("#presc-exercise", Select)
        prescribed = list(result["prescribed"])
        others = [e for e in result["exercises"] if e not in prescribed]
        current = ex_select.value
        ex_select.set_options(
            [(Text(f"{e} (prescribed)"), e) for e in prescribed] + [(Text(e), e) for e in others]
        )
        if isinstance(current, str):
            ex_select.value = current
        elif prescribed:
            ex_select.value = prescribed[0]
        self._fill_prescription()

    @on(Select.Changed, "#presc-exercise")
    def _fill_prescription(self) -> None:
        result = self.result
        ex_select: Select[str] = self.query_one("#presc-exercise", Select)
        if result is None or not isinstance(ex_select.value, str):
            return
        ex = ex_select.value
        edits = result["info"]["prescription"].get("exercises", {}).get(ex, {})
        dosage = result["prescribed"].get(ex, {})
        for key in PRESCRIPTION_FIELDS:
            inp = self.query_one(f"#presc-{key}", Input)
            value = edits.get(key)
            inp.value = "" if value is None else f"{value:g}"
            default = dosage.get(key)
            if isinstance(default, (tuple, list)):
                default = "–".join(f"{v:g}" for v in default)
            elif isinstance(default, float | int):
                default = f"{default:g}"
            inp.placeholder = f"protocol: {default}" if default else ""

    def _error(self, which: str, message: str | None) -> None:
        err = self.query_one(f"#{which}-error", Static)
        err.display = message is not None
        err.update(Text(message or "", style="bold red"))

    @on(Button.Pressed, "#phase-change")
    def change_phase(self) -> None:
        select: Select[str] = self.query_one("#phase-select", Select)
        if not isinstance(select.value, str):
            self._error("phase", "pick the new phase first")
            return
        try:
            day = parse_day(self.query_one("#phase-date", Input).value)
        except InputError as e:
            self._error("phase", str(e))
            return
        self._error("phase", None)
        phase = select.value

        def done(ok: bool | None) -> None:
            if ok:
                self._set_phase(phase, day)

        self.app.push_screen(
            ConfirmDialog(
                "Change phase",
                f"Move {self.data.patient} to phase {phase} from {day}?\n"
                "Targets and warnings from that day follow the new phase.",
            ),
            done,
        )

    def _set_phase(self, phase: str, day: date) -> None:
        try:
            self.data.set_phase(phase, day)
        except LoadmonError as e:
            self.lapp.report_error(e)
            return
        self.notify(f"phase {phase} from {day}", title="Phase changed", markup=False)
        self.reload()

    @on(Button.Pressed, "#presc-save")
    def action_save_prescription(self) -> None:
        changes: dict[str, Any] = {}
        ex_select: Select[str] = self.query_one("#presc-exercise", Select)
        try:
            if not isinstance(ex_select.value, str):
                raise InputError("pick the exercise first")
            for key in PRESCRIPTION_FIELDS:
                changes[key] = parse_field(key, self.query_one(f"#presc-{key}", Input).value)
            day = parse_day(self.query_one("#phase-date", Input).value)
        except InputError as e:
            self._error("presc", str(e))
            return
        if all(v is None for v in changes.values()):
            self._error("presc", "nothing to save: fill in at least one value")
            return
        self._error("presc", None)
        try:
            self.data.set_prescription(ex_select.value, day, **changes)
        except LoadmonError as e:
            self.lapp.report_error(e)
            return
        self.notify("prescription saved")
        self.reload()
