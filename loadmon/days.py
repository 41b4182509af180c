"""Provides the patient's calendar: which local day an instant falls on, a day's bounds, today.

One object for every day boundary in loadmon (daily load, the session log, status, the
dashboard, the report and the export), so a set at 18:30 in Los Angeles is on the same day
everywhere. Stored instants are UTC ISO strings (`start_utc`); a day is a calendar day in the
patient's IANA zone (UTC when none is set). Zones with half- or quarter-hour offsets are exact.
Phone apps that write local wall-clock times without an offset are read in this zone too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loadmon.errors import InputError


def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA name (None or "UTC": UTC); `InputError` for an unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"timezone: expected an IANA name like Europe/London, got {name!r}"
        ) from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Calendar:
    """Days in one time zone. `now` is injectable so tests never depend on the wall clock."""

    zone_name: str = "UTC"
    now: Callable[[], datetime] = field(default=_utc_now, compare=False, repr=False)

    @property
    def tz(self) -> tzinfo:
        return zone(self.zone_name)

    def local(self, instant: datetime | str) -> datetime:
        """The instant as local wall-clock time (naive instants are taken as UTC)."""
        dt = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(self.tz)

    def day_of(self, instant: datetime | str) -> date:
        """The local calendar day of an instant (aware datetime or ISO string)."""
        return self.local(instant).date()

    def day_start(self, day: date) -> datetime:
        """The first instant (UTC) of local `day` (00:00 local, or the first valid time)."""
        naive = datetime(day.year, day.month, day.day)
        return self.localize(naive).astimezone(UTC)

    def bounds(self, first: date, last: date) -> tuple[str, str]:
        """UTC ISO strings [lo, hi) covering local days first..last inclusive.

        Stored `start_utc` values compare as text against these (same +00:00 form)."""
        lo = self.day_start(first)
        hi = self.day_start(last + timedelta(days=1))
        return lo.isoformat(), hi.isoformat()

    def today(self) -> date:
        """Today's local date in the patient's zone."""
        return self.now().astimezone(self.tz).date()

    def localize(self, naive: datetime) -> datetime:
        """A wall-clock time in this zone (as a phone app writes it) as an aware datetime.

        An already aware datetime is returned unchanged (the file stated its zone)."""
        if naive.tzinfo is not None:
            return naive
        return naive.replace(tzinfo=self.tz)

    def time_of(self, instant: datetime | str) -> str:
        """Local HH:MM of an instant, for tables."""
        return self.local(instant).strftime("%H:%M")


#: The calendar of a patient with no zone (and of anything not tied to a patient).
UTC_CALENDAR = Calendar()


def calendar_for(zone_name: str | None, now: Callable[[], datetime] | None = None) -> Calendar:
    """The calendar of a zone name (None: UTC); validates the name."""
    name = zone_name or "UTC"
    zone(name)
    return Calendar(name, now) if now is not None else Calendar(name)
