"""Provides the physical bounds of a sample and the check every reader and the store apply.

No commodity IMU measures beyond ±400 g (high-g accelerometers such as the H3LIS331) or
±4000 °/s (the widest gyro ranges sold); a value outside is a corrupt file, not a movement,
and storing it would either wrap the quantiser or feed the detectors nonsense. Time is
bounded too: a gap longer than a day inside one file is two recordings glued together (or a
corrupt clock), and `t` itself stays within a year so that it, its quantised steps and the
dates it maps to are all representable. The check works on parsed arrays, so it does not
care which reader produced them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from loadmon.errors import RecordingFormatError, StorageError

#: Largest |acceleration| any commodity sensor reports, in g (a 400 g high-g part).
MAX_ACC_G = 400.0
#: Largest |angular rate| any commodity gyro reports, in °/s.
MAX_GYRO_DPS = 4000.0
#: Largest |t| in a recording, in s (366 days: longer is a clock fault, not a recording).
MAX_T_S = 366 * 86400.0
#: Largest step between two samples of one file, in s (a day; longer ends the file).
MAX_STEP_S = 86400.0
#: The dates a recording may start on (first day allowed, first day refused).
MIN_START = datetime(1970, 1, 1, tzinfo=UTC)
MAX_START = datetime(2200, 1, 1, tzinfo=UTC)
#: Largest whole number of quantisation steps the store packs exactly (float64 mantissa).
MAX_STEPS = 2**53

#: (bound, unit) per channel.
_CHANNELS = {"acc": (MAX_ACC_G, "g"), "gyro": (MAX_GYRO_DPS, "°/s")}
_COLUMNS: dict[str, Sequence[str]] = {
    "t": ("t",),
    "acc": ("ax", "ay", "az"),
    "gyro": ("gx", "gy", "gz"),
}


def check_samples(
    t: NDArray[np.float64],
    acc: NDArray[np.float64],
    gyro: NDArray[np.float64] | None,
    *,
    where: Callable[[int], str],
    columns: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Raise `RecordingFormatError` at the first sample outside the physical bounds.

    `where(k)` names sample k for the message (e.g. "file.csv:12"). NaN and infinities are
    out of bounds too. `columns` renames the columns in messages (e.g. a Polar file's
    "X [mg]"); values are always given in g and °/s.
    """
    names = {**_COLUMNS, **(columns or {})}
    for name, arr in (("acc", acc), ("gyro", gyro)):
        if arr is None or arr.size == 0:
            continue
        bound, unit = _CHANNELS[name]
        cols = names[name]
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(arr) <= bound)
        if bad.any():
            k, c = (int(x) for x in np.argwhere(bad)[0])
            raise RecordingFormatError(
                f"{where(k)}: column {cols[c]}: {_fmt(arr[k, c])} {unit} is outside "
                f"±{bound:g} {unit} (no sensor measures that; a corrupt value?)"
            )
    if t.size == 0:
        return
    with np.errstate(invalid="ignore"):
        bad_t = ~(np.abs(t) <= MAX_T_S)
    if bad_t.any():
        k = int(np.flatnonzero(bad_t)[0])
        raise RecordingFormatError(
            f"{where(k)}: column {names['t'][0]}: {_fmt(t[k])} s is outside "
            f"±{MAX_T_S:g} s (366 days)"
        )
    if t.size > 1:
        steps = np.diff(t)
        jump = np.flatnonzero(steps > MAX_STEP_S)
        if jump.size:
            k = int(jump[0]) + 1
            raise RecordingFormatError(
                f"{where(k)}: column {names['t'][0]}: jumps {_fmt(steps[k - 1])} s after "
                "the previous sample (more than a day; split the file at the gap)"
            )


def check_start(start: datetime, where: str) -> datetime:
    """`start` if it lies in 1970–2199 (so every sample time maps to a real date)."""
    s = start if start.tzinfo else start.replace(tzinfo=UTC)
    if not (MIN_START <= s < MAX_START):
        raise RecordingFormatError(
            f"{where}: start {start.isoformat()} is outside 1970-01-01 – 2199-12-31"
        )
    return start


def check_quantisable(values: NDArray[np.float64], scale: float) -> None:
    """Raise `StorageError` if `values` cannot be stored exactly as whole `scale` steps.

    The store's integers hold any step count below 2**53; beyond that (or for NaN/inf)
    numpy would wrap silently, so the write is refused and nothing is stored.
    """
    if values.size == 0:
        return
    if not (np.isfinite(scale) and scale > 0):
        raise StorageError(f"cannot store samples at a quantisation step of {scale!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(values) / scale < MAX_STEPS
    if not ok.all():
        bad = np.asarray(values).ravel()[int(np.flatnonzero(~ok.ravel())[0])]
        raise StorageError(
            f"cannot store the value {_fmt(bad)} at a step of {scale:g} "
            "(outside what the store represents); nothing was written"
        )


def _fmt(v: float) -> str:
    return f"{float(v):.10g}"


def fit_scale(values: NDArray[np.float64], scale: float, finest: float = 1e-9) -> float:
    """The coarsest step, from `scale` down to `finest` by tenths, that holds `values` exactly.

    Values read from text have a decimal precision; storing them at a coarser step would
    round them. When none fits (more decimals than `finest`), `finest` is used: the values
    are then kept to that many decimals.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or not np.isfinite(v).all():
        return scale

    def fits(s: float) -> bool:
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.all(np.abs(np.rint(v / s) * s - v) <= s * 1e-3))

    if fits(scale):  # the usual case: one pass
        return scale
    if not fits(finest):
        return min(scale, finest)
    s = scale / 10.0
    while s > finest * 1.001 and not fits(s):
        s /= 10.0
    return max(s, finest)
