"""Provides LogEntryScreen: pain, RPE, manual sets, VISA-H and the safety check-in, validated
inline before saving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.validation import Integer, Number, ValidationResult, Validator
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from loadmon.alerts import RED_FLAGS
from loadmon.errors import InputError, LoadmonError
from loadmon.tui.data import parse_day
from loadmon.tui.messages import DataChanged
from loadmon.tui.screens.base import DashScreen


class IsoDate(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_day(value)
        except InputError as e:
            return self.failure(str(e))
        return self.success()


def field(
    label: str, input_id: str, placeholder: str, validators: list[Validator], required: bool = True
) -> ComposeResult:
    with Horizontal(classes="form-row"):
        yield Label(label, classes="form-label")
        yield Input(
            placeholder=placeholder,
            id=input_id,
            validators=validators,
            valid_empty=not required,
            validate_on=["changed", "submitted", "blur"],
        )
    yield Static(id=f"{input_id}-msg", classes="field-msg")


class LogEntryScreen(DashScreen):
    """What the sensor cannot know: pain, session RPE, sets done without it, VISA-H."""

    AUTO_FOCUS = "#log-tabs Tabs"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="log"):
            yield from field("Date", "log-date", "YYYY-MM-DD", [IsoDate()])
            with TabbedContent(id="log-tabs"):
                with TabPane("Pain", id="tab-pain"):
                    yield from field(
                        "During (0–10)",
                        "pain-during",
                        "0–10",
                        [Integer(0, 10, failure_description="pain is 0 to 10")],
                    )
                    yield from field(
                        "Next morning",
                        "pain-morning",
                        "0–10 (optional)",
                        [Integer(0, 10, failure_description="pain is 0 to 10")],
                        required=False,
                    )
                    yield Button("Save pain", id="save-pain", variant="primary")
                with TabPane("RPE", id="tab-rpe"):
                    yield from field(
                        "RPE (0–10)",
                        "rpe-value",
                        "CR-10",
                        [Integer(0, 10, failure_description="RPE is 0 to 10")],
                    )
                    yield from field(
                        "Minutes",
                        "rpe-minutes",
                        "session length (optional)",
                        [Number(1, 600, failure_description="1 to 600 minutes")],
                        required=False,
                    )
                    yield Button("Save RPE", id="save-rpe", variant="primary")
                with TabPane("Set", id="tab-set"):
                    with Horizontal(classes="form-row"):
                        yield Label("Exercise", classes="form-label")
                        yield Select([], prompt="exercise", id="set-exercise")
                    yield from field(
                        "Reps",
                        "set-reps",
                        "reps or holds",
                        [Integer(1, 500, failure_description="1 to 500 reps")],
                    )
                    yield from field(
                        "Hold (s)",
                        "set-hold",
                        "optional",
                        [Number(1, 600, failure_description="1 to 600 s")],
                        required=False,
                    )
                    yield from field(
                        "Load (kg)",
                        "set-kg",
                        "optional",
                        [Number(0, 500, failure_description="0 to 500 kg")],
                        required=False,
                    )
                    yield Button("Save set", id="save-set", variant="primary")
                with TabPane("VISA-H", id="tab-visa"):
                    yield from field(
                        "Score (0–100)",
                        "visa-score",
                        "VISA-H total",
                        [Integer(0, 100, failure_description="VISA-H is 0 to 100")],
                    )
                    yield Button("Save VISA-H", id="save-visa", variant="primary")
                with TabPane("Check-in", id="tab-check"):
                    yield Static("Since your last check-in, have you had any of these?",
                                 classes="form-note")  # fmt: skip
                    for kind, (what, _) in RED_FLAGS.items():
                        yield Checkbox(what[0].upper() + what[1:], id=f"flag-{kind}")
                    with Horizontal(classes="form-row"):
                        yield Button("Save check-in", id="save-check", variant="primary")
                        yield Button("None of these", id="save-check-none")

    def on_mount(self) -> None:
        for msg in self.query(".field-msg"):
            msg.display = False
        select: Select[str] = self.query_one("#set-exercise", Select)
        select.set_options([(e, e) for e in self.data.exercises()])

    def on_screen_resume(self) -> None:
        self.query_one("#log-date", Input).value = self.lapp.day.isoformat()

    @on(Input.Changed)
    @on(Input.Blurred)
    def show_validation(self, event: Input.Changed | Input.Blurred) -> None:
        inp = event.input
        result = inp.validate(inp.value)
        self._message(
            inp,
            None if result is None or result.is_valid else "; ".join(result.failure_descriptions),
        )

    def _message(self, inp: Input, message: str | None) -> None:
        msg = self.query_one(f"#{inp.id}-msg", Static)
        msg.display = message is not None
        msg.update(Text(message or "", style="bold red"))

    def _value(self, input_id: str, kind: Callable[[str], Any]) -> Any:
        """The validated value of an input (None if blank and optional), else InputError."""
        inp = self.query_one(f"#{input_id}", Input)
        result = inp.validate(inp.value)
        if result is not None and not result.is_valid:
            text = "; ".join(result.failure_descriptions)
            self._message(inp, text)
            inp.focus()
            raise InputError(text)
        if not inp.value.strip():
            if inp.valid_empty:
                return None
            self._message(inp, "required")
            inp.focus()
            raise InputError("required")
        return kind(inp.value.strip())

    def _day(self) -> date:
        return parse_day(self._value("log-date", str))

    def _save(self, what: str, write: Callable[[], None], clear: list[str]) -> None:
        try:
            write()
        except InputError as e:
            self.notify(str(e), severity="error", title="Not saved", markup=False)
            return
        except LoadmonError as e:
            self.lapp.report_error(e)
            return
        for input_id in clear:
            self.query_one(f"#{input_id}", Input).value = ""
        for msg in self.query(".field-msg"):
            msg.display = False
        self.notify(f"{what} saved", title="Logged")
        self.app.post_message(DataChanged(what))

    @on(Button.Pressed, "#save-pain")
    def save_pain(self) -> None:
        self._save(
            "pain",
            lambda: self.data.log_pain(
                self._day(), self._value("pain-during", int), self._value("pain-morning", int)
            ),
            ["pain-during", "pain-morning"],
        )

    @on(Button.Pressed, "#save-rpe")
    def save_rpe(self) -> None:
        self._save(
            "RPE",
            lambda: self.data.log_rpe(
                self._day(), self._value("rpe-value", int), self._value("rpe-minutes", float)
            ),
            ["rpe-value", "rpe-minutes"],
        )

    @on(Button.Pressed, "#save-set")
    def save_set(self) -> None:
        def write() -> None:
            select: Select[str] = self.query_one("#set-exercise", Select)
            if not isinstance(select.value, str):
                raise InputError("pick the exercise")
            self.data.log_set(
                self._day(),
                select.value,
                self._value("set-reps", int),
                self._value("set-hold", float),
                self._value("set-kg", float),
            )

        self._save("set", write, ["set-reps", "set-hold", "set-kg"])

    @on(Button.Pressed, "#save-visa")
    def save_visa(self) -> None:
        self._save(
            "VISA-H",
            lambda: self.data.log_visa_h(self._day(), self._value("visa-score", int)),
            ["visa-score"],
        )

    @on(Button.Pressed, "#save-check")
    def save_check_in(self) -> None:
        flags = [k for k in RED_FLAGS if self.query_one(f"#flag-{k}", Checkbox).value]
        if not flags:
            self.notify("Tick what you have had, or press None of these", severity="warning",
                        title="Not saved")  # fmt: skip
            return
        self._check_in(flags)

    @on(Button.Pressed, "#save-check-none")
    def save_check_in_none(self) -> None:
        self._check_in([])

    def _check_in(self, flags: list[str]) -> None:
        self._save("check-in", lambda: self.data.log_check_in(self._day(), flags), [])
        for k in RED_FLAGS:
            self.query_one(f"#flag-{k}", Checkbox).value = False
        if flags:
            self.notify(
                "A red flag: stop the programme and contact your clinic today; for numbness "
                "in the saddle area, bladder or bowel changes, fever or a red, hot injection "
                "site get medical help now. See Today.",
                severity="error", title="Red flag", timeout=20,
            )  # fmt: skip

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        active = self.query_one(TabbedContent).active
        {
            "tab-pain": self.save_pain,
            "tab-rpe": self.save_rpe,
            "tab-set": self.save_set,
            "tab-visa": self.save_visa,
            "tab-check": self.save_check_in,
        }[active]()
