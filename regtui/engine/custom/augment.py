"""Image augmentation of the training mini-batches (``[data] augment``), by torchvision's v2 transforms.

``random_crop`` is ``v2.RandomCrop((H, W), padding=crop_padding)`` (zeros around the image,
then a window of its own size), ``hflip`` is ``v2.RandomHorizontalFlip(0.5)``; they are
applied in the order named, to each sample of a training mini-batch on its own (a v2
transform given a batch draws one crop and one flip for all of it). Validation, test and
the logged full-set evaluations see the data as it is.

torchvision's transforms draw from torch's global CPU RNG. Each run keeps its own stream:
the global RNG state is swapped for the run's augmentation state (a generator seeded with
the run's seed xor :data:`AUGMENT_SALT`) while its batch is transformed, and restored after,
so two runs with the same seed see the same draws, training's own draws (init, dropout) are
untouched, and a run of a stack draws what it would alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from regtui.custom_specs.sources import vision_install
from regtui.specs import ConfigError

__all__ = ["AUGMENT_SALT", "Augmenter", "transform"]

AUGMENT_SALT = 0xA06  # the augmentation stream's seed is the run's seed xor this


def transform(names: list[str], padding: int, size: tuple[int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """The v2 transforms named (in order) for one (C, H, W) image of ``size`` (H, W)."""
    try:
        from torchvision.transforms import v2  # type: ignore[import-not-found, unused-ignore]
    except Exception as exc:  # absent, or a build for another torch that fails to load
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"data: augment needs torchvision, which cannot be imported ({reason}): {vision_install()}"
        ) from None
    steps = {"random_crop": lambda: v2.RandomCrop(size, padding=padding), "hflip": lambda: v2.RandomHorizontalFlip(0.5)}
    return v2.Compose([steps[name]() for name in names])


class Augmenter:
    """One run's augmentation: its transforms and its own RNG stream (see the module docstring)."""

    def __init__(self, data: dict[str, Any], input_shape: tuple[int, ...], source: str, seed: int) -> None:
        if len(input_shape) != 3:
            raise ConfigError(
                f"data ({source}): augment is for image data (N, C, H, W inputs); its samples are "
                f"{tuple(input_shape)}: remove augment"
            )
        size = (int(input_shape[1]), int(input_shape[2]))
        self.transform = transform(list(data["augment"]), int(data.get("crop_padding", 0)), size)
        self.state = torch.Generator().manual_seed(seed ^ AUGMENT_SALT).get_state()

    def __call__(self, xb: torch.Tensor) -> torch.Tensor:
        """The batch ``xb`` (N, C, H, W), each sample transformed with the next draws of the run's stream."""
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.state)
            out = torch.stack([self.transform(x) for x in xb])
            self.state = torch.get_rng_state()
        return out
