"""Provides `decode(profile, payload, received_at)`: one notification's bytes → a SampleBlock.

Pure functions only: decoders never touch the radio. The profile's `family` picks the module
(polar_pmd, movesense, witmotion, thingy52, metawear); what a table can say lives in the
profile, what needs logic lives here. `StreamDecoder` adds the little state a live stream
needs (WitMotion's split packets) on top of the pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadmon.decoders import metawear, movesense, polar_pmd, thingy52, witmotion
from loadmon.decoders.base import DecodeSettings, FloatArray, SampleBlock
from loadmon.errors import DecodeError
from loadmon.profiles import DeviceProfile

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
    payload = bytes(payload)
    fam = profile.family
    if fam == "polar_pmd":
        return _polar(profile, payload, received_at, s)
    if fam == "movesense":
        if payload[:1] == bytes([movesense.TYPE_RESULT]):
            return None
        if payload[:1] == bytes([movesense.TYPE_DATA_PART2]):
            raise DecodeError("Movesense: DATA_PART2 without the DATA it continues")
        kind = movesense.subscription_kind(s.gyro and profile.has_gyro)
        _, ts_ms, acc, gyro = movesense.decode_data(payload, kind=kind)
        return SampleBlock(acc, gyro, received_at, ts_ms * 1_000_000, "first")
    if fam == "witmotion":
        packets, _, _ = witmotion.split_stream(payload)
        acc, gyro = witmotion.decode_packets(packets)
        return SampleBlock(acc, gyro, received_at)
    if fam == "thingy52":
        acc, gyro, _ = thingy52.decode_raw(payload)
        return SampleBlock(acc, gyro, received_at)
    if fam == "metawear":
        if payload[:2] == bytes([metawear.ACC, metawear.MODULE_INFO]):
            return None  # the module-info reply of the start dialogue
        acc_lsb, gyro_lsb = metawear_scales(profile, s)
        kind, v = metawear.decode_message(
            payload, acc_lsb_per_g=acc_lsb, gyro_lsb_per_dps=gyro_lsb,
            chip=metawear_chip(profile, s),
        )
        return SampleBlock(v if kind == "acc" else None, v if kind == "gyro" else None, received_at)
    raise DecodeError(f"no decoder for family {fam!r}")


def _polar(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock:
    """One PMD frame in g / °/s, checked against the measurements the session started."""
    p = profile.params
    if len(payload) < 1:
        raise DecodeError("empty PMD frame")
    mtype = payload[0] & 0x3F
    acc_type, gyro_type = int(p["acc_type"]), int(p.get("gyro_type", -1))
    started = s.started
    if started is None:
        started = frozenset({acc_type} | ({gyro_type} if profile.has_gyro and s.gyro else set()))
    if mtype not in started:
        names = ", ".join(polar_pmd.MEASUREMENT_TYPES.get(t, str(t)) for t in sorted(started))
        raise DecodeError(
            f"PMD frame of measurement type {mtype} "
            f"({polar_pmd.MEASUREMENT_TYPES.get(mtype, '?')}), but only {names} was started"
        )
    factor = s.acc_factor if mtype == acc_type else s.gyro_factor
    fr = polar_pmd.to_units(
        payload,
        factor=factor,
        resolution_bits=int(p["resolution_bits"]),
        channels=int(p["channels"]),
    )
    if mtype == acc_type:
        return SampleBlock(fr.samples, None, received_at, fr.timestamp_ns, "last")
    return SampleBlock(None, fr.samples, received_at, fr.timestamp_ns, "last")


def metawear_chip(profile: DeviceProfile, s: DecodeSettings) -> str:
    """The board's motion chip: what its module-info reply said, else the profile's."""
    return s.chip or str(profile.params.get("chip", "bmi160"))


def metawear_scales(profile: DeviceProfile, s: DecodeSettings) -> tuple[float, float]:
    """LSB per g and per °/s for the configured ranges (the same on BMI160 and BMI270)."""
    p = profile.params
    ar = str(s.acc_range or profile.acc.default_range)
    gr = str(s.gyro_range or (profile.gyro.default_range if profile.gyro else 2000))
    try:
        return float(p["acc_lsb_per_g"][ar]), float(p["gyro_lsb_per_dps"][gr])
    except KeyError as e:
        raise DecodeError(f"{profile.id}: no scale for range {e.args[0]}") from None


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
