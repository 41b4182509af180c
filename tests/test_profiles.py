"""Every devices/*.toml validates; a bad profile names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadmon.errors import NotFoundError, ProfileError
from loadmon.profiles import devices_dir, get_profile, load_profiles, profile_for_name, read_profile

EXPECTED = {
    "polar-verity-sense",
    "polar-h10",
    "movesense",
    "witmotion-bwt901ble",
    "thingy52",
    "metamotion",
}


def test_every_shipped_profile_validates() -> None:
    profiles = load_profiles()
    assert {p.id for p in profiles} == EXPECTED
    for p in profiles:
        assert p.acc.supports_rate(p.acc.default_rate_hz)
        assert p.path.parent == devices_dir().resolve()


def test_lookup_by_name_and_advertised_name() -> None:
    assert get_profile("polar_verity_sense").id == "polar-verity-sense"
    found = profile_for_name("Polar Sense B5E4A12F")
    assert found is not None and found.id == "polar-verity-sense"
    assert profile_for_name("Unknown gadget") is None
    with pytest.raises(NotFoundError, match="known: "):
        get_profile("fitbit")


def test_rates_are_checked() -> None:
    p = get_profile("witmotion-bwt901ble")
    assert p.check_rate(100) == 100
    with pytest.raises(ProfileError, match="52 Hz"):
        p.check_rate(52)
    assert get_profile("thingy52").check_rate(37) == 37


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    src = (devices_dir() / "thingy52.toml").read_text()
    assert old in src
    p = tmp_path / "thingy52.toml"
    p.write_text(src.replace(old, new, 1))
    return p


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('family = "thingy52"', 'family = "fitbit"', "key 'family'"),
        ('clock = "arrival"', 'clock = "sundial"', "key 'clock'"),
        ('service = "ef680400', 'service = "zz680400', "key 'gatt.service'"),
        ("default_rate_hz = 52", "default_rate_hz = 1000", "key 'acc.default_rate_hz'"),
        ("resolution = 0.0009765625", 'resolution = "fine"', "key 'acc.resolution'"),
        ("config_rate_field = 3", "", "key 'thingy52.config_rate_field'"),
        ("[gatt]", "[gatt\n", "not valid TOML"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path: Path, old: str, new: str, needle: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ProfileError) as e:
        read_profile(path)
    assert str(path) in str(e.value) and needle in str(e.value)
