"""Running an experiment's cells: the executor seam, and the local executor (a thread pool).

:func:`run_experiment` hands the cells to the experiment's executor, found by name in
:data:`RUNNERS`: ``local`` (:class:`_Runner`, below) or ``ray`` (:class:`.ray_executor.RayRunner`,
which keeps this bookkeeping and runs each cell as a Ray task: Ray places the cells and reports
dead workers, whose cells the driver runs again; no claims). The Ray side builds on this module,
so this module does not import it: the package (``runner/experiments/__init__.py``) adds it to
:data:`RUNNERS`.
The local executor runs the cells without a finished run in the calling thread's pool of
``concurrency`` slots; each slot takes the next cell until none is left. With ``worker`` (a name
unique per process; local executor only) several processes sharing one database divide the cells through
``storage.claims``: a slot claims a cell before running it, a heartbeat keeps this worker's
claims fresh, and a worker that dies leaves its cells to the others once its claims are
``stale_after`` seconds old.

Worker threads never call Streamlit: a page starts :func:`start_experiment` and polls the
database (:func:`runner.experiments.results.db_progress`), so a reload loses nothing. The
experiments running in this process and the errors that stopped them are held by one
:class:`Background` object (:data:`BACKGROUND`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from storage import Store
from storage.claims import STALE_AFTER_S

from ..cancels import CancelRegistry
from ..run import execute
from .config import Cell, ExperimentConfig, cell_spec, cells, load_config
from .results import (
    FINISHED_OUTCOMES,
    Progress,
    describe,
    eta_seconds,
    finished_keys,
    is_finished,
    latest_runs,
)

ProgressFn = Callable[[Progress], None]


class _Runner:
    """One pass over the remaining cells with ``concurrency`` slots of a thread pool."""

    def __init__(self, config: ExperimentConfig, store: Store, experiment_id: int,
                 cancel: threading.Event, progress: ProgressFn | None,
                 model_factory: Callable[[], Any] | None, api_key: str | None,
                 worker: str | None = None, stale_after: float = STALE_AFTER_S) -> None:
        self.config, self.store, self.eid = config, store, experiment_id
        self.cancel, self.progress = cancel, progress
        self.model_factory, self.api_key = model_factory, api_key
        self.all_cells = all_cells = cells(config)
        self.worker, self.stale_after = worker, stale_after
        settled = {k: r for k, r in latest_runs(store, experiment_id).items() if is_finished(r)}
        self.todo = [c for c in all_cells if c.key not in settled]
        self.total, self.done0 = len(all_cells), len(all_cells) - len(self.todo)
        self.done = self.done0
        self.solved = sum(settled[c.key]["outcome"] == "solved" for c in all_cells if c.key in settled)
        self.errors = 0
        self.cell_seconds: list[float] = []   # wall time of each cell finished here (for the ETA)
        self.running: dict[int, Cell] = {}
        self.failures: list[BaseException] = []
        self.lock = threading.Lock()
        self.finished = threading.Event()     # every slot has stopped (ends the heartbeat)
        self.t0 = time.monotonic()

    def snapshot(self, status: str = "running") -> Progress:
        with self.lock:
            eta = eta_seconds(self.total - self.done, self.cell_seconds, self.config.concurrency)
            return Progress(self.done, self.total, [describe(c) for c in self.running.values()],
                            eta, time.monotonic() - self.t0, self.solved, self.errors, status)

    def _report(self, status: str = "running") -> None:
        if self.progress:
            self.progress(self.snapshot(status))

    # -- choosing the next cell ---------------------------------------------------------------
    def _next(self) -> Cell | None:
        if self.worker is not None:
            return self._claim_next()
        with self.lock:
            if self.cancel.is_set() or self.failures or not self.todo:
                return None
            return self.todo.pop(0)

    def _claim_next(self) -> Cell | None:
        """Multi-worker mode: the next cell no one else holds. Cells held by live workers are
        waited for (their worker may die: then their claim goes stale and is taken over)."""
        while not (self.cancel.is_set() or self.failures):
            finished = finished_keys(self.store, self.eid)
            with self.lock:
                mine = {c.key for c in self.running.values()}
                left = [c for c in self.all_cells if c.key not in finished and c.key not in mine]
            if not left:
                return None
            for cell in left:
                if self.store.claims.claim(self.eid, cell.key, self.worker, self.stale_after):
                    return cell
            self.cancel.wait(min(2.0, self.stale_after / 4))
        return None

    # -- the pool's jobs -----------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while not self.finished.wait(min(10.0, self.stale_after / 4)):
            self.store.claims.heartbeat(self.eid, self.worker)

    def _slot(self, slot: int) -> None:
        while (cell := self._next()) is not None:
            with self.lock:
                self.running[slot] = cell
            self._report()
            started = time.monotonic()
            try:
                model = self.model_factory() if self.model_factory else None
                _, result = execute(cell_spec(self.config, cell, self.eid), self.store,
                                    cancel=self.cancel, api_key=self.api_key, model=model)
            except BaseException as e:  # a bug or a storage failure: stop the experiment
                with self.lock:
                    self.failures.append(e)
                    self.running.pop(slot, None)
                return
            if self.worker is not None and result.outcome in FINISHED_OUTCOMES:
                self.store.claims.done(self.eid, cell.key, self.worker)
            self._record(slot, result.outcome, started)

    def _record(self, slot: Any, outcome: str, started: float) -> None:
        """A cell's run ended with ``outcome``: count it and report (every executor)."""
        with self.lock:
            self.running.pop(slot, None)
            if outcome in FINISHED_OUTCOMES:
                self.done += 1
                self.solved += outcome == "solved"
                self.cell_seconds.append(time.monotonic() - started)
            elif outcome == "error":
                self.errors += 1
        self.store.experiments.touch(self.eid)
        self._report()

    def run(self) -> Progress:
        n_slots = min(self.config.concurrency, max(1, len(self.todo)))
        pool = ThreadPoolExecutor(max_workers=n_slots + (self.worker is not None),
                                  thread_name_prefix=f"thinktree-exp-{self.eid}")
        slots: list[Future] = [pool.submit(self._slot, k) for k in range(n_slots)]
        if self.worker is not None:
            pool.submit(self._heartbeat_loop)
        try:
            # short waits, not one long one, so Ctrl-C reaches this (main) thread at once
            while wait(slots, timeout=0.2).not_done:
                pass
        except BaseException:
            self.cancel.set()     # Ctrl-C: cancel running cells and let them close cleanly
            wait(slots, timeout=30)
            self.store.experiments.set_status(self.eid, "stopped")
            raise
        finally:
            self.finished.set()
            pool.shutdown(wait=False, cancel_futures=True)
        if self.worker is not None:  # other workers finished cells too
            self.done = len(finished_keys(self.store, self.eid) & {c.key for c in self.all_cells})
        return self._close()

    def _close(self) -> Progress:
        status = "finished" if self.done == self.total else "stopped"
        self.store.experiments.set_status(self.eid, status)
        if self.failures:
            raise self.failures[0]
        self._report(status)
        return self.snapshot(status)


# executor name (config.EXECUTORS) -> its runner class; "ray" is added by the package, which
# imports both sides
RUNNERS: dict[str, type[_Runner]] = {"local": _Runner}


def run_experiment(experiment_id: int, store: Store, *, cancel: threading.Event | None = None,
                   progress: ProgressFn | None = None,
                   model_factory: Callable[[], Any] | None = None,
                   api_key: str | None = None, worker: str | None = None,
                   stale_after: float = STALE_AFTER_S,
                   executor: str | None = None, ray_address: str | None = None) -> Progress:
    """Run (or resume) an experiment in the calling thread: only cells without a finished run.

    ``model_factory`` builds the model for each cell (tests inject a scripted fake); by default
    each cell builds its model from the stored configuration. ``worker`` / ``stale_after``: see
    the module's docstring. ``executor`` / ``ray_address`` override the stored configuration's
    (``local``: this process's thread pool; ``ray``: :mod:`.ray_executor`).
    """
    config = with_executor(load_config(store, experiment_id), executor, ray_address)
    if config.executor == "ray" and worker is not None:
        raise ValueError("worker: the ray executor shares the cells out itself; drop --worker")
    cancel = cancel or threading.Event()
    store.experiments.set_status(experiment_id, "running")
    try:
        runner = RUNNERS[config.executor](config, store, experiment_id, cancel, progress,
                                            model_factory, api_key, worker, stale_after)
    except BaseException:
        store.experiments.set_status(experiment_id, "stopped")
        raise
    BACKGROUND.cancels.add(experiment_id, cancel)
    try:
        return runner.run()
    finally:
        BACKGROUND.cancels.discard(experiment_id, cancel)


def with_executor(config: ExperimentConfig, executor: str | None,
                  ray_address: str | None) -> ExperimentConfig:
    """The configuration with the executor (and Ray address) given for this run, checked."""
    if executor is None and ray_address is None:
        return config
    d = config.to_dict()
    d["executor"] = executor or ("ray" if ray_address else d["executor"])
    if ray_address is not None:
        d["ray_address"] = ray_address
    return ExperimentConfig.from_dict(d)


class Background:
    """The experiments this process is running (each with the Event that stops it) and why a
    background one stopped with an exception. One instance per process: :data:`BACKGROUND`."""

    def __init__(self) -> None:
        self.cancels = CancelRegistry()
        self.errors: dict[int, str] = {}

    def start(self, experiment_id: int, store: Store, *,
              model_factory: Callable[[], Any] | None = None,
              api_key: str | None = None) -> threading.Thread:
        if experiment_id in self.cancels:
            raise ValueError(f"experiment {experiment_id} is already running")
        load_config(store, experiment_id)  # fail here, in the page, on a bad id
        self.errors.pop(experiment_id, None)
        store.experiments.set_status(experiment_id, "running")
        started = threading.Event()
        cancel = self.cancels.add(experiment_id)

        def work() -> None:
            started.set()
            try:
                run_experiment(experiment_id, store, cancel=cancel, model_factory=model_factory,
                               api_key=api_key)
            except Exception as e:
                self.errors[experiment_id] = f"{type(e).__name__}: {e}"
                store.experiments.set_status(experiment_id, "stopped")
            finally:
                self.cancels.discard(experiment_id, cancel)

        t = threading.Thread(target=work, name=f"thinktree-exp-{experiment_id}", daemon=True)
        t.start()
        started.wait(5)
        return t


BACKGROUND = Background()


def is_active(experiment_id: int) -> bool:
    return experiment_id in BACKGROUND.cancels


def stop_experiment(experiment_id: int) -> bool:
    """Ask an experiment running in this process to stop; running cells end as cancelled."""
    return BACKGROUND.cancels.stop(experiment_id)


def last_error(experiment_id: int) -> str | None:
    """Why a background experiment of this process stopped with an exception, if it did."""
    return BACKGROUND.errors.get(experiment_id)


def start_experiment(experiment_id: int, store: Store, *,
                     model_factory: Callable[[], Any] | None = None,
                     api_key: str | None = None) -> threading.Thread:
    """Run (or resume) in a daemon worker thread; the page polls ``db_progress``."""
    return BACKGROUND.start(experiment_id, store, model_factory=model_factory, api_key=api_key)
