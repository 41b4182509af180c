"""MetaWear (MetaMotion RL/C: BMI160; MetaMotion S: BMI270): module/register messages."""

#: Keys the family's table in a devices/*.toml profile must have (`[metawear]`).
PROFILE_KEYS: tuple[str, ...] = (
    "acc_module",
    "gyro_module",
    "acc_packed_register",
    "gyro_packed_register",
    "acc_odr_codes",
    "gyro_odr_codes",
    "acc_range_codes",
    "acc_lsb_per_g",
    "gyro_range_codes",
    "gyro_lsb_per_dps",
)
