"""Unit tests of claims/section3/variants.py (seed floor and cache-key description of a variant)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from claims.section3.variants import _describe, at_least
from models.proposals import ConfidencePenalizedCE


def test_at_least_extends_the_claim_seeds_from_its_own_sequence():
    ev = SimpleNamespace(seeds=[1, 2, 3], many_seeds=[1, 2, 3, 4, 5, 6, 7, 8], card=SimpleNamespace(id="3.4"))
    assert at_least(ev, 5) == [1, 2, 3, 4, 5]
    assert at_least(ev, 2) == [1, 2, 3]
    with pytest.raises(ValueError, match="only 8 seeds"):
        at_least(ev, 9)


def test_a_variant_must_be_a_dataclass_to_key_the_cache():
    assert _describe(ConfidencePenalizedCE(0.3)) == {"type": "ConfidencePenalizedCE", "beta": 0.3}
    assert _describe(None) is None
    with pytest.raises(TypeError, match="dataclass"):
        _describe(lambda step: 0.1)
