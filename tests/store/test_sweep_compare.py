"""`regtui runs compare` beside two sweeps: the point each chose, the split that chose it, both losses."""

import json
import re

TRAIN = """
experiment = "train"
[params]
steps = 6
batch = 16
log_every = 3
[model]
layers = [{type = "linear", out = 8}, {type = "relu"}, {type = "linear"}]
[data]
source = "moons"
n = 120
"""


def test_compare_shows_the_chosen_points_and_their_splits(run, cli, tmp_path):
    path = tmp_path / "moons.toml"
    path.write_text(TRAIN, encoding="utf-8")
    code, out, err = cli("--scenario", path, "--json", "--device", "cpu", "--sweep", "optimizer=sgd,adam")
    assert code == 0, err
    trained = json.loads(out)
    lesson = run("--sweep", "weight_decay=0,0.1")
    code, out, err = cli("runs", "compare", "1", "2", "--json")
    assert code == 0, err
    best = json.loads(out)["sweep_best"]
    assert best[0] == trained["summary"]["sweep"]["best"] and best[0]["chosen_on"] == "validation"
    assert best[1] == lesson["summary"]["sweep"]["best"] and best[1]["chosen_on"] == "test"
    code, text, _ = cli("runs", "compare", "1", "2")
    assert code == 0
    assert re.search(r"chosen on\s+validation\s+test", text)
    assert re.search(r"at\s+optimizer=(sgd|adam)\s+weight_decay=(0|0\.1)", text)
    assert re.search(r"sweep optimizer\s+\[sgd,adam\]\s+—", text)  # a categorical sweep, as its values
    val = f"{best[0]['val_loss']:.4g}"
    assert re.search(rf"val_loss\s+{re.escape(val)}\s+—", text)
