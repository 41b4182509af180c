"""Provides reading of the TOML data files (device profiles, protocols) with one-line errors.

Data files are small and flat; anything past the caps below is refused before it can cost
time or memory (a deep array would overflow the parser's recursion, a 5000-digit number
trips Python's int conversion limit).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from loadmon.errors import InputError

#: Largest data file read, in bytes (the shipped protocols are ~30 KiB).
MAX_TOML_BYTES = 1 << 20
#: Deepest nesting of tables and arrays a data file may use (the shipped ones use 4).
MAX_TOML_DEPTH = 8


def read_toml(path: Path, error: type[InputError], kind: str) -> dict[str, Any]:
    """The parsed TOML at `path`, or `error` naming the file and what went wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {kind} file") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or e})") from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(f"{path}: larger than {MAX_TOML_BYTES >> 10} KiB (not a {kind} file?)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML ({_one_line(str(e))})") from None
    except ValueError:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise error(f"{path}: not valid TOML (a number with thousands of digits)") from None
    except RecursionError:
        raise error(f"{path}: nested too deep (at most {MAX_TOML_DEPTH} levels allowed)") from None
    if _data_depth(data) > MAX_TOML_DEPTH:
        raise error(f"{path}: nested deeper than {MAX_TOML_DEPTH} levels of tables and arrays")
    return data


def _one_line(s: str) -> str:
    return " ".join(s.split())


def _data_depth(v: Any, level: int = 0) -> int:
    """Nesting depth of the parsed data (tables and arrays), stopping past the cap."""
    if level > MAX_TOML_DEPTH or not isinstance(v, dict | list):
        return level
    items = v.values() if isinstance(v, dict) else v
    return max((_data_depth(x, level + 1) for x in items), default=level + 1)
