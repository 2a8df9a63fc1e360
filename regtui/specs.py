"""Parameter specifications of the bundled experiments (the registry names their kinds).

Torch-free on purpose: the CLI validates input and the TUI builds its form
from these without importing torch. Every bad value gets a one-line message
naming the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regtui.numbers import fmt


class ConfigError(ValueError):
    """A bad scenario, parameter or device; the message is one line meant for the user."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # int, float, bool or str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    min_open: bool = False  # True: the minimum itself is not allowed
    max_open: bool = False
    choices: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        return self.kind in (int, float)

    def allowed(self) -> str:
        """Human description of the allowed values, used in error messages."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        what = "an integer" if self.kind is int else "a number"
        lo = hi = ""
        if self.min is not None:
            lo = f"{'>' if self.min_open else '>='} {_fmt(self.min)}"
        if self.max is not None:
            hi = f"{'<' if self.max_open else '<='} {_fmt(self.max)}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        return f"{what} {bounds}".strip()

    def coerce(self, value: Any) -> Any:
        """Check a value from TOML (or already parsed) and return it with the right type."""
        bad = ConfigError(f"{self.name}: {value!r} is not allowed; expected {self.allowed()}")
        if self.kind is bool:
            if not isinstance(value, bool):
                raise bad
            return value
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if self.kind is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad
                value = int(value)
        else:
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise bad
        if self.min is not None and (value < self.min or (self.min_open and value == self.min)):
            raise bad
        if self.max is not None and (value > self.max or (self.max_open and value == self.max)):
            raise bad
        return value

    def parse(self, text: str) -> Any:
        """Parse a command-line or form string, then check it."""
        text = text.strip()
        if self.kind is bool:
            low = text.lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ConfigError(f"{self.name}: {text!r} is not allowed; expected {self.allowed()}")
        if self.kind is str:
            return self.coerce(text)
        if len(text) > 100:  # int() refuses > 4300 digits and float() turns them into inf
            raise ConfigError(f"{self.name}: {_short(text)} is too long for a number; expected {self.allowed()}")
        try:
            value: Any = int(text) if self.kind is int else float(text)
        except ValueError:
            try:  # "1e3" for an int parameter
                as_float = float(text)
            except ValueError:
                raise ConfigError(f"{self.name}: {text!r} is not a number; expected {self.allowed()}") from None
            value = as_float
        return self.coerce(value)


def _fmt(x: float) -> str:
    """A bound in a message: the one number formatter, 6 digits (1_000_000 reads 1e+06)."""
    return fmt(float(x), 6)


def parse_count(name: str, text: str, minimum: int, maximum: int) -> int:
    """An integer option such as --seed, --seeds or --jobs, from the CLI or the form."""
    allowed = f"expected an integer >= {minimum} and <= {maximum}"
    text = text.strip()
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}: {_short(text)} is not an integer; {allowed}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}: {_short(text)} is not allowed; {allowed}")
    return value


def _short(text: str) -> str:
    """A value quoted for a message; a very long one is cut, with its length."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}… ({len(text)} characters)"


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    params: tuple[Param, ...]
    # Cross-parameter check on the full effective parameters; returns an error or None.
    check: Callable[[dict[str, Any]], str | None] = lambda p: None
    # Parameters of the kind that cannot act on this scenario's model -> why (a train model without
    # a dropout layer has no dropout): naming one is an error that says so.
    absent: dict[str, str] = field(default_factory=dict)
    # The parameters that do not act in a run with these full parameters -> why (momentum with
    # Adam): left out of the run's recorded parameters; set explicitly for no run, an error.
    inert: Callable[[dict[str, Any]], dict[str, str]] = lambda p: {}

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.name == key:
                return p
        if key in self.absent:
            raise ConfigError(f"{key}: {self.absent[key]}")
        raise ConfigError(unknown_key_message(key, [p.name for p in self.params], self.name))

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Coerce every value and run the cross-parameter check."""
        out = {key: self.param(key).coerce(v) for key, v in values.items()}
        error = self.check({**self.defaults(), **out})
        if error:
            raise ConfigError(error)
        return out


def unknown_key_message(key: str, known: list[str], where: str = "", what: str = "parameter") -> str:
    """'unknown parameter 'lrr' for weight-decay; did you mean 'lr'? (known: ...)'."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    place = f" for {where}" if where else ""
    return f"unknown {what} {key!r}{place}{hint} (known: {', '.join(sorted(known))})"


def toml_type(value: Any) -> str:
    """The TOML name of a value's type, for messages ("expected a table, got an array")."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


# Larger learning rates do not fit the float32 update's scalar (torch refuses it), so the
# run would fail instead of diverging; smaller eps flush to 0, which torch refuses in training.
LR_MAX = 1e30
EPS_MIN = 1e-30
# A larger weight_decay does not fit the float32 scalar of SGD's and Adam's L2 term (torch refuses
# it: "value cannot be converted to type float without overflow"); at 1e30 a run diverges instead.
WEIGHT_DECAY_MAX = 1e30
# Noise whose square overflows a float64 would make the lessons' worked numbers (plain Python) raise.
NOISE_MAX = 1e100
# Limits of the run options (the CLI and the form parse them with parse_count).
SEED_MAX = 2**32 - 1  # models use seed, seed+1, …; torch takes 64-bit seeds, 32 bits are plenty
MAX_MODELS = 1024  # variants × sweep points × seeds in one run
THREADS_MAX = 256
JOBS_MAX = 256

# Shared by the two experiments that train the tutorial's overfitting MLP.
_MLP = (
    Param("n_points", int, 10, "training and test points (x evenly spaced in [-1, 1])", min=2, max=100_000),
    Param("slope", float, 1.5, "true slope of y = slope·x + noise"),
    Param("train_noise", float, 0.5, "std of the noise added to the training targets", min=0),
    Param("test_noise", float, 0.3, "std of the noise added to the test targets", min=0),
    Param("hidden", int, 200, "width of each hidden layer", min=1, max=8192),
    Param("layers", int, 3, "number of hidden layers", min=1, max=64),
    Param("lr", float, 0.01, "SGD learning rate", min=0, min_open=True, max=LR_MAX),
    Param("momentum", float, 0.9, "SGD momentum", min=0, max=1),
    Param("weight_decay", float, 0.0, "SGD weight_decay λ (L2 penalty λ·‖w‖²/2)", min=0, max=WEIGHT_DECAY_MAX),
    Param("dropout", float, 0.0, "nn.Dropout p after each hidden ReLU", min=0, max=1, max_open=True),
    Param("iters", int, 2000, "full-batch training iterations", min=1, max=10_000_000),
)

WEIGHT_DECAY = ExperimentSpec("weight-decay", _MLP)

DROPOUT = ExperimentSpec(
    "dropout",
    (
        *_MLP,
        Param("scaling_n", int, 10_000, "inputs (all ones) of the Dropout scaling demo", min=1, max=10_000_000),
        Param("scaling_p", float, 0.5, "Dropout p of the scaling demo", min=0, max=1, max_open=True),
    ),
)


def decoupled_decay_too_large(p: dict[str, Any], optimizer: str) -> str | None:
    """AdamW multiplies the weights by 1 − lr·weight_decay each step: a product past ``LR_MAX`` does not
    fit the float32 scalar of its foreach update (torch refuses it on CUDA: "value cannot be converted
    to type float without overflow"), so the run would fail instead of diverging."""
    lr, decay = p["lr"], p["weight_decay"]
    if optimizer != "adamw" or lr * decay <= LR_MAX:
        return None
    return (
        f"weight_decay: {_fmt(decay)} is not allowed with lr = {_fmt(lr)} and AdamW, which multiplies the "
        f"weights by 1 − lr·weight_decay; expected lr·weight_decay <= {_fmt(LR_MAX)}"
    )


def batch_too_small_for_batchnorm(batch: int, when: str = "") -> str | None:
    """The one message for a training batch BatchNorm refuses (``when``: the setting that puts BatchNorm in)."""
    if batch >= 2:
        return None
    return f"batch: {batch} is not allowed{when}; BatchNorm needs at least 2 samples per batch in training"


def _bn_check(p: dict[str, Any]) -> str | None:
    return batch_too_small_for_batchnorm(p["batch"], " with batchnorm = true") if p["batchnorm"] else None


BN = ExperimentSpec(
    "bn",
    (
        Param("depth", int, 100, "number of Linear layers", min=1, max=2000),
        Param("width", int, 256, "width of every layer", min=1, max=8192),
        Param("batch", int, 16, "mini-batch size", min=1, max=65536),
        Param("init", str, "default", "weight init of the Linear layers", choices=("default", "normal", "kaiming")),
        Param("batchnorm", bool, False, "BatchNorm1d after every Linear"),
        Param("train_steps", int, 100, "training steps on the synthetic task (0 = measure only)", min=0, max=1_000_000),
        Param("lr", float, 0.01, "SGD learning rate for the training phase", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum for the training phase", min=0, max=1),
        Param("bn_momentum", float, 0.1, "BatchNorm momentum for the running statistics", min=0, max=1),
        Param("stats_features", int, 4, "features per tracked layer shown in the running-stats table", min=1, max=64),
    ),
    _bn_check,
)


def _bn_stats_check(p: dict[str, Any]) -> str | None:
    # PyTorch refuses only one value *per channel* in training. At batch 1 BatchNorm2d/3d still see
    # 2·2 and 2·2·3 values per channel and run; BatchNorm1d on (1, C, 1) is refused by PyTorch, and
    # the experiment reports that refusal (PyTorch's message) as the module's result.
    return None


BN_STATS = ExperimentSpec(
    "bn-stats",
    (
        Param(
            "batch",
            int,
            3,
            "samples per batch (at 1, PyTorch refuses BatchNorm1d: one value per channel; 2d/3d run)",
            min=1,
            max=4096,
        ),
        Param(
            "features", int, 5, "features (channels) C; feature c holds the value c+1 in every sample", min=1, max=1024
        ),
        Param("bn_momentum", float, 0.3, "BatchNorm momentum m of the running statistics", min=0, max=1),
        Param("iters", int, 2, "training iterations", min=1, max=1000),
        Param("eps", float, 1e-5, "BatchNorm eps", min=EPS_MIN),
        Param(
            "noise",
            float,
            0.0,
            "std of N(0, 1) noise added to the input each iteration "
            "(0 = the tutorial's constant input, whose batch variance is 0)",
            min=0,
            max=NOISE_MAX,
        ),
    ),
    _bn_stats_check,
)


def _norms_check(p: dict[str, Any]) -> str | None:
    if p["channels"] % p["groups"]:
        return (
            f"groups: {p['groups']} does not divide channels = {p['channels']}; "
            "GroupNorm needs channels divisible by groups"
        )
    return batch_too_small_for_batchnorm(p["batch"], " with norm = 'batch'") if p["norm"] == "batch" else None


NORMS = ExperimentSpec(
    "norms",
    (
        Param(
            "norm", str, "batch", "normalization layer of the conv net", choices=("batch", "layer", "instance", "group")
        ),
        Param("batch", int, 64, "training mini-batch size", min=1, max=65536),
        Param("demo_batch", int, 4, "N of the (N, C, H, W) comparison input", min=1, max=1024),
        Param("channels", int, 6, "C: channels of the demo input and of the conv net", min=1, max=512),
        Param("size", int, 8, "H = W of the images", min=2, max=128),
        Param("groups", int, 3, "GroupNorm groups (must divide channels)", min=1, max=512),
        Param("classes", int, 4, "classes of the synthetic image task", min=2, max=100),
        Param("train_samples", int, 512, "training images", min=2, max=1_000_000),
        Param("test_samples", int, 256, "test images", min=1, max=1_000_000),
        Param("steps", int, 1000, "training steps per variant", min=1, max=1_000_000),
        Param("lr", float, 0.01, "SGD learning rate", min=0, min_open=True, max=LR_MAX),
        Param("momentum", float, 0.9, "SGD momentum", min=0, max=1),
    ),
    _norms_check,
)
