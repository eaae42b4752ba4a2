"""Latency ratios: adjacent paired rounds in a random order, block minima that ignore load spikes."""
from __future__ import annotations

import gc
import math
import time

import numpy as np
import pytest

from claimcheck.latency import block_log_ratios, paired_rounds, quiet_timing


def busy(seconds: float):
    def call():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    return call


def test_a_call_doing_three_times_the_work_has_a_log_ratio_near_log_3():
    with quiet_timing():
        paired = paired_rounds(busy(0.0015), busy(0.0005), rounds=24, warmup=2, seed=1)
    assert len(paired["model"]) == len(paired["reference"]) == 24
    ratios = block_log_ratios(paired, block=6)
    assert len(ratios) == 4
    assert np.median(ratios) == pytest.approx(math.log(3), abs=0.25)


def test_identical_calls_have_log_ratio_near_zero():
    with quiet_timing():
        paired = paired_rounds(busy(0.0005), busy(0.0005), rounds=30, warmup=2, seed=2)
    assert abs(np.median(block_log_ratios(paired, block=6))) < 0.2


def test_the_order_within_a_round_is_random_and_seeded():
    order = []
    paired_rounds(lambda: order.append("m"), lambda: order.append("r"), rounds=200, warmup=0, seed=3)
    firsts = order[0::2]
    assert 70 < firsts.count("m") < 130, "the model runs first in about half the rounds"
    again = []
    paired_rounds(lambda: again.append("m"), lambda: again.append("r"), rounds=200, warmup=0, seed=3)
    assert again == order


def test_warmup_rounds_are_run_and_dropped():
    calls = []
    paired = paired_rounds(lambda: calls.append(1), None, rounds=5, warmup=3, seed=0)
    assert len(calls) == 8 and len(paired["model"]) == 5 and len(paired["reference"]) == 0


def test_a_load_spike_inside_a_block_does_not_move_its_ratio():
    model = np.full(12, 2e-3)
    reference = np.full(12, 1e-3)
    spiked = reference.copy()
    spiked[[1, 7]] = 50e-3                      # two rounds of the reference hit by a spike, one per block
    clean = block_log_ratios({"model": model, "reference": reference}, block=6)
    assert block_log_ratios({"model": model, "reference": spiked}, block=6) == pytest.approx(clean)
    assert clean == pytest.approx([math.log(2)] * 2)


def test_garbage_collection_is_off_while_timing_and_restored_after():
    assert gc.isenabled()
    with quiet_timing():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.parametrize("kwargs, message", [({"rounds": 0, "warmup": 0}, "rounds"),
                                             ({"rounds": 3, "warmup": -1}, "warmup")])
def test_bad_round_counts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_rounds(lambda: None, None, seed=0, **kwargs)


def test_blocks_need_paired_rounds_and_at_least_one_block():
    with pytest.raises(ValueError, match="paired"):
        block_log_ratios({"model": np.ones(6), "reference": np.ones(0)}, block=6)
    with pytest.raises(ValueError, match="fewer rounds"):
        block_log_ratios({"model": np.ones(3), "reference": np.ones(3)}, block=6)
