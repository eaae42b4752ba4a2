"""Scale profiles: the sizes a claim reads instead of literal epoch counts."""
from __future__ import annotations

import pytest

from claimcheck.config import PROFILES


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_epochs_scale_the_base_and_keep_a_floor(name):
    profile = PROFILES[name]
    for base in (1, 3, 4, 10, 150):
        scaled = profile.epochs(base)
        assert scaled >= 1 and scaled == max(1, -(-base * profile.epoch_factor // 1))
        for floor in (1, base, 2 * base):
            assert profile.epochs(base, at_least=floor) == max(scaled, floor)
