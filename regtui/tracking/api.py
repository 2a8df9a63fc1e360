"""``regtui.track()``: record your own training loop in regtui's run store, as it trains.

A :class:`Run` turns the scalars a loop logs into the event stream every regtui run writes
(:mod:`regtui.events`), folded by a :class:`~regtui.report.Collector` into the run's document and
streamed by a :class:`~regtui.store.Recording` to the store, where ``regtui runs``, History and
``regtui runs follow`` read it, live while it trains. Nothing here may break the loop: a failure
inside logging is one warning (:class:`TrackWarning`) and training goes on; a store that cannot be
written is a warning at :func:`track` and the run is kept in memory only.

Importing this module costs no torch and no Textual; torch is touched only through the model
given to :func:`track` (the user has imported it already).
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from regtui.events import Final, Progress, RunFinished, RunSpec, RunStarted, Summary
from regtui.registry import TRACK
from regtui.report import Collector
from regtui.tracking import diagnostics, storing
from regtui.tracking.diagnostics import Pitfall
from regtui.tracking.scalars import StepRows, scalar

__all__ = ["PitfallWarning", "Run", "TrackWarning", "track"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
FLUSH_S = 0.25  # logged rows reach the store (and a follower) this often at most; sooner at a logging step


class TrackWarning(UserWarning):
    """Something regtui could not do for a tracked run (the loop itself goes on)."""


class PitfallWarning(TrackWarning):
    """A pitfall a lesson teaches, found in the tracked run (silence it with ``track(ignore=(code,))``)."""


class Run:
    """One tracked run: :meth:`log` scalars, :meth:`evaluate`, and :meth:`close` (``with`` does it).

    Made by :func:`track`. ``id`` is its id in the run store (None when it is not stored);
    ``warnings`` the pitfalls found so far, as the document keeps them.
    """

    def __init__(
        self,
        name: str,
        config: Mapping[str, Any] | None = None,
        *,
        model: Any = None,
        optimizer: Any = None,
        log_every: int = 100,
        total_steps: int | None = None,
        runs_dir: str | os.PathLike[str] | None = None,
        enabled: bool = True,
        ignore: tuple[str, ...] = (),
    ) -> None:
        self.name = str(name) or "track"
        self.config = storing.plain_config(dict(config or {}))
        self.log_every = max(1, int(log_every))
        self.total_steps = int(total_steps or 0)
        self.enabled = enabled
        self.collector = Collector()
        self.recording: Any = None
        self.id: int | None = None  # its id in the run store (None: not stored)
        self.warnings: list[dict[str, Any]] = []
        self.status: str | None = None  # how the run ended, once closed
        self._rows = StepRows()
        self._last: dict[str, float] = {}  # every scalar's latest value: the run's finals
        self._first_bad: int | None = None  # the first step whose loss was not finite
        self._previous: int | None = None  # the step of the latest log
        self._faults = 0
        self._started = time.perf_counter()
        self._flushed = time.monotonic()
        self.watch: Any = None  # regtui.tracking.model_watch.ModelWatch, when given a model
        self._ignore = set(ignore)
        self._found: set[str] = set()  # the codes of the pitfalls found (each is told once)
        self._bad_loss: Pitfall | None = None  # a non-finite loss waiting to be told its first bad layer
        if enabled:
            self._watch(model, optimizer)
            self._begin(runs_dir)
            self._check_setup(model, optimizer)

    # --- the loop's calls ------------------------------------------------------------------

    def log(self, step: int, **scalars: Any) -> None:
        """Record scalars (numbers or one-element tensors) at ``step``; never raises.

        The loop calls it at every step, so a step that neither measures the model nor flushes costs
        a few dictionary operations (``benchmarks/bench_track.py`` measures it beside a plain loop).
        """
        if self.status is None and self.enabled:
            try:
                self._log(int(step), scalars)
            except Exception as exc:
                self._fault("run.log", exc)

    def evaluate(self, step: int, fn: Callable[[], Mapping[str, Any] | float]) -> Any:
        """Call ``fn()`` (your evaluation: a dict of scalars, or a number taken as ``test_loss``), log what
        it returns at ``step`` and return it.

        With a model that has Dropout or BatchNorm, ``fn`` is called a second time in the other mode
        (nothing changes: running statistics and random streams are restored), so the train-mode vs
        eval-mode gap is logged as the ``train`` kind logs it: ``test_loss`` in eval mode beside
        ``test_loss_train_mode``. A Dropout or BatchNorm left in train mode in your call is a pitfall.
        """
        if self.watch is None or not self.enabled or self.status is not None:
            result = fn()
            self._log_safely("run.evaluate", step, _named(result))
            return result
        result, in_train_mode = self.watch.watching_modes(fn)
        if in_train_mode:
            self._pitfall(diagnostics.eval_in_train_mode(int(step)))
        try:
            self._log_both_modes(int(step), result, in_train_mode, fn)
        except Exception as exc:
            self._fault("run.evaluate", exc)
        return result

    def close(self, status: str = "completed", error: str | None = None) -> None:
        """End the run: its last rows, finals and end go to the store, which writes its document."""
        if self.status is not None:
            return
        self.status = status
        atexit.unregister(self.close)
        if not self.enabled:
            return
        try:
            self._flush()
            if self._bad_loss is not None:  # the loop ended before another forward could be measured
                self._pitfall(self._bad_loss)
            if self.watch is not None:
                self.watch.close()
            self._emit(Final(self.name, 0, self._finals()))
            self._emit(RunFinished(status, time.perf_counter() - self._started, error))
        except Exception as exc:
            self._fault("closing the run", exc)
        self._finish()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        """Ctrl-C leaves a run marked interrupted, an exception a failed one; neither is swallowed."""
        if kind is None:
            self.close()
        elif issubclass(kind, KeyboardInterrupt):
            self.close("interrupted")
        else:
            self.close("failed", f"{kind.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "))

    # --- inside ----------------------------------------------------------------------------

    def _begin(self, runs_dir: str | os.PathLike[str] | None) -> None:
        """Open the store (a warning when it cannot be written) and send the run's first event."""
        try:
            self.recording = storing.begin(runs_dir, self.name, self.config, self._device(), self.log_every)
            self.id = self.recording.id
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _warn(f"run {self.name!r} is not kept in the run store ({reason}); training goes on")
        self._emit(self._started_event())
        atexit.register(self.close)

    def _watch(self, model: Any, optimizer: Any) -> None:
        """Measure the model at the logging steps (torch is imported by now: the model is its)."""
        if model is None:
            return
        try:
            from regtui.tracking.model_watch import ModelWatch

            self.watch = ModelWatch(model, optimizer, self.log_every, self.name)
        except Exception as exc:
            self._fault("watching the model", exc)

    def _device(self) -> str:
        return self.watch.device if self.watch is not None else "cpu"

    def _started_event(self) -> RunStarted:
        torch = sys.modules.get("torch")
        return RunStarted(
            scenario=self.name,
            experiment=TRACK,
            title=self.name,
            device=self._device(),
            seed=0,
            torch_version=str(getattr(torch, "__version__", "")),
            params=dict(self.config),
            runs=(RunSpec(self.name, 0, dict(self.config)),),
        )

    def _emit(self, event: Any) -> None:
        self.collector(event)
        if self.recording is not None:
            self.recording(event)

    def _log_safely(self, where: str, step: int, scalars: Mapping[str, Any]) -> None:
        if not self.enabled or self.status is not None:
            return
        try:
            self._log(int(step), scalars)
        except Exception as exc:
            self._fault(where, exc)

    def _log(self, step: int, scalars: Mapping[str, Any]) -> None:
        try:
            values = {key: float(value) for key, value in scalars.items()}
        except (TypeError, ValueError, RuntimeError):
            values = {key: scalar(key, value) for key, value in scalars.items()}  # raises, naming the key
        previous, self._previous = self._previous, step
        rows = self._rows
        if rows.steps and step != rows.steps[-1] and time.monotonic() - self._flushed >= FLUSH_S:
            self._flush()
        rows.add(step, values)
        if self._first_bad is None and not math.isfinite(sum(values.values())):
            self._check_loss(step, values)
        watch = self.watch
        if watch is not None and step != previous:
            stride = step - previous if previous is not None and step > previous else 1
            if step + stride >= watch.due:
                self._measure(step, stride)

    def _measure(self, step: int, stride: int) -> None:
        """A logging step: the model's statistics join the step's row and go out as their events."""
        try:
            measured = self.watch.on_log(step, stride)
        except Exception as exc:
            self.watch.close()
            self.watch = None  # a model regtui cannot measure costs nothing more
            self._fault("measuring the model", exc)
            return
        if measured is None:
            return
        self._rows.add(step, measured.scalars)
        for event in (measured.layers, measured.rows):
            if event is not None:
                self._emit(event)
        self._check_forward(step, measured)

    def _log_both_modes(self, step: int, result: Any, in_train_mode: bool, fn: Callable[[], Any]) -> None:
        """Log an evaluation in eval mode under its names and in train mode as ``<name>_train_mode``."""
        mine = {k: scalar(k, v) for k, v in _named(result).items()}
        if not self.watch.train_mode_layers:
            self._log(step, mine)
            return
        other = {k: scalar(k, v) for k, v in _named(self.watch.in_mode(fn, training=not in_train_mode)).items()}
        evaluated, trained = (other, mine) if in_train_mode else (mine, other)
        self._log(step, {**evaluated, **{f"{k}_train_mode": v for k, v in trained.items()}})

    def _check_loss(self, step: int, values: Mapping[str, float]) -> None:
        """The first non-finite loss: the run diverged there; the next forward is measured to find
        the first layer that went inf/NaN."""
        if self._first_bad is not None or not any("loss" in k and not math.isfinite(v) for k, v in values.items()):
            return
        self._first_bad = step
        self._bad_loss = diagnostics.nonfinite_loss(step, dict(values))
        if self.watch is not None:
            self.watch.measure_next(step)
        elif self._bad_loss is not None:
            self._pitfall(self._bad_loss)

    def _check_setup(self, model: Any, optimizer: Any) -> None:
        """The optimizer's pitfalls, once, at the start."""
        unknown = diagnostics.unknown(self._ignore)
        if unknown:
            _warn(f"ignore: unknown check {unknown[0]!r}; the checks are {', '.join(diagnostics.LESSONS)}")
        if optimizer is None:
            return
        try:
            found = [diagnostics.adam_weight_decay(optimizer)]
            if model is not None:
                found.append(diagnostics.decay_on_norm_and_bias(model, optimizer))
        except Exception as exc:
            self._fault("checking the optimizer", exc)
            return
        for pitfall in found:
            if pitfall is not None:
                self._pitfall(pitfall)

    def _check_forward(self, step: int, measured: Any) -> None:
        """The pitfalls a logging step's forward shows: its layers' order, BatchNorm's batches, the scale."""
        hooks = self.watch.hooks
        modules = dict(self.watch.observed)
        stds = dict(zip(measured.layer_names, measured.layers.std)) if measured.layers is not None else {}
        order = [n for n in hooks.order if n in stds]
        found = [
            diagnostics.dropout_before_batchnorm(hooks.order, modules, step),
            diagnostics.batchnorm_small_batch(hooks.bn_shapes, step),
            diagnostics.activation_scale(order, [stds[n] for n in order], step),
        ]
        if self._bad_loss is not None and measured.layers is not None:
            layers = measured.layers
            found.append(
                diagnostics.with_first_bad_layer(
                    self._bad_loss, measured.layer_names, layers.first_nonfinite_layer, step
                )
            )
            self._bad_loss = None
        for pitfall in found:
            if pitfall is not None:
                self._pitfall(pitfall)

    def _pitfall(self, pitfall: Pitfall) -> None:
        """Tell a pitfall once: in the document and the dashboard (``summary.warnings``) and as a warning here."""
        if pitfall.code in self._ignore or pitfall.code in self._found:
            return
        self._found.add(pitfall.code)
        self.warnings.append(pitfall.as_dict())
        self._emit(Summary("warnings", [dict(w) for w in self.warnings]))
        _warn(f"{pitfall.message}; the lesson: {pitfall.lesson}", PitfallWarning)

    def _flush(self) -> None:
        """The rows logged so far go out as one event, with the run's progress."""
        last = self._rows.last_step
        self._last.update(self._rows.latest())
        event = self._rows.take(self.name)
        self._flushed = time.monotonic()
        if event is None or last is None:
            return
        self._emit(event)
        self._emit(Progress(last, max(self.total_steps, 0)))

    def _finals(self) -> dict[str, Any]:
        finals: dict[str, Any] = {k: v for k, v in self._last.items() if "/" not in k}
        if self.watch is not None:
            finals.update(self.watch.finals())
        finals.update(diverged=self._first_bad is not None, first_nonfinite_step=self._first_bad)
        return finals

    def _finish(self) -> None:
        recording, self.recording = self.recording, None
        if recording is None:
            return
        try:
            recording.finish(self.collector.document(compact=True))
        except Exception as exc:
            _warn(f"run {recording.id} could not be saved in full ({exc}); what it streamed is in {recording.folder}")
        for warning in recording.warnings:
            _warn(warning)

    def _fault(self, where: str, exc: Exception) -> None:
        """An error inside logging: the first is one warning, the next are counted; training goes on."""
        self._faults += 1
        if self._faults == 1:
            _warn(f"{where} failed ({type(exc).__name__}: {exc}); training goes on (later failures are not shown)")


def _named(result: Mapping[str, Any] | float) -> Mapping[str, Any]:
    """What an evaluation returned, as scalars to log: a number is the test loss."""
    return result if isinstance(result, Mapping) else {"test_loss": result}


def _warn(message: str, category: type[Warning] = TrackWarning) -> None:
    """A warning that points at the user's line (the first frame outside this package)."""
    frame: Any = sys._getframe(1)
    level = 2  # stacklevel 2: the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"regtui.track: {message}", category, stacklevel=level)


def _rank() -> int:
    """This process's rank in a torch.distributed job (0 outside one), read without importing torch."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def track(
    name: str,
    config: Mapping[str, Any] | None = None,
    *,
    model: Any = None,
    optimizer: Any = None,
    log_every: int = 100,
    total_steps: int | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    all_ranks: bool = False,
    ignore: tuple[str, ...] = (),
) -> Run:
    """Record a training loop as a regtui run (use it as a context manager).

    ``config``: the run's parameters (what ``regtui runs list`` shows as changed); ``model`` (an
    ``nn.Module``) and ``optimizer``: what regtui measures and checks by itself, every ``log_every``
    steps (hooks exist only around those steps); ``total_steps``: for progress and ETA;
    ``runs_dir``: the run store (default: ``$REGTUI_RUNS_DIR`` or the XDG data folder).
    In a ``torch.distributed`` job only rank 0 records, unless ``all_ranks`` (each rank then
    records its own run, named ``<name>/rank<r>``). ``ignore``: the codes of pitfall checks to
    silence (:data:`regtui.tracking.diagnostics.LESSONS`).
    """
    rank = _rank()
    if rank and all_ranks:
        name = f"{name}/rank{rank}"
    return Run(
        name,
        config,
        model=model,
        optimizer=optimizer,
        log_every=log_every,
        total_steps=total_steps,
        runs_dir=runs_dir,
        enabled=rank == 0 or all_ranks,
        ignore=tuple(ignore),
    )
