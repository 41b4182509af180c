"""Provides the warning rules: daily load, ratios and the log against the protocol -> Alerts.

The rule logic is here; every threshold and citation comes from the protocol file. Each
`Alert` speaks in two voices: `patient` (plain words and one concrete next step, shown on
Today and the patient's view) and `message` (the clinician detail: rule, numbers), plus the
rule id, a severity (info | caution | alarm), the `numbers` and the protocol `source`.
docs/warnings.md explains every rule for patient and physio; in short:

    red_flag.<kind>           a red flag at a check-in (alarm; urgent kinds: seek care today)
    surgery.post_op_protocol  surgery logged: the conservative-care rules stop from that day
                              (too little, load, phase, tempo, sitting, running, milestones)
                              until the patient is on a post-operative protocol (alarm)
    pain.during               pain during > during_max (alarm at >= during_max +
                              alarm_above_limit or >= alarm_during)
    pain.next_morning         next-morning pain > the usual + margin (alarm at >= usual +
                              alarm_next_morning_rise or >= alarm_next_morning); the usual is
                              the median of the previous baseline_days days' scores, from the
                              first entry on (the very first entry: absolute alarm level only)
    pain.creeping             weekly mean pain up two weeks running, by >= creep_min_rise
    pain.flare                the days after an alarm-level pain response until pain has been
                              settled flare_settle_days days running: isometrics only
    acwr.high / acwr.low      EWMA acute:chronic above caution_above / below low_below for
                              low_for_days days (caution: the ratio is weak evidence)
    week_on_week.high         7-day sum > the previous 7 days by more than the phase's limit
    load.build_back           the first day back after >= break_days without a category's load
                              exceeds the dose before the break (+ the weekly limit)
    band.above                the compared value above the phase's band
    first_exposure.cap        no chronic base yet and the day's value > the phase's cap
    too_little.days_without   more than max_days_without days without the prescribed work
    too_little.inactive       a day worn >= min_wear_hours with < min_active_minutes active
    phase.<from the file>     an exercise the phase's `avoid` list names; phase.not_in_phase
    running.not_in_phase      running in a phase whose [running] says allowed = false
    running.week_cap / .day_cap   running minutes above the phase's return-to-run caps
    tempo.fast                share of reps at the prescribed tempo below min_share
    sitting.bout / .daily     longest sitting bout / the day's sitting above the limits
    injection.phase_advance / .load_jump / .first_exposure
                              within window_days after a corticosteroid injection: a phase
                              advance, a category's 7 days above the 7 before the injection
                              (+ max_increase_pct), or a category new since the 28 days before
    milestone.reassess / .referral / .no_outcome / .visa_h_drop
                              conservative-care milestones (see below)

Quiet by design: load rules (ratios, week-on-week, bands, caps on running, build-back, too
little) warn on the first day of an episode, not every day of it; a planned phase change
starts a new chronic base for the categories whose band changes (and for the total), and a
prescription edit (a planned Beyer step) exempts its categories from week-on-week for 14 days.

Standing warnings (`STANDING`: milestones, red flags, surgery) are raised once and stay on
the status of later days until a clinician acknowledges them (`patients.acknowledge`, an
`ack` log entry with the rule id or its prefix; see `standing_open`).

Milestones judge "no improvement" only with evidence: >= visa_h_min_readings VISA-H readings
>= visa_h_min_gap_days apart, or pain_window_days of pain scores at the start and now.
Improvement: the latest VISA-H >= the first + visa_h_improvement, or mean pain of the last
pain_window_days days lower than the first window's by >= pain_improvement. Readings within
a corticosteroid injection's window are "masked" (pain relief from the injection) and count
for neither.

Public API: Alert, evaluate(raw, cmp, protocol, care_start_index, start, end) -> list[Alert],
standing_open(alerts, log, day), masked_days(raw, protocol), effective_base(cmp, protocol),
store_alerts(db, ...),
SEVERITY_ORDER, STANDING.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import storage
from loadmon.compare import TOTAL, Comparison, rolling_sum
from loadmon.load import DailyRaw
from loadmon.protocols import Phase, Protocol

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
SEVERITY_ORDER = {"alarm": 0, "caution": 1, "info": 2}
#: Rule-id prefixes of warnings that are raised once and stay until acknowledged.
STANDING = ("milestone.", "red_flag.", "surgery.")
#: Days after a prescription edit (a planned step) when its categories skip week-on-week.
PLANNED_STEP_DAYS = 14

#: Red flag -> (what the patient reported, what it may mean for the clinician).
RED_FLAGS: dict[str, tuple[str, str]] = {
    "night-pain": (
        "pain at night or at rest",
        "non-mechanical pain: exclude bone stress injury, infection, tumour and systemic "
        "inflammatory disease (e.g. axial spondyloarthritis)",
    ),
    "numbness": (
        "numbness or tingling in the leg",
        "possible sciatic nerve involvement (the nerve runs beside the ischial tuberosity)",
    ),
    "weakness": (
        "new weakness in the leg",
        "neurological deficit or a tendon tear: examine before loading again",
    ),
    "saddle-anaesthesia": (
        "numbness around the groin, buttocks or genitals",
        "saddle anaesthesia: possible cauda equina syndrome - emergency assessment",
    ),
    "bladder-bowel": (
        "a change in bladder or bowel control",
        "possible cauda equina syndrome - emergency assessment",
    ),
    "fever": (
        "fever or feeling unwell",
        "possible infection or systemic disease (seed: enthesopathy may come with systemic "
        "inflammatory conditions)",
    ),
    "sudden-pop": (
        "a sudden 'pop' with bruising",
        "possible proximal hamstring avulsion or rupture: urgent orthopaedic assessment "
        "(early repair does better)",
    ),
    "injection-redness": (
        "redness, heat or swelling where you had the injection",
        "possible septic complication after an injection: same-day medical assessment",
    ),
}


@dataclass(frozen=True)
class Alert:
    date: str
    rule: str
    severity: str
    message: str  # the clinician's detail: what fired, with the numbers
    numbers: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    category: str | None = None
    patient: str = ""  # the patient's message: plain words, one concrete next step

    @property
    def standing(self) -> bool:
        return self.rule.startswith(STANDING)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "patient": self.patient,
            "message": self.message,
            "numbers": self.numbers,
            "source": self.source,
        }
        if self.category is not None:
            d["category"] = self.category
        return d


def _r(x: float, nd: int = 2) -> float | None:
    if x is None or not np.isfinite(x):
        return None
    return round(float(x), nd)


def _onset(mask: BoolArray) -> BoolArray:
    """True on the first day of each run of True (an episode warns once)."""
    out = mask.copy()
    if mask.size > 1:
        out[1:] &= ~mask[:-1]
    return out


def _first_loaded(cond: BoolArray, loaded: BoolArray) -> BoolArray:
    """The first day of each run of `cond` judged on loaded days only: a rest day neither
    starts nor ends an episode (ratios dip on rest days and rise on training days)."""
    out = np.zeros(cond.shape, dtype=bool)
    warned = False
    for i in range(cond.shape[0]):
        if not loaded[i]:
            continue
        if not cond[i]:
            warned = False
        elif not warned:
            out[i] = warned = True
    return out


def _d(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


class _Ctx:
    def __init__(
        self,
        raw: DailyRaw,
        cmp: Comparison,
        protocol: Protocol,
        care_start: int,
        start: int,
        end: int,
    ) -> None:
        self.raw, self.cmp, self.p = raw, cmp, protocol
        self.care_start = care_start
        self.lo, self.hi = max(start, 0), min(end, raw.n_days)
        self.phases: list[Phase] = [protocol.phases[i] for i in protocol.phase_ids]
        self.pi = cmp.phase_index
        self.out: list[Alert] = []
        n = raw.n_days
        # Surgery: conservative-care rules stop from its day (unless on a post-op protocol).
        self.surgery = -1
        if not protocol.post_operative:
            days = [
                raw.index(e["date"])
                for e in raw.log
                if e["kind"] == "intervention" and e.get("intervention") == "surgery"
            ]
            self.surgery = min(days) if days else -1
        self.conservative = np.ones(n, dtype=bool)
        if self.surgery >= 0:
            self.conservative[max(self.surgery, 0) :] = False
        self.during, self.morning = _pain_arrays(raw)
        self.flare = np.zeros(n, dtype=bool)  # filled by _pain
        self.masked = masked_days(raw, protocol)
        self.based = effective_base(cmp, protocol)

    def day(self, i: int) -> str:
        return (self.raw.first_day + timedelta(days=int(i))).isoformat()

    def per_phase(self, values: list[float]) -> FloatArray:
        arr: FloatArray = np.asarray(values, dtype=np.float64)[self.pi]
        return arr

    def hits(self, mask: BoolArray, *, conservative: bool = True) -> list[int]:
        if conservative:
            mask = mask & self.conservative
        return [int(i) for i in np.nonzero(mask[self.lo : self.hi])[0] + self.lo]

    def add(self, i: int, rule: str, sev: str, msg: str, nums: dict[str, Any], src: str,
            cat: str | None = None, *, patient: str) -> None:  # fmt: skip
        self.out.append(Alert(self.day(i), rule, sev, msg, nums, src, cat, patient))


def effective_base(cmp: Comparison, protocol: Protocol) -> dict[str, BoolArray]:
    """The chronic base the rules use: `cmp.based`, restarted for chronic_days after a planned
    phase change in the categories whose band changes (and the total), so a planned step up
    is judged by the first-exposure caps, not read as a spike."""
    n = cmp.n_days
    out = {k: v.copy() for k, v in cmp.based.items()}
    if n < 2:
        return out
    phases = [protocol.phases[i] for i in protocol.phase_ids]
    pi = cmp.phase_index
    change = np.nonzero(pi[1:] != pi[:-1])[0] + 1
    cd = protocol.acwr.chronic_days
    for c in change:
        a, b = phases[pi[c - 1]], phases[pi[c]]
        for k in out:
            whole = k == TOTAL or protocol.categories[k].measure == "srpe"  # sums of all work
            if whole or a.targets.get(k) != b.targets.get(k):
                out[k][c : c + cd] = False
    return out


def evaluate(
    raw: DailyRaw,
    cmp: Comparison,
    protocol: Protocol,
    care_start_index: int,
    start: int = 0,
    end: int | None = None,
) -> list[Alert]:
    """Every warning on days [start, end) (indices into `raw`), sorted by day then severity."""
    ctx = _Ctx(raw, cmp, protocol, care_start_index, start, raw.n_days if end is None else end)
    if ctx.lo >= ctx.hi:
        return []
    _red_flags(ctx)
    _surgery(ctx)
    _pain(ctx)  # before the load rules: it sets the flare days
    _too_much(ctx)
    _too_little(ctx)
    _phase_rules(ctx)
    _running(ctx)
    _tempo(ctx)
    _sitting(ctx)
    _injection(ctx)
    _milestones(ctx)
    ctx.out.sort(key=lambda a: (a.date, SEVERITY_ORDER[a.severity], a.rule, a.category or ""))
    return ctx.out


def standing_open(alerts: list[Alert], log: list[dict[str, Any]], day: str) -> list[Alert]:
    """The standing warnings raised before `day` that no clinician has acknowledged by `day`
    (an `ack` entry naming the rule, or a prefix of it such as `red_flag`, dated on or after
    the warning). A rule raised anew (e.g. reassess turning into an alarm) is a new warning."""
    acks = [(e["date"], str(e.get("rule", ""))) for e in log
            if e["kind"] == "ack" and e["date"] <= day]  # fmt: skip
    latest: dict[tuple[str, str | None], Alert] = {}
    for a in alerts:
        if a.standing and a.date < day:
            latest[(a.rule, a.category)] = a
    out = []
    for a in latest.values():
        seen = any(d >= a.date and (r == a.rule or a.rule.startswith(r + ".")) for d, r in acks)
        if not seen:
            out.append(a)
    return out


def _label(p: Protocol, k: str) -> str:
    return "total load" if k == TOTAL else p.categories[k].label


def _unit(p: Protocol, k: str) -> str:
    return "rep-equivalents" if k == TOTAL else p.categories[k].unit


def _plain(p: Protocol, k: str) -> str:
    """A category as a noun phrase in the patient's words ("Romanian deadlifts")."""
    if k == TOTAL:
        return "exercise overall"
    c = p.categories[k]
    words = {"hold_s": "holds", "running_min": "running", "sitting_min": "sitting",
             "srpe": "session effort"}  # fmt: skip
    if c.measure in words:
        return words[c.measure]
    name = p.exercises[c.exercises[0]].label.split(" (")[0].lower().replace("romanian", "Romanian")
    name = name if name.endswith("s") else name + "s"
    return f"weight lifted in {name}" if c.measure == "kg_reps" else name


def _required_categories(p: Protocol, ph: Phase) -> set[str]:
    req = set(ph.required_exercises())
    return {k for k, c in p.categories.items() if req & set(c.exercises)}


# --------------------------------------------------------------------------------------------
# Safety: red flags and surgery


def _red_flags(ctx: _Ctx) -> None:
    rf = ctx.p.red_flags
    for e in ctx.raw.log:
        if e["kind"] != "check_in":
            continue
        i = ctx.raw.index(e["date"])
        if not ctx.lo <= i < ctx.hi:
            continue
        for kind in e.get("red_flags") or []:
            what, meaning = RED_FLAGS.get(kind, (kind, "reported red flag"))
            urgent = kind in rf.urgent
            if urgent:
                tell = (f"You reported {what}. Stop the exercise programme and get medical help "
                        "today: call your doctor or out-of-hours service now, or go to an "
                        "emergency department.")  # fmt: skip
            else:
                tell = (f"You reported {what}. Stop the exercise programme for now and phone "
                        "your clinic today so they can check you before you carry on.")  # fmt: skip
            ctx.add(
                i, f"red_flag.{kind.replace('-', '_')}", "alarm",
                f"red flag at check-in: {what} - {meaning}; "
                + ("urgent: same-day medical care" if urgent else "review before loading again"),
                {"red_flag": kind, "urgent": urgent}, rf.source, patient=tell,
            )  # fmt: skip


def _surgery(ctx: _Ctx) -> None:
    s = ctx.surgery
    if s < 0 or not ctx.lo <= s < ctx.hi:
        return
    ctx.add(
        s, "surgery.post_op_protocol", "alarm",
        f"surgery logged on {ctx.day(s)}: the conservative-care rules of {ctx.p.id} (too "
        "little, load progression, phase, tempo, sitting, running, milestones) are suspended "
        "from that day; put the patient on a post-operative protocol",
        {"surgery_date": ctx.day(s), "protocol": ctx.p.id},
        ctx.p.milestones.source,
        patient=("After your operation, follow your surgeon's post-operative plan, not this "
                 "programme. Ask your physio to set up your post-operative programme."),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Pain: the primary guide


def _pain_arrays(raw: DailyRaw) -> tuple[FloatArray, FloatArray]:
    """Per day: max pain during, max next-morning pain (NaN when not logged)."""
    n = raw.n_days
    during = np.full(n, np.nan)
    morning = np.full(n, np.nan)
    for e in raw.log:
        if e["kind"] != "pain":
            continue
        i = raw.index(e["date"])
        if e.get("during") is not None:
            during[i] = np.fmax(during[i], float(e["during"]))
        if e.get("next_morning") is not None:
            morning[i] = np.fmax(morning[i], float(e["next_morning"]))
    return during, morning


def masked_days(raw: DailyRaw, protocol: Protocol) -> BoolArray:
    """Days within a corticosteroid injection's window (its day included): pain relief and
    VISA-H there may be the drug's, so they count for no improvement."""
    rule = protocol.post_injection
    out = np.zeros(raw.n_days, dtype=bool)
    for e in raw.log:
        if e["kind"] == "intervention" and e.get("intervention") in rule.kinds:
            j = raw.index(e["date"])
            out[max(j, 0) : max(j + rule.window_days + 1, 0)] = True
    return out


def _usual(morning: FloatArray, i: int, days: int) -> float | None:
    """The patient's usual next-morning pain before day i: the median of the previous `days`
    days' scores, from the very first entry on (None before any)."""
    prev = morning[max(i - days, 0) : i]
    prev = prev[~np.isnan(prev)]
    return float(np.median(prev)) if prev.size else None


_FLARE_ADVICE = ("For the next days do only the gentle holds (isometrics): no hops, no RDLs or "
                 "deep bends, and sit less (cushion, stand up every 20-30 min).")  # fmt: skip


def _pain(ctx: _Ctx) -> None:
    during, morning, n = ctx.during, ctx.morning, ctx.raw.n_days
    alarm_day = np.zeros(n, dtype=bool)
    usual_at = np.full(n, np.nan)
    for i in range(n):
        lim = ctx.phases[ctx.pi[i]].pain
        if lim is None:
            continue
        show = ctx.lo <= i < ctx.hi
        d = during[i]
        if not np.isnan(d) and d > lim.during_max:
            alarm = d >= lim.during_max + lim.alarm_above_limit or d >= lim.alarm_during
            alarm_day[i] |= alarm
            if show:
                ctx.add(
                    i, "pain.during", "alarm" if alarm else "caution",
                    f"pain during exercise {_d(d)}/10 (phase limit {_d(lim.during_max)}/10"
                    + (f"; alarm at >= {_d(lim.during_max + lim.alarm_above_limit)} or "
                       f">= {_d(lim.alarm_during)})" if alarm else ")"),
                    {"during": d, "limit": lim.during_max,
                     "alarm_at": min(lim.during_max + lim.alarm_above_limit, lim.alarm_during)},
                    lim.source,
                    patient=(f"Pain of {_d(d)}/10 during exercise is too much. Stop the exercise "
                             "that hurts and tell your physio. " + _FLARE_ADVICE) if alarm else
                            (f"Pain of {_d(d)}/10 during exercise is a bit above your limit of "
                             f"{_d(lim.during_max)}. Next session, use less weight or fewer "
                             "reps so it stays at or below the limit."),
                )  # fmt: skip
        m = morning[i]
        usual = _usual(morning, i, lim.baseline_days)
        usual_at[i] = np.nan if usual is None else usual
        if np.isnan(m):
            continue
        rise = None if usual is None else m - usual
        alarm = m >= lim.alarm_next_morning or (
            rise is not None and rise >= lim.alarm_next_morning_rise - 1e-9
        )
        caution = rise is not None and rise > lim.next_morning_margin + 1e-9
        if not (alarm or caution):
            continue
        alarm_day[i] |= alarm
        if show:
            base = "no earlier score" if usual is None else f"usual {_d(usual)}/10"
            ctx.add(
                i, "pain.next_morning", "alarm" if alarm else "caution",
                f"next-morning pain {_d(m)}/10 ({base}; margin {_d(lim.next_morning_margin)}, "
                f"alarm at +{_d(lim.alarm_next_morning_rise)} or >= "
                f"{_d(lim.alarm_next_morning)}/10) - the load was not tolerated",
                {"next_morning": m, "usual": usual, "margin": lim.next_morning_margin,
                 "baseline_days": lim.baseline_days,
                 "alarm_rise": lim.alarm_next_morning_rise,
                 "alarm_at": lim.alarm_next_morning},
                lim.source,
                patient=(f"Pain of {_d(m)}/10 the morning after means the tendon did not "
                         "tolerate the last session. " + _FLARE_ADVICE) if alarm else
                        (f"Pain of {_d(m)}/10 the morning after is a little above your usual. "
                         "Repeat your last session's dose next time instead of increasing it."),
            )  # fmt: skip
    _flare(ctx, alarm_day, usual_at)
    _creeping(ctx)


def _flare(ctx: _Ctx, alarm_day: BoolArray, usual_at: FloatArray) -> None:
    """After an alarm-level pain response: isometrics only until pain has settled for
    flare_settle_days days in a row (48-72 h); days without a pain score do not settle."""
    during, morning, n = ctx.during, ctx.morning, ctx.raw.n_days
    in_flare, settled, ref = False, 0, np.nan
    for i in range(n):
        lim = ctx.phases[ctx.pi[i]].pain
        if lim is None:
            continue
        if alarm_day[i]:
            if not in_flare:
                ref = usual_at[i] if np.isfinite(usual_at[i]) else lim.alarm_next_morning - 2
            in_flare, settled = True, 0
            ctx.flare[i] = True
            continue
        if not in_flare:
            continue
        ctx.flare[i] = True
        d, m = during[i], morning[i]
        logged = not (np.isnan(d) and np.isnan(m))
        ok = logged and (np.isnan(d) or d <= lim.during_max) and (
            np.isnan(m) or m <= ref + lim.next_morning_margin + 1e-9
        )
        settled = settled + 1 if ok else 0
        if ctx.lo <= i < ctx.hi:
            loaded = [k for k, c in ctx.p.categories.items()
                      if c.measure not in ("hold_s", "sitting_min", "srpe")
                      and ctx.cmp.loads[k][i] > 0]  # fmt: skip
            left = max(lim.flare_settle_days - settled, 0)
            ctx.add(
                i, "pain.flare", "caution",
                f"flare after an alarm-level pain response: settled {settled} of "
                f"{lim.flare_settle_days} days needed"
                + (f"; loaded work done today: {', '.join(loaded)}" if loaded else ""),
                {"settled_days": settled, "settle_days": lim.flare_settle_days,
                 "loaded_today": loaded},
                lim.source,
                patient=("Your tendon is settling after a flare-up. " + _FLARE_ADVICE
                         + (" Back to your plan tomorrow if the pain stays settled."
                            if left == 0 else
                            f" Keep logging your pain: back to your plan after {left} more "
                            "settled day(s).")),
            )  # fmt: skip
        if settled >= lim.flare_settle_days:
            in_flare = False


def _creeping(ctx: _Ctx) -> None:
    """Weekly mean pain (next morning, else during), or morning stiffness, rising two weeks
    running; the days of a flare are left out (they have their own alarm and advice)."""
    pain = np.where(np.isnan(ctx.morning), ctx.during, ctx.morning)
    stiff = np.full(ctx.raw.n_days, np.nan)
    for e in ctx.raw.log:
        if e["kind"] == "pain" and e.get("stiffness") is not None:
            i = ctx.raw.index(e["date"])
            stiff[i] = np.fmax(stiff[i], float(e["stiffness"]))
    n = ctx.raw.n_days
    rise = np.zeros(n)
    for j, ph in enumerate(ctx.phases):
        rise[ctx.pi == j] = ph.pain.creep_min_rise if ph.pain is not None else np.inf
    for what, series in (("pain", pain), ("stiffness", stiff)):
        x = np.where(ctx.flare, np.nan, series)
        has = (~np.isnan(x)).astype(np.float64)
        s = rolling_sum(np.nan_to_num(x, nan=0.0), 7)
        c = rolling_sum(has, 7)
        with np.errstate(divide="ignore", invalid="ignore"):
            wk = np.where(c >= 3, s / np.maximum(c, 1), np.nan)
        w1 = np.full(n, np.nan)
        w0 = np.full(n, np.nan)
        w1[7:], w0[14:] = wk[:-7], wk[:-14]
        with np.errstate(invalid="ignore"):
            creep = (wk > w1 + 1e-9) & (w1 > w0 + 1e-9) & (wk - w0 >= rise - 1e-9)
        creep = _onset(np.nan_to_num(creep, nan=0.0).astype(bool))
        for i in ctx.hits(creep, conservative=False):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.pain is not None
            ctx.add(
                i, "pain.creeping", "caution",
                f"weekly mean {what} creeping up: {w0[i]:.1f} -> {w1[i]:.1f} -> {wk[i]:.1f}/10 "
                f"(+{wk[i] - w0[i]:.1f} over two weeks; warn at +{_d(ph.pain.creep_min_rise)})",
                {"measure": what, "week_mean": _r(wk[i]), "week_before": _r(w1[i]),
                 "two_weeks_before": _r(w0[i]), "min_rise": ph.pain.creep_min_rise},
                ph.pain.source,
                patient=(f"Your {what} has been slowly rising for two weeks. Do not increase "
                         "your exercise this week, and mention it to your physio at your next "
                         "visit."),
            )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Load: too much, too soon


def _too_much(ctx: _Ctx) -> None:
    p, cmp, a = ctx.p, ctx.cmp, ctx.p.acwr
    n = ctx.raw.n_days
    for k in cmp.ratio:
        load = cmp.loads[k]
        r = cmp.ratio[k]
        high = ctx.based[k] & (np.nan_to_num(r, nan=0.0) > a.caution_above)
        for i in ctx.hits(_first_loaded(high, load > 0)):
            ctx.add(
                i, "acwr.high", "caution",
                f"{_label(p, k)}: acute:chronic {r[i]:.2f} (> {a.caution_above:g}; "
                f"acute {cmp.acute[k][i]:.0f} vs chronic {cmp.chronic[k][i]:.0f} "
                f"{_unit(p, k)}/day)",
                {"category": k, "today": _r(load[i]), "acute": _r(cmp.acute[k][i]),
                 "chronic": _r(cmp.chronic[k][i]), "ratio": _r(r[i]),
                 "threshold": a.caution_above, "unit": _unit(p, k)},
                a.source, k,
                patient=(f"In the last week you did far more {_plain(p, k)} than you are used to "
                         "over the last month. Keep the next sessions at your usual level "
                         "rather than adding more."),
            )  # fmt: skip
    # Planned steps: a prescription edit exempts its categories from week-on-week for a while.
    step = {k: np.zeros(n, dtype=bool) for k in p.categories}
    for e in ctx.raw.log:
        if e["kind"] == "prescription":
            j = max(ctx.raw.index(e["date"]), 0)
            for k, c in p.categories.items():
                if e.get("exercise") in c.exercises:
                    step[k][j : j + PLANNED_STEP_DAYS] = True
    for k in p.categories:
        if k not in cmp.week:
            continue
        lim_p, min_prev_p, on_p, brk_p = [], [], [], []
        for ph in ctx.phases:
            pr = ph.progression
            on = pr is not None and k in pr.categories
            on_p.append(1.0 if on else 0.0)
            lim_p.append(pr.week_on_week_max_pct if pr is not None else np.inf)
            min_prev_p.append(pr.min_previous_week if pr is not None else np.inf)
            brk_p.append(float(pr.break_days) if pr is not None else np.inf)
        on_d = ctx.per_phase(on_p) > 0
        lim_d, minp_d = ctx.per_phase(lim_p), ctx.per_phase(min_prev_p)
        pct = np.nan_to_num(cmp.week_on_week_pct[k], nan=-np.inf)
        mask = (
            on_d & ctx.based[k] & ~step[k] & (cmp.previous_week[k] >= minp_d) & (pct > lim_d)
        )  # fmt: skip
        for i in ctx.hits(_first_loaded(mask, cmp.loads[k] > 0)):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.progression is not None
            ctx.add(
                i, "week_on_week.high", "caution",
                f"{_label(p, k)}: {cmp.week[k][i]:.0f} {_unit(p, k)} in the last 7 days vs "
                f"{cmp.previous_week[k][i]:.0f} the 7 before (+{pct[i]:.0f} %, limit "
                f"{lim_d[i]:g} %)",
                {"category": k, "week": _r(cmp.week[k][i]),
                 "previous_week": _r(cmp.previous_week[k][i]), "increase_pct": _r(pct[i], 1),
                 "limit_pct": lim_d[i]},
                ph.progression.source, k,
                patient=(f"You increased your {_plain(p, k)} by {pct[i]:.0f} % on last week; "
                         f"increases of up to {lim_d[i]:g} % a week are safer. Keep the next "
                         "sessions at last week's level."),
            )  # fmt: skip
        _build_back(ctx, k, on_d, ctx.per_phase(brk_p), lim_d)
    _bands(ctx)
    # First exposure: no chronic base yet, the day's value above the phase's cap.
    for k in p.categories:
        caps = [
            (ph.first_exposure.caps.get(k, np.nan) if ph.first_exposure else np.nan)
            for ph in ctx.phases
        ]
        cap_d = ctx.per_phase(caps)
        base = ctx.based.get(k, cmp.based[k])
        mask = ~base & (cmp.loads[k] > np.nan_to_num(cap_d, nan=np.inf))
        for i in ctx.hits(mask):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.first_exposure is not None
            ctx.add(
                i, "first_exposure.cap", "caution",
                f"{_label(p, k)}: {cmp.loads[k][i]:.0f} {_unit(p, k)} today, cap "
                f"{cap_d[i]:g} while there is no chronic base ({int(cmp.base[k][i])} loaded "
                f"days of the last {a.chronic_days}, {a.min_base_days} needed)",
                {"category": k, "today": _r(cmp.loads[k][i]), "cap": cap_d[i],
                 "base_days": int(cmp.base[k][i]), "min_base_days": a.min_base_days},
                ph.first_exposure.source, k,
                patient=(f"Today you did more {_plain(p, k)} than a session in the first weeks "
                         "should have. Build up over a few weeks: next time stay at or below "
                         f"{cap_d[i]:g} {_unit(p, k)}."),
            )  # fmt: skip


def _build_back(
    ctx: _Ctx, k: str, on_d: BoolArray, brk_d: FloatArray, lim_d: FloatArray
) -> None:
    """The first loaded day after a break of >= break_days, above the dose before the break."""
    load = ctx.cmp.loads[k]
    n = load.shape[0]
    loaded = np.nonzero(load > 0)[0]
    for a, b in itertools.pairwise(loaded):
        gap = int(b - a - 1)
        if not on_d[b] or gap < brk_d[b]:
            continue
        before = load[max(a - 6, 0) : a + 1]
        ref = float(before.max()) if before.size else 0.0
        if ref <= 0 or load[b] <= ref * (1.0 + lim_d[b] / 100.0) + 1e-9:
            continue
        if not (ctx.lo <= b < ctx.hi and ctx.conservative[b]) or b >= n:
            continue
        ph = ctx.phases[ctx.pi[b]]
        assert ph.progression is not None
        p = ctx.p
        ctx.add(
            int(b), "load.build_back", "caution",
            f"{_label(p, k)}: {load[b]:.0f} {_unit(p, k)} on the first day after {gap} days "
            f"without, vs at most {ref:.0f} a day before the break (+{lim_d[b]:g} % allowed)",
            {"category": k, "today": _r(load[b]), "before_break": _r(ref), "break_days": gap,
             "limit_pct": lim_d[b]},
            ph.progression.source, k,
            patient=(f"After a break of {gap} days, start again below your old level (about "
                     f"{ref * 0.7:.0f} {_unit(p, k)}) and build back over 1-2 weeks."),
        )  # fmt: skip


def _bands(ctx: _Ctx) -> None:
    """The compared value above the phase's band (not sitting: its own rules; not bands of
    [0, 0] for exercises outside the phase: the phase rules say that)."""
    p, cmp = ctx.p, ctx.cmp
    for k, c in p.categories.items():
        if c.measure in ("sitting_min", "running_min") or k not in cmp.status:
            continue
        high = cmp.high[k]
        mask = (cmp.status[k] == 1) & (np.nan_to_num(high, nan=0.0) > 0)
        for i in ctx.hits(_first_loaded(mask, cmp.loads[k] > 0)):
            ph = ctx.phases[ctx.pi[i]]
            band = ph.targets.get(k)
            per = "in the last 7 days" if cmp.per_week[k][i] else "today"
            ctx.add(
                i, "band.above", "caution",
                f"{_label(p, k)}: {cmp.compared[k][i]:.0f} {c.unit} {per}, above the phase "
                f"{ph.id} band {cmp.low[k][i]:g}-{high[i]:g}",
                {"category": k, "value": _r(cmp.compared[k][i]), "low": _r(cmp.low[k][i]),
                 "high": _r(high[i]), "period": "week" if cmp.per_week[k][i] else "day"},
                band.source if band is not None else ph.source, k,
                patient=(f"You did more {_plain(p, k)} {per} than your "
                         f"programme asks for (up to {high[i]:g} {c.unit}). Stick to the "
                         "prescribed amount; more is not better for a healing tendon."),
            )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Too little


def _too_little(ctx: _Ctx) -> None:
    p, cmp, raw, a = ctx.p, ctx.cmp, ctx.raw, ctx.p.acwr
    for k in cmp.ratio:
        if k == TOTAL:
            continue
        req_d = ctx.per_phase(
            [1.0 if k in _required_categories(p, ph) else 0.0 for ph in ctx.phases]
        ) > 0
        r = cmp.ratio[k]
        low = (np.nan_to_num(r, nan=np.inf) < a.low_below).astype(np.float64)
        run = rolling_sum(low, a.low_for_days) >= a.low_for_days - 1e-9
        mask = req_d & run & ctx.based[k] & ~ctx.flare
        for i in ctx.hits(_onset(mask)):
            ctx.add(
                i, "acwr.low", "caution",
                f"{_label(p, k)}: acute:chronic below {a.low_below:g} for {a.low_for_days} days "
                f"({r[i]:.2f})",
                {"category": k, "ratio": _r(r[i]), "acute": _r(cmp.acute[k][i]),
                 "chronic": _r(cmp.chronic[k][i]), "threshold": a.low_below,
                 "days": a.low_for_days},
                a.source, k,
                patient=(f"You have been doing less {_plain(p, k)} than before for a week."
                         " Go back to the prescribed amount; a tendon "
                         "needs regular load to keep getting stronger."),
            )  # fmt: skip
    n = raw.n_days
    idx = np.arange(n)
    req_ex = [ph.required_exercises() for ph in ctx.phases]
    done = np.zeros(n, dtype=bool)
    for j, exs in enumerate(req_ex):
        in_ph = ctx.pi == j
        for e in exs:
            ed = raw.exercises[e]
            done |= in_ph & ((ed.reps > 0) | (ed.hold_s > 0))
    last_done = np.maximum.accumulate(np.where(done, idx, -1)) if n else idx
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = ctx.pi[1:] != ctx.pi[:-1]
    spell_start = np.maximum.accumulate(np.where(change, idx, 0)) if n else idx
    streak = idx - np.maximum(last_done, spell_start - 1)
    has_req = ctx.per_phase([1.0 if r else 0.0 for r in req_ex]) > 0
    tl = p.too_little
    for i in ctx.hits(has_req & (streak == tl.max_days_without + 1) & ~ctx.flare):
        ph = ctx.phases[ctx.pi[i]]
        names = [p.exercises[e].label.split(" (")[0].lower() for e in ph.required_exercises()]
        ctx.add(
            i, "too_little.days_without", "caution",
            f"{int(streak[i])} days without the prescribed exercises "
            f"({', '.join(ph.required_exercises())}; limit {tl.max_days_without})",
            {"days": int(streak[i]), "limit": tl.max_days_without},
            tl.source,
            patient=(f"No prescribed exercise for {int(streak[i])} days. Do today's session "
                     f"({', '.join(names)}) - even a lighter one: the tendon needs relative "
                     "rest, not complete rest."),
        )  # fmt: skip
    ia = p.inactivity
    classified = (raw.wear_min - raw.sitting_min) > 1e-9
    mask = (
        classified
        & (raw.wear_min >= ia.min_wear_hours * 60.0)
        & (raw.active_min < ia.min_active_minutes)
    )
    for i in ctx.hits(mask):
        ctx.add(
            i, "too_little.inactive", "caution",
            f"only {raw.active_min[i]:.0f} min upright or active in {raw.wear_min[i] / 60:.1f} h "
            f"worn (want >= {ia.min_active_minutes:g} min)",
            {"active_min": _r(raw.active_min[i], 1), "wear_h": _r(raw.wear_min[i] / 60, 1),
             "min_active_min": ia.min_active_minutes},
            ia.source,
            patient=("You were hardly on your feet today. Take a few short walks tomorrow: "
                     "rest the tendon, but do not stop moving altogether."),
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Phase, running, tempo, sitting


def _phase_rules(ctx: _Ctx) -> None:
    raw = ctx.raw
    for name, ed in raw.exercises.items():
        did = (ed.reps > 0) | (ed.hold_s > 0)
        not_allowed = ctx.per_phase(
            [0.0 if name in ph.allowed else 1.0 for ph in ctx.phases]
        ) > 0
        label = ctx.p.exercises[name].label
        plain = label.split(" (")[0]
        for i in ctx.hits(did & not_allowed):
            ph = ctx.phases[ctx.pi[i]]
            rule = next((r for r in ph.avoid if name in r.exercises), None)
            amount = ed.hold_s[i] if ed.hold_s[i] > 0 else ed.reps[i]
            unit = "s" if ed.hold_s[i] > 0 else ctx.p.exercises[name].kind
            nums = {"exercise": name, "amount": _r(amount, 1), "unit": unit, "phase": ph.id}
            tell = (f"{plain} is not part of your programme yet ({ph.name}). Leave it out "
                    "until your physio adds it.")  # fmt: skip
            if rule is not None:
                ctx.add(i, rule.rule, rule.severity,
                        f"{label} ({_d(float(amount))} {unit}) in phase {ph.id} ({ph.name}): "
                        f"{rule.message}", nums, rule.source, patient=tell)  # fmt: skip
            else:
                ctx.add(i, "phase.not_in_phase", "caution",
                        f"{label} ({_d(float(amount))} {unit}) is not part of phase {ph.id} "
                        f"({ph.name})", nums, ph.source, patient=tell)  # fmt: skip


def _running(ctx: _Ctx) -> None:
    run = ctx.raw.running_min
    week = rolling_sum(run, 7)
    not_ok = ctx.per_phase(
        [1.0 if ph.running is not None and not ph.running.allowed else 0.0 for ph in ctx.phases]
    ) > 0
    for i in ctx.hits(not_ok & (run > 0.5)):
        ph = ctx.phases[ctx.pi[i]]
        assert ph.running is not None
        ctx.add(
            i, "running.not_in_phase", "caution",
            f"{run[i]:.0f} min running in phase {ph.id} ({ph.name}); running returns in the "
            "energy-storage phase",
            {"running_min": _r(run[i], 1), "phase": ph.id}, ph.running.source,
            patient=(f"You ran for {run[i]:.0f} min today. Running is not part of your programme "
                     "yet: walk or cycle instead until your physio starts your return to run."),
        )  # fmt: skip
    for cap_name, vals, label in (("max_week_min", week, "in the last 7 days"),
                                  ("max_day_min", run, "today")):  # fmt: skip
        cap_d = ctx.per_phase([
            getattr(ph.running, cap_name) or np.inf
            if ph.running is not None and ph.running.allowed else np.inf
            for ph in ctx.phases
        ])  # fmt: skip
        rule = "running.week_cap" if cap_name == "max_week_min" else "running.day_cap"
        for i in ctx.hits(_onset((vals > cap_d + 1e-9) & (run > 0))):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.running is not None
            ctx.add(
                i, rule, "caution",
                f"running {vals[i]:.0f} min {label} (return-to-run cap {cap_d[i]:g} min)",
                {"running_min": _r(vals[i], 1), "cap_min": cap_d[i]}, ph.running.source,
                patient=(f"You ran {vals[i]:.0f} min {label}; your return-to-run plan allows "
                         f"{cap_d[i]:g}. Keep to the plan, on the flat and at an easy pace: "
                         "hills and speed come last."),
            )  # fmt: skip


def _tempo(ctx: _Ctx) -> None:
    raw = ctx.raw
    for name, reps in raw.tempo.items():
        if reps.day.size == 0:
            continue
        tempo_p, tol_p, share_p = [], [], []
        for ph in ctx.phases:
            d = ph.prescribed.get(name)
            use = ph.tempo is not None and name in ph.tempo.exercises and d is not None
            tempo_p.append(d.tempo_s if use and d is not None and d.tempo_s else np.nan)
            tol_p.append(ph.tempo.tolerance_s if ph.tempo is not None else 0.0)
            share_p.append(ph.tempo.min_share if ph.tempo is not None else 0.0)
        t_d, tol_d, sh_d = ctx.per_phase(tempo_p), ctx.per_phase(tol_p), ctx.per_phase(share_p)
        need = t_d[reps.day] - tol_d[reps.day]
        ok: BoolArray = (reps.eccentric_s >= need) & (reps.concentric_s >= need)
        valid = ~np.isnan(need)
        n = raw.n_days
        measured = np.bincount(reps.day[valid], minlength=n)[:n]
        at = np.bincount(reps.day[valid & ok], minlength=n)[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(measured > 0, at / np.maximum(measured, 1), np.nan)
        mask = (measured > 0) & (np.nan_to_num(share, nan=1.0) < sh_d)
        for i in ctx.hits(mask):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.tempo is not None
            plain = ctx.p.exercises[name].label.split(" (")[0]
            ctx.add(
                i, "tempo.fast", "caution",
                f"{ctx.p.exercises[name].label}: {int(at[i])} of {int(measured[i])} reps at the "
                f"prescribed {t_d[i]:g} s each way ({100 * share[i]:.0f} %, want "
                f">= {100 * sh_d[i]:.0f} %; tolerance {tol_d[i]:g} s)",
                {"exercise": name, "reps": int(measured[i]), "at_tempo": int(at[i]),
                 "share": _r(share[i]), "tempo_s": t_d[i], "tolerance_s": tol_d[i],
                 "min_share": sh_d[i]},
                ph.tempo.source,
                patient=(f"Most of your {plain} reps were too quick. Count {t_d[i]:g} seconds "
                         f"down and {t_d[i]:g} seconds up; slow reps are what rebuild the "
                         "tendon."),
            )  # fmt: skip


def _sitting(ctx: _Ctx) -> None:
    raw = ctx.raw
    bout_p = [ph.sitting.max_bout_min if ph.sitting else np.inf for ph in ctx.phases]
    daily_p = [ph.sitting.max_daily_min if ph.sitting else np.inf for ph in ctx.phases]
    bout_d, daily_d = ctx.per_phase(bout_p), ctx.per_phase(daily_p)
    n = raw.n_days
    over: BoolArray = raw.sitting_bouts_min > bout_d[raw.sitting_bouts_day]
    n_over = np.bincount(raw.sitting_bouts_day[over], minlength=n)[:n]
    for i in ctx.hits(n_over > 0):
        ph = ctx.phases[ctx.pi[i]]
        assert ph.sitting is not None
        ctx.add(
            i, "sitting.bout", "caution",
            f"{int(n_over[i])} sitting bout(s) over {bout_d[i]:g} min (longest "
            f"{raw.sitting_longest_min[i]:.0f} min)",
            {"longest_min": _r(raw.sitting_longest_min[i], 1), "bouts_over": int(n_over[i]),
             "limit_min": bout_d[i]},
            ph.sitting.source,
            patient=(f"You sat for up to {raw.sitting_longest_min[i]:.0f} min at a time. Stand "
                     f"up and move at least every {bout_d[i]:g} min (set a timer), and sit on a "
                     "cushion or wedge."),
        )  # fmt: skip
    for i in ctx.hits(raw.sitting_min > daily_d):
        ph = ctx.phases[ctx.pi[i]]
        assert ph.sitting is not None
        ctx.add(
            i, "sitting.daily", "caution",
            f"{raw.sitting_min[i]:.0f} min sitting today (limit {daily_d[i]:g} min)",
            {"sitting_min": _r(raw.sitting_min[i], 1), "limit_min": daily_d[i]},
            ph.sitting.source,
            patient=(f"You sat for {raw.sitting_min[i] / 60:.1f} hours today; sitting presses "
                     "on the tendon. Tomorrow, swap some sitting for standing or walking."),
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Injections


def _injection(ctx: _Ctx) -> None:
    rule = ctx.p.post_injection
    p, cmp = ctx.p, ctx.cmp
    for e in ctx.raw.log:
        if e["kind"] != "intervention" or e.get("intervention") not in rule.kinds:
            continue
        j = ctx.raw.index(e["date"])
        until = ctx.day(j + rule.window_days)
        lo, hi = max(j, ctx.lo), min(j + rule.window_days + 1, ctx.hi)
        keep = (f"Your injection can weaken the tendon for about {rule.window_days} days even "
                f"though it hurts less: keep your exercise at the level before the injection "
                f"until {until}.")  # fmt: skip
        for i in range(max(lo, j + 1), hi):
            if i > 0 and ctx.pi[i] > ctx.pi[i - 1]:
                ph = ctx.phases[ctx.pi[i]]
                ctx.add(
                    i, "injection.phase_advance", "caution",
                    f"phase advanced to {ph.id} ({ph.name}) {i - j} days after a "
                    f"corticosteroid injection (window {rule.window_days} days)",
                    {"days_since_injection": i - j, "phase": ph.id,
                     "window_days": rule.window_days},
                    rule.source,
                    patient=f"Your programme moved on to {ph.name.lower()}. " + keep,
                )  # fmt: skip
        for k, c in p.categories.items():
            if c.measure in ("sitting_min", "srpe"):
                continue
            load = cmp.loads[k]
            week = rolling_sum(load, 7)
            pre = float(load[max(j - 7, 0) : j].sum())
            pre28 = float(load[max(j - 28, 0) : j].sum())
            limit = pre * (1.0 + rule.max_increase_pct / 100.0)
            for i in range(max(lo, j + 1), hi):
                if load[i] <= 0:
                    continue
                if pre28 <= 0:
                    ctx.add(
                        i, "injection.first_exposure", "caution",
                        f"{_label(p, k)}: first load ({load[i]:.0f} {c.unit}) {i - j} days "
                        "after a corticosteroid injection, none in the 28 days before it",
                        {"category": k, "days_since_injection": i - j, "today": _r(load[i]),
                         "window_days": rule.window_days},
                        rule.source, k, patient=keep,
                    )  # fmt: skip
                    break
                if pre > 0 and week[i] > limit + 1e-9:
                    ctx.add(
                        i, "injection.load_jump", "caution",
                        f"{_label(p, k)}: {week[i]:.0f} {c.unit} in the last 7 days, {i - j} "
                        f"days after a corticosteroid injection, vs {pre:.0f} in the 7 days "
                        f"before it (+{rule.max_increase_pct:g} % allowed)",
                        {"category": k, "days_since_injection": i - j,
                         "last_7_days": _r(week[i]), "week_before_injection": _r(pre),
                         "max_increase_pct": rule.max_increase_pct,
                         "window_days": rule.window_days},
                        rule.source, k, patient=keep,
                    )  # fmt: skip
                    break


# --------------------------------------------------------------------------------------------
# Milestones of conservative care


def _milestones(ctx: _Ctx) -> None:
    raw, m = ctx.raw, ctx.p.milestones
    n = raw.n_days
    visa = np.full(n, np.nan)
    for e in raw.log:
        if e["kind"] == "visa_h":
            visa[raw.index(e["date"])] = float(e["score"])
    masked = ctx.masked
    pain = np.where(np.isnan(ctx.during), ctx.morning, ctx.during)
    pain = np.where(masked, np.nan, pain)
    visa_ok = np.where(masked, np.nan, visa)
    has_visa = ~np.isnan(visa_ok)
    has_pain = ~np.isnan(pain)
    idx = np.arange(n)
    first_visa = int(np.argmax(has_visa)) if has_visa.any() else -1
    first_pain = int(np.argmax(has_pain)) if has_pain.any() else -1
    last_idx = np.maximum.accumulate(np.where(has_visa, idx, -1)) if n else idx
    latest = np.where(last_idx >= 0, visa_ok[np.maximum(last_idx, 0)], np.nan)
    count = np.cumsum(has_visa)
    visa_judged = np.zeros(n, dtype=bool)
    improved = np.zeros(n, dtype=bool)
    if first_visa >= 0:
        visa_judged = (count >= m.visa_h_min_readings) & (
            last_idx - first_visa >= m.visa_h_min_gap_days
        )
        improved |= (last_idx > first_visa) & (
            latest - visa_ok[first_visa] >= m.visa_h_improvement - 1e-9
        )
    w = m.pain_window_days
    pain_judged = np.zeros(n, dtype=bool)
    if first_pain >= 0:
        base = float(np.nanmean(pain[first_pain : first_pain + w]))
        s = rolling_sum(np.nan_to_num(pain, nan=0.0), w)
        c = rolling_sum(has_pain.astype(np.float64), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            cur = np.where(c > 0, s / np.maximum(c, 1), np.nan)
        later = idx >= first_pain + w
        pain_judged = later & (c >= max(w // 2, 1))
        improved |= later & (base - np.nan_to_num(cur, nan=np.inf) >= m.pain_improvement - 1e-9)
    any_outcome = np.maximum.accumulate(has_visa | has_pain) if n else has_visa
    days = idx - ctx.care_start
    due = days >= m.reassess_after_days
    judged = visa_judged | pain_judged
    no_outcome = due & ~any_outcome
    stuck = due & any_outcome & judged & ~improved
    sev_level = np.where(
        days >= m.referral_by_days, 3,
        np.where(days >= m.referral_after_days, 2, np.where(days >= m.reassess_by_days, 1, 0)),
    )  # fmt: skip
    prev_stuck = np.concatenate([[False], stuck[:-1]]) if n else stuck
    prev_level = np.concatenate([[-1], sev_level[:-1]]) if n else sev_level
    raise_ = stuck & (~prev_stuck | (sev_level != prev_level))
    for i in ctx.hits(_onset(no_outcome)):
        ctx.add(
            i, "milestone.no_outcome", "info",
            f"{int(days[i])} days of conservative care and no VISA-H or pain scores logged",
            {"days_of_care": int(days[i])}, m.source,
            patient=("Please log your pain after each session and fill in the VISA-H "
                     "questionnaire, so you and your physio can see your progress."),
        )  # fmt: skip
    for i in ctx.hits(raise_):
        d = int(days[i])
        nums = {
            "days_of_care": d,
            "visa_h_first": _r(visa_ok[first_visa]) if first_visa >= 0 else None,
            "visa_h_latest": _r(latest[i]),
            "visa_h_readings": int(count[i]),
            "visa_h_improvement": m.visa_h_improvement,
            "pain_improvement": m.pain_improvement,
            "masked_days": int(masked[: i + 1].sum()),
        }
        judged_by = "VISA-H" if visa_judged[i] else f"pain over {w}-day windows"
        if d < m.referral_after_days:
            sev = "alarm" if d >= m.reassess_by_days else "caution"
            ctx.add(
                i, "milestone.reassess", sev,
                f"{d // 7} weeks of conservative care without improvement ({judged_by}; want "
                f"VISA-H +{m.visa_h_improvement:g} or pain -{m.pain_improvement:g}): reassess, "
                "consider imaging or specialist referral, consider systemic inflammatory disease",
                nums, m.source,
                patient=("Your symptoms have not improved as hoped after several weeks. Book a "
                         "review with your physio or doctor to check the plan."),
            )  # fmt: skip
        else:
            sev = "alarm" if d >= m.referral_by_days else "caution"
            ctx.add(
                i, "milestone.referral", sev,
                f"{d // 7} weeks ({d / 30.4:.1f} months) of conservative care without success "
                f"({judged_by}): consider specialist referral (surgery only after 3-6 months of "
                "failed conservative care)",
                nums, m.source,
                patient=("After months of exercise your symptoms have not improved enough. "
                         "Ask your physio or doctor about a specialist referral."),
            )  # fmt: skip
    # A fall of >= visa_h_drop points from the best earlier reading.
    best = -np.inf
    for i in range(n):
        v = visa_ok[i]
        if np.isnan(v):
            continue
        if best - v >= m.visa_h_drop - 1e-9 and ctx.lo <= i < ctx.hi and ctx.conservative[i]:
            ctx.add(
                i, "milestone.visa_h_drop", "caution",
                f"VISA-H {v:g}, down {best - v:g} points from the best earlier {best:g} "
                f"(warn at {m.visa_h_drop:g})",
                {"visa_h": v, "best_before": best, "drop": best - v, "threshold": m.visa_h_drop},
                m.source,
                patient=("Your questionnaire score has dropped: your hamstring is doing worse. "
                         "Do not increase your exercise, and book a review with your physio."),
            )  # fmt: skip
        best = max(best, v)


def store_alerts(
    db: storage.Database, patient_id: int, alerts: list[Alert], start: str, end: str
) -> None:
    """Replace the stored warnings of days [start, end] with `alerts` (one transaction)."""
    with storage.transaction(db):
        db.execute(
            "DELETE FROM warnings WHERE patient_id = ? AND date >= ? AND date <= ?",
            [patient_id, start, end],
        )
        rows = [
            {"patient_id": patient_id, "date": a.date, "rule": a.rule, "severity": a.severity,
             "message": a.message, "numbers": json.dumps(a.numbers), "source": a.source,
             "patient_message": a.patient, "created": storage.now_iso()}
            for a in alerts
        ]  # fmt: skip
        if rows:
            db.table("warnings").insert_all(rows, alter=True)
