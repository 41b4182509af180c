"""Decoders against the vendors' worked examples (PROTOCOLS.md) and round trips with encoders."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loadmon.errors import DecodeError
from loadmon.profiles import get_profile
from loadmon.sensor.decoding import DecodeSettings, StreamDecoder, decode
from loadmon.sensor.families.metawear import decode as metawear
from loadmon.sensor.families.movesense import decode as movesense
from loadmon.sensor.families.polar_pmd import decode as polar_pmd
from loadmon.sensor.families.thingy52 import decode as thingy52
from loadmon.sensor.families.witmotion import decode as witmotion
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


# ---- vendor vectors for every frame type (polar-ble-sdk AccDataTest / GyrDataTest, MetaWear
# ---- SDK test_accelerometer_bmi270.py, Movesense's documented /Meas/Acc and IMU6 layouts) ----

VERITY = "polar-verity-sense"
#: The SDK's `process acc compressed data type 0` frame body (reference + one 10-bit block).
SDK_ACC_0X80 = H(
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92"
    " BF EE 4B E4 B1 FB 12 B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F"
    " 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B 2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B"
    " 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0 C6 EF F2 F7 F1 B9 FC 7D"
    " BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3 92 F7 F3 B8 E0"
    " 0D FD 2D 77 4B 7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5"
    " C8 8D 7D 2D 71 6B 4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F 4B DB E0 CF D2 36 F8"
    " B2 B0 2D BE 2C 6C 8F 1F CB DA E3 C7 A2 76 F9"
)
#: The SDK's `process acc compressed data type 1` frame: 0x81, mG, sent without FACTOR.
SDK_ACC_0X81 = H("02 65 00 00 00 00 00 00 00 81 F1 FF 14 00 F0 03 06 01 7B 0F 08")
#: The SDK's gyro frames: 0x80 (int16) and 0x81 (float32 patterns, a 28-bit delta block).
SDK_GYRO_0X80 = H("05 FF FF FF FF FF FF FF 7F 80 EA FF 08 00 0D 00 03 01 DF 00")
SDK_GYRO_0X81 = H(
    "05 00 94 35 77 00 00 00 00 81 00 00 80 3F 00 00 20 41 00 00 A0 41 1C 01"
    " 00 00 A0 01 00 00 08 CD CC EC 0D"
)


def _f32(bits: int) -> float:
    return float(np.array([bits & 0xFFFFFFFF], dtype="<u4").view("<f4")[0])


def test_verity_0x81_frame_without_factor_reads_one_g() -> None:
    """A start reply without FACTOR (F0 02 02 00 00) means 1.0, and 0x81 counts are mG."""
    factor = polar_pmd.start_factor(polar_pmd.parse_cp_response(H("F0 02 02 00 00")))
    assert factor is None
    block = decode(get_profile(VERITY), SDK_ACC_0X81,
                   settings=DecodeSettings(acc_factor=factor, started=frozenset({2})))
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc, [[-0.015, 0.020, 1.008], [-0.020, 0.017, 1.008]])
    assert np.linalg.norm(block.acc, axis=1) == pytest.approx([1.0083, 1.0083], abs=1e-3)


def test_acc_0x81_applies_a_factor_in_mg() -> None:
    block = decode(get_profile(VERITY), SDK_ACC_0X81, settings=DecodeSettings(acc_factor=0.5))
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc[0], [-0.0075, 0.010, 0.504])


def test_acc_0x80_is_counts_times_factor_in_g() -> None:
    frame = enc.pmd_header(2, 2_000_000_000, 0x80) + SDK_ACC_0X80
    block = decode(get_profile(VERITY), frame, settings=DecodeSettings(acc_factor=2.44e-4))
    assert block is not None and block.acc is not None
    assert block.n == 57  # reference + 56 deltas
    np.testing.assert_allclose(block.acc[0], np.array([1905, 27376, -29282]) * 2.44e-4)
    np.testing.assert_allclose(block.acc[1], np.array([1905 + 190, 27376 - 105, -29282 - 85])
                               * 2.44e-4)
    assert np.abs(block.acc).max() <= 8  # the SDK's own range check at ±8 g


def test_acc_raw_frames_0_1_2_are_mg_and_ignore_factor() -> None:
    h10 = get_profile("polar-h10")
    s = DecodeSettings(acc_factor=0.25)  # a FACTOR must not touch raw frames (SDK)
    t1 = enc.pmd_header(2, 2_000_000_000, 0x01) + H("F7 FF FF FF E7 03 F8 FF FE FF E5 03")
    b1 = decode(h10, t1, settings=s)
    assert b1 is not None and b1.acc is not None
    np.testing.assert_allclose(b1.acc, [[-0.009, -0.001, 0.999], [-0.008, -0.002, 0.997]])
    t0 = enc.pmd_header(2, 0, 0x00) + bytes([0xF7, 0xFF, 0x64])  # int8: −9, −1, 100 mG
    b0 = decode(h10, t0, settings=s)
    assert b0 is not None and b0.acc is not None
    np.testing.assert_allclose(b0.acc, [[-0.009, -0.001, 0.100]])
    t2 = enc.pmd_header(2, 0, 0x02) + H("F7 FF FF  FF FF FF  E7 03 00")  # int24
    b2 = decode(h10, t2, settings=s)
    assert b2 is not None and b2.acc is not None
    np.testing.assert_allclose(b2.acc, [[-0.009, -0.001, 0.999]])


def test_gyro_0x80_is_counts_times_factor() -> None:
    s = DecodeSettings(gyro_factor=None, started=frozenset({2, 5}))
    block = decode(get_profile(VERITY), SDK_GYRO_0X80, settings=s)
    assert block is not None and block.gyro is not None and block.acc is None
    assert block.gyro.tolist() == [[-22.0, 8.0, 13.0], [-23.0, 11.0, 16.0]]
    assert block.device_time_ns == 0x7FFFFFFFFFFFFFFF


@pytest.mark.parametrize("factor", [None, 0.5])
def test_gyro_0x81_float_deltas(factor: float | None) -> None:
    block = decode(get_profile(VERITY), SDK_GYRO_0X81,
                   settings=DecodeSettings(gyro_factor=factor, started=frozenset({2, 5})))
    assert block is not None and block.gyro is not None
    f = 1.0 if factor is None else factor
    want = [
        [1.0, 10.0, 20.0],
        [_f32(0x3F800000 + 0x1A00000), _f32(0x41200000 + 0x0800000),
         _f32(0x41A00000 + 0xFDECCCCD)],
    ]
    np.testing.assert_allclose(block.gyro, np.array(want) * f, rtol=1e-7)


def test_frame_type_is_checked_against_the_started_measurement() -> None:
    verity = get_profile(VERITY)
    with pytest.raises(DecodeError, match="only ACC was started"):
        decode(verity, SDK_GYRO_0X80, settings=DecodeSettings(started=frozenset({2})))
    with pytest.raises(DecodeError, match="only ACC was started"):
        decode(verity, SDK_GYRO_0X80, settings=DecodeSettings(gyro=False))
    with pytest.raises(DecodeError, match="frame type 0x82"):
        decode(verity, enc.pmd_header(2, 0, 0x82) + SDK_ACC_0X81[10:])
    with pytest.raises(DecodeError, match="frame type 0x01"):  # the SDK parses no raw gyro
        decode(verity, enc.pmd_header(5, 0, 0x01) + bytes(12))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 20), st.just(3)),
                  elements=st.floats(-2000, 2000, width=32, allow_subnormal=False)))
def test_gyro_0x81_round_trip(vals: np.ndarray) -> None:
    frame = enc.encode_float_delta_frame(5, 1, vals.astype(np.float64))
    fr = polar_pmd.to_units(frame, factor=None)
    np.testing.assert_array_equal(fr.samples, vals.astype(np.float64))


# ---- Movesense -----------------------------------------------------------------------------


def _movesense_acc_packet(n: int = 4) -> tuple[bytes, np.ndarray]:
    """`/Meas/Acc`: `02 ref`, uint32 ms of the first sample, n × (x, y, z) float32 m/s²."""
    acc_ms2 = np.array([[0.1 * i, -0.2, 9.80665] for i in range(n)], dtype=np.float32)
    return H("02 63") + struct.pack("<I", 5000) + acc_ms2.tobytes(), acc_ms2.astype(np.float64)


def test_movesense_acc_packet_with_gyro_off() -> None:
    packet, acc_ms2 = _movesense_acc_packet(4)
    prof = get_profile("movesense")
    block = decode(prof, packet, settings=DecodeSettings(gyro=False))
    assert block is not None and block.acc is not None and block.gyro is None
    assert block.n == 4 and block.device_time_ns == 5000 * 1_000_000
    np.testing.assert_allclose(block.acc, acc_ms2 / movesense.STANDARD_GRAVITY, rtol=1e-6)
    # Read as IMU6 the same 48 bytes would be 2 samples of nonsense: the subscription decides.
    wrong = decode(prof, packet, settings=DecodeSettings(gyro=True))
    assert wrong is not None and wrong.n == 2


def test_movesense_gyro_and_imu6_bodies() -> None:
    g = np.array([[1.5, -2.0, 250.0]] * 3, dtype=np.float32)
    _, _, acc, gyro = movesense.decode_data(H("02 63 00 00 00 00") + g.tobytes(), kind="Gyro")
    assert acc is None and gyro is not None and gyro.tolist() == g.tolist()
    a = np.array([[0.0, 0.0, 9.80665]] * 3, dtype=np.float32)
    _, _, acc, gyro = movesense.decode_data(H("02 63 00 00 00 00") + a.tobytes() + g.tobytes())
    assert acc is not None and acc[:, 2] == pytest.approx(1.0, rel=1e-6)
    assert gyro is not None and gyro.tolist() == g.tolist()


def test_movesense_data_part2_is_reassembled() -> None:
    acc = np.tile([[0.0, 0.5, 1.0]], (8, 1))
    gyro = np.tile([[10.0, -20.0, 30.0]], (8, 1))
    whole = enc.encode_movesense_data(0x63, 777, acc, gyro)  # 8 IMU6 samples: 198 bytes
    part1, part2 = movesense.split_packet(whole)
    assert len(part1) == movesense.MAX_PACKET and part2[:2] == H("03 63")
    dec = StreamDecoder(get_profile("movesense"), DecodeSettings())
    assert dec.feed(part1, 0.0) is None and dec.waiting
    block = dec.feed(part2, 0.0)
    assert block is not None and block.n == 8 and dec.malformed == 0
    np.testing.assert_allclose(block.gyro, gyro, rtol=1e-6)  # type: ignore[arg-type]
    # A DATA_PART2 on its own is malformed, counted and skipped.
    assert dec.feed(part2, 0.0) is None and dec.malformed == 1


# ---- MetaWear BMI160 / BMI270 ----------------------------------------------------------------


def test_metamotion_s_bmi270_vectors() -> None:
    packed = H("03 05 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01")
    kind, v = metawear.decode_message(packed, acc_lsb_per_g=4096, gyro_lsb_per_dps=16.4,
                                      chip="bmi270")
    assert kind == "acc"
    np.testing.assert_allclose(v, [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146],
                                   [-0.029, 0.352, 0.065]], atol=5e-4)
    kind, v = metawear.decode_message(H("03 04 16 c4 94 a2 2a d0"), acc_lsb_per_g=8192,
                                      gyro_lsb_per_dps=16.4, chip="bmi270")
    np.testing.assert_allclose(v, [[-1.872, -2.919, -1.495]], atol=5e-4)
    with pytest.raises(DecodeError):  # 03 05 is no data register on a BMI160
        metawear.decode_message(packed, acc_lsb_per_g=4096, gyro_lsb_per_dps=16.4)
    assert metawear.parse_module_info(H("03 80 04 00")) == "bmi270"
    assert metawear.parse_module_info(H("03 80 01 01")) == "bmi160"
    with pytest.raises(DecodeError, match="implementation 3"):
        metawear.parse_module_info(H("03 80 03 00"))


def test_metamotion_profile_decodes_by_chip_and_separate_ranges() -> None:
    prof = get_profile("metamotion")
    s = DecodeSettings(acc_range=4, gyro_range=500, chip="bmi270")
    block = decode(prof, H("03 04 16 c4 94 a2 2a d0"), settings=s)
    assert block is not None and block.acc is not None
    np.testing.assert_allclose(block.acc, [[-1.872, -2.919, -1.495]], atol=5e-4)
    g = decode(prof, H("13 05") + struct.pack("<9h", *([656, -656, 0] * 3)), settings=s)
    assert g is not None and g.gyro is not None
    np.testing.assert_allclose(g.gyro, [[10.0, -10.0, 0.0]] * 3)


# ---- `loadmon devices decode` ------------------------------------------------------------


def _decode_cli(*args: str) -> tuple[int, str]:
    import json

    from click.testing import CliRunner

    from loadmon.cli import cli

    res = CliRunner().invoke(cli, ["devices", "decode", *args])
    out = res.output.strip()
    return res.exit_code, json.loads(out) if res.exit_code == 0 else out


def test_cli_decodes_verity_0x81_without_factor_as_one_g() -> None:
    code, out = _decode_cli(VERITY, SDK_ACC_0X81.hex(" "))
    assert code == 0 and out["acc_g"][0] == [-0.015, 0.02, 1.008]  # type: ignore[index]


def test_cli_no_gyro_decodes_a_movesense_acc_packet() -> None:
    packet, _acc_ms2 = _movesense_acc_packet(4)
    code, out = _decode_cli("movesense", packet.hex(), "--no-gyro")
    assert code == 0 and len(out["acc_g"]) == 4 and "gyro_dps" not in out  # type: ignore[index]
    assert out["acc_g"][0][2] == pytest.approx(1.0, abs=1e-6)  # type: ignore[index]


def test_cli_joins_a_movesense_data_part2() -> None:
    whole = enc.encode_movesense_data(0x63, 777, np.ones((8, 3)), np.ones((8, 3)))
    part1, part2 = movesense.split_packet(whole)
    code, out = _decode_cli("movesense", part1.hex(), part2.hex())
    assert code == 0 and len(out["gyro_dps"]) == 8  # type: ignore[index]
    code, msg = _decode_cli("movesense", part1.hex())
    assert code == 2 and "DATA_PART2" in msg  # type: ignore[operator]


def test_cli_separate_acc_and_gyro_ranges() -> None:
    code, out = _decode_cli("metamotion", "03 04 16 c4 94 a2 2a d0", "--acc-range", "4",
                            "--chip", "bmi270")
    assert code == 0 and out["acc_g"] == [[-1.872314, -2.919434, -1.494873]]  # type: ignore[index]
    gyro = "13 07" + struct.pack("<9h", *([656] * 9)).hex()
    code, out = _decode_cli("metamotion", gyro, "--acc-range", "8", "--gyro-range", "500")
    assert code == 0 and out["gyro_dps"][0] == [10.0, 10.0, 10.0]  # type: ignore[index]
    code, msg = _decode_cli("metamotion", "03 04 00 10 00 F0 00 00", "--acc-range", "3")
    assert code == 2 and "--acc-range must be one of [2, 4, 8, 16]" in msg  # type: ignore[operator]
