"""Test-time scaling experiments: problems × strategies × budgets × seeds, run as ordinary runs.

An experiment is a stored configuration (:class:`ExperimentConfig`) that expands into *cells*
(:func:`cells`): one problem, one strategy with its parameters, one budget, one seed. Each cell is
executed as a normal run tagged with the experiment id and the cell's key, so every cell can be
replayed like any other run and resuming is simply "run the cells without a finished run".

A cell is finished when its run ended with a real outcome (solved / failed / budget). Cells that
were cancelled, interrupted or ended in a model error are run again on resume.

"Budget" is a token budget (``max_tokens``: generated tokens) unless ``budget_kind`` is
``nodes``; the other limit is lifted so the chosen one is what binds. Results per strategy ×
budget: solved rate with a 95 % Wilson interval, mean generated tokens, mean seconds. The
accuracy-vs-compute curve is made of exactly those figures (:func:`curve_points`).

Worker threads never call Streamlit: a page starts :func:`start_experiment` and polls the database
(:func:`db_progress`), so a reload loses nothing.
"""
from __future__ import annotations

import csv
import io
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasoning.models.config import ModelConfig
from reasoning.settings import MAX_NODES_LIMIT, MAX_TOKENS_LIMIT, check_range
from reasoning.strategies import make_strategy
from reasoning.strategies.tot import check_protocol
from reasoning.tasks import JsonlTask, get_task
from storage import Store, claims
from storage import experiments as repo

from .cancels import CancelRegistry
from .run import RunSpec, execute
from .run_figures import FIGURE_COLUMNS, group_figures, run_protocol

FINISHED_OUTCOMES = ("solved", "failed", "budget")
BUDGET_KINDS = ("tokens", "nodes")
MAX_CELLS = 100_000


# -- parsing user input ------------------------------------------------------------------------
def parse_ids(spec: str) -> list[str]:
    """``"901-910"``, ``"0-9"``, ``"1,3,5-7"`` → the ids in order (no duplicates)."""
    out: list[str] = []
    for part in str(spec or "").replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"problems: expected numbers or ranges like 901-910, got {part!r}")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise ValueError(f"problems: range {part!r} runs backwards")
        if b - a >= MAX_CELLS:
            raise ValueError(f"problems: range {part!r} is too large")
        out.extend(str(i) for i in range(a, b + 1) if str(i) not in out)
    if not out:
        raise ValueError("problems: give at least one problem, e.g. 901-910")
    return out


def parse_numbers(name: str, spec: str | list[Any], cast: type = int) -> list[Any]:
    items = spec if isinstance(spec, list) else str(spec or "").replace(" ", "").split(",")
    try:
        out = [cast(x) for x in items if str(x) != ""]
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, got {spec!r}") from None
    if not out:
        raise ValueError(f"{name}: give at least one value")
    return out


def parse_strategies(spec: str | list[str]) -> list[str]:
    """``"greedy,mcts:simulations=20,width=3"`` → ``["greedy", "mcts:simulations=20,width=3"]``.

    A comma-separated item holding ``=`` but no ``:`` continues the previous strategy's params.
    """
    items = spec if isinstance(spec, list) else str(spec or "").split(",")
    out: list[str] = []
    for raw in (s.strip() for s in items):
        if not raw:
            continue
        if "=" in raw and ":" not in raw and out:
            out[-1] += "," + raw
        else:
            out.append(raw)
    if not out:
        raise ValueError("strategies: give at least one strategy, e.g. greedy,mcts")
    return [strategy_label(*split_strategy(s)) for s in out]


def split_strategy(label: str) -> tuple[str, dict[str, str]]:
    """``"mcts:simulations=20,width=3"`` → ``("mcts", {"simulations": "20", "width": "3"})``."""
    name, _, rest = label.partition(":")
    params: dict[str, str] = {}
    for kv in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = kv.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"strategies: expected name=value in {label!r}, got {kv!r}")
        params[key.strip()] = value.strip()
    return name.strip(), params


def strategy_label(name: str, params: dict[str, Any]) -> str:
    """The canonical label: ``name`` or ``name:k=v,k=v`` (keys sorted)."""
    if not params:
        return name
    return name + ":" + ",".join(f"{k}={params[k]}" for k in sorted(params))


# -- configuration and cells --------------------------------------------------------------------
@dataclass
class ExperimentConfig:
    task: str = "game24"
    problems: str = "901-910"        # ids / ranges of the task's bundled problems, or positions
    task_file: str = ""              # a JSONL task file (then problems = 0-based positions in it)
    strategies: list[str] = field(default_factory=lambda: ["greedy", "mcts"])
    budgets: list[int] = field(default_factory=lambda: [4000])
    budget_kind: str = "tokens"      # "tokens" (max generated tokens) or "nodes"
    seeds: list[int] = field(default_factory=lambda: [0])
    concurrency: int = 1
    max_seconds: float = 600.0       # a safety limit per cell
    model: dict[str, Any] = field(default_factory=dict)   # ModelConfig fields (never a key)
    name: str = ""
    protocol: str = "constrained"    # for strategies that have one (beam, dfs): constrained / tot

    def __post_init__(self) -> None:
        self.strategies = parse_strategies(self.strategies)
        self.budgets = parse_numbers("budgets", self.budgets, int)
        self.seeds = parse_numbers("seeds", self.seeds, int)
        parse_ids(self.problems)
        if self.budget_kind not in BUDGET_KINDS:
            raise ValueError(f"budget_kind: must be 'tokens' or 'nodes', got {self.budget_kind!r}")
        hi = MAX_TOKENS_LIMIT if self.budget_kind == "tokens" else MAX_NODES_LIMIT
        for b in self.budgets:
            check_range("budgets", b, 1, hi)
        for s in self.seeds:
            check_range("seeds", s, 0, 2**31 - 1)
        check_range("concurrency", self.concurrency, 1, 64)
        check_range("max_seconds", self.max_seconds, 1, 7 * 24 * 3600)
        ModelConfig(**self.model)  # validates
        check_protocol(self.protocol)
        if not self.name:
            what = Path(self.task_file).name if self.task_file else self.task
            self.name = f"{what} {self.problems}: {' vs '.join(self.strategies)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown experiment setting")
        return cls(**d)

    def budget_dict(self, budget: int) -> dict[str, Any]:
        if self.budget_kind == "tokens":
            return {"max_tokens": budget, "max_nodes": MAX_NODES_LIMIT, "max_seconds": self.max_seconds}
        return {"max_nodes": budget, "max_tokens": MAX_TOKENS_LIMIT, "max_seconds": self.max_seconds}


@dataclass(frozen=True)
class Cell:
    problem: str          # what the run is given (a bundled id or the problem text)
    problem_id: str       # the id shown in tables (bundled id or JSONL line index)
    strategy: str         # the canonical label, e.g. "mcts:simulations=20"
    budget: int
    seed: int

    @property
    def key(self) -> str:
        return f"p={self.problem_id}|s={self.strategy}|b={self.budget}|seed={self.seed}"


def cells(config: ExperimentConfig) -> list[Cell]:
    """Every cell, problem-major (so progress moves problem by problem)."""
    ids = parse_ids(config.problems)
    if config.task_file:   # problems are 0-based positions in the file; runs get the file's ids
        loaded = JsonlTask(config.task_file).problems()
        bad = [i for i in ids if int(i) >= len(loaded)]
        if bad:
            raise ValueError(f"problems: index {bad[0]} is past the end of the task file "
                             f"({len(loaded)} problems, indices 0-{len(loaded) - 1})")
        problems = [(loaded[int(i)].id, i) for i in ids]
    else:
        problems = [(i, i) for i in ids]
    out = [Cell(text, pid, s, b, seed) for text, pid in problems for s in config.strategies
           for b in config.budgets for seed in config.seeds]
    if len(out) > MAX_CELLS:
        raise ValueError(f"the experiment has {len(out)} cells; at most {MAX_CELLS}")
    return out


def cell_spec(config: ExperimentConfig, cell: Cell, experiment_id: int | None) -> RunSpec:
    name, params = _with_protocol(config, cell.strategy)
    return RunSpec(task=config.task, problem=cell.problem, strategy=name, params=params,
                   budget=config.budget_dict(cell.budget), seed=cell.seed,
                   model=ModelConfig(**config.model), experiment_id=experiment_id,
                   cell_key=cell.key, task_file=config.task_file)


def _with_protocol(config: ExperimentConfig, label: str) -> tuple[str, dict[str, str]]:
    """A strategy label's name and params, with the experiment's protocol for strategies that
    have one (beam, dfs) and ``anytime`` on where a strategy has it; a label's own setting wins."""
    from reasoning.strategies import STRATEGIES
    name, params = split_strategy(label)
    cls = STRATEGIES.get(name)
    if "protocol" not in params and cls is not None and \
            "protocol" in cls.Settings.__dataclass_fields__:
        params["protocol"] = config.protocol
    # a cell has a budget: anytime strategies spend it (keep searching until a verified solution
    # or the budget), so a budget compares compute, not default settings; ``anytime=false`` wins
    if "anytime" not in params and cls is not None and "anytime" in cls.Settings.__dataclass_fields__:
        params["anytime"] = "true"
    return name, params


def validate(config: ExperimentConfig) -> list[Cell]:
    """Every cell prepared once (task, problem, strategy, budget): errors before anything runs."""
    all_cells = cells(config)
    if not config.task_file:
        get_task(config.task)
    task = JsonlTask(config.task_file) if config.task_file else get_task(config.task)
    if config.protocol != "constrained" and config.protocol not in getattr(task, "protocols", ()):
        raise ValueError(f"protocol: {config.protocol} is defined for Game of 24 only, "
                         f"not for {task.name}")
    seen: set[str] = set()
    for c in all_cells:
        if c.problem_id not in seen:
            seen.add(c.problem_id)
            try:
                cell_spec(config, c, None).prepare()
            except ValueError as e:
                raise ValueError(f"problems: problem {c.problem_id} cannot be used ({e})") from None
    for s in config.strategies:
        make_strategy(*_with_protocol(config, s))
    return all_cells


def create_experiment(config: ExperimentConfig, store: Store) -> int:
    validate(config)
    return repo.create_experiment(store, config.name, config.to_dict())


def load_config(store: Store, experiment_id: int) -> ExperimentConfig:
    row = repo.get_experiment(store, experiment_id)
    if row is None:
        raise ValueError(f"experiment: no experiment {experiment_id} in {store.engine.url}")
    return ExperimentConfig.from_dict(row["config"])


# -- which cells are done ----------------------------------------------------------------------
def latest_runs(store: Store, experiment_id: int) -> dict[str, dict[str, Any]]:
    """Cell key → the run that settles it: the latest finished run, else the latest run."""
    best: dict[str, dict[str, Any]] = {}
    for r in repo.cell_runs(store, experiment_id):
        key = r.get("cell_key")
        if not key:
            continue
        if is_finished(r) or key not in best or not is_finished(best[key]):
            best[key] = r
    return best


def is_finished(run: dict[str, Any]) -> bool:
    return run["status"] == "finished" and run["outcome"] in FINISHED_OUTCOMES


def finished_keys(store: Store, experiment_id: int) -> set[str]:
    return {k for k, r in latest_runs(store, experiment_id).items() if is_finished(r)}


# -- running ---------------------------------------------------------------------------------
@dataclass
class Progress:
    done: int
    total: int
    current: list[str] = field(default_factory=list)   # "problem 903 · mcts" for running cells
    eta_s: float | None = None
    elapsed_s: float = 0.0
    solved: int = 0
    errors: int = 0
    status: str = "running"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressFn = Callable[[Progress], None]


def _describe(cell: Cell) -> str:
    return f"problem {cell.problem_id} · {cell.strategy} · budget {cell.budget} · seed {cell.seed}"


class _Runner:
    """Runs the remaining cells with ``concurrency`` worker threads sharing one queue."""

    def __init__(self, config: ExperimentConfig, store: Store, experiment_id: int,
                 cancel: threading.Event, progress: ProgressFn | None,
                 model_factory: Callable[[], Any] | None, api_key: str | None,
                 worker: str | None = None, stale_after: float = claims.STALE_AFTER_S) -> None:
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
        self.running: dict[int, Cell] = {}
        self.failures: list[BaseException] = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def snapshot(self, status: str = "running") -> Progress:
        with self.lock:
            elapsed = time.monotonic() - self.t0
            finished_here = self.done - self.done0
            left = self.total - self.done
            eta = elapsed / finished_here * left if finished_here else None
            return Progress(self.done, self.total, [_describe(c) for c in self.running.values()],
                            eta, elapsed, self.solved, self.errors, status)

    def _report(self, status: str = "running") -> None:
        if self.progress:
            self.progress(self.snapshot(status))

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
                if claims.claim(self.store, self.eid, cell.key, self.worker, self.stale_after):
                    return cell
            self.cancel.wait(min(2.0, self.stale_after / 4))
        return None

    def _heartbeat_loop(self) -> None:
        while not self.all_done.wait(min(10.0, self.stale_after / 4)):
            claims.heartbeat(self.store, self.eid, self.worker)

    def _work(self, slot: int) -> None:
        try:
            self._work_loop(slot)
        finally:
            with self.lock:
                self.workers_left -= 1
                if self.workers_left == 0:
                    self.all_done.set()

    def _work_loop(self, slot: int) -> None:
        while (cell := self._next()) is not None:
            with self.lock:
                self.running[slot] = cell
            self._report()
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
                claims.done(self.store, self.eid, cell.key, self.worker)
            with self.lock:
                self.running.pop(slot, None)
                if result.outcome in FINISHED_OUTCOMES:
                    self.done += 1
                    self.solved += result.outcome == "solved"
                elif result.outcome == "error":
                    self.errors += 1
            repo.touch(self.store, self.eid)
            self._report()

    def run(self) -> Progress:
        threads = [threading.Thread(target=self._work, args=(k,), daemon=True,
                                    name=f"thinktree-exp-{self.eid}-{k}")
                   for k in range(min(self.config.concurrency, max(1, len(self.todo))))]
        self.workers_left, self.all_done = len(threads), threading.Event()
        for t in threads:
            t.start()
        if self.worker is not None:
            threading.Thread(target=self._heartbeat_loop, daemon=True).start()
        # Wait on an Event, not Thread.join: an interrupted join can leave a live thread looking
        # finished (CPython), and short waits let Ctrl-C reach this (main) thread at once.
        try:
            while not self.all_done.wait(0.2):
                pass
        except BaseException:
            self.cancel.set()     # Ctrl-C: cancel running cells and let them close cleanly
            self.all_done.wait(30)
            repo.set_status(self.store, self.eid, "stopped")
            raise
        if self.worker is not None:  # other workers finished cells too
            self.done = len(finished_keys(self.store, self.eid) & {c.key for c in self.all_cells})
        complete = self.done == self.total
        status = "finished" if complete else "stopped"
        repo.set_status(self.store, self.eid, status)
        if self.failures:
            raise self.failures[0]
        self._report(status)
        return self.snapshot(status)


def run_experiment(experiment_id: int, store: Store, *, cancel: threading.Event | None = None,
                   progress: ProgressFn | None = None,
                   model_factory: Callable[[], Any] | None = None,
                   api_key: str | None = None, worker: str | None = None,
                   stale_after: float = claims.STALE_AFTER_S) -> Progress:
    """Run (or resume) an experiment in the calling thread: only cells without a finished run.

    ``model_factory`` builds the model for each cell (tests inject a scripted fake); by default
    each cell builds its model from the stored configuration. With ``worker`` (a name unique
    per process) several processes — on one machine or many, sharing one database — divide the
    cells through ``storage.claims``; a worker that dies leaves its cells to the others once its
    claims are ``stale_after`` seconds old.
    """
    config = load_config(store, experiment_id)
    cancel = cancel or threading.Event()
    repo.set_status(store, experiment_id, "running")
    try:
        runner = _Runner(config, store, experiment_id, cancel, progress, model_factory, api_key,
                         worker, stale_after)
    except BaseException:
        repo.set_status(store, experiment_id, "stopped")
        raise
    _ACTIVE.add(experiment_id, cancel)
    try:
        return runner.run()
    finally:
        _ACTIVE.discard(experiment_id, cancel)


_ACTIVE = CancelRegistry()
_ERRORS: dict[int, str] = {}


def is_active(experiment_id: int) -> bool:
    return experiment_id in _ACTIVE


def stop_experiment(experiment_id: int) -> bool:
    """Ask an experiment running in this process to stop; running cells end as cancelled."""
    return _ACTIVE.stop(experiment_id)


def last_error(experiment_id: int) -> str | None:
    """Why a background experiment of this process stopped with an exception, if it did."""
    return _ERRORS.get(experiment_id)


def start_experiment(experiment_id: int, store: Store, *,
                     model_factory: Callable[[], Any] | None = None,
                     api_key: str | None = None) -> threading.Thread:
    """Run (or resume) in a daemon worker thread; the page polls :func:`db_progress`."""
    if is_active(experiment_id):
        raise ValueError(f"experiment {experiment_id} is already running")
    load_config(store, experiment_id)  # fail here, in the page, on a bad id
    _ERRORS.pop(experiment_id, None)
    repo.set_status(store, experiment_id, "running")
    started = threading.Event()
    cancel = _ACTIVE.add(experiment_id)

    def work() -> None:
        started.set()
        try:
            run_experiment(experiment_id, store, cancel=cancel, model_factory=model_factory,
                           api_key=api_key)
        except Exception as e:
            _ERRORS[experiment_id] = f"{type(e).__name__}: {e}"
            repo.set_status(store, experiment_id, "stopped")
        finally:
            _ACTIVE.discard(experiment_id, cancel)

    t = threading.Thread(target=work, name=f"thinktree-exp-{experiment_id}", daemon=True)
    t.start()
    started.wait(5)
    return t


def db_progress(store: Store, experiment_id: int) -> Progress:
    """Progress read from the database alone (what a reloaded page shows)."""
    row = repo.get_experiment(store, experiment_id)
    if row is None:
        raise ValueError(f"experiment: no experiment {experiment_id}")
    config = ExperimentConfig.from_dict(row["config"])
    all_cells = cells(config)
    keys = {c.key for c in all_cells}
    latest = {k: r for k, r in latest_runs(store, experiment_id).items() if k in keys}
    fin = [r for r in latest.values() if is_finished(r)]
    running = [r for r in latest.values() if r["status"] == "running"]
    left = len(all_cells) - len(fin)
    mean_s = sum(r["seconds"] or 0.0 for r in fin) / len(fin) if fin else None
    eta = mean_s * left / max(1, config.concurrency) if mean_s is not None else None
    by_key = {c.key: c for c in all_cells}
    current = [_describe(by_key[r["cell_key"]]) for r in running if r["cell_key"] in by_key]
    first = min((r["created_at"] for r in latest.values()), default=row["created_at"])
    return Progress(len(fin), len(all_cells), current, eta if left else 0.0,
                    (row["updated_at"] or first) - first,
                    sum(r["outcome"] == "solved" for r in fin),
                    sum(r["outcome"] == "error" for r in latest.values()), row["status"])


# -- results ------------------------------------------------------------------------------------
def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (95 % by default)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)   # exact ends (no 0.9999999)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


@dataclass
class ResultRow:
    strategy: str
    budget: int
    solved: int
    total: int
    mean_tokens: float | None
    mean_seconds: float | None
    rate: float | None
    ci_low: float
    ci_high: float
    cells: int          # planned cells in this group
    errors: int = 0
    figures: dict[str, Any] = field(default_factory=dict)   # runner.run_figures.group_figures

    def public(self) -> dict[str, Any]:
        """The fields of the CLI's JSON line."""
        return {"strategy": self.strategy, "budget": self.budget, "solved": self.solved,
                "total": self.total, "mean_tokens": self.mean_tokens,
                "mean_seconds": self.mean_seconds, "rate": self.rate,
                "ci95": [self.ci_low, self.ci_high], **self.figures}


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


def results(store: Store, experiment_id: int) -> list[ResultRow]:
    """Per strategy × budget, over the cells that finished (config order)."""
    config = load_config(store, experiment_id)
    latest = latest_runs(store, experiment_id)
    groups: dict[tuple[str, int], list[Cell]] = {}
    for c in cells(config):
        groups.setdefault((c.strategy, c.budget), []).append(c)
    rows = []
    payloads = repo.finished_payloads(store, [r["id"] for r in latest.values() if is_finished(r)])
    for (strategy, budget), group in groups.items():
        runs = [latest[c.key] for c in group if c.key in latest]
        fin = [r for r in runs if is_finished(r)]
        k, n = sum(r["outcome"] == "solved" for r in fin), len(fin)
        lo, hi = wilson(k, n)
        rows.append(ResultRow(strategy, budget, k, n, _mean([r["tokens"] or 0 for r in fin]),
                              _mean([r["seconds"] or 0.0 for r in fin]),
                              round(k / n, 4) if n else None, round(lo, 4), round(hi, 4),
                              len(group), sum(r["outcome"] == "error" for r in runs),
                              group_figures([payloads[r["id"]] for r in fin if r["id"] in payloads],
                                            [run_protocol(r.get("params")) for r in runs])))
    return rows


def curve_points(rows: list[ResultRow]) -> dict[str, list[dict[str, Any]]]:
    """Accuracy vs compute: per strategy, points (x = mean generated tokens, y = solved rate)
    sorted by x — the same figures as the results table."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.total == 0 or r.mean_tokens is None:
            continue
        out.setdefault(r.strategy, []).append(
            {"budget": r.budget, "x": r.mean_tokens, "y": r.rate, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "n": r.total})
    for pts in out.values():
        pts.sort(key=lambda p: (p["x"], p["budget"]))
    return out


def matrix(store: Store, experiment_id: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Problems × strategies: (column labels, rows). A row is ``{"problem": id, label: cell}``
    with cell ``{"run_id", "outcome", "solved", "n"}`` (over seeds) or None when not run yet.
    With several budgets a column is ``"strategy @ budget"``."""
    config = load_config(store, experiment_id)
    latest = latest_runs(store, experiment_id)
    multi = len(config.budgets) > 1

    def col(c: Cell) -> str:
        return f"{c.strategy} @ {c.budget}" if multi else c.strategy

    columns: list[str] = []
    table: dict[str, dict[str, Any]] = {}
    for c in cells(config):
        label = col(c)
        if label not in columns:
            columns.append(label)
        row = table.setdefault(c.problem_id, {"problem": c.problem_id})
        run = latest.get(c.key)
        if run is None:
            row.setdefault(label, None)
            continue
        cur = row.get(label) or {"run_id": run["id"], "outcome": run["outcome"] or run["status"],
                                 "solved": 0, "n": 0}
        if is_finished(run):
            cur["solved"] += run["outcome"] == "solved"
            cur["n"] += 1
        row[label] = cur
    return columns, list(table.values())


def cells_csv(store: Store, experiment_id: int) -> str:
    """One line per cell (its settling run): the raw results behind every figure."""
    config = load_config(store, experiment_id)
    latest = latest_runs(store, experiment_id)
    buf = io.StringIO()
    w = csv.writer(buf)
    payloads = repo.finished_payloads(store, [r["id"] for r in latest.values()])
    w.writerow(["experiment_id", "problem_id", "strategy", "budget_kind", "budget", "seed",
                "run_id", "outcome", "answer", "tokens", "nodes", "seconds", "protocol",
                *CELL_FIGURES])
    for c in cells(config):
        r = latest.get(c.key) or {}
        fin = payloads.get(r.get("id"), {})
        w.writerow([experiment_id, c.problem_id, c.strategy, config.budget_kind, c.budget, c.seed,
                    r.get("id", ""), r.get("outcome") or r.get("status", "not run"),
                    r.get("answer") or "", r.get("tokens", ""), r.get("nodes", ""),
                    r.get("seconds", ""), run_protocol(r.get("params")) if r else "",
                    *(_cell(fin.get(k)) for k in CELL_FIGURES)])
    return buf.getvalue()


# per run, from its run_finished (blank where the run has no such figure)
CELL_FIGURES = ("chains", "chains_correct", "correct_any", "correct_top1", "correct_first_valid",
                "auc",
                "false_prunes_threshold", "false_prunes_capacity", "false_keeps")


def _cell(value: Any) -> Any:
    return "" if value is None else value


def results_csv(rows: list[ResultRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["strategy", "budget", "solved", "total", "rate", "ci95_low", "ci95_high",
                "mean_tokens", "mean_seconds", "cells", "errors", *FIGURE_COLUMNS])
    for r in rows:
        w.writerow([r.strategy, r.budget, r.solved, r.total, r.rate, r.ci_low, r.ci_high,
                    r.mean_tokens, r.mean_seconds, r.cells, r.errors,
                    *(r.figures.get(k, "") for k in FIGURE_COLUMNS)])
    return buf.getvalue()


def summary(store: Store, experiment_id: int) -> dict[str, Any]:
    """The CLI's final JSON line."""
    config = load_config(store, experiment_id)
    return {"experiment_id": experiment_id, "cells": len(cells(config)),
            "budget_kind": config.budget_kind, "protocol": config.protocol,
            "results": [r.public() for r in results(store, experiment_id)]}
