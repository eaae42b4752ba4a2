"""Architectures, one file per family, each with a small config dataclass whose build() makes the module."""
