"""WitMotion BWT901BLE: `55 61` data packets, `FF AA` register writes with the vendor's pauses."""

#: Keys the family's table in a devices/*.toml profile must have (`[witmotion]`).
PROFILE_KEYS: tuple[str, ...] = (
    "header",
    "packet_length",
    "format",
    "acc_fields",
    "gyro_fields",
    "acc_scale",
    "gyro_scale",
    "unlock",
    "save",
    "rate_register",
    "rate_codes",
)
