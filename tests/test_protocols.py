"""Every shipped protocol validates; broken copies give precise errors (file, key, expectation)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadmon import protocols
from loadmon.errors import NotFoundError, ProtocolError

PHT = protocols.PROTOCOLS_DIR / "proximal_hamstring_tendinopathy.toml"
SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
IDS = {
    "proximal-hamstring-tendinopathy",
    "ischial-tuberosity-enthesopathy",
    "ischiofemoral-impingement",
    "iliopsoas-tendinopathy",
}


def test_all_four_protocols_load() -> None:
    loaded = {p.id: p for p in protocols.list_protocols()}
    assert set(loaded) == IDS
    for pid in IDS:
        p = protocols.get_protocol(pid)
        assert p.path.stem.replace("_", "-") == pid
        assert p.phases
        for ph in p.phases.values():
            assert ph.source and ph.entry is not None
            for d in ph.prescribed.values():
                assert d.source


def test_pht_phases_and_doses() -> None:
    p = protocols.get_protocol("proximal-hamstring-tendinopathy")
    assert p.phase_ids == ("0", "1", "2", "3", "maintenance")
    hold = p.phase("1").prescribed["bridge_hold"]
    assert hold.sets == (5.0, 5.0) and hold.hold_s == (30.0, 45.0)
    rdl = p.phase("2").prescribed["rdl"]
    assert rdl.tempo_s == 3.0 and rdl.sessions_per_week == (3.0, 3.0)
    assert p.phase("2").targets["rdl_reps"].per == "week"
    assert "hops" not in p.phase("1").allowed
    assert any("hops" in r.exercises for r in p.phase("1").avoid)
    assert p.acwr.caution_above == 1.3 and p.acwr.alarm_above == 1.5
    assert p.post_injection.window_days == 14
    assert p.milestones.referral_after_days >= 84


def test_every_cited_seed_file_exists() -> None:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not present")
    for path in protocols.protocol_files():
        for m in set(re.findall(r"seeds/\d{3}_[0-9a-f]{16}\.txt", path.read_text())):
            assert (SEEDS.parent / m).is_file(), f"{path.name} cites missing {m}"


def test_each_protocol_cites_its_evidence_section() -> None:
    expect = {
        "proximal-hamstring-tendinopathy": "#proximal-hamstring-tendinopathy-stages",
        "ischial-tuberosity-enthesopathy": "#ischial-tuberosity-enthesopathy",
        "ischiofemoral-impingement": "#ischiofemoral-impingement",
        "iliopsoas-tendinopathy": "#iliopsoas-tendinopathy",
    }
    for pid, anchor in expect.items():
        assert f"docs/evidence.md{anchor}" in protocols.get_protocol(pid).source


def _anchor(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_cited_evidence_section_exists_in_the_repository() -> None:
    doc = PHT.parents[1] / "docs" / "evidence.md"
    anchors = {_anchor(line.lstrip("#")) for line in doc.read_text().splitlines()
               if line.startswith("#")}  # fmt: skip
    for path in protocols.protocol_files():
        text = path.read_text()
        assert "seeds/" not in text and "CLINICAL-REFERENCE" not in text, path.name
        for a in set(re.findall(r"docs/evidence\.md#([a-z0-9-]+)", text)):
            assert a in anchors, f"{path.name} cites docs/evidence.md#{a}, not a heading there"


def test_an_earlier_referral_is_accepted_when_the_physio_sets_it(tmp_path: Path) -> None:
    copy = tmp_path / "early.toml"
    text = PHT.read_text().replace("referral_after_days = 91", "referral_after_days = 42", 1)
    copy.write_text(text.replace("[milestones]\n", "[milestones]\nearly_referral = true\n", 1))
    assert protocols.read_protocol(copy).milestones.referral_after_days == 42


def test_lookup_by_stem_and_path_and_unknown() -> None:
    assert protocols.get_protocol("proximal_hamstring_tendinopathy").id == (
        "proximal-hamstring-tendinopathy"
    )
    assert protocols.get_protocol(str(PHT)).id == "proximal-hamstring-tendinopathy"
    with pytest.raises(NotFoundError, match=r"known: .*iliopsoas-tendinopathy"):
        protocols.get_protocol("tennis-elbow")


def test_physio_copy_validates(tmp_path: Path) -> None:
    copy = tmp_path / "my_pht.toml"
    copy.write_text(PHT.read_text().replace("max_bout_min = 30", "max_bout_min = 20", 1))
    p = protocols.read_protocol(copy)
    assert p.phase("0").sitting is not None and p.phase("0").sitting.max_bout_min == 20


BROKEN = [
    # (original text, replacement, expected key path, expected wording)
    ("[phases.1.targets.isometric_s]\nlow = 300\n", "[phases.1.targets.isometric_s]\n",
     "phases.1.targets.isometric_s.low", "missing"),
    ("low = 300\nhigh = 675", "low = 300\nhigh = 200",
     "phases.1.targets.isometric_s.high", "expected >= low (300)"),
    ("max_bout_min = 30\nmax_daily_min = 360", "max_bout = 30\nmax_daily_min = 360",
     "phases.0.sitting.max_bout", "unknown key (expected one of: "),
    ('allowed = ["bridge_hold", "isometric_curl"]\nsource = "docs/evidence.md#proximal-'
     'hamstring-tendinopathy-stages (Ph',
     'allowed = ["bridge_hold", "nordic"]\nsource = "docs/evidence.md#proximal-'
     'hamstring-tendinopathy-stages (Ph',
     "phases.1.allowed", "unknown exercise 'nordic'"),
    ("[phases.1.pain]\nduring_max = 3", '[phases.1.pain]\nduring_max = "three"',
     "phases.1.pain.during_max", "expected a number, got 'three'"),
    ("[phases.1.pain]\nduring_max = 3", "[phases.1.pain]\nduring_max = 12",
     "phases.1.pain.during_max", "expected a number <= 10"),
    ("referral_after_days = 91", "referral_after_days = 30",
     "milestones.referral_after_days", "never before 3 months"),
    ('severity = "caution"', 'severity = "danger"',
     "phases.0.avoid[1].severity", "expected one of info, caution, alarm"),
    ('source = "docs/evidence.md: Foster et al. 2001 (CR-10 x minutes)"',
     'source = "my clinic"', "categories.srpe.source", "expected a citation"),
    ('measure = "hold_s"', 'measure = "holds"', "categories.isometric_s.measure",
     "expected one of hold_s, reps"),
    ("schema = 1", "schema = 2", "schema", "expected 1, got 2"),
    ("caution_above = 1.3", "caution_above = 1.6", "acwr.alarm_above", "expected >= caution_above"),
    ('kind = "hold"\nevent = "bridge_hold"', 'kind = "hold"\nevent = "bridge_hold_x"',
     "exercises.bridge_hold.event", "expected one of bridge_rep"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), BROKEN)
def test_broken_copy_names_file_key_and_expectation(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    text = PHT.read_text()
    assert old in text, f"fixture text not found: {old!r}"
    bad = tmp_path / "broken.toml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(ProtocolError) as e:
        protocols.read_protocol(bad)
    msg = str(e.value)
    assert msg.startswith(f"{bad}: {key}: "), msg
    assert words in msg, msg
    assert "\n" not in msg


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = = 1\n")
    with pytest.raises(ProtocolError, match=r"bad\.toml: not valid TOML"):
        protocols.read_protocol(bad)
    with pytest.raises(ProtocolError, match="no such protocol file"):
        protocols.read_protocol(tmp_path / "nope.toml")


def test_missing_required_table(tmp_path: Path) -> None:
    text = PHT.read_text()
    start = text.index("[acwr]")
    end = text.index("[too_little]")
    bad = tmp_path / "noacwr.toml"
    bad.write_text(text[:start] + text[end:])
    with pytest.raises(ProtocolError, match=r"noacwr\.toml: acwr: missing table"):
        protocols.read_protocol(bad)
