"""Provides reading of the TOML data files (device profiles, protocols) with one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from loadmon.errors import InputError


def read_toml(path: Path, error: type[InputError], kind: str) -> dict[str, Any]:
    """The parsed TOML at `path`, or `error` naming the file and what went wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read ({e})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML ({e})") from None
