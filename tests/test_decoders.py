"""Decoders against the vendors' worked examples (PROTOCOLS.md) and round trips with encoders."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loadmon.decoders import (
    DecodeSettings,
    StreamDecoder,
    decode,
    metawear,
    movesense,
    polar_pmd,
    thingy52,
    witmotion,
)
from loadmon.errors import DecodeError
from loadmon.profiles import get_profile
from loadmon.sensor.virtual import encoders as enc

H = bytes.fromhex


# ---- vendor worked examples ------------------------------------------------------------------


def test_h10_frame_type_1_example() -> None:
    frame = enc.pmd_header(2, 123_456_789, 0x01) + H("45 FF E4 FF B5 03")
    block = decode(get_profile("polar-h10"), frame)
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc, [[-0.187, -0.028, 0.949]])
    assert block.device_time_ns == 123_456_789 and block.time_ref == "last"


def test_verity_delta_frame_example() -> None:
    deltas = H("FC 07 FF") + bytes(3 * 28)
    body = H("D0 FF 65 01 E4 0F") + H("08 1D") + deltas
    ints = polar_pmd.parse_delta_frames(body, channels=3, resolution_bits=16)
    assert ints.shape == (30, 3)
    assert ints[0].tolist() == [-48, 357, 4068]
    assert ints[1].tolist() == [-52, 364, 4067]
    frame = enc.pmd_header(2, 0, 0x80) + body
    verity = get_profile("polar-verity-sense")
    block = decode(verity, frame, settings=DecodeSettings(acc_factor=1.0))
    assert block is not None and block.acc is not None
    assert block.acc[1].tolist() == [-52, 364, 4067]


def test_verity_start_response_factor_example() -> None:
    resp = polar_pmd.parse_cp_response(H("F0 02 02 00 00 05 01 40 DA 7F 39"))
    assert resp.ok and resp.opcode == 2 and resp.measurement_type == 2
    factor = polar_pmd.start_factor(resp)
    assert factor == pytest.approx(0.000244, rel=1e-3)
    assert polar_pmd.start_factor(polar_pmd.parse_cp_response(H("F0 02 02 00 00"))) is None


def test_pmd_settings_examples() -> None:
    h10 = polar_pmd.parse_cp_response(
        H("F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00")
    )
    s = polar_pmd.parse_settings(h10.params)
    assert s[polar_pmd.SAMPLE_RATE] == [25, 50, 100, 200]
    assert s[polar_pmd.RESOLUTION] == [16] and s[polar_pmd.RANGE] == [2, 4, 8]
    verity = polar_pmd.parse_cp_response(
        H("F0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
    )
    s = polar_pmd.parse_settings(verity.params)
    assert s[polar_pmd.SAMPLE_RATE] == [52] and s[polar_pmd.CHANNELS] == [3]


def test_pmd_request_examples() -> None:
    assert polar_pmd.build_settings_request(2) == H("01 02")
    verity = polar_pmd.build_start_request(2, {0: 52, 1: 16, 2: 8, 4: 3})
    assert verity == H("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
    h10 = polar_pmd.build_start_request(2, {0: 200, 1: 16, 2: 8})
    assert polar_pmd.parse_settings(h10[2:]) == polar_pmd.parse_settings(
        H("02 01 08 00 00 01 C8 00 01 01 10 00")
    )
    assert polar_pmd.build_stop_request(2) == H("03 02")
    assert polar_pmd.parse_features(H("0F 6E 00")) == {"PPG", "ACC", "PPI", "GYRO", "MAG"}


def test_thingy_fixed_point_example() -> None:
    payload = struct.pack("<9h", 1024, -512, 0, 32, -16, 3200, 16, 0, -32)
    acc, gyro, compass = thingy52.decode_raw(payload)
    assert acc.tolist() == [[1.0, -0.5, 0.0]]
    assert gyro.tolist() == [[1.0, -0.5, 100.0]]
    assert compass.tolist() == [[1.0, 0.0, -2.0]]
    assert thingy52.parse_config(thingy52.build_config(1000, 500, 500, 10, 1))[3] == 10


def test_witmotion_packet_example() -> None:
    pkt = H("55 61") + struct.pack("<9h", 2048, 0, -2048, 16384, 0, -16384, 0, 0, 0)
    acc, gyro = witmotion.decode_packets([pkt])
    assert acc.tolist() == [[1.0, 0.0, -1.0]]
    assert gyro.tolist() == [[1000.0, 0.0, -1000.0]]
    # Resync: garbage and a register reply before the data packet.
    reg = H("55 71 3A 00") + bytes(16)
    pkts, tail, skipped = witmotion.split_stream(H("01 02 55") + reg + pkt + pkt[:7])
    assert pkts == [pkt] and tail == pkt[:7] and skipped == 3
    assert witmotion.build_write(0x03, 0x08) == H("FF AA 03 08 00")


def test_metawear_and_movesense_examples() -> None:
    kind, v = metawear.decode_message(H("03 04 00 10 00 F0 00 00"), acc_lsb_per_g=4096,
                                      gyro_lsb_per_dps=16.4)
    assert kind == "acc" and v.tolist() == [[1.0, -1.0, 0.0]]
    data = enc.encode_movesense_data(0x63, 1000, np.array([[0.0, 0.0, 1.0]]), np.ones((1, 3)))
    ref, ts, acc, gyro = movesense.decode_data(data, imu6=True)
    assert (ref, ts) == (0x63, 1000) and acc[0, 2] == pytest.approx(1.0, abs=1e-6)
    assert gyro is not None and gyro.tolist() == [[1.0, 1.0, 1.0]]
    assert movesense.build_subscribe(0x63, "/Meas/Acc/13") == H("01 63") + b"/Meas/Acc/13\x00"


@pytest.mark.parametrize(
    ("profile", "payload"),
    [
        ("polar-verity-sense", H("02 00 00")),
        ("polar-verity-sense", enc.pmd_header(2, 0, 0x80) + H("D0 FF 65 01 E4 0F 08 1D FC")),
        ("polar-h10", enc.pmd_header(2, 0, 0x01) + H("45 FF E4")),
        ("movesense", H("02 63 00 00 00 00 01 02")),
        ("witmotion-bwt901ble", H("00 11 22 33")),
        ("thingy52", bytes(17)),
        ("metamotion", H("03 04 00 10")),
        ("metamotion", H("11 22 33 44 55 66 77 88")),
    ],
)
def test_malformed_packets_raise_decode_error(profile: str, payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(get_profile(profile), payload)


def test_stream_decoder_counts_and_skips_malformed() -> None:
    dec = StreamDecoder(get_profile("thingy52"), DecodeSettings())
    assert dec.feed(bytes(5), 0.0) is None
    assert dec.feed(bytes(18), 0.0) is not None
    assert dec.malformed == 1


# ---- round trips under hypothesis ---------------------------------------------------------------

int16 = st.integers(-32768, 32767)
triples = st.integers(1, 120).flatmap(
    lambda n: hnp.arrays(np.int64, (n, 3), elements=int16)
)


@settings(max_examples=150, deadline=None)
@given(triples, st.integers(0, 2**63 - 1))
def test_delta_frame_round_trip(samples: np.ndarray, ts: int) -> None:
    frame = enc.encode_delta_frame(5, ts, samples)
    assert len(frame) == enc.delta_frame_size(samples)
    fr = polar_pmd.decode_frame(frame, factor=None)
    assert fr.timestamp_ns == ts and fr.measurement_type == 5 and fr.compressed
    np.testing.assert_array_equal(fr.samples, samples)


@settings(max_examples=60, deadline=None)
@given(triples)
def test_h10_raw_round_trip(mg: np.ndarray) -> None:
    block = decode(get_profile("polar-h10"), enc.encode_raw_type1(7, mg))
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc * 1000, mg, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, (9,), elements=int16), st.binary(max_size=12), st.integers(1, 19))
def test_witmotion_round_trip_with_resync(raw: np.ndarray, junk: bytes, cut: int) -> None:
    pkt = enc.encode_witmotion(raw[0:3], raw[3:6], raw[6:9])
    junk = junk.replace(b"\x55", b"\x54")
    dec = StreamDecoder(get_profile("witmotion-bwt901ble"), DecodeSettings())
    stream = junk + pkt + pkt
    first = dec.feed(stream[: len(junk) + cut], 0.0)
    second = dec.feed(stream[len(junk) + cut :], 1.0)
    assert first is None and second is not None and second.acc is not None
    np.testing.assert_allclose(second.acc, np.tile(raw[0:3] * 16 / 32768, (2, 1)))
    assert second.gyro is not None
    np.testing.assert_allclose(second.gyro, np.tile(raw[3:6] * 2000 / 32768, (2, 1)))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, (9,), elements=int16))
def test_thingy_round_trip(raw: np.ndarray) -> None:
    block = decode(get_profile("thingy52"), enc.encode_thingy_raw(raw[0:3], raw[3:6], raw[6:9]))
    assert block is not None and block.acc is not None and block.gyro is not None
    np.testing.assert_allclose(block.acc[0], raw[0:3] / 1024)
    np.testing.assert_allclose(block.gyro[0], raw[3:6] / 32)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, (3, 3), elements=int16), st.sampled_from([2, 4, 8, 16]))
def test_metawear_round_trip(raw: np.ndarray, rng_g: int) -> None:
    prof = get_profile("metamotion")
    s = DecodeSettings(acc_range=rng_g, gyro_range=2000)
    lsb = float(prof.params["acc_lsb_per_g"][str(rng_g)])
    block = decode(prof, enc.encode_metawear(0x03, 0x1C, raw), settings=s)
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc, raw / lsb)
    block = decode(prof, enc.encode_metawear(0x13, 0x07, raw), settings=s)
    assert block is not None and block.gyro is not None
    np.testing.assert_allclose(block.gyro, raw / 16.4)


finite = st.floats(-100, 100, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(lambda n: hnp.arrays(np.float64, (n, 6), elements=finite)),
    st.integers(0, 2**32 - 1),
)
def test_movesense_round_trip(vals: np.ndarray, ts: int) -> None:
    block = decode(get_profile("movesense"), enc.encode_movesense_data(1, ts, vals[:, :3],
                                                                      vals[:, 3:]))
    assert block is not None and block.acc is not None and block.gyro is not None
    assert block.device_time_ns == ts * 1_000_000 and block.time_ref == "first"
    np.testing.assert_allclose(block.acc, vals[:, :3], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(block.gyro, vals[:, 3:], rtol=1e-6, atol=1e-6)
