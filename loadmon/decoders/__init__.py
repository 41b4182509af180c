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
    return DecodeSettings(
        acc_factor=profile.acc.resolution or None,
        gyro_factor=(profile.gyro.resolution or None) if profile.gyro else None,
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
        _, ts_ms, acc, gyro = movesense.decode_data(payload, imu6=profile.has_gyro)
        return SampleBlock(acc, gyro, received_at, ts_ms * 1_000_000, "first")
    if fam == "witmotion":
        packets, _, _ = witmotion.split_stream(payload)
        acc, gyro = witmotion.decode_packets(packets)
        return SampleBlock(acc, gyro, received_at)
    if fam == "thingy52":
        acc, gyro, _ = thingy52.decode_raw(payload)
        return SampleBlock(acc, gyro, received_at)
    if fam == "metawear":
        acc_lsb, gyro_lsb = metawear_scales(profile, s)
        kind, v = metawear.decode_message(payload, acc_lsb_per_g=acc_lsb, gyro_lsb_per_dps=gyro_lsb)
        return SampleBlock(v if kind == "acc" else None, v if kind == "gyro" else None, received_at)
    raise DecodeError(f"no decoder for family {fam!r}")


def _polar(
    profile: DeviceProfile, payload: bytes, received_at: float, s: DecodeSettings
) -> SampleBlock:
    p = profile.params
    if len(payload) < 1:
        raise DecodeError("empty PMD frame")
    mtype = payload[0] & 0x3F
    acc_type, gyro_type = int(p["acc_type"]), int(p.get("gyro_type", -1))
    if mtype == acc_type:
        factor = s.acc_factor
    elif mtype == gyro_type and profile.has_gyro:
        factor = s.gyro_factor
    else:
        raise DecodeError(f"PMD frame of measurement type {mtype}, which this profile does not use")
    fr = polar_pmd.decode_frame(
        payload,
        resolution_bits=int(p["resolution_bits"]),
        channels=int(p["channels"]),
        factor=factor,
    )
    vals = fr.samples
    if not fr.compressed and mtype == acc_type and fr.frame_type == 1:
        vals = vals / 1000.0  # frame type 1 is mG
    if mtype == acc_type:
        return SampleBlock(vals, None, received_at, fr.timestamp_ns, "last")
    return SampleBlock(None, vals, received_at, fr.timestamp_ns, "last")


def metawear_scales(profile: DeviceProfile, s: DecodeSettings) -> tuple[float, float]:
    """LSB per g and per °/s for the configured ranges."""
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

    def feed(self, payload: bytes, received_at: float) -> SampleBlock | None:
        """Decode one notification; malformed ones are counted and skipped (None)."""
        try:
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
        except DecodeError:
            self.malformed += 1
            return None

    def reset(self) -> None:
        self._tail = b""
