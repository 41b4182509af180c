"""Movesense: GSP commands, `/Meas/Acc` and `/Meas/IMU6` data, DATA_PART2 continuations."""

#: Keys the family's table in a devices/*.toml profile must have (`[movesense]`).
PROFILE_KEYS: tuple[str, ...] = (
    "path_imu",
    "path_acc",
    "reference",
    "max_samples_per_packet",
)
