"""The optional local ImageNet files of claim 6.2's accuracy part.

The weights come from the option --resnet50-weights PATH (fixtures/plugin.py). The labelled images come from the
environment, DL_CLAIMS_IMAGENET_DIR (one folder per class; see imagenet.py) and DL_CLAIMS_IMAGENET_LIMIT
(how many images, default 200: ResNet-50 is slow on a CPU), because pytest accepts new command-line
options only from the root conftest or a plugin.
"""
from __future__ import annotations

import os

import pytest

from claims.section6.imagenet import ImageNetFiles, imagenet_files_from


@pytest.fixture
def imagenet_files(resnet50_weights) -> ImageNetFiles:
    """The local ImageNet weights and images; skips the test with the reason when they are not configured."""
    found = imagenet_files_from(resnet50_weights, os.environ)
    if isinstance(found, str):
        pytest.skip(found)
    return found
