"""Polar PMD (Verity Sense, H10): measurement frames, the control-point dialogue, SDK mode."""

#: Keys the family's table in a devices/*.toml profile must have (`[polar_pmd]`).
PROFILE_KEYS: tuple[str, ...] = (
    "acc_type",
    "resolution_bits",
    "channels",
    "acc_frame",
)
