"""The MLP training loop (regtui.engine.mlp_training): its data, and stacks that take turns or run concurrently."""

from __future__ import annotations

import torch

from regtui.engine.mlp_training import make_data


def test_data_is_per_seed_and_shared_by_noise_levels():
    a = make_data(3, 10, 1.5, 0.5, 0.3)
    b = make_data(3, 10, 2.0, 1.0, 0.6)
    c = make_data(4, 10, 1.5, 0.5, 0.3)
    assert torch.equal(a.x, torch.linspace(-1, 1, 10))
    # Same seed: the same standard-normal draws, scaled by each run's own noise and slope.
    assert torch.allclose((b.train_y - 2.0 * b.x) / 1.0, (a.train_y - 1.5 * a.x) / 0.5, atol=1e-6)
    assert not torch.equal(a.train_y, c.train_y)
    assert not torch.equal(a.train_y, a.test_y)


def _run_events(plan, jobs, cancel=None, emit=None):
    from regtui.engine import run_plan

    events = []

    def collect(event):
        events.append(event)
        if emit:
            emit(event)

    finished = run_plan(plan, "cpu", emit=collect, jobs=jobs, cancel=cancel)
    return finished, events


def _dropout_plan(models: int):
    from regtui import scenario as sc

    scenario = sc.load(sc.find("dropout"))
    return sc.plan(
        scenario, sets={"hidden": 8, "iters": 60, "scaling_n": 10}, sweep={"dropout": (0.0, 0.3)}, seeds=models // 2
    )


def test_concurrent_stacks_give_the_same_results_as_taking_turns():
    from regtui.events import Final, Metrics

    plan = _dropout_plan(20)  # 20 models: three CPU stacks, with dropout masks drawn in each
    assert len(plan.runs) == 20
    _, serial = _run_events(plan, jobs=1)
    _, concurrent = _run_events(plan, jobs=3)
    pick = lambda evs: [e for e in evs if isinstance(e, (Metrics, Final))]  # noqa: E731
    assert pick(serial) == pick(concurrent) and len(pick(serial)) > 20


def test_cancel_stops_concurrent_stacks():
    import threading

    from regtui.events import Progress

    plan = _dropout_plan(20)
    plan = type(plan)(
        plan.scenario,
        plan.params,
        tuple(type(r)(r.variant, r.seed, {**r.params, "iters": 1_000_000}) for r in plan.runs),
        plan.seed,
        plan.seeds,
        plan.sets,
        plan.sweep,
    )
    cancel = threading.Event()

    def stop_after_first_chunk(event):
        if isinstance(event, Progress) and event.step > 0:
            cancel.set()

    finished, events = _run_events(plan, jobs=2, cancel=cancel, emit=stop_after_first_chunk)
    assert finished.status == "interrupted"
    # Progress counts model-steps (every stacked model's steps): at most two 25-step chunks of each model.
    assert max(e.step for e in events if isinstance(e, Progress)) <= 50 * len(plan.runs)
