"""Provides the warning rules: daily load, ratios and the log against the protocol -> Alerts.

The rule logic is here; every threshold and citation comes from the protocol file. Each
`Alert` carries the rule id, a severity (info | caution | alarm), a one-line message, the
numbers that triggered it and the protocol `source` text. Rules (docs/warnings.md explains
each for a physio):

    acwr.high                 EWMA acute:chronic > caution_above (alarm > alarm_above), per ACWR
                              category and the total, on a day with load in that category and a
                              chronic base (first load >= chronic_days ago and >= min_base_days
                              loaded days in the previous chronic_days; see loadmon.compare)
    acwr.low                  ratio < low_below on each of the last low_for_days days, for a
                              category the phase requires, with a chronic base
    week_on_week.high         7-day sum > previous 7 days by more than the phase's limit, on a
                              loaded day, with a chronic base and a previous week >= minimum
    first_exposure.cap        no chronic base yet and the day's value > the phase's cap
    too_little.days_without   more than max_days_without consecutive days (within the current
                              phase) without any required exercise
    too_little.inactive       a day worn >= min_wear_hours with < min_active_minutes upright/active
                              (only days with postures other than sitting classified)
    phase.<from the file>     an exercise the phase's `avoid` list names (e.g. hops in phase 1)
    phase.not_in_phase        any other exercise not allowed in the phase
    tempo.fast                share of reps at the prescribed tempo (each way >= tempo - tolerance)
                              below min_share
    sitting.bout              longest sitting bout > max_bout_min
    sitting.daily             sitting total > max_daily_min
    pain.during               pain during the day's session > during_max
    pain.next_morning         next-morning pain > baseline (median of the previous baseline_days
                              days' next-morning scores, at least 2) + margin
    injection.load_jump       on a loaded day within window_days after a corticosteroid
                              injection, the total load of the last 7 days exceeds the total of
                              the 7 days before the injection by more than max_increase_pct
    milestone.reassess        from reassess_after_days of care without improvement (alarm from
                              reassess_by_days) until referral_after_days
    milestone.referral        from referral_after_days (never earlier) without improvement
                              (alarm from referral_by_days)
    milestone.no_outcome      from reassess_after_days with no VISA-H or pain logged at all

"Improvement" (milestones): the latest VISA-H is >= the first VISA-H + visa_h_improvement, or
the mean pain (during, else next-morning) of the last pain_window_days days is lower than the
mean of the first pain_window_days days after the first pain entry by >= pain_improvement.

Public API: Alert, evaluate(raw, cmp, protocol, care_start_index, start, end) -> list[Alert],
store_alerts(db, patient_id, alerts, start, end), SEVERITY_ORDER.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Alert:
    date: str
    rule: str
    severity: str
    message: str
    numbers: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    category: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
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

    def day(self, i: int) -> str:
        return (self.raw.first_day + timedelta(days=int(i))).isoformat()

    def per_phase(self, values: list[float]) -> FloatArray:
        arr: FloatArray = np.asarray(values, dtype=np.float64)[self.pi]
        return arr

    def hits(self, mask: BoolArray) -> list[int]:
        return [int(i) for i in np.nonzero(mask[self.lo : self.hi])[0] + self.lo]

    def add(self, i: int, rule: str, sev: str, msg: str, nums: dict[str, Any], src: str,
            cat: str | None = None) -> None:  # fmt: skip
        self.out.append(Alert(self.day(i), rule, sev, msg, nums, src, cat))


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
    _too_much(ctx)
    _too_little(ctx)
    _phase_rules(ctx)
    _tempo(ctx)
    _sitting(ctx)
    _pain(ctx)
    _injection(ctx)
    _milestones(ctx)
    ctx.out.sort(key=lambda a: (a.date, SEVERITY_ORDER[a.severity], a.rule, a.category or ""))
    return ctx.out


def _label(p: Protocol, k: str) -> str:
    return "total load" if k == TOTAL else p.categories[k].label


def _unit(p: Protocol, k: str) -> str:
    return "rep-equivalents" if k == TOTAL else p.categories[k].unit


def _required_categories(p: Protocol, ph: Phase) -> set[str]:
    req = set(ph.required_exercises())
    return {k for k, c in p.categories.items() if req & set(c.exercises)}


def _too_much(ctx: _Ctx) -> None:
    p, cmp, a = ctx.p, ctx.cmp, ctx.p.acwr
    for k in cmp.ratio:
        load = cmp.loads[k]
        based = cmp.based[k]
        r = cmp.ratio[k]
        high = based & (load > 0) & (np.nan_to_num(r, nan=0.0) > a.caution_above)
        for i in ctx.hits(high):
            sev = "alarm" if r[i] > a.alarm_above else "caution"
            lim = a.alarm_above if sev == "alarm" else a.caution_above
            ctx.add(
                i, "acwr.high", sev,
                f"{_label(p, k)}: acute:chronic {r[i]:.2f} (> {lim:g}) - too much, too soon; "
                "hold or reduce this load",
                {"category": k, "today": _r(load[i]), "acute": _r(cmp.acute[k][i]),
                 "chronic": _r(cmp.chronic[k][i]), "ratio": _r(r[i]), "threshold": lim,
                 "unit": _unit(p, k)},
                a.source, k,
            )  # fmt: skip
    # Week-on-week, per the phase's progression limits.
    for k in p.categories:
        if k not in cmp.week:
            continue
        lim_p, min_prev_p, on_p = [], [], []
        for ph in ctx.phases:
            pr = ph.progression
            on = pr is not None and k in pr.categories
            on_p.append(1.0 if on else 0.0)
            lim_p.append(pr.week_on_week_max_pct if pr is not None else np.inf)
            min_prev_p.append(pr.min_previous_week if pr is not None else np.inf)
        on_d = ctx.per_phase(on_p) > 0
        lim_d, minp_d = ctx.per_phase(lim_p), ctx.per_phase(min_prev_p)
        pct = np.nan_to_num(cmp.week_on_week_pct[k], nan=-np.inf)
        mask = (
            on_d & cmp.based[k] & (cmp.loads[k] > 0)
            & (cmp.previous_week[k] >= minp_d) & (pct > lim_d)
        )  # fmt: skip
        for i in ctx.hits(mask):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.progression is not None
            ctx.add(
                i, "week_on_week.high", "caution",
                f"{_label(p, k)}: {cmp.week[k][i]:.0f} {_unit(p, k)} this week vs "
                f"{cmp.previous_week[k][i]:.0f} the week before (+{pct[i]:.0f} %, limit "
                f"{lim_d[i]:g} %) - increase more gradually",
                {"category": k, "week": _r(cmp.week[k][i]),
                 "previous_week": _r(cmp.previous_week[k][i]), "increase_pct": _r(pct[i], 1),
                 "limit_pct": lim_d[i]},
                ph.progression.source, k,
            )  # fmt: skip
    # First exposure: no chronic base yet, the day's value above the phase's cap.
    for k in p.categories:
        caps = [
            (ph.first_exposure.caps.get(k, np.nan) if ph.first_exposure else np.nan)
            for ph in ctx.phases
        ]
        cap_d = ctx.per_phase(caps)
        mask = ~cmp.based[k] & (cmp.loads[k] > np.nan_to_num(cap_d, nan=np.inf))
        for i in ctx.hits(mask):
            ph = ctx.phases[ctx.pi[i]]
            assert ph.first_exposure is not None
            ctx.add(
                i, "first_exposure.cap", "caution",
                f"{_label(p, k)}: {cmp.loads[k][i]:.0f} {_unit(p, k)} with no chronic base yet "
                f"(cap {cap_d[i]:g}) - build up gradually",
                {"category": k, "today": _r(cmp.loads[k][i]), "cap": cap_d[i],
                 "base_days": int(cmp.base[k][i]), "min_base_days": a.min_base_days},
                ph.first_exposure.source, k,
            )  # fmt: skip


def _too_little(ctx: _Ctx) -> None:
    p, cmp, raw, a = ctx.p, ctx.cmp, ctx.raw, ctx.p.acwr
    # Ratio < low_below for a week, for the categories the phase requires.
    for k in cmp.ratio:
        if k == TOTAL:
            continue
        req_d = ctx.per_phase(
            [1.0 if k in _required_categories(p, ph) else 0.0 for ph in ctx.phases]
        ) > 0
        r = cmp.ratio[k]
        low = (np.nan_to_num(r, nan=np.inf) < a.low_below).astype(np.float64)
        run = rolling_sum(low, a.low_for_days) >= a.low_for_days - 1e-9
        mask = req_d & run & cmp.based[k]
        for i in ctx.hits(mask):
            ctx.add(
                i, "acwr.low", "caution",
                f"{_label(p, k)}: acute:chronic below {a.low_below:g} for {a.low_for_days} days "
                f"({r[i]:.2f}) - the tendon is losing its load base",
                {"category": k, "ratio": _r(r[i]), "acute": _r(cmp.acute[k][i]),
                 "chronic": _r(cmp.chronic[k][i]), "threshold": a.low_below,
                 "days": a.low_for_days},
                a.source, k,
            )  # fmt: skip
    # Days without any required exercise, within the current phase spell.
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
    for i in ctx.hits(has_req & (streak > tl.max_days_without)):
        ph = ctx.phases[ctx.pi[i]]
        ctx.add(
            i, "too_little.days_without", "caution",
            f"{int(streak[i])} days without the prescribed exercises "
            f"({', '.join(ph.required_exercises())}) - relative rest, not complete rest",
            {"days": int(streak[i]), "limit": tl.max_days_without},
            tl.source,
        )  # fmt: skip
    ia = p.inactivity
    # Judged only where the detectors classified postures other than sitting (lying, standing,
    # walking, ...): a stream of sitting bouts alone says nothing about the rest of the day.
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
            "worn - never completely immobilise",
            {"active_min": _r(raw.active_min[i], 1), "wear_h": _r(raw.wear_min[i] / 60, 1),
             "min_active_min": ia.min_active_minutes},
            ia.source,
        )  # fmt: skip


def _phase_rules(ctx: _Ctx) -> None:
    raw = ctx.raw
    for name, ed in raw.exercises.items():
        did = (ed.reps > 0) | (ed.hold_s > 0)
        not_allowed = ctx.per_phase(
            [0.0 if name in ph.allowed else 1.0 for ph in ctx.phases]
        ) > 0
        for i in ctx.hits(did & not_allowed):
            ph = ctx.phases[ctx.pi[i]]
            rule = next((r for r in ph.avoid if name in r.exercises), None)
            amount = ed.hold_s[i] if ed.hold_s[i] > 0 else ed.reps[i]
            unit = "s" if ed.hold_s[i] > 0 else ctx.p.exercises[name].kind
            nums = {"exercise": name, "amount": _r(amount, 1), "unit": unit, "phase": ph.id}
            if rule is not None:
                ctx.add(i, rule.rule, rule.severity,
                        f"{ctx.p.exercises[name].label} in phase {ph.id} ({ph.name}): "
                        f"{rule.message}", nums, rule.source)  # fmt: skip
            else:
                ctx.add(i, "phase.not_in_phase", "caution",
                        f"{ctx.p.exercises[name].label} is not part of phase {ph.id} "
                        f"({ph.name})", nums, ph.source)  # fmt: skip


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
            ctx.add(
                i, "tempo.fast", "caution",
                f"{ctx.p.exercises[name].label}: {int(at[i])} of {int(measured[i])} reps at the "
                f"prescribed {t_d[i]:g} s each way ({100 * share[i]:.0f} %, want "
                f">= {100 * sh_d[i]:.0f} %) - slow down",
                {"exercise": name, "reps": int(measured[i]), "at_tempo": int(at[i]),
                 "share": _r(share[i]), "tempo_s": t_d[i], "tolerance_s": tol_d[i],
                 "min_share": sh_d[i]},
                ph.tempo.source,
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
            f"{raw.sitting_longest_min[i]:.0f} min) - stand up and move more often; use a "
            "cushion or wedge",
            {"longest_min": _r(raw.sitting_longest_min[i], 1), "bouts_over": int(n_over[i]),
             "limit_min": bout_d[i]},
            ph.sitting.source,
        )  # fmt: skip
    for i in ctx.hits(raw.sitting_min > daily_d):
        ph = ctx.phases[ctx.pi[i]]
        assert ph.sitting is not None
        ctx.add(
            i, "sitting.daily", "caution",
            f"{raw.sitting_min[i]:.0f} min sitting today (limit {daily_d[i]:g} min) - "
            "sitting compresses the tendon",
            {"sitting_min": _r(raw.sitting_min[i], 1), "limit_min": daily_d[i]},
            ph.sitting.source,
        )  # fmt: skip


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


def _pain(ctx: _Ctx) -> None:
    during, morning = _pain_arrays(ctx.raw)
    for i in range(ctx.lo, ctx.hi):
        ph = ctx.phases[ctx.pi[i]]
        lim = ph.pain
        if lim is None:
            continue
        if not np.isnan(during[i]) and during[i] > lim.during_max:
            ctx.add(
                i, "pain.during", "caution",
                f"pain during exercise {during[i]:g}/10 (limit {lim.during_max:g}/10) - "
                "hold or reduce the load",
                {"during": during[i], "limit": lim.during_max}, lim.source,
            )  # fmt: skip
        if not np.isnan(morning[i]):
            prev = morning[max(i - lim.baseline_days, 0) : i]
            prev = prev[~np.isnan(prev)]
            if prev.size >= 2:
                base = float(np.median(prev))
                if morning[i] > base + lim.next_morning_margin:
                    ctx.add(
                        i, "pain.next_morning", "caution",
                        f"next-morning pain {morning[i]:g}/10 above baseline {base:g}/10 - "
                        "the load was not tolerated: hold or reduce it",
                        {"next_morning": morning[i], "baseline": base,
                         "margin": lim.next_morning_margin, "baseline_days": lim.baseline_days},
                        lim.source,
                    )  # fmt: skip


def _injection(ctx: _Ctx) -> None:
    rule = ctx.p.post_injection
    total = ctx.cmp.loads[TOTAL]
    week = rolling_sum(total, 7)
    for e in ctx.raw.log:
        if e["kind"] != "intervention" or e.get("intervention") not in rule.kinds:
            continue
        j = ctx.raw.index(e["date"])
        pre = float(total[max(j - 7, 0) : j].sum())
        limit = pre * (1.0 + rule.max_increase_pct / 100.0)
        for i in range(max(j + 1, ctx.lo), min(j + rule.window_days + 1, ctx.hi)):
            if total[i] > 0 and week[i] > limit + 1e-9:
                ctx.add(
                    i, "injection.load_jump", "caution",
                    f"day {i - j} after a corticosteroid injection: {week[i]:.0f} "
                    f"rep-equivalents in the last 7 days vs {pre:.0f} in the week before it "
                    f"(+{rule.max_increase_pct:g} % allowed) - the tendon may be weaker; "
                    "keep the load steady",
                    {"days_since_injection": i - j, "total_today": _r(total[i]),
                     "last_7_days": _r(week[i]), "week_before_injection": _r(pre),
                     "max_increase_pct": rule.max_increase_pct, "window_days": rule.window_days},
                    rule.source,
                )  # fmt: skip


def _milestones(ctx: _Ctx) -> None:
    raw, m = ctx.raw, ctx.p.milestones
    n = raw.n_days
    visa = np.full(n, np.nan)
    for e in raw.log:
        if e["kind"] == "visa_h":
            visa[raw.index(e["date"])] = float(e["score"])
    during, morning = _pain_arrays(raw)
    pain = np.where(np.isnan(during), morning, during)
    has_visa = ~np.isnan(visa)
    has_pain = ~np.isnan(pain)
    first_visa = int(np.argmax(has_visa)) if has_visa.any() else -1
    first_pain = int(np.argmax(has_pain)) if has_pain.any() else -1
    # Latest VISA-H on or before each day (forward fill).
    idx = np.where(has_visa, np.arange(n), -1)
    last_idx = np.maximum.accumulate(idx) if n else idx
    latest = np.where(last_idx >= 0, visa[np.maximum(last_idx, 0)], np.nan)
    improved = np.zeros(n, dtype=bool)
    if first_visa >= 0:
        improved |= (last_idx > first_visa) & (latest - visa[first_visa] >= m.visa_h_improvement)
    w = m.pain_window_days
    if first_pain >= 0:
        b = pain[first_pain : first_pain + w]
        base = float(np.nanmean(b))
        s = rolling_sum(np.nan_to_num(pain, nan=0.0), w)
        c = rolling_sum(has_pain.astype(np.float64), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            cur = np.where(c > 0, s / np.maximum(c, 1), np.nan)
        later = np.arange(n) >= first_pain + w
        improved |= later & (base - np.nan_to_num(cur, nan=np.inf) >= m.pain_improvement - 1e-9)
    any_outcome = np.maximum.accumulate(has_visa | has_pain) if n else has_visa
    k = np.arange(n) - ctx.care_start
    for i in range(ctx.lo, ctx.hi):
        days = int(k[i])
        if days < m.reassess_after_days:
            continue
        if not any_outcome[i]:
            ctx.add(
                i, "milestone.no_outcome", "info",
                f"{days} days of conservative care and no VISA-H or pain scores logged - "
                "log them so progress can be judged",
                {"days_of_care": days}, m.source,
            )  # fmt: skip
            continue
        if improved[i]:
            continue
        nums = {
            "days_of_care": days,
            "visa_h_first": _r(visa[first_visa]) if first_visa >= 0 else None,
            "visa_h_latest": _r(latest[i]),
            "visa_h_improvement": m.visa_h_improvement,
            "pain_improvement": m.pain_improvement,
        }
        if days < m.referral_after_days:
            sev = "alarm" if days >= m.reassess_by_days else "caution"
            ctx.add(
                i, "milestone.reassess", sev,
                f"{days // 7} weeks of conservative care without improvement - reassess; "
                "consider imaging or specialist referral",
                nums, m.source,
            )  # fmt: skip
        else:
            sev = "alarm" if days >= m.referral_by_days else "caution"
            ctx.add(
                i, "milestone.referral", sev,
                f"{days // 7} weeks ({days / 30.4:.1f} months) of conservative care without "
                "success - consider specialist referral (surgery only after 3-6 months of "
                "failed conservative care)",
                nums, m.source,
            )  # fmt: skip


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
             "created": storage.now_iso()}
            for a in alerts
        ]  # fmt: skip
        if rows:
            db.table("warnings").insert_all(rows)
