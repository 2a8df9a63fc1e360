"""Helpers of the train-kind tests: the CLI in-process, and a small scenario."""

import json

from click.testing import CliRunner

from regtui.cli import main


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def run_json(scenario, *extra):
    code, out, err = invoke("--scenario", scenario, "--json", "--device", "cpu", "--no-save", *extra)
    assert code == 0, err
    return json.loads(out)


MLP = """
experiment = "train"
[params]
steps = {steps}
batch = 16
log_every = 5
[model]
layers = [{{type = "flatten"}}, {{type = "linear", out = 16}}, {{type = "relu"}}, {{type = "linear"}}]
[data]
{data}
"""
