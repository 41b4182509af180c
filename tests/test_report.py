"""The HTML report shows the demo patient's numbers as the database and `status` give them,
in one self-contained file that makes no external request."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from loadmon import status, storage
from loadmon.cli import cli
from loadmon.demo import DEMO_PATIENT, build_demo
from loadmon.report import SECTIONS

TODAY = date(2026, 11, 20)


class Page(HTMLParser):
    """Collects what the tests read: section order, tables (cell text), tagged spans,
    every URL-bearing attribute, tag counts and the style text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.h2: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.tagged: dict[tuple[str, str], str] = {}
        self.urls: list[str] = []
        self.tags: Counter[str] = Counter()
        self.style = ""
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span: tuple[str, str] | None = None
        self._span_text: list[str] = []
        self._in: list[str] = []
        self.terms: dict[str, str] = {}  # definition lists: <dt> text -> <dd> text
        self._dt = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        self._in.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and v:
                self.urls.append(v)
            if k == "style" and v and "url(" in v:
                self.urls.append(v)
        if tag == "section":
            self.sections.append(a.get("id") or "")
        elif tag == "table":
            self._table = a.get("id") or f"t{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "span" and a.get("data-cat") and a.get("data-field"):
            self._span = (a["data-cat"] or "", a["data-field"] or "")
            self._span_text = []

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "span" and self._span is not None:
            self.tagged[self._span] = "".join(self._span_text).strip()
            self._span = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "dt":
            self._dt = data.strip()
        if self._in and self._in[-1] == "dd":
            self.terms[self._dt] = self.terms.get(self._dt, "") + data.strip()
        if self._cell is not None:
            self._cell.append(data)
        if self._span is not None:
            self._span_text.append(data)
        if self._in and self._in[-1] == "h2":
            self.h2.append(data)
        if self._in and self._in[-1] == "style":
            self.style += data


def body(page: Page, table: str) -> list[list[str]]:
    return page.tables[table][1:]


def number(text: str) -> float | None:
    t = text.replace("%", "").strip()
    return None if t in ("", "–") else float(t)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "demo.db"
    build_demo(path, today=TODAY)
    return path


@pytest.fixture(scope="module")
def report(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    out = tmp_path_factory.mktemp("out") / "report.html"
    res = CliRunner().invoke(
        cli,
        ["report", DEMO_PATIENT, "--to", TODAY.isoformat(), "--db", str(demo), "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return text, page


def test_report_has_every_section_in_order(report: tuple[str, Page]) -> None:
    _, page = report
    assert page.sections == [sid for sid, _ in SECTIONS]
    assert [h.strip() for h in page.h2] == [title for _, title in SECTIONS]


def test_report_makes_no_external_request(report: tuple[str, Page]) -> None:
    text, page = report
    assert all(u.startswith("#") for u in page.urls), page.urls[:5]
    assert page.tags["script"] == 0 and page.tags["link"] == 0 and page.tags["img"] == 0
    assert page.tags["iframe"] == 0 and page.tags["object"] == 0
    assert "@import" not in page.style and "url(" not in page.style
    assert not re.search(r"https?://", text)
    # The plots are inline SVG: loads, ratios, symptoms and wear time.
    assert page.tags["svg"] == 4


def test_phase_timeline_matches_the_phase_history(demo: Path, report: tuple[str, Page]) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    rows = list(db.query("SELECT phase, start_date FROM phase_history ORDER BY start_date, id"))
    shown = body(page, "phase-timeline")
    assert [(r[0], r[2]) for r in shown] == [(r["phase"], r["start_date"]) for r in rows]


def test_last_day_loads_and_ratios_are_those_of_status(
    demo: Path, report: tuple[str, Page]
) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    st = status.day_status(db, DEMO_PATIENT, TODAY)
    checked = 0
    for cat, load in st["loads"].items():
        shown = number(page.tagged[(cat, "value")])
        assert shown == pytest.approx(load["value"], abs=0.051), cat
        ratio = (st["ratios"].get(cat) or {}).get("ratio")
        if ratio is not None:
            assert number(page.tagged[(cat, "ratio")]) == pytest.approx(ratio, abs=0.0051)
            checked += 1
    assert checked >= 2
    for cat, ad in st["adherence"].items():
        if ad["28d"] is not None:
            assert number(page.tagged[(cat, "adherence_28d")]) == pytest.approx(
                100 * ad["28d"], abs=0.51
            )


def test_adherence_counts_are_the_days_status_classified(
    demo: Path, report: tuple[str, Page]
) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    info_start = db.execute(
        "SELECT start_date FROM patients WHERE name = ?", [DEMO_PATIENT]
    ).fetchone()[0]
    hist = status.load_history(db, DEMO_PATIENT, info_start, TODAY).to_dict()
    labels = {k: v["label"] for k, v in hist["categories"].items()}
    rows = {r[0]: r for r in body(page, "adherence-table")}
    assert rows
    for cat, statuses in hist["status"].items():
        c = Counter(statuses)
        if not (c["below"] + c["within"] + c["above"]):
            continue
        row = next(v for k, v in rows.items() if k.startswith(labels[cat]))
        assert [int(x) for x in row[2:5]] == [c["below"], c["within"], c["above"]], cat


def test_warnings_are_every_warning_of_the_period(demo: Path, report: tuple[str, Page]) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    start = db.execute("SELECT start_date FROM patients").fetchone()[0]
    ws = status.warnings_between(db, DEMO_PATIENT, start, TODAY)
    assert ws, "the demo story has warnings"
    shown = body(page, "warnings-table")
    assert len(shown) == len(ws)
    assert Counter(r[2] for r in shown) == Counter(w.rule for w in ws)
    by_rule = {r[0]: int(r[2]) for r in body(page, "warning-rules")}
    assert by_rule == dict(Counter(w.rule for w in ws))
    # Every warning carries its reason; the rule table its source.
    assert all(w.message.split(" ")[0] in r[3] for w, r in zip(reversed(ws), shown, strict=True))
    assert all(r[5] for r in body(page, "warning-rules"))


def test_sessions_list_every_set_with_its_reps(demo: Path, report: tuple[str, Page]) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    sensor = db.execute(
        "SELECT exercise, count(*), sum(reps) FROM sets WHERE start_utc < ? GROUP BY exercise",
        ["2026-11-21"],
    ).fetchall()
    manual = Counter()
    manual_reps = Counter()
    for (data,) in db.execute(
        "SELECT data FROM log_entries WHERE kind = 'set' AND date <= ?", [TODAY.isoformat()]
    ).fetchall():
        d = json.loads(data)
        manual[d["exercise"]] += 1
        manual_reps[d["exercise"]] += int(d["reps"])
    shown = body(page, "sessions-table")
    n = Counter()
    reps = Counter()
    for row in shown:
        ex = row[2].replace("(logged)", "").strip()
        n[ex] += 1
        reps[ex] += int(row[3])
    for ex, count, total in sensor:
        assert n[ex] == count + manual[ex], ex
        assert reps[ex] == total + manual_reps[ex], ex
    assert sum(n.values()) == sum(c for _, c, _ in sensor) + sum(manual.values())
    # RDL sets show their mean tempo, hold sets their holds.
    assert any(row[2] == "rdl" and re.match(r"\d+\.\d / \d+\.\d s", row[5]) for row in shown)
    assert any(row[2] == "bridge_hold" and re.match(r"\d+ × \d+–\d+ s", row[6]) for row in shown)


RECORDINGS = Path(__file__).parent / "data" / "recordings"


def test_imported_recordings_reach_the_report(tmp_path: Path) -> None:
    """Recordings imported with `loadmon import` are analysed, stored and reported: the hop
    set shows the mean flight and contact time of its stored hop events."""
    db_path = str(tmp_path / "p.db")
    run = CliRunner()
    res = run.invoke(
        cli,
        [
            "patient",
            "add",
            "Kim",
            "-P",
            "proximal-hamstring-tendinopathy",
            "--phase",
            "3",
            "--start",
            "2026-11-01",
            "--db",
            db_path,
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("hops_25hz_acconly_random_axes.csv", "rdl_52hz_right_lateral.csv"):
        res = run.invoke(cli, ["import", str(RECORDINGS / name), "-p", "Kim", "--db", db_path])
        assert res.exit_code == 0, res.output
    out = tmp_path / "kim.html"
    res = run.invoke(
        cli, ["report", "Kim", "--to", "2026-11-20", "--db", db_path, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    db = storage.open_db(db_path, create=False)
    flights = [
        float(r[0]) * 1000
        for r in db.execute(
            "SELECT json_extract(data, '$.flight_s') FROM events WHERE type = 'hop'"
        ).fetchall()
    ]
    contacts = [
        float(r[0]) * 1000
        for r in db.execute(
            "SELECT json_extract(data, '$.contact_s') FROM events WHERE type = 'hop' "
            "AND json_extract(data, '$.contact_s') IS NOT NULL"
        ).fetchall()
    ]
    assert flights and contacts
    rows = body(page, "sessions-table")
    hops = [r for r in rows if r[2] == "hops"]
    assert (
        sum(int(r[3]) for r in hops)
        == db.execute("SELECT sum(reps) FROM sets WHERE exercise = 'hops'").fetchone()[0]
    )
    m = re.match(r"flight (\d+) ms, contact (\d+) ms", hops[0][7])
    assert m is not None, hops[0]
    if len(hops) == 1:
        assert int(m.group(1)) == round(sum(flights) / len(flights))
        assert int(m.group(2)) == round(sum(contacts) / len(contacts))
    rdl = [r for r in rows if r[2] == "rdl"]
    assert (
        rdl
        and sum(int(r[3]) for r in rdl)
        == db.execute("SELECT count(*) FROM events WHERE type = 'rdl_rep'").fetchone()[0]
    )


def test_sitting_bouts_per_day_match_the_events(demo: Path, report: tuple[str, Page]) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    rows = db.execute(
        "SELECT substr(start_utc, 1, 10), count(*), sum(end_s - start_s) / 60.0, "
        "max(end_s - start_s) / 60.0 FROM events WHERE type = 'sitting' GROUP BY 1"
    ).fetchall()
    shown = {r[0]: r for r in body(page, "sitting-table")}
    assert len(shown) == len(rows)
    for day, bouts, total, longest in rows:
        assert int(shown[day][1]) == bouts
        assert float(shown[day][2]) == pytest.approx(total, abs=0.51)
        assert float(shown[day][3]) == pytest.approx(longest, abs=0.51)


def test_symptoms_and_quality_match_the_log_and_recordings(
    demo: Path, report: tuple[str, Page]
) -> None:
    _, page = report
    db = storage.open_db(demo, create=False)
    visa = db.execute(
        "SELECT date, json_extract(data, '$.score') FROM log_entries WHERE kind = 'visa_h' "
        "ORDER BY date"
    ).fetchall()
    assert [(r[0], float(r[1])) for r in body(page, "visa-table")] == [
        (d, float(s)) for d, s in visa
    ]
    pains = db.execute(
        "SELECT json_extract(data, '$.during') FROM log_entries WHERE kind = 'pain' "
        "AND json_extract(data, '$.during') IS NOT NULL"
    ).fetchall()
    pain_row = body(page, "symptom-summary")[0]
    assert int(pain_row[1]) == len(pains)
    assert float(pain_row[3]) == max(float(p[0]) for p in pains)
    n_recs = db.execute("SELECT count(*) FROM recordings WHERE start < '2026-11-21'").fetchone()[0]
    assert page.terms["Recordings"] == str(n_recs)
    gaps = db.execute("SELECT count(*) FROM gaps").fetchone()[0]
    assert page.terms["Gaps (packet loss, disconnects)"].startswith(f"{gaps},")


def test_a_date_window_limits_every_section(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "week.html"
    res = CliRunner().invoke(
        cli,
        [
            "report",
            DEMO_PATIENT,
            "--from",
            "2026-11-10",
            "--to",
            "2026-11-16",
            "--db",
            str(demo),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    days = {r[0] for r in body(page, "sessions-table")} | {
        r[0] for r in body(page, "warnings-table")
    }
    assert days and all("2026-11-10" <= d <= "2026-11-16" for d in days)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nobody"], "no patient called 'Nobody'"),
        ([DEMO_PATIENT, "--from", "2026-13-01"], "--from"),
        ([DEMO_PATIENT, "--from", "2026-11-20", "--to", "2026-11-01"], "is after"),
        ([DEMO_PATIENT, "--to", "2020-01-01"], "before"),
    ],
)
def test_bad_input_is_one_line_and_keeps_the_old_report(
    demo: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")
    res = CliRunner().invoke(cli, ["report", *args, "--db", str(demo), "--out", str(out)])
    assert res.exit_code == 2
    assert message in res.output and len(res.output.strip().splitlines()) == 1
    assert "Traceback" not in res.output
    assert out.read_text(encoding="utf-8") == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_report_into_a_directory_or_missing_database_is_refused(demo: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["report", DEMO_PATIENT, "--db", str(demo), "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "is a directory" in res.output
    res = CliRunner().invoke(
        cli,
        [
            "report",
            DEMO_PATIENT,
            "--db",
            str(tmp_path / "none.db"),
            "--out",
            str(tmp_path / "r.html"),
        ],
    )
    assert res.exit_code != 0 and "no database" in res.output
    assert not (tmp_path / "none.db").exists()
