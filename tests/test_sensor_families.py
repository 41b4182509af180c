"""The families table: every sensor family is one folder with its decoder, dialogue, profile keys
and emulator, and the pure packet core loads without the radio libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from loadmon.profiles import FAMILY_KEYS, load_profiles
from loadmon.sensor import families
from loadmon.sensor.dialogue import Session
from loadmon.sensor.virtual.emulators import EmulatedSensor


def test_every_shipped_profile_names_a_family_folder() -> None:
    assert set(families.names()) == {"metawear", "movesense", "polar_pmd", "thingy52", "witmotion"}
    assert {p.family for p in load_profiles()} <= set(families.names())
    assert set(FAMILY_KEYS) == set(families.names())


@pytest.mark.parametrize("family", families.names())
def test_a_family_folder_holds_all_its_parts(family: str) -> None:
    assert callable(families.decoder(family).block)
    assert issubclass(families.dialogue(family), Session)
    assert issubclass(families.emulator(family), EmulatedSensor)
    assert FAMILY_KEYS[family] and all(isinstance(k, str) for k in FAMILY_KEYS[family])


def test_an_unknown_family_is_one_decode_error() -> None:
    from loadmon.errors import DecodeError

    with pytest.raises(DecodeError, match="no decoder for family 'nope'"):
        families.decoder("nope")


def test_decoding_a_packet_imports_neither_bleak_nor_bumble() -> None:
    """The packet core is pure: `devices decode` and the importers never load the radio."""
    code = (
        "import sys\n"
        "from loadmon.profiles import get_profile\n"
        "from loadmon.sensor.decoding import decode\n"
        "b = decode(get_profile('polar-verity-sense'), bytes.fromhex("
        "'02 00 94 35 77 00 00 00 00 01 ea ff 0b 00 ee 03'.replace(' ', '')))\n"
        "assert b is not None and b.acc is not None and b.acc.shape == (1, 3), b\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('bleak', 'bumble')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
