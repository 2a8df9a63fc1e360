"""How many samples a ``train`` run trains and tests on, and whether that is enough to train.

One rule, used by the plan's checks (torch-free, from a source's sample counts) and by the
engine's split (:func:`regtui.engine.custom.data.load`): a source without a test split of its
own holds out ``test_fraction`` of its samples (at least one, and at least one is left), the
training part then ``val_fraction`` of its own for validation (none at 0, or where it could not
spare one and keep ``MIN_TRAIN``), and
``train_size`` / ``test_size`` cap the training and test parts. A run needs at least 2 training samples
and 1 test sample; with BatchNorm, mini-batches of at least 2 and 2 test samples (the test
set is also evaluated in train mode: the forgot-``eval()`` view).
"""

from __future__ import annotations

from typing import Any

from regtui.specs import batch_too_small_for_batchnorm

MIN_TRAIN = 2


def held_out(n: int, test_fraction: float) -> int:
    """Test samples split off ``n`` samples that have no test split of their own."""
    return max(1, min(n - 1, round(test_fraction * n)))


def val_held_out(n: int, val_fraction: float) -> int:
    """Validation samples held out of ``n`` training samples: none at 0, else at least one, leaving at
    least ``MIN_TRAIN`` (a part too small to spare one has no validation split: it never stops a run)."""
    if val_fraction == 0 or n <= MIN_TRAIN:
        return 0
    return max(1, min(n - MIN_TRAIN, round(val_fraction * n)))


def _cap(n: int, size: int) -> int:
    return n if size == 0 else min(n, size)


def split_sizes(n: int, own_test: int | None, p: dict[str, Any]) -> tuple[int, int]:
    """(training, test) samples of a run: ``n`` samples, and ``own_test`` when the source has its own test split."""
    if own_test is None:
        own_test = held_out(n, p["test_fraction"])
        n -= own_test
    n -= val_held_out(n, p.get("val_fraction", 0.0))
    return _cap(n, p["train_size"]), _cap(own_test, p["test_size"])


def size_error(what: str, n: int, own_test: int | None, p: dict[str, Any], batchnorm: bool = False) -> str | None:
    """Why a run of these sizes cannot train (one line, starting with ``what``), or None.

    ``n`` samples (the training split's, when ``own_test`` gives the source's own test split);
    ``batchnorm``: the model has a BatchNorm layer (which refuses a training batch of one)."""
    train, test = split_sizes(n, own_test, p)
    if train < MIN_TRAIN:
        if p["train_size"] and p["train_size"] < MIN_TRAIN:
            why = f"train_size = {p['train_size']} leaves {train} sample"
        elif own_test is None:
            test = held_out(n, p["test_fraction"])
            why = f"{_count(n)} sample(s), less the {test} held out for testing, leave {train}"
        else:
            why = f"{_count(n)} training sample(s)"
        return f"{what}: {why} to train on; a run needs at least {MIN_TRAIN} training samples"
    if batchnorm and test < 2:
        return (
            f"{what}: {test} test sample; with a BatchNorm layer a run needs at least 2 "
            "(the test set is also evaluated in train mode, which BatchNorm refuses for one sample)"
        )
    if batchnorm:
        return batch_too_small_for_batchnorm(p["batch"], " with a BatchNorm layer")
    return None


def _count(n: int) -> str:
    return f"{n:,}"
