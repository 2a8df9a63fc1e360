"""[data] augment: torchvision's v2 RandomCrop and RandomHorizontalFlip on each training sample.

The oracle is torchvision: the augmented batch equals its transforms applied, sample by sample,
with the same RNG state; a flipped image is torch.flip of the original, a crop a window of the
zero-padded original; a run equals a plain loop that augments its batches so. Tests that need
torchvision are marked ``vision`` and skipped where it does not import (.ci/run runs them in a
venv with a torch/torchvision pair); the errors without it run everywhere.
"""

import importlib.metadata
import json
import math
import sys

import pytest
import torch
from custom_support import invoke, run_json
from torch import nn
from torch.nn import functional as F

from regtui import scenario as sc
from regtui.custom_specs import sources
from regtui.engine.custom import data as data_mod
from regtui.engine.custom.augment import AUGMENT_SALT, Augmenter
from regtui.engine.custom.model_run import batch_order
from regtui.specs import ConfigError


def _vision() -> bool:
    try:
        import torchvision.transforms.v2  # noqa: F401
    except Exception:
        return False
    return True


VISION = _vision()


def needs_vision(test):
    """Marked vision, and skipped where torchvision does not import."""
    return pytest.mark.vision(pytest.mark.skipif(not VISION, reason="torchvision does not import here")(test))


TEXT = """
experiment = "train"
[params]
steps = 20
batch = 8
log_every = 10
lr = 0.1
val_fraction = 0
{extra}
[model]
layers = [{{type = "flatten"}}, {{type = "linear", out = 16}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
source = "images"
n = 120
size = 8
channels = 2
{data}
"""
BOTH = 'augment = ["random_crop", "hflip"]\ncrop_padding = 2'


def one_line_error(path, *args):
    code, out, err = invoke("--scenario", path, "--json", "--no-save", "--device", "cpu", *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    return err


# --- errors, everywhere ------------------------------------------------------------------------


CPU_PIN = 'pip install "torchvision==0.28.*" --index-url https://download.pytorch.org/whl/cpu'


def test_without_torchvision_augment_is_one_line_naming_the_install(scenario_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # as where it is not installed
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.13.0+cpu")  # the torch here
    err = one_line_error(scenario_file(TEXT.format(extra="", data=BOTH)))
    assert f"data: augment needs torchvision, which is not installed: {CPU_PIN}" in err


@pytest.mark.parametrize(
    ("torch_version", "command"),
    [
        ("2.13.0+cpu", CPU_PIN),
        ("2.14.1", 'pip install "torchvision==0.29.*"'),  # PyPI's default (CUDA) build: PyPI's torchvision
        ("2.14.1+cu128", 'pip install "torchvision==0.29.*"'),
        ("2.2.0", 'pip install "torchvision==0.17.*"'),  # the oldest torch the package allows
        ("3.0.0", 'pip install "regtui[vision]"'),  # a release the rule does not know
        (None, 'pip install "regtui[vision]"'),  # torch's metadata not found
    ],
)
def test_the_install_command_names_the_torchvision_made_for_the_torch_installed(monkeypatch, torch_version, command):
    """torchvision 0.(B+15) is the release for torch 2.B (0.28 for 2.13 and 0.29 for 2.14, as .ci/run
    installs them); an unpinned one would make pip replace torch with the newest."""

    def version(name):
        if torch_version is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return torch_version

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert sources.vision_install() == command


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            'augment = ["rotate"]',
            "augment 'rotate' is not allowed; expected names from random_crop, hflip",
        ),
        ('augment = "hflip"', "data (images): augment = 'hflip' is not allowed; expected a list of names"),
        ('augment = ["hflip", "hflip"]', "names a transform twice"),
        (
            'augment = ["hflip"]\ncrop_padding = 2',
            "crop_padding is random_crop's; expected augment to name it",
        ),
        ('augment = ["random_crop"]\ncrop_padding = -1', "crop_padding = -1 is not allowed; expected an integer >= 0"),
    ],
)
def test_bad_augment_is_one_line(data, message, scenario_file):
    assert message in one_line_error(scenario_file(TEXT.format(extra="", data=data)))


def test_augment_of_flat_samples_is_refused_naming_the_source(scenario_file):
    text = TEXT.replace('source = "images"\nn = 120\nsize = 8\nchannels = 2', 'source = "moons"').replace(
        '{{type = "flatten"}}, ', ""
    )
    err = one_line_error(scenario_file(text.format(extra="", data='augment = ["hflip"]')))
    assert "data (moons): augment is for image data (N, C, H, W inputs); source 'moons' gives flat samples" in err


def test_augmenter_refuses_flat_factory_data():
    with pytest.raises(ConfigError, match=r"^data \(factory f.py:make\): augment is for image data .*\(5,\)"):
        Augmenter({"augment": ["hflip"]}, (5,), "factory f.py:make", 0)


# --- with torchvision ---------------------------------------------------------------------------


@needs_vision
@pytest.mark.parametrize("names", [["random_crop", "hflip"], ["hflip", "random_crop"], ["hflip"], ["random_crop"]])
def test_the_batch_is_torchvisions_transforms_per_sample(names):
    from torchvision.transforms import v2

    x = torch.randn(16, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    data = {"augment": names, "crop_padding": 4}
    aug = Augmenter(data, (3, 6, 6), "images", seed=7)
    before = torch.get_rng_state()
    ours = [aug(x[:8]), aug(x[8:])]  # two batches: the second continues the run's stream
    assert torch.equal(torch.get_rng_state(), before)  # training's own draws are untouched
    made = {"random_crop": lambda: v2.RandomCrop((6, 6), padding=4), "hflip": lambda: v2.RandomHorizontalFlip(0.5)}
    oracle = v2.Compose([made[n]() for n in names])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7 ^ AUGMENT_SALT)
        expected = torch.stack([oracle(img) for img in x])
    assert torch.equal(torch.cat(ours), expected)
    assert not torch.equal(torch.cat(ours), x)  # something was transformed


@needs_vision
def test_hflip_is_torch_flip_or_the_image():
    x = torch.randn(64, 2, 5, 7)
    out = Augmenter({"augment": ["hflip"]}, (2, 5, 7), "images", seed=3)(x)
    flipped = [torch.equal(o, torch.flip(a, [-1])) for o, a in zip(out, x)]
    kept = [torch.equal(o, a) for o, a in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54  # p = 0.5 over 64 samples: both happen (a miss is ~1e-7 likely)


@needs_vision
def test_a_crop_is_a_window_of_the_padded_image():
    x = torch.randn(32, 1, 6, 6) + 5  # no zeros of its own: the padding shows
    out = Augmenter({"augment": ["random_crop"], "crop_padding": 2}, (1, 6, 6), "images", seed=5)(x)
    offsets = set()
    for o, a in zip(out, x):
        padded = F.pad(a, (2, 2, 2, 2))
        windows = [(i, j) for i in range(5) for j in range(5) if torch.equal(padded[:, i : i + 6, j : j + 6], o)]
        assert len(windows) == 1
        offsets.add(windows[0])
    assert len(offsets) > 5  # the windows differ from sample to sample


def plain_loop(path, seed, names, padding):
    """Weight norms at the logging steps and the final test loss of a plain loop whose training batches
    (only) go through torchvision's transforms, sample by sample, from the run's augmentation stream."""
    from torchvision.transforms import v2

    scenario = sc.load(path)
    p = sc.plan(scenario).runs[0].params
    data = data_mod.load(scenario.tables, path.parent, p, seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 8 * 8, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    made = {"random_crop": lambda: v2.RandomCrop((8, 8), padding=padding), "hflip": lambda: v2.RandomHorizontalFlip()}
    transform = v2.Compose([made[n]() for n in names])
    stream = torch.Generator().manual_seed(seed ^ AUGMENT_SALT).get_state()
    order = batch_order(seed, len(data.x_train), 8, True, torch.device("cpu"))
    logged = {}
    for step in range(1, 21):
        idx = next(order)
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(stream)
            xb = torch.stack([transform(img) for img in data.x_train[idx]])
            stream = torch.get_rng_state()
        loss = F.cross_entropy(model(xb), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            logged[step] = [
                math.sqrt(sum((q.double() ** 2).sum().item() for q in model[i].parameters())) for i in (1, 3)
            ]
    with torch.no_grad():
        test_loss = F.cross_entropy(model(data.x_test), data.y_test).item()
    return logged, test_loss


def per_seed(doc):
    v = doc["variants"][0]
    return v.get("per_seed") or [{"seed": v["seeds"][0], "series": v["series"], "final": v["final"]}]


@needs_vision
@pytest.mark.parametrize("stack", ["off", "on"])
def test_a_run_is_a_plain_loop_with_torchvisions_transforms(stack, scenario_file):
    path = scenario_file(TEXT.format(extra="", data=BOTH))
    doc = run_json(path, "--seeds", "2", "--set", f"stack_runs={stack}")
    assert all(("stack" in r) == (stack == "on") for r in doc["summary"]["stacking"])  # augment keeps the stack
    rel = 1e-6 if stack == "off" else 1e-4  # stacked: bmm sums in another order
    for entry in per_seed(doc):
        ref, test_loss = plain_loop(path, entry["seed"], ["random_crop", "hflip"], 2)
        series = entry["series"]
        assert series["step"] == list(ref)
        for k, layer in enumerate(("1.linear", "3.linear")):
            assert series[f"weight_norm/{layer}"] == pytest.approx([ref[s][k] for s in ref], rel=rel)
        assert entry["final"]["test_loss"] == pytest.approx(test_loss, rel=rel)  # the test set is not augmented
    again = run_json(path, "--seeds", "2", "--set", f"stack_runs={stack}")
    assert [e["final"] for e in per_seed(again)] == [e["final"] for e in per_seed(doc)]  # same seed, same numbers
    plain = run_json(scenario_file(TEXT.format(extra="", data=""), "plain.toml"), "--seeds", "2")
    assert per_seed(plain)[0]["final"]["train_loss"] != per_seed(doc)[0]["final"]["train_loss"]


@needs_vision
def test_resume_continues_the_augmentation_stream(scenario_file):
    """A checkpoint keeps the run's augmentation stream: resumed, a run gives the uninterrupted run's numbers."""
    path = scenario_file(TEXT.format(extra="checkpoint = 'final'\nstack_runs = 'off'", data=BOTH))

    def run(*extra):
        code, out, err = invoke("--scenario", path, "--json", "--device", "cpu", *extra)
        assert code == 0, err
        return per_seed(json.loads(out))

    whole = run()  # run 1: 20 steps
    run("--set", "steps=10")  # run 2: stops at step 10
    resumed = run("--set", "resume=2")  # run 3: 10 more steps from run 2's checkpoint
    assert resumed[0]["series"]["step"] == [20]
    assert resumed[0]["series"]["train_loss"] == whole[0]["series"]["train_loss"][1:]
    for metric in ("train_loss", "test_loss", "weight_norm"):
        assert resumed[0]["final"][metric] == whole[0]["final"][metric]
