import pytest

from regtui import scenario as sc
from regtui.specs import ConfigError


def load_plan(path, **kw):
    return sc.plan(sc.load(path), **kw)


def test_load_merges_defaults(wd_file):
    s = sc.load(wd_file)
    assert (s.name, s.experiment, s.title, s.summary) == ("wd", "weight-decay", "WD", "two nets")
    d = s.defaults()
    assert d["hidden"] == 8 and d["iters"] == 5 and d["lr"] == 0.01 and d["momentum"] == 0.9
    assert [v.name for v in s.variants] == ["no weight decay", "weight decay"]


def test_malformed_toml_gives_line_and_column(write_toml):
    path = write_toml('experiment = "bn"\ntitle = \n')
    with pytest.raises(ConfigError) as err:
        sc.load(path)
    assert "malformed TOML" in str(err.value) and "line 2" in str(err.value) and "column" in str(err.value)


@pytest.mark.parametrize(
    "text, match",
    [
        ('experiment = "bn"\ntitel = "x"', r"unknown top-level key 'titel'; did you mean 'title'"),
        ('experiment = "bm"', r"experiment: unknown kind 'bm'; allowed: weight-decay, dropout, bn"),
        ('title = "x"', "missing key 'experiment'"),
        ('experiment = "bn"\n[params]\ndeph = 3', r"unknown parameter 'deph' for bn; did you mean 'depth'"),
        ('experiment = "bn"\n[params]\ndepth = "3"', r"depth: '3' is not allowed; expected an integer >= 1"),
        ('experiment = "bn"\n[[variants]]\ninit = "normal"', "variant #1 needs a name"),
        ('experiment = "bn"\n[[variants]]\nname = "a"\ninit = "he"', r"variant 'a': init: 'he'"),
        ('experiment = "bn"\n[sweep]\ninit = ["normal", "he"]', r"init: 'he' is not allowed; expected one of default"),
        ('experiment = "bn"\nseeds = 0', r"seeds: 0 is not allowed"),
    ],
)
def test_bad_files_name_the_problem(write_toml, text, match):
    path = write_toml(text)
    with pytest.raises(ConfigError, match=match) as err:
        sc.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_find_unknown_scenario_lists_known(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown scenario 'nope'.*known:"):
        sc.find("nope")
    with pytest.raises(ConfigError, match="scenario file not found"):
        sc.find(str(tmp_path / "missing.toml"))


def test_sets_and_sweeps_parsing(wd_file):
    spec = sc.load(wd_file).spec
    assert sc.parse_sets(spec, ["lr=0.1", "iters=7"]) == {"lr": 0.1, "iters": 7}
    with pytest.raises(ConfigError, match=r"--set 'lr': expected key=value"):
        sc.parse_sets(spec, ["lr"])
    with pytest.raises(ConfigError, match=r"unknown parameter 'lrr'.*did you mean 'lr'"):
        sc.parse_sets(spec, ["lrr=1"])
    assert sc.parse_sweeps(spec, ["weight_decay=0,1e-3,1e-2"]) == {"weight_decay": (0.0, 1e-3, 1e-2)}
    with pytest.raises(ConfigError, match="empty value"):
        sc.parse_sweeps(spec, ["weight_decay=0,,1"])
    with pytest.raises(ConfigError, match="empty value"):
        sc.parse_sweeps(spec, ["weight_decay="])
    with pytest.raises(ConfigError, match=r"weight_decay: 'x' is not a number"):
        sc.parse_sweeps(spec, ["weight_decay=0,x"])


def test_plan_expands_variants_and_seeds(wd_file):
    plan = load_plan(wd_file, seed=3, seeds=2)
    assert [(r.variant, r.seed, r.params["weight_decay"]) for r in plan.runs] == [
        ("no weight decay", 3, 0.0),
        ("no weight decay", 4, 0.0),
        ("weight decay", 3, 0.01),
        ("weight decay", 4, 0.01),
    ]
    assert plan.variant_names == ["no weight decay", "weight decay"]


def test_sweeping_a_variant_key_collapses_identical_variants(wd_file):
    plan = load_plan(wd_file, sweep={"weight_decay": (0.0, 0.001, 0.1)})
    assert [(r.variant, r.params["weight_decay"]) for r in plan.runs] == [
        ("weight_decay=0", 0.0),
        ("weight_decay=0.001", 0.001),
        ("weight_decay=0.1", 0.1),
    ]


def test_set_wins_over_variant_overrides(wd_file):
    plan = load_plan(wd_file, sets={"weight_decay": 0.05})
    assert [(r.variant, r.params["weight_decay"]) for r in plan.runs] == [("weight_decay=0.05", 0.05)]
    plan = load_plan(wd_file, sets={"lr": 0.05})
    assert [(r.variant, r.params["lr"]) for r in plan.runs] == [("no weight decay", 0.05), ("weight decay", 0.05)]


def test_grid_of_two_sweeps_times_variants(wd_file):
    plan = load_plan(wd_file, sweep={"lr": (0.01, 0.1), "momentum": (0.0, 0.9)})
    assert len(plan.runs) == 2 * 2 * 2
    assert plan.runs[0].variant == "no weight decay · lr=0.01, momentum=0"


def test_plan_limits_and_bad_seeds(wd_file):
    with pytest.raises(ConfigError, match=r"2 variant\(s\) × 600 grid point\(s\) × 1 seed\(s\) = 1200 models"):
        load_plan(wd_file, sweep={"lr": tuple(0.001 * (i + 1) for i in range(600))})
    with pytest.raises(ConfigError, match=r"--seeds: 0 is not allowed"):
        load_plan(wd_file, seeds=0)


def test_cross_check_applies_to_every_run(write_toml):
    path = write_toml('experiment = "norms"\n[[variants]]\nname = "BN"\nnorm = "batch"\n')
    with pytest.raises(ConfigError, match=r"variant 'BN · batch=1': batch: 1"):
        load_plan(path, sweep={"batch": (1, 8)})


def test_replay_command_reproduces_the_plan(wd_file):
    plan = load_plan(wd_file, sets={"lr": 0.05}, sweep={"momentum": (0.0, 0.5)}, seed=7, seeds=3)
    cmd = sc.replay_command(plan, "cpu")
    assert cmd == (
        f"regtui --scenario {wd_file} --seed 7 --seeds 3 --device cpu --set lr=0.05 --sweep momentum=0.0,0.5 --json"
    )
