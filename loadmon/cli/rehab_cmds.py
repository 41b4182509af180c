"""Provides the rehab commands: protocols, patient, phase, prescribe, log and status."""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
from pathlib import Path
from typing import Any

import click

from loadmon import patients, protocols, storage
from loadmon.cli import db_option
from loadmon.errors import InputError
from loadmon.protocols import INTERVENTION_KINDS, RED_FLAG_KINDS, Protocol


class _Number(click.ParamType):  # type: ignore[type-arg]
    """A number; a bad value is an InputError (one line, exit 2), not a usage screen."""

    name = "number"

    def __init__(self, integer: bool = False) -> None:
        self.integer = integer

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        label = f"--{param.name.replace('_', '-')}" if param is not None and param.name else "value"
        if param is not None and isinstance(param, click.Argument):
            label = (param.name or "value").upper()
        try:
            f = float(str(value).strip())
        except ValueError:
            raise InputError(f"{label}: expected a number, got {value!r}") from None
        if not math.isfinite(f):
            raise InputError(f"{label}: expected a finite number, got {value!r}")
        if self.integer:
            if f != int(f):
                raise InputError(f"{label}: expected a whole number, got {value!r}")
            return int(f)
        return f


class _Date(click.ParamType):  # type: ignore[type-arg]
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        label = param.opts[0] if isinstance(param, click.Option) and param.opts else "--date"
        return patients.parse_date(str(value), label)


NUMBER = _Number()
INTEGER = _Number(integer=True)
DATE = _Date()


def _date_option(f: Any) -> Any:
    return click.option(
        "--date", "on", type=DATE, default=None,
        help="Day (YYYY-MM-DD; default the patient's today in their time zone).",
    )(f)


# --------------------------------------------------------------------------------------------
# protocols


def _fmt_range(r: tuple[float, float] | None, unit: str = "") -> str:
    if r is None:
        return "-"
    lo, hi = r
    s = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
    return s + unit


def _show_protocol(p: Protocol) -> str:
    out = [f"{p.name} ({p.id})", f"  file: {p.path}", f"  {p.condition}", f"  source: {p.source}"]
    if p.evidence:
        out.append(f"  evidence: {p.evidence}")
    a = p.acwr
    out.append(
        f"  ACWR (EWMA {a.acute_days}/{a.chronic_days} d): caution > {a.caution_above:g}, "
        f"alarm > {a.alarm_above:g}, low < {a.low_below:g} for {a.low_for_days} d"
    )
    for ph in p.phases.values():
        out.append("")
        out.append(f"Phase {ph.id}: {ph.name}")
        out.append(f"  aim: {ph.aim}")
        out.append(f"  allowed: {', '.join(ph.allowed) or '-'}")
        for name, d in ph.prescribed.items():
            parts = [f"sets {_fmt_range(d.sets)}"]
            if d.reps:
                parts.append(f"reps {_fmt_range(d.reps)}")
            if d.hold_s:
                parts.append(f"hold {_fmt_range(d.hold_s, ' s')}")
            if d.tempo_s:
                parts.append(f"tempo {d.tempo_s:g} s each way")
            if d.sessions_per_day:
                parts.append(f"{_fmt_range(d.sessions_per_day)}/day")
            if d.sessions_per_week:
                parts.append(f"{_fmt_range(d.sessions_per_week)}/week")
            out.append(f"  prescribed {name}: {', '.join(parts)}  [{d.source}]")
        for k, b in ph.targets.items():
            unit = p.categories[k].unit
            out.append(f"  target {k}: {b.low:g}-{b.high:g} {unit} per {b.per}")
        if ph.sitting:
            out.append(
                f"  sitting: bouts <= {ph.sitting.max_bout_min:g} min, "
                f"<= {ph.sitting.max_daily_min:g} min/day"
            )
        if ph.pain:
            out.append(
                f"  pain: during <= {ph.pain.during_max:g}/10; next morning not above baseline"
            )
        if ph.progression:
            out.append(f"  week-on-week: <= +{ph.progression.week_on_week_max_pct:g} %")
        if ph.first_exposure:
            caps = ", ".join(f"{k} {v:g}" for k, v in ph.first_exposure.caps.items())
            out.append(f"  first-exposure caps (per day): {caps}")
        for r in ph.avoid:
            out.append(f"  avoid ({r.rule}, {r.severity}): {', '.join(r.exercises)}")
        for c in ph.entry:
            out.append(f"  entry: {c.text}")
        for c in ph.exit:
            out.append(f"  exit: {c.text}")
    return "\n".join(out)


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


@click.group("protocols", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def protocols_group(ctx: click.Context, as_json: bool) -> None:
    """List the rehab protocols (or show / check one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = protocols.list_protocols()
    if as_json:
        click.echo(
            json.dumps(
                [{"id": p.id, "name": p.name, "phases": list(p.phase_ids), "file": str(p.path)}
                 for p in rows],
                indent=1,
            )
        )  # fmt: skip
        return
    for p in rows:
        click.echo(f"{p.id:<34} {p.name}  (phases: {', '.join(p.phase_ids)})")


@protocols_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the whole protocol as JSON.")
def protocols_show(name: str, as_json: bool) -> None:
    """Show a protocol's phases, doses, targets and limits (NAME: id or .toml file)."""
    p = protocols.get_protocol(name)
    if as_json:
        click.echo(json.dumps(_jsonable(p), indent=1))
    else:
        click.echo(_show_protocol(p))


@protocols_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def protocols_check(file: Path) -> None:
    """Validate a protocol file (e.g. a physio's edited copy)."""
    p = protocols.read_protocol(file)
    click.echo(f"ok: {file}: {p.id}, {len(p.phases)} phases, {len(p.exercises)} exercises")


# --------------------------------------------------------------------------------------------
# patient, phase, prescribe


@click.group("patient")
def patient_group() -> None:
    """Add and list patients."""


@patient_group.command("add")
@click.argument("name")
@click.option("--protocol", "-P", "protocol", required=True, help="Protocol id or .toml file.")
@click.option("--phase", default=None, help="Starting phase (default: the protocol's first).")
@click.option("--start", type=DATE, default=None, help="Start of care (default today).")
@click.option("--timezone", default=None, help="IANA zone for day boundaries (default UTC).")
@db_option
def patient_add(
    name: str,
    protocol: str,
    phase: str | None,
    start: str | None,
    timezone: str | None,
    db_path: str | None,
) -> None:
    """Add a patient on a protocol."""
    db = storage.open_db(db_path)
    patients.add_patient(db, name, protocol, phase=phase, start=start, timezone=timezone)
    info = patients.get_patient_info(db, name)
    click.echo(
        f"added {info.name}: {info.protocol_id}, phase {info.phases[-1].phase} "
        f"from {info.start_date}"
    )


@patient_group.command("set-protocol")
@click.argument("name")
@click.argument("protocol")
@click.option("--phase", default=None, help="Phase (default: the protocol's first).")
@click.option("--start", type=DATE, default=None, help="Start of care (default: kept/today).")
@db_option
def patient_set_protocol(
    name: str, protocol: str, phase: str | None, start: str | None, db_path: str | None
) -> None:
    """Put an existing patient on a protocol (restarts the phase history)."""
    db = storage.open_db(db_path, create=False)
    patients.set_protocol(db, name, protocol, phase=phase, start=start)
    info = patients.get_patient_info(db, name)
    click.echo(f"{name}: {info.protocol_id}, phase {info.phases[-1].phase} from {info.start_date}")


@patient_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@db_option
def patient_list(as_json: bool, db_path: str | None) -> None:
    """List patients with their protocol and current phase."""
    db = storage.open_db(db_path, create=False)
    rows = patients.list_patient_summaries(db)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    if not rows:
        click.echo("no patients")
        return
    for r in rows:
        click.echo(
            f"{r['name']:<16} {r['protocol'] or '-':<34} phase {r['phase'] or '-'} "
            f"since {r['phase_since'] or '-'}"
        )


@click.group("phase")
def phase_group() -> None:
    """Set a patient's phase and see its history."""


@phase_group.command("set")
@click.argument("name")
@click.argument("phase")
@_date_option
@click.option("--note", default="", help="Why (kept in the history).")
@db_option
def phase_set(name: str, phase: str, on: str | None, note: str, db_path: str | None) -> None:
    """Move NAME to PHASE from --date (default today)."""
    db = storage.open_db(db_path, create=False)
    patients.set_phase(db, name, phase, on=on, note=note)
    click.echo(f"{name}: phase {phase} from {on or patients.today()}")


@phase_group.command("history")
@click.argument("name")
@db_option
def phase_history_cmd(name: str, db_path: str | None) -> None:
    """Show NAME's phase changes."""
    db = storage.open_db(db_path, create=False)
    for ch in patients.phase_history(db, name):
        click.echo(f"{ch.start_date}  phase {ch.phase}  {ch.note}")


@click.command("prescribe")
@click.argument("name")
@click.option("--exercise", "-e", required=True, help="Exercise name from the protocol.")
@click.option("--kg", type=NUMBER, default=None, help="External load for detected reps.")
@click.option("--sets", type=INTEGER, default=None, help="Sets per session (1-20).")
@click.option("--reps", type=INTEGER, default=None, help="Reps per set (1-200).")
@click.option("--hold-s", "hold_s", type=NUMBER, default=None, help="Seconds per hold (1-600).")
@click.option(
    "--tempo-s", "tempo_s", type=NUMBER, default=None,
    help="Seconds each way of a slow rep (0.5-20).",
)  # fmt: skip
@_date_option
@db_option
def prescribe_cmd(
    name: str,
    exercise: str,
    kg: float | None,
    sets: int | None,
    reps: int | None,
    hold_s: float | None,
    tempo_s: float | None,
    on: str | None,
    db_path: str | None,
) -> None:
    """Edit NAME's prescription of one exercise (e.g. the RDL kg), from --date."""
    db = storage.open_db(db_path, create=False)
    patients.set_prescription(
        db, name, exercise, on=on, kg=kg, sets=sets, reps=reps, hold_s=hold_s, tempo_s=tempo_s
    )
    click.echo(f"{name}: {exercise} prescription updated from {on or patients.today()}")


# --------------------------------------------------------------------------------------------
# log


@click.group("log")
def log_group() -> None:
    """Log what the sensor cannot know: pain, RPE, sets, VISA-H, interventions, check-ins."""


@log_group.command("pain")
@click.argument("name")
@click.option("--during", type=NUMBER, default=None, help="Pain during exercise, 0-10.")
@click.option("--next-morning", "next_morning", type=NUMBER, default=None,
              help="Pain the morning after, 0-10.")  # fmt: skip
@click.option("--stiffness", type=NUMBER, default=None,
              help="Stiffness the morning after, 0-10 (optional).")  # fmt: skip
@_date_option
@db_option
def log_pain_cmd(
    name: str, during: float | None, next_morning: float | None, stiffness: float | None,
    on: str | None, db_path: str | None,
) -> None:  # fmt: skip
    """Pain during the day's session and the next morning (entry dated the session day)."""
    db = storage.open_db(db_path, create=False)
    patients.log_pain(
        db, name, during=during, next_morning=next_morning, stiffness=stiffness, on=on
    )
    click.echo(f"{name}: pain logged for {on or patients.today()}")


@log_group.command("rpe")
@click.argument("name")
@click.option("--rpe", type=NUMBER, required=True, help="Session RPE, CR-10 (0-10).")
@click.option("--minutes", type=NUMBER, default=None, help="Session minutes.")
@_date_option
@db_option
def log_rpe_cmd(
    name: str, rpe: float, minutes: float | None, on: str | None, db_path: str | None
) -> None:
    """Session RPE (load = minutes x RPE)."""
    db = storage.open_db(db_path, create=False)
    patients.log_rpe(db, name, rpe=rpe, minutes=minutes, on=on)
    click.echo(f"{name}: RPE {rpe:g} logged for {on or patients.today()}")


@log_group.command("set")
@click.argument("name")
@click.option("--exercise", "-e", required=True,
              help="Exercise from the protocol (bridge, bridge_hold, rdl, hops, ...).")  # fmt: skip
@click.option("--reps", type=INTEGER, required=True, help="Reps, holds or contacts.")
@click.option("--hold-s", "hold_s", type=NUMBER, default=None, help="Seconds per hold.")
@click.option("--kg", type=NUMBER, default=None, help="External load.")
@_date_option
@db_option
def log_set_cmd(
    name: str, exercise: str, reps: int, hold_s: float | None, kg: float | None,
    on: str | None, db_path: str | None,
) -> None:  # fmt: skip
    """A set done without the sensor."""
    db = storage.open_db(db_path, create=False)
    patients.log_set(db, name, exercise=exercise, reps=reps, hold_s=hold_s, kg=kg, on=on)
    click.echo(f"{name}: {exercise} x {reps} logged for {on or patients.today()}")


@log_group.command("visa-h")
@click.argument("name")
@click.argument("score", type=NUMBER)
@_date_option
@db_option
def log_visa_cmd(name: str, score: float, on: str | None, db_path: str | None) -> None:
    """VISA-H score, 0-100 (higher is better)."""
    db = storage.open_db(db_path, create=False)
    patients.log_visa_h(db, name, score, on=on)
    click.echo(f"{name}: VISA-H {score:g} logged for {on or patients.today()}")


@log_group.command("intervention")
@click.argument("name")
@click.option("--kind", required=True, help=f"One of: {', '.join(INTERVENTION_KINDS)}.")
@click.option("--note", default="", help="Free text (product, dose, who gave it).")
@_date_option
@db_option
def log_intervention_cmd(
    name: str, kind: str, note: str, on: str | None, db_path: str | None
) -> None:
    """An intervention (injection, shockwave, dry needling, surgery)."""
    db = storage.open_db(db_path, create=False)
    patients.log_intervention(db, name, kind, on=on, note=note)
    click.echo(f"{name}: {kind} logged for {on or patients.today()}")


@log_group.command("set-kg")
@click.argument("name")
@click.argument("set_id", type=INTEGER)
@click.argument("kg", type=NUMBER)
@db_option
def log_set_kg_cmd(name: str, set_id: int, kg: float, db_path: str | None) -> None:
    """Correct the kg of recorded set SET_ID (the set ids are in the report and export)."""
    db = storage.open_db(db_path, create=False)
    patients.set_recorded_kg(db, name, set_id, kg)
    click.echo(f"{name}: recorded set {set_id} now counts at {kg:g} kg")


@log_group.command("check-in")
@click.argument("name")
@click.option("--red-flag", "red_flags", multiple=True, metavar="KIND",
              help=f"A red flag (repeatable): {', '.join(RED_FLAG_KINDS)}.")  # fmt: skip
@click.option("--none", "none", is_flag=True, help="Nothing to report (a clear check-in).")
@_date_option
@db_option
def log_check_in_cmd(
    name: str, red_flags: tuple[str, ...], none: bool, on: str | None, db_path: str | None
) -> None:
    """The weekly safety check-in: any red flag is an alarm that says what to do now."""
    db = storage.open_db(db_path, create=False)
    patients.log_check_in(db, name, list(red_flags), none=none, on=on)
    day = on or patients.today()
    if none:
        click.echo(f"{name}: check-in for {day}: nothing to report")
        return
    click.echo(f"{name}: check-in for {day}: red flag(s) {', '.join(red_flags)}")
    from loadmon import status  # numpy-heavy: imported only when needed

    for w in status.day_status(db, name, day)["warnings"]:
        if w["rule"].startswith("red_flag.") and "since" not in w:
            click.echo(f"[{w['severity']}] {w['patient']}")


@click.group("warnings")
def warnings_group() -> None:
    """Standing warnings (milestones, red flags, surgery) and their acknowledgement."""


@warnings_group.command("ack")
@click.argument("name")
@click.argument("rule")
@click.option("--note", default="", help="What was decided (kept in the log).")
@_date_option
@db_option
def warnings_ack_cmd(
    name: str, rule: str, note: str, on: str | None, db_path: str | None
) -> None:
    """Acknowledge NAME's standing warning RULE (e.g. milestone.reassess, or red_flag for all
    red flags): it leaves the status until it is raised anew."""
    db = storage.open_db(db_path, create=False)
    patients.acknowledge(db, name, rule, note=note, on=on)
    click.echo(f"{name}: {rule} acknowledged on {on or patients.today()}")


# --------------------------------------------------------------------------------------------
# status


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if float(x) == int(x) or abs(x) >= 10:
        return f"{x:.0f}"
    return f"{x:.2f}"


def render_status(s: dict[str, Any]) -> str:
    """The readable `loadmon status` text for a `day_status` object."""
    out = [
        f"{s['patient']} - {s['date']} - {s['protocol_name']}, phase {s['phase']} "
        f"({s['phase_name']}) since {s['phase_since']}; day {s['day_of_care']} of care",
        "",
        f"{'load':<34} {'value':>9} {'target':>13} {'per':>5}  status",
    ]
    for v in s["loads"].values():
        tgt = "-" if v["target"] is None else f"{_fmt(v['target'][0])}-{_fmt(v['target'][1])}"
        out.append(
            f"{v['label'][:34]:<34} {_fmt(v['value']):>9} {tgt:>13} {v['period']:>5}  "
            f"{v['status'] or '-'}"
        )
    head = f"{'ratio (EWMA 7/28 d)':<34} {'acute':>9} {'chronic':>9} {'ratio':>7} {'wk/wk':>8}"
    out += ["", head]
    unused: list[str] = []
    for k, r in s["ratios"].items():
        if not r.get("used", True):
            unused.append(f"  {k}: not used - {r['reason']}")
            continue
        wow = "-" if r["week_on_week_pct"] is None else f"{r['week_on_week_pct']:+.0f} %"
        out.append(
            f"{k:<34} {_fmt(r['acute']):>9} {_fmt(r['chronic']):>9} {_fmt(r['ratio']):>7} "
            f"{wow:>8}"
        )
    out += unused
    sit = s["sitting"]
    out += [
        "",
        f"sitting: {_fmt(sit['total_min'])} min, longest bout {_fmt(sit['longest_bout_min'])} min "
        f"(limit {_fmt(sit['limit_bout_min'])})",
        "",
    ]
    care = s.get("care", {})
    if care.get("suspended"):
        out += [f"care: {care['reason']} (since {care['since']})", ""]
    check = s.get("check_in")
    if check and check["due"]:
        last = check["last"] or "never"
        who = shlex.quote(s["patient"])
        out += [f"check-in due (last: {last}): loadmon log check-in {who} --none "
                "| --red-flag KIND", ""]  # fmt: skip
    if not s["warnings"]:
        out.append("no warnings")
    for w in s["warnings"]:
        since = f" (since {w['since']}; until acknowledged)" if w.get("since") else ""
        out.append(f"[{w['severity']}] {w['patient']}{since}")
        out.append(f"    {w['rule']}: {w['message']}")
        out.append(f"    source: {w['source']}")
    return "\n".join(out)


@click.command("status")
@click.argument("name")
@_date_option
@click.option("--json", "as_json", is_flag=True, help="Print the status object as JSON.")
@db_option
def status_cmd(name: str, on: str | None, as_json: bool, db_path: str | None) -> None:
    """NAME's day: loads against the phase's targets, ratios and warnings."""
    from loadmon import status  # numpy-heavy: imported only when needed

    db = storage.open_db(db_path, create=False)
    s = status.day_status(db, name, on)
    if as_json:
        click.echo(json.dumps(s, indent=1))
    else:
        click.echo(render_status(s))


def register(group: click.Group) -> None:
    group.add_command(protocols_group)
    group.add_command(patient_group)
    group.add_command(phase_group)
    group.add_command(prescribe_cmd)
    group.add_command(log_group)
    group.add_command(warnings_group)
    group.add_command(status_cmd)
