"""The ``ray`` executor: each cell of an experiment is a Ray task somewhere on a cluster.

The driver (the process that calls ``run_experiment``: the CLI, or the app's background thread)
submits one task per cell and streams progress back through the same bookkeeping as the local
thread pool (:class:`.scheduling._Runner`). A task opens the experiment's database by URL and runs
its cell through :func:`runner.run.execute`, the single way in every run takes; SQLite works only
when every node is this machine (docs/scale.md), PostgreSQL anywhere.

What Ray covers, and what is ours:

* **placement and resources** — Ray's. A cell asks for ``CELL_CPUS`` of a CPU (it waits on a
  model, it does not compute), so a node started with ``--num-cpus N`` runs ``N / CELL_CPUS``
  cells at once.
* **a dead worker or node** — Ray tells the driver (``WorkerCrashedError``, ``NodeDiedError``…);
  the driver closes the dead attempt's run ``interrupted`` (kept, like any run), and submits the
  cell again (up to ``MAX_ATTEMPTS``); Ray places it on a live node. Ray's own ``max_retries`` is
  0 so that the driver sees every dead attempt and closes its run.
* **the endpoint limit** — ``concurrency`` cells at once per model endpoint across the whole
  cluster: a named actor per endpoint (:class:`EndpointSlots`) that every driver on the cluster
  shares; the driver takes a slot before it submits a cell and gives it back when the cell ends.
* **Stop / Ctrl-C** — ``ray.cancel``: the interrupt it sends the task's main thread sets the
  run's cancel event, and the run ends ``cancelled`` as a local one does.
* **a dead driver** — Ray ends the tasks it owned; ``--resume`` closes their runs ``interrupted``
  first and runs every cell without a finished run once.
"""
from __future__ import annotations

import ipaddress
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage import Store, open_store
from storage.door import close_dead_run

from ..run import execute
from .config import Cell, ExperimentConfig, cell_spec
from .results import Progress
from .scheduling import ProgressFn, _Runner

CELL_CPUS = 0.25          # what a cell asks of a node: it mostly waits on the model
MAX_ATTEMPTS = 3          # a cell whose worker died is run again, up to this many tries
NAMESPACE = "thinktree"
HEAD_RESOURCE = "node:__internal_head__"   # Ray gives the head node this resource
ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.2
CANCEL_GRACE_S = 20.0     # how long the driver waits for cancelled cells to close their runs


def _loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    if host in ("", "local", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _import_ray(address: str):
    """Import Ray; a local (or loopback) cluster keeps every Ray address on 127.0.0.1 (Ray would
    otherwise publish the machine's network address even for a one-machine cluster)."""
    if _loopback(address):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise ValueError("executor: ray is not installed (pip install -r requirements-dev.txt, "
                         "or pip install ray)") from None
    if _loopback(address):
        from ray._private import ray_constants
        ray_constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] != "0"
    return ray


def connect(address: str = "", dashboard: bool = False) -> tuple[Any, dict[str, Any]]:
    """Ray, connected: to ``address`` ("auto", "HOST:PORT", "ray://HOST:PORT"), or a new local
    Ray on this machine (loopback only) when it is empty. Returns (ray, cluster description)."""
    ray = _import_ray(address)
    if not ray.is_initialized():
        env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}}
        if address:
            ctx = ray.init(address=address, namespace=NAMESPACE, runtime_env=env,
                           logging_level="WARNING", log_to_driver=False)
        else:
            ctx = ray.init(address="local", namespace=NAMESPACE, runtime_env=env,
                           include_dashboard=dashboard, logging_level="WARNING",
                           log_to_driver=False, _node_ip_address="127.0.0.1")
        dashboard_url = getattr(ctx, "dashboard_url", "") or ""
    else:
        dashboard_url = ray.get_runtime_context().dashboard_url if hasattr(
            ray.get_runtime_context(), "dashboard_url") else ""
    if dashboard_url and "://" not in dashboard_url:
        dashboard_url = "http://" + dashboard_url
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return ray, {"executor": "ray", "address": address or "local",
                 "gcs": ray.get_runtime_context().gcs_address, "dashboard": dashboard_url,
                 "nodes": len(nodes), "cpus": ray.cluster_resources().get("CPU", 0)}


# -- the task ------------------------------------------------------------------------------------
def run_cell(db_url: str, config: dict[str, Any], experiment_id: int, cell: dict[str, Any],
             api_key: str | None, model_factory: Callable[[], Any] | None) -> tuple[int, str]:
    """One cell, in a Ray worker: its run goes to the experiment's database like any other."""
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            store = open_store(db_url)
            spec = cell_spec(ExperimentConfig.from_dict(config), Cell(**cell), experiment_id)
            model = model_factory() if model_factory else None
            box["out"] = execute(spec, store, cancel=cancel, api_key=api_key, model=model)
        except BaseException as e:  # handed to the task's thread below
            box["error"] = e

    t = threading.Thread(target=work, name="thinktree-cell", daemon=True)
    # ray.cancel interrupts the task's main thread (SIGINT's handler), and again until the task
    # ends: here every interrupt only sets the run's cancel event, so the run ends cancelled and
    # the task ends once its run is closed
    before = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        t.start()
        while t.is_alive():
            t.join(0.1)
    finally:
        signal.signal(signal.SIGINT, before)
    if "error" in box:
        raise box["error"]
    run_id, result = box["out"]
    return run_id, result.outcome


class EndpointSlots:
    """Cells in flight against one model endpoint, across every driver on the cluster (a named
    Ray actor per endpoint). A holder is one attempt of one cell."""

    def __init__(self) -> None:
        self.held: dict[str, float] = {}
        self.peak = 0

    def try_acquire(self, holder: str, limit: int) -> bool:
        if holder not in self.held:
            if len(self.held) >= limit:
                return False
            self.held[holder] = time.time()
            self.peak = max(self.peak, len(self.held))
        return True

    def release(self, holder: str) -> None:
        self.held.pop(holder, None)

    def state(self) -> dict[str, int]:
        return {"held": len(self.held), "peak": self.peak}


def endpoint_key(config: ExperimentConfig) -> str:
    model = config.model
    if model.get("kind") == "endpoint":
        return f"{model.get('base_url', '').rstrip('/')}|{model.get('model', '')}"
    return str(model.get("kind") or "embedded")


def endpoint_slots(ray: Any, key: str) -> Any:
    """The cluster's slot actor for ``key``, made on the head node if there is none yet (the node
    the cluster cannot lose; a worker node may die with it)."""
    name, gcs = f"slots:{key}", ray.get_runtime_context().gcs_address
    if (gcs, name) in _SLOTS:   # a handle's first call takes seconds: keep it for the process
        return _SLOTS[gcs, name]
    try:
        handle = ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:   # none yet (two drivers racing here both get the same one)
        handle = ray.remote(num_cpus=0, max_restarts=0)(EndpointSlots).options(
            name=name, namespace=NAMESPACE, get_if_exists=True,
            resources={HEAD_RESOURCE: 0.001}).remote()
    _SLOTS[gcs, name] = handle
    return handle


_SLOTS: dict[tuple[str, str], Any] = {}


# -- the driver ----------------------------------------------------------------------------------
class RayRunner(_Runner):
    """The local runner's bookkeeping (todo, counts, progress, ETA) with Ray tasks as slots."""

    def __init__(self, config: ExperimentConfig, store: Store, experiment_id: int,
                 cancel: threading.Event, progress: ProgressFn | None,
                 model_factory: Callable[[], Any] | None, api_key: str | None,
                 worker: None = None, stale_after: float = 0.0) -> None:
        # ``worker`` / ``stale_after`` are the local executor's (claims): Ray shares the cells out
        super().__init__(config, store, experiment_id, cancel, progress, model_factory, api_key)
        self.retried = 0
        self.db_url = store.url_with_password()

    def _close_dead_attempts(self, key: str | None = None) -> int:
        """Runs of this experiment (of cell ``key``) still ``running`` whose task is gone."""
        dead = [r["id"] for r in self.store.experiments.cell_runs(self.eid)
                if r["status"] == "running" and r["cell_key"] == (key or r["cell_key"])]
        for run_id in dead:
            close_dead_run(self.store, run_id)
        return len(dead)

    def run(self) -> Progress:
        ray, cluster = connect(self.config.ray_address, self.config.ray_dashboard)
        self.store.experiments.set_cluster(self.eid, cluster)
        self._close_dead_attempts()   # a resume: the dead driver's tasks ended with it
        task = ray.remote(num_cpus=CELL_CPUS, max_retries=0)(run_cell)
        slots = endpoint_slots(ray, endpoint_key(self.config))
        config = self.config.to_dict()
        job = ray.get_runtime_context().get_job_id()
        todo = deque((c, 1) for c in self.todo)
        inflight: dict[Any, tuple[Cell, int, float, str]] = {}
        try:
            while (todo or inflight) and not self.failures:
                if self.cancel.is_set():
                    break
                while todo:
                    cell, attempt = todo[0]
                    holder = f"{job}:{self.eid}:{cell.key}:{attempt}"
                    if not ray.get(slots.try_acquire.remote(holder, self.config.concurrency)):
                        break
                    todo.popleft()
                    ref = task.remote(self.db_url, config, self.eid, cell.__dict__, self.api_key,
                                      self.model_factory)
                    inflight[ref] = (cell, attempt, time.monotonic(), holder)
                    with self.lock:
                        self.running[holder] = cell
                    self._report()
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=POLL_S)
                for ref in ready:
                    self._settle(ray, ref, inflight.pop(ref), todo, slots)
        except BaseException:
            self.cancel.set()       # Ctrl-C: cancel the running cells, let them close cleanly
            self._cancel(ray, inflight, slots)
            self.store.experiments.set_status(self.eid, "stopped")
            raise
        if inflight:
            self._cancel(ray, inflight, slots)
        return self._close()

    def _settle(self, ray: Any, ref: Any, item: tuple[Cell, int, float, str], todo: deque,
                slots: Any) -> None:
        cell, attempt, started, holder = item
        slots.release.remote(holder)
        try:
            _, outcome = ray.get(ref)
        except (ray.exceptions.TaskCancelledError, KeyboardInterrupt):
            outcome = "cancelled"
        except ray.exceptions.RayTaskError as e:   # our code failed in the task: stop, as local
            with self.lock:
                self.failures.append(e.as_instanceof_cause())
                self.running.pop(holder, None)
            return
        except ray.exceptions.RayError as e:       # the worker, its node or the object died
            self._close_dead_attempts(cell.key)
            with self.lock:
                self.running.pop(holder, None)
                if attempt >= MAX_ATTEMPTS:
                    self.failures.append(RuntimeError(
                        f"cell {cell.key}: its worker died {attempt} times ({type(e).__name__})"))
                    return
                self.retried += 1
            todo.appendleft((cell, attempt + 1))
            return
        self._record(holder, outcome, started)

    def _cancel(self, ray: Any, inflight: dict, slots: Any) -> None:
        """Stop: ``ray.cancel`` every running cell and wait (bounded) until their runs are
        closed (Ray answers a cancelled task at once; its run closes a moment later). A run still
        open after ``CANCEL_GRACE_S``: its worker is ended and the run closed ``interrupted``."""
        keys = {cell.key for cell, *_ in inflight.values()}
        for ref in inflight:
            ray.cancel(ref)
        deadline = time.monotonic() + CANCEL_GRACE_S
        while self._open_runs(keys) and time.monotonic() < deadline:
            time.sleep(0.2)
        if self._open_runs(keys):
            for ref in inflight:
                ray.cancel(ref, force=True)
            ray.wait(list(inflight), num_returns=len(inflight), timeout=5)
            for run_id in self._open_runs(keys):
                close_dead_run(self.store, run_id)
        for _, _, _, holder in inflight.values():
            slots.release.remote(holder)
            with self.lock:
                self.running.pop(holder, None)
        inflight.clear()

    def _open_runs(self, keys: set[str]) -> list[int]:
        return [r["id"] for r in self.store.experiments.cell_runs(self.eid)
                if r["status"] == "running" and r["cell_key"] in keys]
