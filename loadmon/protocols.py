"""Provides rehab protocols: read and validate protocols/*.toml into frozen dataclasses.

A protocol file is data: exercises, load categories, phases with dosage, target bands,
progression limits, first-exposure caps, sitting and pain limits, entry/exit criteria and the
rules' thresholds, each with a `source` citation (a seed file and/or a CLINICAL-REFERENCE.md
row). `read_protocol(path)` validates a file and raises `ProtocolError` naming the file, the
key (dotted path, e.g. ``phases.2.targets.rdl_reps.low``) and what was expected.

Public API:
    PROTOCOLS_DIR                         -- the shipped protocols/ folder (package data)
    protocol_dirs() -> list[Path]         -- the physio's own folders, then the shipped one
    list_protocols() -> list[Protocol]    -- every protocol in those folders, validated
    get_protocol(name) -> Protocol        -- by id (dashes) or file stem or a path to a .toml
    read_protocol(path) -> Protocol       -- a physio's own file
    CATEGORY_MEASURES, EXERCISE_KINDS, SEVERITIES, INTERVENTION_KINDS
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loadmon.data import shipped_dir, user_protocol_dirs
from loadmon.errors import NotFoundError, ProtocolError
from loadmon.tomlfiles import read_toml

PROTOCOLS_DIR = shipped_dir("protocols")

SCHEMA_VERSION = 1
EXERCISE_KINDS = ("reps", "hold", "contacts")
CATEGORY_MEASURES = ("hold_s", "reps", "kg_reps", "sitting_min", "srpe", "running_min")
SEVERITIES = ("info", "caution", "alarm")
BAND_PERIODS = ("day", "week")
INTERVENTION_KINDS = (
    "corticosteroid-injection",
    "prp-injection",
    "shockwave",
    "dry-needling",
    "surgery",
)
#: What a patient can report at a check-in (`loadmon log check-in --red-flag KIND`).
RED_FLAG_KINDS = (
    "night-pain",
    "numbness",
    "weakness",
    "saddle-anaesthesia",
    "bladder-bowel",
    "fever",
    "sudden-pop",
    "injection-redness",
)
#: Default red flags that need urgent care today (not just a call to the clinic).
URGENT_RED_FLAGS = ("saddle-anaesthesia", "bladder-bowel", "fever", "injection-redness")
#: Detector event types that count one unit of an exercise (DESIGN.md analysis JSON).
EVENT_TYPES = ("bridge_rep", "bridge_hold", "rdl_rep", "hop")
_SEED_RE = re.compile(r"seeds/\d{3}_[0-9a-f]{16}\.txt")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")

Range = tuple[float, float]

#: The documented range of every numeric key (docs/protocols.md), by exact name, then by
#: suffix, then the catch-all: no number a rule reads is unbounded, so no rule can allocate
#: more than the history it reads (a window of 10⁹ days is refused here).
KEY_RANGES: dict[str, tuple[float, float]] = {
    "caution_above": (0.0, 10.0),
    "alarm_above": (0.0, 10.0),
    "low_below": (0.0, 10.0),
    "rest_h_min": (0.0, 168.0),
    "total_weight": (0.0, 1000.0),
    "min_share": (0.0, 1.0),
    "tempo_s": (0.0, 60.0),
    "tolerance_s": (0.0, 60.0),
    "rest_s": (0.0, 3600.0),
    "sets": (0.0, 100.0),
    "reps": (0.0, 1000.0),
    "hold_s": (0.0, 3600.0),
    "sessions_per_day": (0.0, 24.0),
    "sessions_per_week": (0.0, 168.0),
    "during_max": (0.0, 10.0),
    "next_morning_margin": (0.0, 10.0),
    "max_days_without": (0.0, 366.0),
}
KEY_SUFFIX_RANGES: tuple[tuple[str, tuple[float, float]], ...] = (
    ("_days", (0.0, 366.0)),
    ("_pct", (0.0, 1000.0)),
    ("_hours", (0.0, 24.0)),
    ("_minutes", (0.0, 1440.0)),
    ("_min", (0.0, 1440.0)),
)
#: Any other number (band limits, caps): a million units is beyond every clinical dose.
DEFAULT_RANGE = (0.0, 1e6)


def key_range(k: str) -> tuple[float, float]:
    """The documented (lowest, highest) value of numeric key `k`."""
    if k in KEY_RANGES:
        return KEY_RANGES[k]
    for suffix, r in KEY_SUFFIX_RANGES:
        if k.endswith(suffix):
            return r
    return DEFAULT_RANGE


# --------------------------------------------------------------------------------------------
# Dataclasses


@dataclass(frozen=True)
class Criterion:
    text: str
    source: str


@dataclass(frozen=True)
class Exercise:
    name: str
    label: str
    kind: str  # reps | hold | contacts
    event: str | None
    loaded_hip_flexion: bool
    source: str


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    unit: str
    measure: str  # hold_s | reps | kg_reps | sitting_min | srpe
    exercises: tuple[str, ...]
    acwr: bool
    total_weight: float
    source: str


@dataclass(frozen=True)
class Dosage:
    exercise: str
    sets: Range | None
    reps: Range | None
    hold_s: Range | None
    tempo_s: float | None
    sessions_per_day: Range | None
    sessions_per_week: Range | None
    rest_h_min: float | None
    rest_s: float | None
    intensity: str
    source: str
    evidence: str

    @property
    def required(self) -> bool:
        """True when the dosage asks for at least one session (not optional work)."""
        for r in (self.sessions_per_day, self.sessions_per_week):
            if r is not None:
                return r[0] > 0
        return True


@dataclass(frozen=True)
class Band:
    category: str
    low: float
    high: float
    per: str  # day | week
    source: str
    evidence: str


@dataclass(frozen=True)
class SittingLimits:
    max_bout_min: float
    max_daily_min: float
    source: str
    evidence: str


@dataclass(frozen=True)
class PainLimits:
    during_max: float
    next_morning_margin: float
    baseline_days: int
    source: str
    evidence: str
    #: alarm when pain during is >= during_max + this, or >= alarm_during
    alarm_above_limit: float = 2.0
    alarm_during: float = 7.0
    #: alarm when next-morning pain is >= the usual + this, or >= alarm_next_morning
    alarm_next_morning_rise: float = 2.0
    alarm_next_morning: float = 5.0
    #: caution when the weekly mean pain rose two weeks running by this much in total
    creep_min_rise: float = 1.0
    #: a flare ends after this many days in a row of settled pain (48-72 h)
    flare_settle_days: int = 2


@dataclass(frozen=True)
class Progression:
    week_on_week_max_pct: float
    min_previous_week: float
    categories: tuple[str, ...]
    source: str
    evidence: str
    #: this many days in a row without a category's load is a break (build back gradually)
    break_days: int = 7


@dataclass(frozen=True)
class RunningRule:
    """Running in a phase: allowed or not, and the graded return-to-run caps."""

    allowed: bool
    max_week_min: float | None
    max_day_min: float | None
    source: str
    evidence: str


@dataclass(frozen=True)
class RedFlagRule:
    """What a red flag at a check-in asks the patient to do; `urgent` kinds need care today."""

    urgent: tuple[str, ...]
    check_in_days: int
    source: str
    evidence: str


@dataclass(frozen=True)
class FirstExposure:
    caps: Mapping[str, float]
    source: str
    evidence: str


@dataclass(frozen=True)
class TempoRule:
    exercises: tuple[str, ...]
    tolerance_s: float
    min_share: float
    source: str
    evidence: str


@dataclass(frozen=True)
class AvoidRule:
    rule: str
    severity: str
    exercises: tuple[str, ...]
    message: str
    source: str


def default_red_flags() -> RedFlagRule:
    """The red-flag rule of a protocol file without a [red_flags] table."""
    return RedFlagRule(URGENT_RED_FLAGS, 7, "docs/evidence.md#red-flags", "")


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    aim: str
    allowed: tuple[str, ...]
    prescribed: Mapping[str, Dosage]
    targets: Mapping[str, Band]
    sitting: SittingLimits | None
    pain: PainLimits | None
    progression: Progression | None
    first_exposure: FirstExposure | None
    tempo: TempoRule | None
    avoid: tuple[AvoidRule, ...]
    entry: tuple[Criterion, ...]
    exit: tuple[Criterion, ...]
    source: str
    evidence: str
    running: RunningRule | None = None

    def required_exercises(self) -> tuple[str, ...]:
        return tuple(n for n, d in self.prescribed.items() if d.required)


@dataclass(frozen=True)
class AcwrRule:
    acute_days: int
    chronic_days: int
    caution_above: float
    alarm_above: float
    low_below: float
    low_for_days: int
    min_base_days: int
    source: str
    evidence: str


@dataclass(frozen=True)
class TooLittleRule:
    max_days_without: int
    source: str
    evidence: str


@dataclass(frozen=True)
class InactivityRule:
    min_wear_hours: float
    min_active_minutes: float
    source: str
    evidence: str


@dataclass(frozen=True)
class PostInjectionRule:
    kinds: tuple[str, ...]
    window_days: int
    max_increase_pct: float
    source: str
    evidence: str


@dataclass(frozen=True)
class MilestoneRule:
    reassess_after_days: int
    reassess_by_days: int
    referral_after_days: int
    referral_by_days: int
    visa_h_improvement: float
    pain_improvement: float
    pain_window_days: int
    source: str
    evidence: str
    #: VISA-H readings, and days between the first and the latest, before a milestone judges
    visa_h_min_readings: int = 2
    visa_h_min_gap_days: int = 14
    #: a fall of this many VISA-H points from the best earlier reading warns
    visa_h_drop: float = 10.0
    #: a physio's explicit choice to allow referral before 84 days
    early_referral: bool = False


@dataclass(frozen=True)
class Protocol:
    id: str
    name: str
    condition: str
    path: Path
    exercises: Mapping[str, Exercise]
    categories: Mapping[str, Category]
    phases: Mapping[str, Phase]
    acwr: AcwrRule
    too_little: TooLittleRule
    inactivity: InactivityRule
    post_injection: PostInjectionRule
    milestones: MilestoneRule
    source: str
    evidence: str
    phase_ids: tuple[str, ...] = field(default=())
    red_flags: RedFlagRule = field(default_factory=lambda: default_red_flags())
    #: True for a protocol written for after surgery (surgery does not suspend its rules)
    post_operative: bool = False

    def phase(self, phase_id: str) -> Phase:
        try:
            return self.phases[str(phase_id)]
        except KeyError:
            raise NotFoundError(
                f"protocol {self.id!r} has no phase {phase_id!r} "
                f"(phases: {', '.join(self.phase_ids)})"
            ) from None

    def exercise_for_event(self, event_type: str) -> str | None:
        for ex in self.exercises.values():
            if ex.event == event_type:
                return ex.name
        return None


# --------------------------------------------------------------------------------------------
# Validation helpers


class _Table:
    """A TOML table with its dotted path, for precise error messages."""

    def __init__(self, file: Path, path: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = data

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def fail(self, k: str, msg: str) -> ProtocolError:
        return ProtocolError(f"{self.file}: {self.key(k)}: {msg}")

    def check_keys(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                raise self.fail(
                    k, f"unknown key (expected one of: {', '.join(sorted(allowed))})"
                )

    def has(self, k: str) -> bool:
        return k in self.data

    def raw(self, k: str) -> Any:
        if k not in self.data:
            raise self.fail(k, "missing (required)")
        return self.data[k]

    def str_(self, k: str, default: str | None = None) -> str:
        if k not in self.data and default is not None:
            return default
        v = self.raw(k)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(k, f"expected a non-empty string, got {v!r}")
        return v.strip()

    def source(self, k: str = "source") -> str:
        s = self.str_(k)
        if not _SEED_RE.search(s) and "CLINICAL-REFERENCE.md" not in s and "evidence.md" not in s:
            raise self.fail(
                k,
                "expected a citation naming docs/evidence.md (or a seed file "
                f"seeds/NNN_<16 hex>.txt or a CLINICAL-REFERENCE.md row), got {s!r}",
            )
        return s

    def num(
        self,
        k: str,
        default: float | None = None,
        *,
        lo: float | None = 0.0,
        hi: float | None = None,
    ) -> float:
        if k not in self.data and default is not None:
            return default
        v = self.raw(k)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(k, f"expected a number, got {v!r}")
        f = float(v)
        if not math.isfinite(f):
            raise self.fail(k, f"expected a finite number, got {v!r}")
        klo, khi = key_range(k)
        lo = klo if lo is None else max(lo, klo)
        hi = khi if hi is None else min(hi, khi)
        if lo is not None and f < lo:
            raise self.fail(k, f"expected a number >= {lo:g}, got {v!r}")
        if hi is not None and f > hi:
            raise self.fail(k, f"expected a number <= {hi:g}, got {v!r}")
        return f

    def int_(self, k: str, default: int | None = None, *, lo: int = 0) -> int:
        if k not in self.data and default is not None:
            return default
        v = self.raw(k)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(k, f"expected a whole number, got {v!r}")
        if v < lo:
            raise self.fail(k, f"expected a whole number >= {lo}, got {v!r}")
        hi = int(key_range(k)[1])
        if v > hi:
            raise self.fail(k, f"expected a whole number <= {hi}, got {v!r}")
        return v

    def bool_(self, k: str, default: bool) -> bool:
        if k not in self.data:
            return default
        v = self.data[k]
        if not isinstance(v, bool):
            raise self.fail(k, f"expected true or false, got {v!r}")
        return v

    def range_(self, k: str) -> Range | None:
        if k not in self.data:
            return None
        v = self.data[k]
        hi = key_range(k)[1]
        if (isinstance(v, float) and not math.isfinite(v)) or (
            isinstance(v, list) and any(isinstance(x, float) and not math.isfinite(x) for x in v)
        ):
            raise self.fail(k, f"expected finite numbers, got {v!r}")
        if isinstance(v, int | float) and not isinstance(v, bool) and v > hi:
            raise self.fail(k, f"expected a number <= {hi:g}, got {v!r}")
        if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int | float) and v[1] > hi:
            raise self.fail(k, f"expected [low, high] with high <= {hi:g}, got {v!r}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            if v < 0:
                raise self.fail(k, f"expected a number >= 0 or [low, high], got {v!r}")
            return (float(v), float(v))
        if (
            isinstance(v, list)
            and len(v) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
            and 0 <= v[0] <= v[1]
        ):
            return (float(v[0]), float(v[1]))
        raise self.fail(k, f"expected a number or [low, high] with 0 <= low <= high, got {v!r}")

    def names(self, k: str, known: Mapping[str, Any] | None, what: str) -> tuple[str, ...]:
        v = self.raw(k)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(k, f"expected a list of {what} names, got {v!r}")
        if known is not None:
            for x in v:
                if x not in known:
                    raise self.fail(
                        k, f"unknown {what} {x!r} (expected one of: {', '.join(known)})"
                    )
        return tuple(v)

    def choice(self, k: str, choices: tuple[str, ...], default: str | None = None) -> str:
        if k not in self.data and default is not None:
            return default
        v = self.raw(k)
        if v not in choices:
            raise self.fail(k, f"expected one of {', '.join(choices)}, got {v!r}")
        return str(v)

    def sub(self, k: str, *, required: bool = True) -> _Table | None:
        if k not in self.data:
            if required:
                raise self.fail(k, "missing table (required)")
            return None
        v = self.data[k]
        if not isinstance(v, dict):
            raise self.fail(k, f"expected a table, got {v!r}")
        return _Table(self.file, self.key(k), v)

    def req_sub(self, k: str) -> _Table:
        t = self.sub(k, required=True)
        assert t is not None
        return t


# --------------------------------------------------------------------------------------------
# Reading


def read_protocol(path: str | Path) -> Protocol:
    """Read and validate one protocol file; `ProtocolError` names the file, key and expectation."""
    p = Path(path)
    return _parse(p, read_toml(p, ProtocolError, "protocol"))


def _parse(file: Path, data: Mapping[str, Any]) -> Protocol:
    top = _Table(file, "", data)
    top.check_keys(
        {
            "schema", "id", "name", "condition", "source", "evidence", "exercises",
            "categories", "acwr", "too_little", "inactivity", "post_injection", "milestones",
            "defaults", "phases", "red_flags", "post_operative",
        }
    )  # fmt: skip
    schema = top.int_("schema")
    if schema != SCHEMA_VERSION:
        raise top.fail("schema", f"expected {SCHEMA_VERSION}, got {schema}")
    pid = top.str_("id")
    if not _ID_RE.match(pid):
        raise top.fail("id", f"expected lower-case letters, digits and dashes, got {pid!r}")

    exercises: dict[str, Exercise] = {}
    ex_table = top.req_sub("exercises")
    for name in ex_table.data:
        t = ex_table.req_sub(name)
        if not _NAME_RE.match(name):
            raise ex_table.fail(name, "expected a name of lower-case letters, digits and _")
        t.check_keys({"label", "kind", "event", "loaded_hip_flexion", "source", "evidence"})
        event = t.choice("event", EVENT_TYPES) if t.has("event") else None
        exercises[name] = Exercise(
            name=name,
            label=t.str_("label"),
            kind=t.choice("kind", EXERCISE_KINDS),
            event=event,
            loaded_hip_flexion=t.bool_("loaded_hip_flexion", False),
            source=t.source(),
        )
    seen_events: dict[str, str] = {}
    for ex in exercises.values():
        if ex.event is not None:
            if ex.event in seen_events:
                raise ex_table.fail(
                    f"{ex.name}.event",
                    f"event {ex.event!r} is already counted by {seen_events[ex.event]!r}",
                )
            seen_events[ex.event] = ex.name

    categories: dict[str, Category] = {}
    cat_table = top.req_sub("categories")
    for name in cat_table.data:
        t = cat_table.req_sub(name)
        if not _NAME_RE.match(name):
            raise cat_table.fail(name, "expected a name of lower-case letters, digits and _")
        t.check_keys(
            {"label", "unit", "measure", "exercises", "acwr", "total_weight", "source", "evidence"}
        )
        measure = t.choice("measure", CATEGORY_MEASURES)
        if measure in ("sitting_min", "srpe", "running_min"):
            if t.has("exercises"):
                raise t.fail("exercises", f"not used with measure {measure!r}; remove it")
            exs: tuple[str, ...] = ()
        else:
            exs = t.names("exercises", exercises, "exercise")
            if not exs:
                raise t.fail("exercises", "expected at least one exercise")
            for e in exs:
                kind = exercises[e].kind
                if measure == "hold_s" and kind != "hold":
                    raise t.fail("exercises", f"{e!r} is a {kind} exercise; hold_s needs holds")
                if measure in ("reps", "kg_reps") and kind == "hold":
                    raise t.fail("exercises", f"{e!r} is a hold; measure {measure!r} needs reps")
        categories[name] = Category(
            name=name,
            label=t.str_("label"),
            unit=t.str_("unit"),
            measure=measure,
            exercises=exs,
            acwr=t.bool_("acwr", False),
            total_weight=t.num("total_weight", 0.0),
            source=t.source(),
        )

    a = top.req_sub("acwr")
    a.check_keys(
        {"acute_days", "chronic_days", "caution_above", "alarm_above", "low_below",
         "low_for_days", "min_base_days", "source", "evidence"}
    )  # fmt: skip
    acwr = AcwrRule(
        acute_days=a.int_("acute_days", lo=1),
        chronic_days=a.int_("chronic_days", lo=1),
        caution_above=a.num("caution_above"),
        alarm_above=a.num("alarm_above"),
        low_below=a.num("low_below"),
        low_for_days=a.int_("low_for_days", lo=1),
        min_base_days=a.int_("min_base_days", lo=1),
        source=a.source(),
        evidence=a.str_("evidence", ""),
    )
    if acwr.chronic_days <= acwr.acute_days:
        raise a.fail("chronic_days", f"expected more than acute_days ({acwr.acute_days})")
    if acwr.alarm_above < acwr.caution_above:
        raise a.fail("alarm_above", f"expected >= caution_above ({acwr.caution_above:g})")
    if acwr.min_base_days > acwr.chronic_days:
        raise a.fail("min_base_days", f"expected <= chronic_days ({acwr.chronic_days})")

    t = top.req_sub("too_little")
    t.check_keys({"max_days_without", "source", "evidence"})
    too_little = TooLittleRule(
        t.int_("max_days_without", lo=1), t.source(), t.str_("evidence", "")
    )
    t = top.req_sub("inactivity")
    t.check_keys({"min_wear_hours", "min_active_minutes", "source", "evidence"})
    inactivity = InactivityRule(
        t.num("min_wear_hours", hi=24),
        t.num("min_active_minutes", hi=1440),
        t.source(),
        t.str_("evidence", ""),
    )
    t = top.req_sub("post_injection")
    t.check_keys({"kinds", "window_days", "max_increase_pct", "source", "evidence"})
    kinds = t.names("kinds", {k: k for k in INTERVENTION_KINDS}, "intervention")
    post_injection = PostInjectionRule(
        kinds,
        t.int_("window_days", 14, lo=1),
        t.num("max_increase_pct"),
        t.source(),
        t.str_("evidence", ""),
    )
    t = top.req_sub("milestones")
    t.check_keys(
        {"reassess_after_days", "reassess_by_days", "referral_after_days", "referral_by_days",
         "visa_h_improvement", "pain_improvement", "pain_window_days", "source", "evidence",
         "visa_h_min_readings", "visa_h_min_gap_days", "visa_h_drop", "early_referral"}
    )  # fmt: skip
    milestones = MilestoneRule(
        reassess_after_days=t.int_("reassess_after_days", lo=1),
        reassess_by_days=t.int_("reassess_by_days", lo=1),
        referral_after_days=t.int_("referral_after_days", lo=1),
        referral_by_days=t.int_("referral_by_days", lo=1),
        visa_h_improvement=t.num("visa_h_improvement", hi=100),
        pain_improvement=t.num("pain_improvement", hi=10),
        pain_window_days=t.int_("pain_window_days", lo=1),
        source=t.source(),
        evidence=t.str_("evidence", ""),
        visa_h_min_readings=t.int_("visa_h_min_readings", 2, lo=1),
        visa_h_min_gap_days=t.int_("visa_h_min_gap_days", 14),
        visa_h_drop=t.num("visa_h_drop", 10.0, hi=100),
        early_referral=t.bool_("early_referral", False),
    )
    if milestones.reassess_by_days < milestones.reassess_after_days:
        raise t.fail("reassess_by_days", "expected >= reassess_after_days")
    if milestones.referral_after_days < 84 and not milestones.early_referral:
        raise t.fail(
            "referral_after_days",
            "expected >= 84 (surgical referral never before 3 months of conservative care, "
            "docs/evidence.md); set early_referral = true to refer earlier on purpose",
        )
    if milestones.referral_by_days < milestones.referral_after_days:
        raise t.fail("referral_by_days", "expected >= referral_after_days")

    red_flags = default_red_flags()
    rf = top.sub("red_flags", required=False)
    if rf is not None:
        rf.check_keys({"urgent", "check_in_days", "source", "evidence"})
        red_flags = RedFlagRule(
            rf.names("urgent", {k: k for k in RED_FLAG_KINDS}, "red flag")
            if rf.has("urgent") else URGENT_RED_FLAGS,
            rf.int_("check_in_days", 7, lo=1),
            rf.source(),
            rf.str_("evidence", ""),
        )  # fmt: skip

    defaults = top.sub("defaults", required=False)
    if defaults is not None:
        defaults.check_keys(
            {"pain", "sitting", "progression", "first_exposure", "tempo", "running"}
        )

    phases: dict[str, Phase] = {}
    ph_table = top.req_sub("phases")
    if not ph_table.data:
        raise ph_table.fail("", "expected at least one phase")
    for phase_id in ph_table.data:
        phases[phase_id] = _parse_phase(
            ph_table.req_sub(phase_id), phase_id, exercises, categories, defaults
        )

    return Protocol(
        id=pid,
        name=top.str_("name"),
        condition=top.str_("condition"),
        path=file,
        exercises=MappingProxyType(exercises),
        categories=MappingProxyType(categories),
        phases=MappingProxyType(phases),
        acwr=acwr,
        too_little=too_little,
        inactivity=inactivity,
        post_injection=post_injection,
        milestones=milestones,
        source=top.source(),
        evidence=top.str_("evidence", ""),
        phase_ids=tuple(phases),
        red_flags=red_flags,
        post_operative=top.bool_("post_operative", False),
    )


def _section(
    t: _Table, defaults: _Table | None, name: str
) -> _Table | None:
    own = t.sub(name, required=False)
    if own is not None:
        if defaults is not None and defaults.has(name):
            base = defaults.req_sub(name)
            merged = dict(base.data)
            if "source" in own.data:
                merged.pop("evidence", None)  # the default's caveat belongs to its source
            merged.update(own.data)
            return _Table(t.file, own.path, merged)
        return own
    if defaults is not None:
        return defaults.sub(name, required=False)
    return None


def _parse_phase(
    t: _Table,
    phase_id: str,
    exercises: Mapping[str, Exercise],
    categories: Mapping[str, Category],
    defaults: _Table | None,
) -> Phase:
    t.check_keys(
        {"name", "aim", "allowed", "prescribed", "targets", "sitting", "pain", "progression",
         "first_exposure", "tempo", "avoid", "entry", "exit", "source", "evidence", "running"}
    )  # fmt: skip
    allowed = t.names("allowed", exercises, "exercise") if t.has("allowed") else ()
    prescribed: dict[str, Dosage] = {}
    pt = t.sub("prescribed", required=False)
    if pt is not None:
        for ex in pt.data:
            d = pt.req_sub(ex)
            if ex not in exercises:
                raise pt.fail(ex, f"unknown exercise (expected one of: {', '.join(exercises)})")
            if ex not in allowed:
                raise pt.fail(ex, f"prescribed but not in {t.key('allowed')}")
            d.check_keys(
                {"sets", "reps", "hold_s", "tempo_s", "sessions_per_day", "sessions_per_week",
                 "rest_h_min", "rest_s", "intensity", "source", "evidence"}
            )  # fmt: skip
            kind = exercises[ex].kind
            if kind == "hold" and not d.has("hold_s"):
                raise d.fail("hold_s", f"missing: {ex!r} is a hold, give hold seconds")
            if kind != "hold" and not d.has("reps"):
                raise d.fail("reps", f"missing: {ex!r} is counted in reps/contacts")
            if not d.has("sessions_per_day") and not d.has("sessions_per_week"):
                raise d.fail("sessions_per_week", "missing: give sessions_per_day or _per_week")
            prescribed[ex] = Dosage(
                exercise=ex,
                sets=d.range_("sets"),
                reps=d.range_("reps"),
                hold_s=d.range_("hold_s"),
                tempo_s=d.num("tempo_s") if d.has("tempo_s") else None,
                sessions_per_day=d.range_("sessions_per_day"),
                sessions_per_week=d.range_("sessions_per_week"),
                rest_h_min=d.num("rest_h_min") if d.has("rest_h_min") else None,
                rest_s=d.num("rest_s") if d.has("rest_s") else None,
                intensity=d.str_("intensity", "-"),
                source=d.source(),
                evidence=d.str_("evidence", ""),
            )
    targets: dict[str, Band] = {}
    tt = t.sub("targets", required=False)
    if tt is not None:
        for cat in tt.data:
            b = tt.req_sub(cat)
            if cat not in categories:
                raise tt.fail(cat, f"unknown category (expected one of: {', '.join(categories)})")
            b.check_keys({"low", "high", "per", "source", "evidence"})
            low, high = b.num("low"), b.num("high")
            if high < low:
                raise b.fail("high", f"expected >= low ({low:g}), got {high:g}")
            targets[cat] = Band(
                cat, low, high, b.choice("per", BAND_PERIODS, "day"), b.source(),
                b.str_("evidence", ""),
            )  # fmt: skip

    sitting = None
    s = _section(t, defaults, "sitting")
    if s is not None:
        s.check_keys({"max_bout_min", "max_daily_min", "source", "evidence"})
        sitting = SittingLimits(
            s.num("max_bout_min", hi=1440), s.num("max_daily_min", hi=1440), s.source(),
            s.str_("evidence", ""),
        )  # fmt: skip
    pain = None
    s = _section(t, defaults, "pain")
    if s is not None:
        s.check_keys(
            {"during_max", "next_morning_margin", "baseline_days", "source", "evidence",
             "alarm_above_limit", "alarm_during", "alarm_next_morning_rise",
             "alarm_next_morning", "creep_min_rise", "flare_settle_days"}
        )  # fmt: skip
        pain = PainLimits(
            s.num("during_max", hi=10), s.num("next_morning_margin", 0.0, hi=10),
            s.int_("baseline_days", 7, lo=1), s.source(), s.str_("evidence", ""),
            alarm_above_limit=s.num("alarm_above_limit", 2.0, hi=10),
            alarm_during=s.num("alarm_during", 7.0, hi=10),
            alarm_next_morning_rise=s.num("alarm_next_morning_rise", 2.0, hi=10),
            alarm_next_morning=s.num("alarm_next_morning", 5.0, hi=10),
            creep_min_rise=s.num("creep_min_rise", 1.0, hi=10),
            flare_settle_days=s.int_("flare_settle_days", 2, lo=1),
        )  # fmt: skip
    progression = None
    s = _section(t, defaults, "progression")
    if s is not None:
        s.check_keys(
            {"week_on_week_max_pct", "min_previous_week", "categories", "source", "evidence",
             "break_days"}
        )  # fmt: skip
        progression = Progression(
            s.num("week_on_week_max_pct"), s.num("min_previous_week", 0.0),
            s.names("categories", categories, "category"), s.source(), s.str_("evidence", ""),
            break_days=s.int_("break_days", 7, lo=1),
        )  # fmt: skip
    running = None
    s = _section(t, defaults, "running")
    if s is not None:
        s.check_keys({"allowed", "max_week_min", "max_day_min", "source", "evidence"})
        running = RunningRule(
            s.bool_("allowed", False),
            s.num("max_week_min", hi=10080) if s.has("max_week_min") else None,
            s.num("max_day_min", hi=1440) if s.has("max_day_min") else None,
            s.source(),
            s.str_("evidence", ""),
        )
    first = None
    s = _section(t, defaults, "first_exposure")
    if s is not None:
        s.check_keys({"caps", "source", "evidence"})
        caps_t = s.req_sub("caps")
        caps: dict[str, float] = {}
        for cat in caps_t.data:
            if cat not in categories:
                raise caps_t.fail(
                    cat, f"unknown category (expected one of: {', '.join(categories)})"
                )
            caps[cat] = caps_t.num(cat)
        first = FirstExposure(MappingProxyType(caps), s.source(), s.str_("evidence", ""))
    tempo = None
    s = _section(t, defaults, "tempo")
    if s is not None:
        s.check_keys({"exercises", "tolerance_s", "min_share", "source", "evidence"})
        tempo = TempoRule(
            s.names("exercises", exercises, "exercise"), s.num("tolerance_s"),
            s.num("min_share", hi=1.0), s.source(), s.str_("evidence", ""),
        )  # fmt: skip
    avoid: list[AvoidRule] = []
    if t.has("avoid"):
        raw = t.raw("avoid")
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise t.fail("avoid", "expected an array of tables ([[phases.N.avoid]])")
        for i, item in enumerate(raw):
            a = _Table(t.file, t.key(f"avoid[{i}]"), item)
            a.check_keys({"rule", "severity", "exercises", "message", "source", "evidence"})
            rule = a.str_("rule")
            if not rule.startswith("phase."):
                raise a.fail("rule", f"expected a rule id starting with 'phase.', got {rule!r}")
            exs = a.names("exercises", exercises, "exercise")
            for e in exs:
                if e in allowed:
                    raise a.fail("exercises", f"{e!r} is both allowed and avoided in this phase")
            avoid.append(
                AvoidRule(rule, a.choice("severity", SEVERITIES), exs, a.str_("message"),
                          a.source())
            )  # fmt: skip
    return Phase(
        id=phase_id,
        name=t.str_("name"),
        aim=t.str_("aim"),
        allowed=allowed,
        prescribed=MappingProxyType(prescribed),
        targets=MappingProxyType(targets),
        sitting=sitting,
        pain=pain,
        progression=progression,
        first_exposure=first,
        tempo=tempo,
        avoid=tuple(avoid),
        entry=_criteria(t, "entry"),
        exit=_criteria(t, "exit"),
        source=t.source(),
        evidence=t.str_("evidence", ""),
        running=running,
    )


def _criteria(t: _Table, k: str) -> tuple[Criterion, ...]:
    if not t.has(k):
        raise t.fail(k, "missing (required; use [] for none)")
    raw = t.raw(k)
    if not isinstance(raw, list):
        raise t.fail(k, "expected a list of { text = ..., source = ... }")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise t.fail(f"{k}[{i}]", "expected { text = ..., source = ... }")
        c = _Table(t.file, t.key(f"{k}[{i}]"), item)
        c.check_keys({"text", "source"})
        out.append(Criterion(c.str_("text"), c.source()))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Lookup


def protocol_dirs() -> list[Path]:
    """Where protocols are looked up, first match wins: `LOADMON_PROTOCOLS` folders, the user
    config directory's `protocols/`, then the shipped ones."""
    return [*user_protocol_dirs(), PROTOCOLS_DIR]


def protocol_files() -> list[Path]:
    """One file per protocol stem; a physio's own file hides a shipped one of the same name."""
    seen: dict[str, Path] = {}
    for folder in protocol_dirs():
        for p in sorted(folder.glob("*.toml")):
            seen.setdefault(p.stem, p)
    return sorted(seen.values(), key=lambda p: p.stem)


@cache
def _cached(path: str, mtime_ns: int) -> Protocol:
    return read_protocol(path)


def load_file(path: Path) -> Protocol:
    """`read_protocol` with a cache keyed on path and modification time."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return read_protocol(path)
    return _cached(str(path), mtime)


def list_protocols() -> list[Protocol]:
    """Every protocol (own folders and shipped), validated; a broken file raises `ProtocolError`."""
    return [load_file(p) for p in protocol_files()]


def get_protocol(name: str) -> Protocol:
    """A protocol by id (`proximal-hamstring-tendinopathy`) or stem, or a .toml path."""
    if name.endswith(".toml") or "/" in name:
        return load_file(Path(name))
    stem = name.replace("-", "_")
    found = [d / f"{stem}.toml" for d in protocol_dirs() if (d / f"{stem}.toml").is_file()]
    path = found[0] if found else PROTOCOLS_DIR / f"{stem}.toml"
    if path.is_file():
        proto = load_file(path)
        if proto.id != name.replace("_", "-"):
            want = stem.replace("_", "-")
            raise ProtocolError(f"{path}: id: expected {want!r} (the file name), got {proto.id!r}")
        return proto
    known = [p.stem.replace("_", "-") for p in protocol_files()]
    raise NotFoundError(f"no protocol {name!r} (known: {', '.join(known)})")
