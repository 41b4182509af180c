"""Provides the physio report: one self-contained HTML file per patient, plots as inline SVG.

`collect(db, patient, start, end)` gathers what the report shows into plain dicts and lists.
Every load, band, status, ratio, adherence share and warning is read from
`loadmon.status` (`load_history` for the days, `day_status` for the last day), and every set
from `loadmon.sessions` — the same functions behind `loadmon status` and the dashboard —
so nothing is recomputed here. `render_html(data)` turns that into one HTML page (inline
CSS, inline SVG plots drawn with matplotlib's SVG backend, no external request, A4 print
CSS). `write_report` does both. matplotlib is imported only when a plot is drawn, so
`loadmon --help` stays fast.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loadmon import __version__, patients, status, storage
from loadmon.alerts import SEVERITY_ORDER
from loadmon.compare import STATUS_NAMES
from loadmon.errors import InputError
from loadmon.sessions import session_log

#: Section ids and titles, in page order (tests and docs/report.md rely on these).
SECTIONS = (
    ("patient", "Patient, protocol and phases"),
    ("adherence", "Adherence"),
    ("loads", "Daily load against the target band"),
    ("ratios", "Acute:chronic ratio"),
    ("warnings", "Warnings"),
    ("sessions", "Sessions"),
    ("symptoms", "Pain, RPE and VISA-H"),
    ("quality", "Data quality"),
)


# ============================================================================================
# Collecting the report's content (plain data; render_html only formats it).


def _num(value: Any) -> float | None:
    """A finite float, or None (NaN, None, text and booleans are not numbers here)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _list(a: NDArray[Any]) -> list[float | None]:
    return [_num(x) for x in a.tolist()]


def _timeline(info: patients.PatientInfo, names: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for i, ch in enumerate(info.phases):
        nxt = info.phases[i + 1].start_date if i + 1 < len(info.phases) else None
        out.append(
            {
                "phase": ch.phase,
                "name": names.get(ch.phase, ""),
                "start_date": ch.start_date,
                "end_date": (date.fromisoformat(nxt) - timedelta(days=1)).isoformat()
                if nxt
                else None,
                "note": ch.note,
            }
        )
    return out


def _series(hist: status.History) -> dict[str, Any]:
    """Per category, per day: the History arrays as lists (None for NaN)."""
    cats: dict[str, dict[str, list[Any]]] = {}
    for cat in hist.loads:
        n = len(hist.days)
        none: list[Any] = [None] * n
        cats[cat] = {
            "value": _list(hist.compared[cat]) if cat in hist.compared else none,
            "today": _list(hist.loads[cat]),
            "low": _list(hist.low[cat]) if cat in hist.low else none,
            "high": _list(hist.high[cat]) if cat in hist.high else none,
            "status": [STATUS_NAMES[int(x)] for x in hist.status[cat]]
            if cat in hist.status
            else none,
            "per_week": [bool(x) for x in hist.per_week[cat]] if cat in hist.per_week else none,
            "acute": _list(hist.acute[cat]) if cat in hist.acute else none,
            "chronic": _list(hist.chronic[cat]) if cat in hist.chronic else none,
            "ratio": _list(hist.ratio[cat]) if cat in hist.ratio else none,
        }
    return {"dates": list(hist.days), "phases": list(hist.phase), "categories": cats}


def _adherence(hist: status.History, last: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per banded category: days below/within/above as `status` classified each day, and the
    7- and 28-day adherence shares of the last day (what `loadmon status` shows)."""
    out = []
    for cat, st in hist.status.items():
        names = [STATUS_NAMES[int(x)] for x in st]
        counts = {k: names.count(k) for k in ("below", "within", "above")}
        banded = sum(counts.values())
        if banded == 0:
            continue
        ad = (last.get("adherence") or {}).get(cat) or {}
        out.append(
            {
                "category": cat,
                "days_with_band": banded,
                "days": counts,
                "share_within": counts["within"] / banded,
                "adherence_7d": ad.get("7d"),
                "adherence_28d": ad.get("28d"),
                "days_with_load": int(np.sum(hist.loads[cat] > 0)),
            }
        )
    return out


def _set_rows(sessions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per set (detected or logged by hand), oldest first, with its reps' figures."""
    rows = []
    for sess in sessions:
        for st in sess["sets"]:
            items = st["items"]

            def col(key: str, items: Sequence[Mapping[str, Any]] = items) -> list[float]:
                return [float(e[key]) for e in items if _num(e.get(key)) is not None]

            holds = col("hold_s")
            if not holds and st["exercise"] == "bridge_hold" and _num(st["data"].get("hold_s")):
                holds = [float(st["data"]["hold_s"])] * int(st["reps"])
            rows.append(
                {
                    "id": st["id"],
                    "date": st["date"],
                    "time": "" if st["source"] == "manual" else st["time"],
                    "exercise": st["exercise"],
                    "reps": int(st["reps"]),
                    "kg": _num(st.get("kg")),
                    "source": st["source"],
                    "device": sess["device"],
                    "detail": st["detail"],
                    "hold_s": holds,
                    "eccentric_s": col("eccentric_s"),
                    "concentric_s": col("concentric_s"),
                    "flight_s": col("flight_s"),
                    "contact_s": col("contact_s"),
                }
            )
    rows.sort(key=lambda r: (r["date"], r["time"] or "99"))
    return rows


def _sitting(hist: status.History) -> list[dict[str, Any]]:
    return [
        {
            "date": d,
            "bouts": int(hist.sitting_bouts[i]),
            "total_min": float(hist.sitting_min[i]),
            "longest_min": float(hist.sitting_longest_min[i]),
        }
        for i, d in enumerate(hist.days)
        if hist.sitting_bouts[i] > 0
    ]


def _symptoms(log: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Pain, RPE, VISA-H and the other log entries (interventions, notes), as logged."""
    out: dict[str, list[dict[str, Any]]] = {"pain": [], "rpe": [], "visa_h": [], "other": []}
    for e in log:
        kind = e["kind"]
        if kind == "pain":
            out["pain"].append(
                {
                    "date": e["date"],
                    "during": e.get("during"),
                    "next_morning": e.get("next_morning"),
                }
            )
        elif kind == "rpe":
            out["rpe"].append({"date": e["date"], "rpe": e.get("rpe"), "minutes": e.get("minutes")})
        elif kind == "visa_h":
            out["visa_h"].append({"date": e["date"], "score": e.get("score")})
        elif kind not in ("set", "prescription"):
            details = {k: v for k, v in e.items() if k not in ("id", "date", "kind")}
            out["other"].append({"date": e["date"], "kind": kind, "data": details})
    return out


def _quality(
    db: storage.Database, info: patients.PatientInfo, hist: status.History
) -> dict[str, Any]:
    """Recorded hours and gaps per day (recordings table), wear hours (`status` history)."""
    per_day: dict[str, dict[str, Any]] = {
        d: {"recorded_h": 0.0, "gaps": 0, "gap_s": 0.0, "wear_h": float(hist.wear_min[i]) / 60}
        for i, d in enumerate(hist.days)
    }
    n_recs = 0
    cal = info.calendar
    if hist.days:
        lo, hi = cal.bounds(date.fromisoformat(hist.days[0]), date.fromisoformat(hist.days[-1]))
        gaps: dict[int, list[tuple[float, float]]] = {}
        for rid, a, b in db.execute(
            "SELECT g.recording_id, g.start_s, g.end_s FROM gaps g JOIN recordings r "
            "ON r.id = g.recording_id WHERE r.patient_id = ? AND r.start >= ? AND r.start < ?",
            [info.id, lo, hi],
        ).fetchall():
            gaps.setdefault(int(rid), []).append((float(a), float(b)))
        for rid, start, dur in db.execute(
            "SELECT id, start, duration_s FROM recordings WHERE patient_id = ? "
            "AND start >= ? AND start < ?",
            [info.id, lo, hi],
        ).fetchall():
            e = per_day.get(cal.day_of(str(start)).isoformat())
            if e is None:
                continue
            n_recs += 1
            e["recorded_h"] += float(dur or 0.0) / 3600.0
            for a, b in gaps.get(int(rid), []):
                e["gaps"] += 1
                e["gap_s"] += b - a
    days = [{"date": d, **e} for d, e in per_day.items()]
    with_data = [d for d in days if d["wear_h"] > 0 or d["recorded_h"] > 0]
    return {
        "recordings": n_recs,
        "days": days,
        "days_in_period": len(days),
        "days_with_data": len(with_data),
        "days_without_data": [d["date"] for d in days if d["wear_h"] <= 0 and d["recorded_h"] <= 0],
        "wear_h": sum(d["wear_h"] for d in days),
        "recorded_h": sum(d["recorded_h"] for d in days),
        "gaps": int(sum(d["gaps"] for d in days)),
        "gap_s": sum(d["gap_s"] for d in days),
        "min_wear_h": None,
    }


def collect(
    db: storage.Database,
    name: str,
    start: str | date | None = None,
    end: str | date | None = None,
) -> dict[str, Any]:
    """Everything the report shows for patient `name` over [start, end] (plain data)."""
    info = patients.get_patient_info(db, name)
    proto = info.protocol()
    s, e = status.period(info, start, end, db)
    hist = status.load_history(db, name, s, e)
    last = status.day_status(db, name, e)
    labels = {k: dict(v) for k, v in hist.categories.items()}
    sessions = session_log(
        db, info.id, date.fromisoformat(s), date.fromisoformat(e), calendar=info.calendar
    )
    quality = _quality(db, info, hist)
    quality["min_wear_h"] = proto.inactivity.min_wear_hours
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": __version__,
        "patient": {
            "name": info.name,
            "protocol_id": proto.id,
            "protocol_name": proto.name,
            "condition": proto.condition,
            "start_date": info.start_date,
            "timezone": info.timezone or "UTC",
            "prescription": dict(info.prescription),
        },
        "period": {"from": s, "to": e},
        "timeline": _timeline(info, {k: p.name for k, p in proto.phases.items()}),
        "labels": labels,
        "ratio_lines": {
            "low_below": proto.acwr.low_below,
            "caution_above": proto.acwr.caution_above,
            "alarm_above": proto.acwr.alarm_above,
        },
        "acwr_source": proto.acwr.source,
        "last_day": last,
        "series": _series(hist),
        "adherence": _adherence(hist, last),
        "warnings": [dict(a.to_dict(), date=a.date) for a in hist.warnings],
        "sessions": _set_rows(sessions),
        "sitting": _sitting(hist),
        "symptoms": _symptoms(hist.log),
        "quality": quality,
    }


# ============================================================================================
# Plots (matplotlib, imported lazily; SVG made safe to inline).


def _svg_clean(svg: str, prefix: str) -> str:
    """Inline-ready SVG: no XML prolog, DOCTYPE, metadata or namespace URLs; ids prefixed."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pat = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in ids) + r')(?=[")])')
        svg = pat.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    svg = re.sub(
        r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r'<svg\1 class="plot"', svg, count=1
    )
    return svg


def _fig_to_svg(fig: Any, prefix: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _svg_clean(buf.getvalue(), prefix)


def _rc() -> Any:
    """matplotlib settings for small, print-friendly SVG plots with text kept as text."""
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "loadmon-report",
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.5,
    }


def _day_ticks(ax: Any, dates: Sequence[str]) -> None:
    n = len(dates)
    if n == 0:
        return
    step = max(1, math.ceil(n / 8))
    if n > 60:
        step = 7 * max(1, math.ceil(n / 56))
    idx = list(range(0, n, step))
    ax.set_xticks(idx)
    ax.set_xticklabels([dates[i][5:] for i in idx])
    ax.set_xlim(-0.5, n - 0.5)


def _phase_marks(ax: Any, data: Mapping[str, Any]) -> None:
    dates = data["series"]["dates"]
    pos = {d: i for i, d in enumerate(dates)}
    for ph in data["timeline"]:
        i = pos.get(ph["start_date"])
        if i is not None and i > 0:
            ax.axvline(i - 0.5, color="#7a5195", lw=0.8, ls=":")


def _floats(seq: Sequence[Any]) -> list[float]:
    return [math.nan if _num(v) is None else float(v) for v in seq]


def _bars(ax: Any, values: Sequence[float], colors: Sequence[str]) -> None:
    """Day bars as one PolyCollection: a year of days draws in milliseconds, where one
    Rectangle artist per day (`ax.bar`) takes seconds and bloats the SVG."""
    from matplotlib.collections import PolyCollection

    verts, fc = [], []
    for i, v in enumerate(values):
        if v > 0 and not math.isnan(v):
            verts.append([(i - 0.4, 0.0), (i - 0.4, v), (i + 0.4, v), (i + 0.4, 0.0)])
            fc.append(colors[i])
    if verts:
        ax.add_collection(PolyCollection(verts, facecolors=fc, linewidths=0))
    finite = [v for v in values if not math.isnan(v)]
    ax.set_ylim(0, max([*finite, *ax.get_ylim()[1:]]) * 1.05 or 1.0)


def plot_loads(data: Mapping[str, Any], cats: Sequence[str]) -> str:
    """Small multiples: each category's daily load with its target band."""
    import matplotlib
    from matplotlib.figure import Figure

    series = data["series"]
    dates = series["dates"]
    x = list(range(len(dates)))
    cols = 2
    rows = max(1, math.ceil(len(cats) / cols))
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.2, 1.9 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, cat in enumerate(cats):
            ax = axes[k // cols][k % cols]
            e = series["categories"][cat]
            lo, hi = _floats(e["low"]), _floats(e["high"])
            ax.fill_between(
                x, lo, hi, step="mid", color="#9fd3a8", alpha=0.55, lw=0, label="target band"
            )
            vals = _floats(e["value"])
            colors = [
                "#c0392b" if s == "above" else "#e69f00" if s == "below" else "#2c6e9e"
                for s in e["status"]
            ]
            _bars(ax, vals, colors)
            _phase_marks(ax, data)
            info = data["labels"].get(cat, {})
            unit = info.get("unit", "")
            ax.set_title(f"{info.get('label', cat)}" + (f" ({unit})" if unit else ""), loc="left")
            _day_ticks(ax, dates)
            ax.tick_params(axis="x", labelsize=6.5)
        for k in range(len(cats), rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        return _fig_to_svg(fig, "loads")


def plot_ratios(data: Mapping[str, Any], cats: Sequence[str]) -> str:
    """Acute:chronic ratio per category with the 0.8 / 1.3 / 1.5 reference lines."""
    import matplotlib
    from matplotlib.figure import Figure

    series = data["series"]
    dates = series["dates"]
    x = list(range(len(dates)))
    lines = data["ratio_lines"]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.2, 2.6), layout="constrained")
        ax = fig.subplots()
        ax.axhspan(lines["low_below"], lines["caution_above"], color="#9fd3a8", alpha=0.35, lw=0)
        for key, color in (
            ("low_below", "#e69f00"),
            ("caution_above", "#e67e22"),
            ("alarm_above", "#c0392b"),
        ):
            ax.axhline(lines[key], color=color, lw=0.9, ls="--")
            ax.annotate(
                f"{lines[key]:g}",
                xy=(1.0, lines[key]),
                xycoords=("axes fraction", "data"),
                xytext=(2, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=color,
            )
        top = 1.8
        for cat in cats:
            r = _floats(series["categories"][cat]["ratio"])
            finite = [v for v in r if not math.isnan(v)]
            if finite:
                top = max(top, min(3.0, max(finite) * 1.1))
            label = data["labels"].get(cat, {}).get("label", cat)
            ax.plot(x, r, lw=1.2, label=label)
        _phase_marks(ax, data)
        ax.set_ylim(0, top)
        ax.set_ylabel("acute : chronic")
        _day_ticks(ax, dates)
        if cats:
            ax.legend(loc="upper left", fontsize=6.5, ncols=min(3, len(cats)), frameon=False)
        return _fig_to_svg(fig, "ratios")


def _points(
    entries: Sequence[Mapping[str, Any]], field: str, pos: Mapping[str, int]
) -> tuple[list[int], list[float]] | None:
    """(x, y) of the entries with a number in `field` on a plotted day, or None."""
    xs: list[int] = []
    ys: list[float] = []
    for e in entries:
        v = _num(e.get(field))
        if v is not None and e["date"] in pos:
            xs.append(pos[e["date"]])
            ys.append(v)
    return (xs, ys) if xs else None


def plot_symptoms(data: Mapping[str, Any]) -> str:
    """Pain (during / next morning) and RPE on 0–10, VISA-H on 0–100, over the period."""
    import matplotlib
    from matplotlib.figure import Figure

    dates = data["series"]["dates"]
    pos = {d: i for i, d in enumerate(dates)}
    sym = data["symptoms"]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.2, 2.4), layout="constrained")
        ax = fig.subplots()
        for key, field, label, color, marker in (
            ("pain", "during", "pain during (0–10)", "#c0392b", "o"),
            ("pain", "next_morning", "pain next morning (0–10)", "#e67e22", "s"),
            ("rpe", "rpe", "session RPE (0–10)", "#2c6e9e", "^"),
        ):
            pts = _points(sym[key], field, pos)
            if pts:
                ax.plot(*pts, lw=0.9, ms=2.5, label=label, color=color, marker=marker)
        ax.set_ylim(0, 10.5)
        ax.set_ylabel("0–10")
        visa = _points(sym["visa_h"], "score", pos)
        if visa:
            ax2 = ax.twinx()
            ax2.plot(*visa, color="#2e8b57", marker="D", lw=1.2, ms=4, label="VISA-H (0–100)")
            ax2.set_ylim(0, 100)
            ax2.set_ylabel("VISA-H")
            ax2.grid(False)
            ax2.spines["right"].set_visible(True)
            ax2.legend(loc="upper right", fontsize=6.5, frameon=False)
        _phase_marks(ax, data)
        _day_ticks(ax, dates)
        ax.legend(loc="upper left", fontsize=6.5, ncols=3, frameon=False)
        return _fig_to_svg(fig, "symptoms")


def plot_wear(data: Mapping[str, Any]) -> str:
    """Wear hours per day (recorded minus gaps and non-wear)."""
    import matplotlib
    from matplotlib.figure import Figure

    dates = data["series"]["dates"]
    pos = {d: i for i, d in enumerate(dates)}
    wear = [0.0] * len(dates)
    for d in data["quality"]["days"]:
        if d["date"] in pos:
            wear[pos[d["date"]]] = d["wear_h"]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.2, 1.5), layout="constrained")
        ax = fig.subplots()
        _bars(ax, wear, ["#5b7c99"] * len(wear))
        ax.axhline(float(data.get("min_wear_h", 0.0) or 0.0), color="#999999", lw=0.6)
        ax.set_ylabel("wear h")
        _day_ticks(ax, dates)
        return _fig_to_svg(fig, "wear")


# ============================================================================================
# HTML

CSS = """
:root { --ink:#1d2330; --mute:#5f6b7a; --line:#d5dbe3; --ok:#2e8b57; --low:#b7791f;
  --high:#c0392b; --info:#2c6e9e; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 190mm; padding: 10mm 8mm; background: #fff; }
header { border-bottom: 2px solid var(--ink); margin-bottom: 4mm; padding-bottom: 2mm; }
h1 { font-size: 17pt; margin: 0 0 1mm; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid var(--line); }
h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
p, li { margin: 1mm 0; }
.sub, .note { color: var(--mute); font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 1mm 0 2mm; }
th, td { border-bottom: 1px solid var(--line); padding: 1px 4px; text-align: left;
  vertical-align: top; }
th { background: #eef1f5; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0 4mm; margin: 0; }
dl.kv dt { color: var(--mute); } dl.kv dd { margin: 0; }
.badge { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 8pt;
  color: #fff; background: var(--mute); }
.s-alarm, .s-above { background: var(--high); }
.s-caution, .s-below { background: var(--low); }
.s-info { background: var(--info); } .s-within { background: var(--ok); }
.timeline { display: flex; width: 100%; height: 7mm; margin: 2mm 0; border: 1px solid var(--line);}
.timeline div { overflow: hidden; white-space: nowrap; font-size: 7.5pt; padding: 1mm;
  color: #fff; border-right: 1px solid #fff; }
.ph0 { background: #8c8c8c; } .ph1 { background: #2c6e9e; } .ph2 { background: #7a5195; }
.ph3 { background: #ef5675; } .phm { background: #2e8b57; } .phx { background: #5f6b7a; }
#warnings-table td:nth-child(1) { white-space: nowrap; }
#warnings-table td:nth-child(4) { width: 70%; }
svg.plot { width: 100%; height: auto; display: block; }
svg.plot * { stroke-linejoin: round; stroke-linecap: butt; }
.legend-key { font-size: 8pt; color: var(--mute); }
footer { margin-top: 6mm; border-top: 1px solid var(--line); color: var(--mute);
  font-size: 8pt; padding-top: 2mm; }
@page { size: A4; margin: 12mm 10mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  h2 { break-after: avoid; }
  section.keep, figure, svg.plot, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .timeline div, .badge, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any, digits: int = 1) -> str:
    """Numbers as the report prints them (the tests read them back with `float`)."""
    v = _num(value)
    if v is None:
        return "–"
    if abs(v - round(v)) < 1e-9 and digits <= 1:
        return str(round(v))
    return f"{v:.{digits}f}"


def _mean(xs: Sequence[Any]) -> float | None:
    vals = [v for v in (_num(x) for x in xs) if v is not None]
    return sum(vals) / len(vals) if vals else None


def _badge(status: Any) -> str:
    s = _e(status or "–")
    return f'<span class="badge s-{s}">{s}</span>'


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], table_id: str, numeric: Sequence[int] = ()
) -> str:
    th = "".join(
        f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(head)
    )
    body = []
    for r in rows:
        body.append(
            "<tr>"
            + "".join(
                f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                for i, c in enumerate(r)
            )
            + "</tr>"
        )
    return (
        f'<table id="{_e(table_id)}"><thead><tr>{th}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _label(data: Mapping[str, Any], cat: str) -> str:
    info = data["labels"].get(cat, {})
    unit = info.get("unit", "")
    return str(info.get("label", cat.replace("_", " "))) + (f" ({unit})" if unit else "")


def _phase_class(phase: str) -> str:
    return {"0": "ph0", "1": "ph1", "2": "ph2", "3": "ph3", "maintenance": "phm"}.get(phase, "phx")


def _presc_text(presc: Mapping[str, Any]) -> str:
    """The physio's prescription edits, one exercise at a time."""
    exs = presc.get("exercises") if isinstance(presc.get("exercises"), Mapping) else None
    if not exs:
        return "protocol defaults"
    parts = []
    for ex, d in exs.items():
        bits = []
        if d.get("sets") and d.get("reps"):
            bits.append(f"{fmt(d['sets'])} × {fmt(d['reps'])}")
        elif d.get("sets") and d.get("hold_s"):
            bits.append(f"{fmt(d['sets'])} × {fmt(d['hold_s'])} s")
        if d.get("tempo_s"):
            bits.append(f"tempo {fmt(d['tempo_s'])} s")
        if d.get("kg") is not None:
            bits.append(f"{fmt(d['kg'])} kg")
        parts.append(f"{ex} " + ", ".join(bits) if bits else str(ex))
    return "; ".join(parts)


def _kv_list(pairs: Sequence[tuple[str, Any]], list_id: str | None = None) -> str:
    """A definition list of (label, value) pairs."""
    attr = f' id="{_e(list_id)}"' if list_id else ""
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in pairs)
    return f'<dl class="kv"{attr}>{items}</dl>'


def _sec_patient(data: Mapping[str, Any]) -> str:
    p = data["patient"]
    per = data["period"]
    last = data["last_day"]
    presc = p["prescription"]
    presc_txt = _presc_text(presc)
    kv = [
        ("Patient", p["name"]),
        ("Protocol", f"{p['protocol_name']} ({p['protocol_id']})" if p["protocol_id"] else "–"),
        ("Programme start", p["start_date"] or "–"),
        ("Report period", f"{per['from']} to {per['to']}"),
        (
            "Phase on " + per["to"],
            f"{last.get('phase')} – {last.get('phase_name')} (since {last.get('phase_since')})"
            if last.get("phase")
            else "–",
        ),
        ("Prescription", presc_txt),
    ]
    out = [_kv_list(kv)]
    if p["condition"]:
        out.append(f'<p class="note">{_e(p["condition"])}</p>')
    tl = data["timeline"]
    if tl:
        lo, hi = date.fromisoformat(per["from"]), date.fromisoformat(per["to"])
        total = (hi - lo).days + 1
        bars = []
        for ph in tl:
            a = max(lo, date.fromisoformat(ph["start_date"]))
            b = min(hi, date.fromisoformat(ph["end_date"]) if ph["end_date"] else hi)
            if b < a:
                continue
            w = 100.0 * ((b - a).days + 1) / total
            bars.append(
                f'<div class="{_phase_class(ph["phase"])}" style="width:{w:.2f}%" '
                f'title="{_e(ph["phase"])}">{_e(ph["phase"])} {_e(ph["name"])}</div>'
            )
        out.append(f'<div class="timeline" id="phase-bar">{"".join(bars)}</div>')
        rows = [
            [
                _e(ph["phase"]),
                _e(ph["name"]),
                _e(ph["start_date"]),
                _e(ph["end_date"] or "now"),
                _e(ph["note"]),
            ]
            for ph in tl
        ]
        out.append(_table(["phase", "name", "from", "to", "note"], rows, "phase-timeline"))
    else:
        out.append("<p>No phase recorded yet.</p>")
    return "".join(out)


def _pct(share: Any) -> str:
    v = _num(share)
    return "–" if v is None else f"{100 * v:.0f} %"


def _sec_adherence(data: Mapping[str, Any]) -> str:
    rows = []
    for a in data["adherence"]:
        d = a["days"]
        rows.append(
            [
                _e(_label(data, a["category"])),
                str(a["days_with_band"]),
                str(d["below"]),
                str(d["within"]),
                str(d["above"]),
                _pct(a["share_within"]),
                f'<span data-cat="{_e(a["category"])}" data-field="adherence_7d">'
                f"{_pct(a['adherence_7d'])}</span>",
                f'<span data-cat="{_e(a["category"])}" data-field="adherence_28d">'
                f"{_pct(a['adherence_28d'])}</span>",
            ]
        )
    if not rows:
        return "<p>No category with a target band in this period.</p>"
    return (
        '<p class="note">Each day as <code>loadmon status</code> classified it against the '
        "band of the phase in force that day (week bands compare the rolling 7-day sum). "
        "Adherence 7 d / 28 d: of the days whose band asked for work, the share that reached "
        f"the band's low end, on {_e(data['period']['to'])}.</p>"
        + _table(
            [
                "category",
                "days with a band",
                "below",
                "within",
                "above",
                "within %",
                "adherence 7 d",
                "adherence 28 d",
            ],
            rows,
            "adherence-table",
            numeric=(1, 2, 3, 4, 5, 6, 7),
        )
    )


def _plotted_cats(data: Mapping[str, Any]) -> list[str]:
    cats = []
    for cat, e in data["series"]["categories"].items():
        has_val = any((_num(v) or 0) > 0 for v in e["value"])
        has_band = any(_num(h) not in (None, 0.0) for h in e["high"])
        if has_val or has_band:
            cats.append(cat)
    return cats


def _sec_loads(data: Mapping[str, Any]) -> str:
    last = data["last_day"]
    rows = []
    ratios = last.get("ratios") or {}
    for cat, load in (last.get("loads") or {}).items():
        target = load.get("target") if isinstance(load, Mapping) else None
        value = load.get("value") if isinstance(load, Mapping) else load
        r = ratios.get(cat) or {}
        rows.append(
            [
                _e(_label(data, cat)),
                f'<span data-cat="{_e(cat)}" data-field="value">{fmt(value)}</span>',
                f"{fmt(target[0])}–{fmt(target[1])}" if target else "–",
                _badge(load.get("status") if isinstance(load, Mapping) else None),
                fmt(r.get("acute"), 1),
                fmt(r.get("chronic"), 1),
                f'<span data-cat="{_e(cat)}" data-field="ratio">{fmt(r.get("ratio"), 2)}</span>',
            ]
        )
    out = [f"<h3>On {_e(last.get('date'))} (as <code>loadmon status</code>)</h3>"]
    out.append(
        _table(
            ["category", "load", "target", "status", "acute", "chronic", "ratio"],
            rows,
            "last-day-loads",
            numeric=(1, 4, 5, 6),
        )
        if rows
        else "<p>No load categories for this day.</p>"
    )
    cats = _plotted_cats(data)
    if cats:
        out.append(
            '<h3>Per day</h3><p class="legend-key">Bars: the day\'s load (blue in band, '
            "orange below, red above); green: the phase's target band; dotted: phase "
            "change.</p>"
        )
        out.append(f"<figure>{plot_loads(data, cats)}</figure>")
    return "".join(out)


def _sec_ratios(data: Mapping[str, Any]) -> str:
    cats = [
        c
        for c, e in data["series"]["categories"].items()
        if any(_num(v) is not None for v in e["ratio"])
    ]
    lines = data["ratio_lines"]
    out = [
        '<p class="note">Exponentially weighted acute (7-day) : chronic (28-day) load. Below '
        f"{lines['low_below']:g} may be too little; {lines['caution_above']:g}–"
        f"{lines['alarm_above']:g} caution; above {lines['alarm_above']:g} alarm. "
        "The ratio is weak on its own: read it with the loads, week-on-week changes and pain."
        "</p>"
    ]
    if data["acwr_source"]:
        out.append(f'<p class="note">Source: {_e(data["acwr_source"])}</p>')
    if cats:
        out.append(f"<figure>{plot_ratios(data, cats)}</figure>")
    else:
        out.append("<p>Not enough load history for a ratio yet.</p>")
    return "".join(out)


def _numbers_text(nums: Any) -> str:
    if not isinstance(nums, Mapping):
        return str(nums)
    return ", ".join(
        f"{k.replace('_', ' ')} {fmt(v, 2) if _num(v) is not None else v}" for k, v in nums.items()
    )


def _sec_warnings(data: Mapping[str, Any]) -> str:
    ws = data["warnings"]
    if not ws:
        return "<p>No warnings in this period.</p>"
    counts: dict[str, int] = {}
    by_rule: dict[str, dict[str, Any]] = {}
    for w in ws:
        sev = str(w.get("severity"))
        counts[sev] = counts.get(sev, 0) + 1
        r = by_rule.setdefault(
            str(w["rule"]),
            {"severity": sev, "n": 0, "first": w["date"], "last": w["date"], "source": ""},
        )
        r["n"] += 1
        r["last"] = w["date"]
        r["source"] = w.get("source") or r["source"]
        if SEVERITY_ORDER.get(sev, 9) < SEVERITY_ORDER.get(r["severity"], 9):
            r["severity"] = sev
    summary = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: SEVERITY_ORDER.get(kv[0], 9))
    )
    rules = sorted(
        by_rule.items(), key=lambda kv: (SEVERITY_ORDER.get(kv[1]["severity"], 9), kv[0])
    )
    summary_rows = [
        [
            f"<code>{_e(rule)}</code>",
            _badge(r["severity"]),
            f'<span data-rule="{_e(rule)}">{r["n"]}</span>',
            _e(r["first"]),
            _e(r["last"]),
            f'<span class="note">{_e(r["source"])}</span>',
        ]
        for rule, r in rules
    ]
    rows = []
    for w in reversed(ws):
        rows.append(
            [
                _e(w.get("date")),
                _badge(w.get("severity")),
                f"<code>{_e(w.get('rule'))}</code>",
                f"<b>Patient:</b> {_e(w.get('patient'))}<br>"
                f"<b>Clinician:</b> {_e(w.get('message'))}<br>"
                f'<span class="note">{_e(_numbers_text(w.get("numbers")))}</span>',
            ]
        )
    return (
        f'<p id="warning-counts">{len(ws)} warnings: {_e(summary)}. Each rule, what it means '
        "and where it comes from is explained in loadmon's docs/warnings.md.</p>"
        "<h3>By rule</h3>"
        + _table(
            ["rule", "severity", "days", "first", "last", "source"],
            summary_rows,
            "warning-rules",
            numeric=(2,),
        )
        + "<h3>Every warning, newest first</h3>"
        + _table(
            ["date", "severity", "rule", "for the patient · for the clinician (sources: above)"],
            rows,
            "warnings-table",
        )
    )


def _set_detail(s: Mapping[str, Any]) -> tuple[str, str, str]:
    """(tempo, holds, hops) cells of one set."""
    tempo = holds = hops = ""
    ecc, con = _mean(s["eccentric_s"]), _mean(s["concentric_s"])
    if ecc is not None or con is not None:
        tempo = f"{fmt(ecc, 1)} / {fmt(con, 1)} s"
    if s["hold_s"]:
        hs = [float(h) for h in s["hold_s"]]
        holds = f"{len(hs)} × {fmt(min(hs), 0)}–{fmt(max(hs), 0)} s (Σ {fmt(sum(hs), 0)} s)"
    fl, ct = _mean(s["flight_s"]), _mean(s["contact_s"])
    if fl is not None or ct is not None:
        hops = (
            f"flight {fmt(None if fl is None else fl * 1000, 0)} ms, "
            f"contact {fmt(None if ct is None else ct * 1000, 0)} ms"
        )
    return tempo, holds, hops


def _sec_sessions(data: Mapping[str, Any]) -> str:
    out = []
    sess = data["sessions"]
    if sess:
        rows = []
        for s in sess:
            tempo, holds, hops = _set_detail(s)
            rows.append(
                [
                    _e(s["date"]),
                    _e(s["time"]),
                    _e(s["exercise"])
                    + (' <span class="note">(logged)</span>' if s["source"] == "manual" else ""),
                    str(s["reps"]),
                    fmt(s["kg"]) if s["kg"] is not None else "",
                    _e(tempo),
                    _e(holds),
                    _e(hops),
                ]
            )
        out.append(
            f'<p class="note">{len(sess)} sets; tempo is mean eccentric / concentric seconds '
            "per rep; holds give count, shortest–longest and total; hops give mean flight "
            "and ground-contact time.</p>"
        )
        out.append(
            _table(
                ["date", "time", "exercise", "reps", "kg", "tempo", "holds", "hops"],
                rows,
                "sessions-table",
                numeric=(3, 4),
            )
        )
    else:
        out.append("<p>No sets in this period.</p>")
    sit = data["sitting"]
    out.append("<h3>Sitting bouts</h3>")
    if sit:
        rows = [
            [_e(d["date"]), str(d["bouts"]), fmt(d["total_min"], 0), fmt(d["longest_min"], 0)]
            for d in sit
        ]
        out.append(
            _table(
                ["date", "bouts", "total min", "longest min"],
                rows,
                "sitting-table",
                numeric=(1, 2, 3),
            )
        )
    else:
        out.append("<p>No sitting detected.</p>")
    return "".join(out)


def _sec_symptoms(data: Mapping[str, Any]) -> str:
    sym = data["symptoms"]
    out = []
    if sym["pain"] or sym["rpe"] or sym["visa_h"]:
        out.append(f"<figure>{plot_symptoms(data)}</figure>")
    else:
        out.append("<p>No pain, RPE or VISA-H reported in this period.</p>")
    pains = [v for v in (_num(p["during"]) for p in sym["pain"]) if v is not None]
    rpes = [v for v in (_num(p["rpe"]) for p in sym["rpe"]) if v is not None]
    summary = [
        [
            "pain during (0–10)",
            str(len(pains)),
            fmt(_mean(pains), 1),
            fmt(max(pains) if pains else None),
            fmt(pains[-1] if pains else None),
        ],
        [
            "session RPE (0–10)",
            str(len(rpes)),
            fmt(_mean(rpes), 1),
            fmt(max(rpes) if rpes else None),
            fmt(rpes[-1] if rpes else None),
        ],
    ]
    out.append(
        _table(
            ["measure", "reports", "mean", "max", "latest"],
            summary,
            "symptom-summary",
            numeric=(1, 2, 3, 4),
        )
    )
    if sym["visa_h"]:
        rows = [[_e(v["date"]), fmt(v["score"])] for v in sym["visa_h"]]
        out.append("<h3>VISA-H (0–100, higher is better)</h3>")
        out.append(_table(["date", "score"], rows, "visa-table", numeric=(1,)))
    if sym["other"]:
        rows = [
            [_e(o["date"]), _e(o["kind"]), _e(", ".join(f"{k}: {v}" for k, v in o["data"].items()))]
            for o in sym["other"]
        ]
        out.append("<h3>Other log entries (interventions, notes)</h3>")
        out.append(_table(["date", "kind", "details"], rows, "other-log-table"))
    return "".join(out)


def _sec_quality(data: Mapping[str, Any]) -> str:
    q = data["quality"]
    missing = q["days_without_data"]
    kv = [
        ("Recordings", str(q["recordings"])),
        ("Days with sensor data", f"{q['days_with_data']} of {q['days_in_period']}"),
        ("Recorded", f"{fmt(q['recorded_h'], 1)} h"),
        ("Wear time (classified postures)", f"{fmt(q['wear_h'], 1)} h"),
        ("Gaps (packet loss, disconnects)", f"{q['gaps']}, {fmt(q['gap_s'], 0)} s in total"),
        (
            "Days without data",
            ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "") if missing else "none",
        ),
    ]
    out = [_kv_list(kv, "quality-summary")]
    if q["days"]:
        out.append(f"<figure>{plot_wear(data)}</figure>")
        gap_days = [d for d in q["days"] if d["gaps"]]
        if gap_days:
            rows = [[_e(d["date"]), str(d["gaps"]), fmt(d["gap_s"], 0)] for d in gap_days]
            out.append(_table(["date", "gaps", "gap s"], rows, "gaps-table", numeric=(1, 2)))
    return "".join(out)


def render_html(data: Mapping[str, Any]) -> str:
    """The report page for collected `data` (see `collect`)."""
    p, per = data["patient"], data["period"]
    builders = {
        "patient": _sec_patient,
        "adherence": _sec_adherence,
        "loads": _sec_loads,
        "ratios": _sec_ratios,
        "warnings": _sec_warnings,
        "sessions": _sec_sessions,
        "symptoms": _sec_symptoms,
        "quality": _sec_quality,
    }
    body = []
    for sid, title in SECTIONS:
        body.append(
            f'<section id="{sid}"{" class=keep" if sid in ("patient", "ratios") else ""}>'
            f"<h2>{_e(title)}</h2>{builders[sid](data)}</section>"
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>loadmon report – {_e(p['name'])} – {_e(per['from'])} to {_e(per['to'])}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>Rehab load report: {_e(p['name'])}</h1>"
        f'<div class="sub">{_e(p["protocol_name"])} · {_e(per["from"])} to {_e(per["to"])} · '
        f"generated {_e(data['generated'])} by loadmon {_e(data['version'])}</div></header>"
        + "".join(body)
        + "<footer>Numbers are those of <code>loadmon status</code> and the dashboard for the "
        "same days. Targets, limits and warnings come from the protocol file; each warning "
        "names its source. loadmon supports, and does not replace, clinical judgement."
        "</footer></body></html>\n"
    )


def write_report(
    db: storage.Database,
    name: str,
    out: str | Path,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
) -> Path:
    """Collect and render the report of `name` into the file `out`; returns its path.

    The page is written to a temporary file beside `out` and renamed, so `out` is either the
    old file or the complete new one."""
    path = Path(out)
    if path.is_dir():
        raise InputError(f"--out: {path} is a directory; give a file name such as report.html")
    page = render_html(collect(db, name, start, end))
    parent = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise InputError(f"--out: cannot write {path}: {e.strerror or e}") from None
    return path
