"""Optional local ImageNet files for 6.2: ResNet-50 weights and a folder of labelled validation images.

Nothing is downloaded. The weights come from the --resnet50-weights option (fixtures/plugin.py); the images from
the environment variable DL_CLAIMS_IMAGENET_DIR (how many: DL_CLAIMS_IMAGENET_LIMIT, default 200).
The weights file is a torchvision ResNet-50 state dict (optionally wrapped in {"state_dict": ...} or
{"model": ...}), loaded with torch.load(weights_only=True). The image folder has
one sub-folder per class, named by its ImageNet class index (0..999), or exactly the 1,000 WordNet ids,
whose sorted order is the class index (torchvision's convention).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torch import nn

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CROP_RATIO = 0.875  # resize the shorter side to size / 0.875, then centre-crop size x size (the usual protocol)
IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")

IMAGES_ENV, LIMIT_ENV = "DL_CLAIMS_IMAGENET_DIR", "DL_CLAIMS_IMAGENET_LIMIT"
DEFAULT_LIMIT = 200


@dataclasses.dataclass(frozen=True)
class ImageNetFiles:
    weights: Path
    images: Path
    limit: int


def imagenet_files_from(weights: Path | None, environ) -> ImageNetFiles | str:
    """The configured files (weights from --resnet50-weights, images from the environment), or the
    reason why the accuracy check cannot run."""
    if weights is None:
        return "no local ImageNet ResNet-50 weights: pass --resnet50-weights PATH (nothing is downloaded)"
    images = environ.get(IMAGES_ENV)
    if not images:
        return f"--resnet50-weights given but no labelled images: set {IMAGES_ENV}=DIR (one folder per class)"
    if not Path(images).is_dir():
        raise pytest.UsageError(f"{IMAGES_ENV}: {images} is not a directory")
    limit = environ.get(LIMIT_ENV, str(DEFAULT_LIMIT))
    if not limit.isdigit() or int(limit) < 1:
        raise pytest.UsageError(f"{LIMIT_ENV}: invalid value {limit!r}; expected an integer >= 1")
    return ImageNetFiles(Path(weights), Path(images), int(limit))


def load_resnet50(path: Path) -> nn.Module:
    """torchvision's resnet50(weights=None) with the state dict stored at `path` (strict), in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    from torchvision.models import resnet50  # imported on use, not when the test is collected

    model = resnet50(weights=None)
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return model.eval()


def labelled_images(root: Path, limit: int) -> list[tuple[Path, int]]:
    """Up to `limit` (image path, class index) pairs, spread over the classes in sorted order."""
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir())
    if not folders:
        raise ValueError(f"{root}: no class folders")
    if all(f.name.isdigit() for f in folders):
        index = {f: int(f.name) for f in folders}
    elif len(folders) == 1000:
        index = {f: i for i, f in enumerate(folders)}
    else:
        raise ValueError(f"{root}: class folders must be named 0..999, or be exactly the 1,000 WordNet ids "
                         f"(found {len(folders)})")
    per_class = [sorted(p for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) for f in folders]
    pairs, depth = [], 0
    while len(pairs) < limit and any(depth < len(files) for files in per_class):
        pairs += [(files[depth], index[f]) for f, files in zip(folders, per_class) if depth < len(files)]
        depth += 1
    return pairs[:limit]


def preprocess(path: Path, size: int) -> torch.Tensor:
    """(3, size, size) normalized tensor: shorter side to size / CROP_RATIO, centre crop."""
    from PIL import Image
    from torchvision.transforms import v2

    transform = v2.Compose([v2.ToImage(), v2.Resize(round(size / CROP_RATIO), antialias=True), v2.CenterCrop(size),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    with Image.open(path) as image:
        return transform(image.convert("RGB"))


@torch.no_grad()
def top1_hits(model: nn.Module, samples: list[tuple[Path, int]], size: int, batch_size: int = 2) -> int:
    """Number of samples whose top-1 class at resolution `size` equals the label."""
    hits = 0
    for i in range(0, len(samples), batch_size):
        chunk = samples[i:i + batch_size]
        x = torch.stack([preprocess(p, size) for p, _ in chunk])
        hits += int((model(x).argmax(1) == torch.tensor([c for _, c in chunk])).sum())
    return hits
