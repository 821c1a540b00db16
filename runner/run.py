"""Run specs, validation, and execution in the foreground (CLI) or a background thread (pages).

``RunSpec.prepare()`` validates everything a user typed *before* a run row exists, so a bad
value is a message, never a half-made run. Worker threads never call Streamlit: they only write
events to storage, which the page polls.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reasoning import plugins
from reasoning.engine import Result, run_search
from reasoning.evaluators.oracle import check_oracle
from reasoning.events import Event
from reasoning.models.base import ModelError
from reasoning.models.config import ModelConfig, make_model
from reasoning.models.random_policy import check_task
from reasoning.recorder import Recorder
from reasoning.run_events import run_finished, run_started
from reasoning.settings import Budget, from_dict
from reasoning.strategies import make_strategy
from reasoning.tasks import JsonlTask, get_task
from storage import RunHandle, Store, reserve_run

from .cancels import CancelRegistry


@dataclass
class RunSpec:
    task: str
    problem: str
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    experiment_id: int | None = None
    cell_key: str | None = None    # the experiment cell this run is (resume skips finished cells)
    task_file: str = ""            # a JSONL task file: used instead of ``task`` when set
    otlp_endpoint: str = ""        # stream the run as an OpenTelemetry trace there (docs/otel.md)

    def prepare(self):
        """Validate and build (task, problem, strategy, budget); ValueError names the field."""
        plugins.ensure()  # a plug-in named here is found in any process (a worker, a Ray task)
        task = JsonlTask(self.task_file) if self.task_file else get_task(self.task)
        problem = task.resolve_problem(self.problem)
        strategy = make_strategy(self.strategy, self.params)
        strategy.check_task(task)
        if self.model.kind == "random":  # the baseline can only pick among legal steps
            check_task(task, problem, strategy.protocol)
        check_oracle(task, getattr(strategy.settings, "evaluator", ""))
        budget = from_dict(Budget, self.budget)
        if not isinstance(self.seed, int) or not (0 <= self.seed < 2**31):
            raise ValueError(f"seed: must be a whole number from 0 to 2147483647, got {self.seed!r}")
        return task, problem, strategy, budget


# The runs this process is running, each with the Event that stops it: the one owner of that
# state (pages and the CLI go through active_runs / stop_run; experiments have their own).
RUNS = CancelRegistry()


def active_runs() -> list[int]:
    return RUNS.keys()


def stop_run(run_id: int) -> bool:
    """Ask a run of this process to stop; True if it was running here."""
    return RUNS.stop(run_id)


def _price_info(cfg: ModelConfig) -> dict[str, float]:
    """Prices go into run_started so every view (live, replay, compare) can show costs."""
    return {"price_in": cfg.price_in, "price_out": cfg.price_out} if cfg.cost(1, 1) else {}


def _model_config(spec: RunSpec) -> dict[str, Any]:
    """The settings the model is made from go into run_started (the run row shows them, and a
    run's rollouts are drawn with the same model later): the model's own description there says
    what it turned out to be."""
    return {"model_config": spec.model.describe()}


def _create(spec: RunSpec, store: Store):
    task, problem, strategy, budget = spec.prepare()
    # the search stores its own run_started once the model is ready; the row exists at once
    run = reserve_run(store, run_started(task, problem, strategy, spec.model.describe(), budget,
                                         spec.seed, _model_config(spec)),
                      experiment_id=spec.experiment_id, cell_key=spec.cell_key)
    return run, (task, problem, strategy, budget)


def _execute_created(run: RunHandle, parts, spec: RunSpec, store: Store,
                     cancel: threading.Event, on_events: Callable[[list[Event]], None] | None,
                     api_key: str | None, model: Any = None) -> Result:
    task, problem, strategy, budget = parts
    run_id = run.run_id

    def sink(batch: list[Event]) -> None:
        run.append(batch)
        if on_events:
            on_events(batch)

    try:  # the run's clock starts once the model is ready (starting the embedded server once
        # per process takes a few seconds that belong to no search)
        model = model if model is not None else make_model(spec.model, api_key)
    except ModelError as e:  # the model could not start: a run with a clear error, not a crash
        rec = Recorder(run_id, sink)
        rec.emit(run_started(task, problem, strategy, spec.model.describe(), budget, spec.seed,
                             {"protocol": strategy.protocol, **_model_config(spec)}))
        rec.emit(run_finished(Result("error", detail=e.reason()),
                              seconds=round(rec.elapsed(), 3)))
        rec.flush()
        return Result("error", detail=e.reason())
    rec = Recorder(run_id, sink)
    result, _ = run_search(strategy, task, problem, model, run_id=run_id, budget=budget,
                           seed=spec.seed, cancel=cancel, recorder=rec,
                           info={**({"task_file": spec.task_file} if spec.task_file else {}),
                                 **_price_info(spec.model), **_model_config(spec)})
    return result


def execute(spec: RunSpec, store: Store, cancel: threading.Event | None = None,
            on_events: Callable[[list[Event]], None] | None = None,
            api_key: str | None = None, model: Any = None) -> tuple[int, Result]:
    """Run in the calling thread; returns (run_id, result). ``model`` overrides ``spec.model``
    with a ready model object (experiments inject one; tests pass a scripted fake)."""
    run, parts = _create(spec, store)
    run_id = run.run_id
    cancel = cancel or threading.Event()
    RUNS.add(run_id, cancel)
    try:
        return run_id, _execute_created(run, parts, spec, store, cancel, on_events, api_key,
                                        model)
    finally:
        RUNS.discard(run_id)


def start_run(spec: RunSpec, store: Store, api_key: str | None = None) -> int:
    """Validate, create the run row, and run it in a daemon thread; returns the run id at once."""
    live = None
    if spec.otlp_endpoint:   # checked (and the receiver reached) before the run row exists
        from .otlp_export import LiveOtlp
        live = LiveOtlp(spec.otlp_endpoint, store)
    run, parts = _create(spec, store)
    run_id = run.run_id
    cancel = threading.Event()
    RUNS.add(run_id, cancel)

    def work() -> None:
        try:
            _execute_created(run, parts, spec, store, cancel, live, api_key)
        finally:
            if live is not None:
                live.close()
            RUNS.discard(run_id)

    threading.Thread(target=work, name=f"thinktree-run-{run_id}", daemon=True).start()
    return run_id
