"""An experiment's configuration: what the user typed, checked, and expanded into cells.

:class:`ExperimentConfig` is stored with the experiment; :func:`cells` expands it into one
:class:`Cell` per problem × strategy × budget × seed, each run as an ordinary run
(:func:`cell_spec`). Everything a user can get wrong raises ValueError naming the setting,
before any run exists (:func:`validate`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasoning.id_lists import parse_id_ranges
from reasoning.models.config import ModelConfig
from reasoning.settings import MAX_NODES_LIMIT, MAX_TOKENS_LIMIT, check_range
from reasoning.strategies import STRATEGIES, make_strategy
from reasoning.strategies.tot import check_protocol
from reasoning.tasks import JsonlTask, get_task
from storage import Store

from ..run import RunSpec

# what an experiment's budget counts -> the Budget limit it sets (the others stay out of the way)
BUDGET_FIELDS = {"tokens": "max_tokens", "nodes": "max_nodes", "calls": "max_calls",
                 "prompt_tokens": "max_prompt_tokens", "total_tokens": "max_total_tokens"}
BUDGET_KINDS = tuple(BUDGET_FIELDS)
MAX_CELLS = 100_000
EXECUTORS = ("local", "ray")


# -- parsing user input ------------------------------------------------------------------------
def parse_ids(spec: str) -> list[str]:
    """``"901-910"``, ``"0-9"``, ``"1,3,5-7"`` → the problem ids in order (no duplicates)."""
    return [str(i) for i in parse_id_ranges(spec, "problems", "901-910", MAX_CELLS)]


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
    budget_kind: str = "tokens"      # generated "tokens", "nodes", "calls", "prompt_tokens", …
    seeds: list[int] = field(default_factory=lambda: [0])
    concurrency: int = 1
    max_seconds: float = 600.0       # a safety limit per cell
    model: dict[str, Any] = field(default_factory=dict)   # ModelConfig fields (never a key)
    name: str = ""
    protocol: str = "constrained"    # for strategies that have one (beam, dfs): constrained / tot
    executor: str = "local"          # "local" (a thread pool here) or "ray" (tasks on a cluster)
    ray_address: str = ""            # ray: "" starts a local Ray; "auto", "HOST:PORT", "ray://…"
    ray_dashboard: bool = False      # ray, local start only: start Ray's dashboard too
    cluster: dict[str, Any] = field(default_factory=dict)  # set by the executor when it runs

    def __post_init__(self) -> None:
        self.strategies = parse_strategies(self.strategies)
        self.budgets = parse_numbers("budgets", self.budgets, int)
        self.seeds = parse_numbers("seeds", self.seeds, int)
        parse_ids(self.problems)
        if self.budget_kind not in BUDGET_KINDS:
            raise ValueError(f"budget_kind: must be one of {', '.join(BUDGET_KINDS)}, "
                             f"got {self.budget_kind!r}")
        hi = MAX_NODES_LIMIT if self.budget_kind in ("nodes", "calls") else MAX_TOKENS_LIMIT
        for b in self.budgets:
            check_range("budgets", b, 1, hi)
        for s in self.seeds:
            check_range("seeds", s, 0, 2**31 - 1)
        check_range("concurrency", self.concurrency, 1, 64)
        check_range("max_seconds", self.max_seconds, 1, 7 * 24 * 3600)
        ModelConfig(**self.model)  # validates
        check_protocol(self.protocol)
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor: must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if self.executor == "ray" and ModelConfig(**self.model).kind == "embedded":
            raise ValueError("executor: ray runs cells in other processes and machines; give them "
                             "an OpenAI-compatible endpoint (--base-url) or --model random, not "
                             "the embedded model")
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
        return {"max_tokens": MAX_TOKENS_LIMIT, "max_nodes": MAX_NODES_LIMIT,
                "max_seconds": self.max_seconds, BUDGET_FIELDS[self.budget_kind]: budget}


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
    name, params = split_strategy(label)
    cls = STRATEGIES.get(name)
    if "protocol" not in params and cls is not None and \
            "protocol" in cls.Settings.__dataclass_fields__:
        params["protocol"] = config.protocol
    # a cell has a budget: anytime strategies spend it (keep searching until a verified solution
    # or the budget), so a budget compares compute, not default settings; ``anytime=false`` wins
    # (not under the tot protocol: the paper's search runs once)
    if "anytime" not in params and cls is not None and \
            "anytime" in cls.Settings.__dataclass_fields__ and params.get("protocol") != "tot":
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
    return store.experiments.create(config.name, config.to_dict())


def load_config(store: Store, experiment_id: int) -> ExperimentConfig:
    row = store.experiments.get(experiment_id)
    if row is None:
        raise ValueError(f"experiment: no experiment {experiment_id} in {store.url}")
    return ExperimentConfig.from_dict(row["config"])


