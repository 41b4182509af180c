"""Provides where the shipped data files live: protocols/ and devices/ inside the package.

The repository's top-level `protocols/` and `devices/` are the source folders; the wheel build
(setup.py's `build_py`) copies them into `loadmon/data/`, so an installed loadmon reads them
with importlib.resources. A source checkout (editable install, tests) has no copy and reads the
top-level folders directly, so an edit there is seen at once.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

#: The data folders shipped in the package (and their source folders at the repo's top level).
KINDS = ("protocols", "devices")


def shipped_dir(kind: str) -> Path:
    """The folder of shipped `kind` files (package data, else the source checkout's)."""
    if kind not in KINDS:
        raise ValueError(f"unknown data kind {kind!r}")
    packaged = resources.files(__name__) / kind
    if packaged.is_dir():
        # A wheel installs as plain files, so the Traversable is a real folder.
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / kind


def user_protocol_dirs() -> list[Path]:
    """A physio's own protocol folders: `LOADMON_PROTOCOLS` (os.pathsep-separated), then
    `protocols/` in the user config directory. Only folders that exist are returned."""
    out: list[Path] = []
    env = os.environ.get("LOADMON_PROTOCOLS", "")
    for part in env.split(os.pathsep):
        if part.strip():
            out.append(Path(part.strip()).expanduser())
    out.append(Path(platformdirs.user_config_dir("loadmon", appauthor=False)) / "protocols")
    return [p for p in out if p.is_dir()]
