"""The sizes hypothesis draws for the building-block network of 7.1 and its skip variant in 7.2."""
from __future__ import annotations

from hypothesis import strategies as st

BLOCK_NET_SIZES = dict(n=st.integers(0, 6), channels=st.integers(1, 12), in_channels=st.integers(1, 3),
                       classes=st.integers(2, 10), side=st.integers(3, 10), batch=st.integers(1, 3))
