"""Provides `decode(profile, payload, received_at)`: one notification's bytes → a SampleBlock.

The pure packet core: bytes in, samples out, no I/O. The profile's `family` picks the
family's `decode.py` in `loadmon.sensor.families` (polar_pmd, movesense, witmotion, thingy52,
metawear); what a table can say lives in the profile, what needs logic lives there.
`StreamDecoder` adds the little state a live stream needs (WitMotion's split packets,
Movesense's DATA_PART2) on top of the pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadmon.errors import DecodeError
from loadmon.profiles import DeviceProfile
from loadmon.sensor import families
from loadmon.sensor.blocks import DecodeSettings, FloatArray, SampleBlock
from loadmon.sensor.families.movesense import decode as movesense
from loadmon.sensor.families.witmotion import decode as witmotion

__all__ = ["DecodeSettings", "FloatArray", "SampleBlock", "StreamDecoder", "decode"]


def default_settings(profile: DeviceProfile) -> DecodeSettings:
    """Settings before any dialogue: Polar FACTORs absent (1.0, as the SDK), else the
    profile's resolution."""
    polar = profile.family == "polar_pmd"
    return DecodeSettings(
        acc_factor=None if polar else (profile.acc.resolution or None),
        gyro_factor=None if polar or not profile.gyro else (profile.gyro.resolution or None),
        acc_range=profile.acc.default_range,
        gyro_range=profile.gyro.default_range if profile.gyro else None,
        rate_hz=profile.acc.default_rate_hz,
    )


def decode(
    profile: DeviceProfile,
    payload: bytes,
    received_at: float = 0.0,
    settings: DecodeSettings | None = None,
) -> SampleBlock | None:
    """Decode one notification; None for a non-sample message (e.g. a command reply).

    Raises DecodeError for a malformed packet (the stream counts and skips those).
    """
    s = settings or default_settings(profile)
    return families.decoder(profile.family).block(profile, bytes(payload), received_at, s)  # type: ignore[no-any-return]


@dataclass
class StreamDecoder:
    """Per-connection decoder: pure `decode` plus WitMotion's carry-over bytes."""

    profile: DeviceProfile
    settings: DecodeSettings
    malformed: int = 0
    _tail: bytes = field(default=b"", repr=False)
    _part1: bytes = field(default=b"", repr=False)

    def feed(self, payload: bytes, received_at: float) -> SampleBlock | None:
        """Decode one notification; malformed ones are counted and skipped (None)."""
        try:
            return self.decode_strict(payload, received_at)
        except DecodeError:
            self.malformed += 1
            return None

    @property
    def waiting(self) -> bool:
        """A Movesense first part is waiting for its DATA_PART2."""
        return bool(self._part1)

    def decode_strict(self, payload: bytes, received_at: float) -> SampleBlock | None:
        """As `feed`, but a malformed notification raises DecodeError."""
        if self.profile.family == "movesense":
            return self._movesense(bytes(payload), received_at)
        if self.profile.family == "witmotion":
            data = bytes(payload)
            if data[:2] in (witmotion.HEADER_DATA, witmotion.HEADER_REG) and (
                len(data) % witmotion.PACKET_LEN == 0
            ):
                self._tail = b""  # a whole-packet notification: a stale tail was junk
            packets, self._tail, skipped = witmotion.split_stream(self._tail + data)
            if len(self._tail) > 2 * witmotion.PACKET_LEN:
                self._tail = b""
            if skipped:
                self.malformed += 1
            if not packets:
                return None
            acc, gyro = witmotion.decode_packets(packets)
            return SampleBlock(acc, gyro, received_at)
        return decode(self.profile, payload, received_at, self.settings)

    def _movesense(self, data: bytes, received_at: float) -> SampleBlock | None:
        """DATA whose body is not whole waits for its DATA_PART2 (same reference)."""
        kind = movesense.subscription_kind(self.settings.gyro and self.profile.has_gyro)
        if data[:1] == bytes([movesense.TYPE_DATA_PART2]):
            part1, self._part1 = self._part1, b""
            if not part1:
                raise DecodeError("Movesense: DATA_PART2 without the DATA it continues")
            data = movesense.join_parts(part1, data)
        elif data[:1] == bytes([movesense.TYPE_DATA]):
            if self._part1:
                self.malformed += 1  # a first part whose continuation never came
            self._part1 = b""
            if (
                len(data) == movesense.MAX_PACKET
                and not movesense.body_fits(len(data) - 2, kind)
            ):
                self._part1 = data  # a full first part: DATA_PART2 follows
                return None
        return decode(self.profile, data, received_at, self.settings)

    def reset(self) -> None:
        self._tail = b""
        self._part1 = b""
