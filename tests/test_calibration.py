"""Unit tests of claims/section3/calibration.py (3.5 metrics)."""
from __future__ import annotations

import math

import pytest
import torch

from claims.section3.calibration import expected_calibration_error, mean_confidence


def logits_for(confidence: float, n: int) -> torch.Tensor:
    """Two-class logits whose top softmax probability is `confidence` (class 0)."""
    return torch.tensor([[math.log(confidence / (1 - confidence)), 0.0]] * n)


def test_ece_is_zero_when_confidence_equals_accuracy():
    logits = logits_for(0.75, 4)
    y = torch.tensor([0, 0, 0, 1])  # 3/4 correct at confidence 0.75
    assert expected_calibration_error(logits, y) == pytest.approx(0.0, abs=1e-6)  # float32 logits
    assert mean_confidence(logits) == pytest.approx(0.75)


def test_ece_of_an_over_confident_classifier():
    y = torch.tensor([0, 1, 0, 1])  # half correct at confidence 0.9
    assert expected_calibration_error(logits_for(0.9, 4), y) == pytest.approx(0.4)


def test_ece_validates_its_arguments():
    with pytest.raises(ValueError, match="bins"):
        expected_calibration_error(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), bins=0)
    with pytest.raises(ValueError, match="logits"):
        expected_calibration_error(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long))
