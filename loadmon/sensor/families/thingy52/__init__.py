"""Nordic Thingy:52: the motion service's raw-data characteristic and its configuration."""

#: Keys the family's table in a devices/*.toml profile must have (`[thingy52]`).
PROFILE_KEYS: tuple[str, ...] = (
    "packet_length",
    "format",
    "acc_fields",
    "gyro_fields",
    "acc_scale",
    "gyro_scale",
    "config_length",
    "config_format",
    "config_rate_field",
)
