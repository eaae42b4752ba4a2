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


@pytest.mark.parametrize("name, floors", [
    ("smoke", {0: 0, 1: 1, 5: 3, 8: 5, 10: 6, 40: 24, 50: 30}),      # 3/5 of standard's, rounded up
    ("standard", {0: 0, 5: 5, 10: 10, 40: 40, 50: 50}),
    ("paper", {0: 0, 5: 5, 10: 10, 40: 40, 50: 50}),                # its first look (10) is already above 5
])
def test_a_seed_family_floor_written_for_standard_scales_with_the_first_look(name, floors):
    assert {floor: PROFILES[name].seed_floor(floor) for floor in floors} == floors


def test_only_smoke_reports_an_undecided_check_as_a_skip():
    assert {name: p.inconclusive_skips for name, p in PROFILES.items()} == {
        "smoke": True, "standard": False, "paper": False}
