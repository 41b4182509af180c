"""Provides the sensor families table: one folder per family, found by its folder name.

A family is a subpackage `loadmon.sensor.families.<family>` (the `family` key of a
devices/*.toml profile) whose `__init__.py` names the keys its profile table needs
(`PROFILE_KEYS`), holding three modules:

- `decode.py`: the pure packet core, bytes in and samples out, no I/O; `block(profile,
  payload, received_at, settings)` turns one notification into a SampleBlock (or None for a
  non-sample message);
- `dialogue.py`: the session dialogue that starts and stops the stream (`Dialogue`, a
  `loadmon.sensor.dialogue.Session`); the only part that talks to a client;
- `emulator.py`: the Bumble GATT server that behaves like the device (`Emulator`, a
  `loadmon.sensor.virtual.emulators.EmulatedSensor`), for tests, demos and `virtual:PROFILE`.

Everything else (the stream, the recorder, `loadmon devices decode`, the virtual radio)
dispatches on this table, so adding a sensor touches its folder and its profile only. The
modules load lazily: decoding a packet never imports bumble, and nothing here imports bleak.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType
from typing import Any

from loadmon.errors import DecodeError


@cache
def names() -> tuple[str, ...]:
    """The families shipped: one subpackage each."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg))


def _part(family: str, part: str) -> ModuleType:
    if family not in names():
        raise DecodeError(f"no decoder for family {family!r} (known: {', '.join(names())})")
    return importlib.import_module(f"{__name__}.{family}.{part}")


def profile_keys() -> dict[str, tuple[str, ...]]:
    """Each family's required profile keys (its `PROFILE_KEYS`); imports no decoder."""
    out: dict[str, tuple[str, ...]] = {}
    for name in names():
        keys = importlib.import_module(f"{__name__}.{name}").PROFILE_KEYS
        out[name] = tuple(str(k) for k in keys)
    return out


def decoder(family: str) -> ModuleType:
    """The family's pure packet core (`decode.py`)."""
    return _part(family, "decode")


def dialogue(family: str) -> Any:
    """The family's session dialogue class (`dialogue.Dialogue`)."""
    return _part(family, "dialogue").Dialogue


def emulator(family: str) -> Any:
    """The family's emulated GATT server class (`emulator.Emulator`)."""
    return _part(family, "emulator").Emulator
