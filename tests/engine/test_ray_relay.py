"""The driver's merge of the Ray tasks' event streams (no Ray needed: the relay is plain Python)."""

from regtui.engine.ray_relay import TASKS_KEY, Relay, Task, merge_stacking
from regtui.events import Final, Metrics, Progress, RunFinished, RunSpec, RunStarted, Summary


def spec(variant: str, seed: int) -> RunSpec:
    return RunSpec(variant, seed, {})


def metrics(variant: str, seed: int, step: int, loss: float) -> Metrics:
    return Metrics(variant, seed, (step,), {"train_loss": (loss,)})


def make_relay() -> tuple[Relay, list]:
    out: list = []
    tasks = [Task(0, (0,), (spec("a", 0), spec("a", 1))), Task(1, (1,), (spec("b", 0),))]
    return Relay(tasks, out.append), out


def relayed(out: list) -> list:
    """What reached the run's stream, without the task table and progress."""
    return [e for e in out if not (isinstance(e, Summary) and e.key == TASKS_KEY) and not isinstance(e, Progress)]


def test_the_parts_stacking_lists_are_joined_in_unit_order_with_the_stacks_numbered_across_them():
    first = [{"variant": "a", "seed": 0, "stack": 1, "models": 2}, {"variant": "a", "seed": 1, "stack": 1, "models": 2}]
    alone = [{"variant": "c", "seed": 0, "alone_because": "stack_runs = off"}]
    second = [{"variant": "b", "seed": 0, "stack": 1, "models": 1}]
    merged = merge_stacking([first, alone, second])
    assert [e.get("stack") for e in merged] == [1, 1, None, 2]
    assert merged[2] == alone[0] and first[0]["stack"] == 1  # the parts' own lists are left as they were


def test_progress_is_the_sum_of_the_parts_counts_of_the_plans_total():
    relay, out = make_relay()
    relay.begin(0, 1, 10, "n1")
    relay.begin(1, 1, 11, "n2")
    relay.events(0, 1, [Progress(30, 100)])
    relay.events(1, 1, [Progress(20, 100)])
    relay.events(0, 1, [Progress(50, 100)])
    assert [(p.step, p.total) for p in out if isinstance(p, Progress)] == [(30, 100), (50, 100), (70, 100)]
    relay.begin(0, 2, 12, "n1")  # a retry counts again from 0
    relay.events(0, 2, [Progress(10, 100)])
    assert out[-1] == Progress(30, 100)


def test_a_parts_own_start_and_end_are_not_the_runs():
    relay, out = make_relay()
    relay.begin(0, 1, 10, "n1")
    relay.events(
        0, 1, [RunStarted("s", "e", "t", "cpu", 0, "2", {}, ()), metrics("a", 0, 1, 0.5), RunFinished("completed", 1)]
    )
    assert relayed(out) == [metrics("a", 0, 1, 0.5)]


def test_a_retry_relays_only_what_its_first_attempt_had_not_and_drops_the_dead_attempts_late_events():
    relay, out = make_relay()
    relay.begin(0, 1, 10, "n1")
    relay.events(0, 1, [metrics("a", 0, 1, 0.5), metrics("a", 1, 1, 0.6)])
    relay.begin(0, 2, 20, "n2")  # its worker died; Ray reruns the task from the start
    relay.events(0, 1, [metrics("a", 0, 2, 0.4)])  # still in flight from the dead worker: dropped
    relay.events(0, 2, [metrics("a", 0, 1, 0.5), metrics("a", 1, 1, 0.6), metrics("a", 0, 2, 0.45)])
    relay.events(0, 2, [Final("a", 0, {"test_loss": 0.3})])
    relay.finish(0, "completed")
    assert relayed(out) == [
        metrics("a", 0, 1, 0.5),
        metrics("a", 1, 1, 0.6),
        metrics("a", 0, 2, 0.45),
        Final("a", 0, {"test_loss": 0.3}),
    ]
    table = [e for e in out if isinstance(e, Summary) and e.key == TASKS_KEY][-1].value
    assert (table[0]["attempt"], table[0]["pid"], table[0]["node"], table[0]["state"]) == (2, 20, "n2", "completed")
    assert relay.failure() is None


def test_a_retry_whose_numbers_differ_relays_nothing_more_and_its_models_fail_by_name():
    relay, out = make_relay()
    relay.begin(0, 1, 10, "n1")
    relay.begin(1, 1, 11, "n2")
    relay.events(0, 1, [metrics("a", 0, 1, 0.5)])
    relay.begin(0, 2, 20, "n1")
    relay.events(0, 2, [metrics("a", 0, 1, 0.51), metrics("a", 0, 2, 0.4)])  # not what was relayed
    relay.events(1, 1, [metrics("b", 0, 1, 0.7)])
    relay.finish(0, "completed")
    relay.finish(1, "completed")
    assert relayed(out) == [metrics("a", 0, 1, 0.5), metrics("b", 0, 1, 0.7)]
    assert relay.failure() == (
        "models failed on Ray: a · seed 0, a · seed 1 (its retry gave other numbers than its first attempt); "
        "the other 1 models completed"
    )


def test_summaries_other_than_stacking_pass_through():
    relay, out = make_relay()
    relay.begin(0, 1, 10, "n1")
    relay.events(0, 1, [Summary("data", {"x": [1.0]})])
    assert relayed(out) == [Summary("data", {"x": [1.0]})]
