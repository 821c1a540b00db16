"""Test-time scaling experiments: problems × strategies × budgets × seeds, run as ordinary runs.

An experiment is a stored configuration that expands into *cells* (one problem, one strategy with
its parameters, one budget, one seed). Each cell is executed as a normal run tagged with the
experiment id and the cell's key, so every cell can be replayed like any other run and resuming
is simply "run the cells without a finished run". Cells that were cancelled, interrupted or ended
in a model error are run again on resume.

"Budget" is a token budget (``max_tokens``: generated tokens) unless ``budget_kind`` is
``nodes``; the other limit is lifted so the chosen one is what binds.

Four modules, one job each:

* :mod:`.config` — the configuration, its parsing and validation, the cells;
* :mod:`.scheduling` — running the cells: the executor seam and the ``local`` executor (a thread
  pool; claims and heartbeats for ``--worker`` processes without Ray), starting and stopping in
  the background;
* :mod:`.ray_executor` — the ``ray`` executor: one Ray task per cell on a cluster;
* :mod:`.results` — which run settles a cell, progress and its ETA, statistics, matrix, CSV.
"""
from __future__ import annotations

from .config import (
    BUDGET_KINDS,
    MAX_CELLS,
    Cell,
    ExperimentConfig,
    cell_spec,
    cells,
    create_experiment,
    load_config,
    parse_ids,
    parse_numbers,
    parse_strategies,
    split_strategy,
    strategy_label,
    validate,
)
from .ray_executor import RayRunner
from .results import (
    CELL_FIGURES,
    CURVE_X,
    FINISHED_OUTCOMES,
    Progress,
    ResultRow,
    cells_csv,
    curve_points,
    db_progress,
    eta_seconds,
    finished_keys,
    is_finished,
    latest_runs,
    matrix,
    results,
    results_csv,
    summary,
    wilson,
)
from .scheduling import (
    BACKGROUND,
    RUNNERS,
    ProgressFn,
    is_active,
    last_error,
    run_experiment,
    start_experiment,
    stop_experiment,
)

RUNNERS["ray"] = RayRunner   # the ray executor builds on scheduling, so it joins here (no cycle)

__all__ = [
    "BACKGROUND", "BUDGET_KINDS", "CELL_FIGURES", "FINISHED_OUTCOMES", "MAX_CELLS", "Cell",
    "ExperimentConfig", "Progress", "ProgressFn", "ResultRow", "cell_spec", "cells", "cells_csv",
    "create_experiment", "CURVE_X", "curve_points", "db_progress", "eta_seconds", "finished_keys",
    "is_active", "is_finished", "last_error", "latest_runs", "load_config", "matrix",
    "parse_ids", "parse_numbers", "parse_strategies", "results", "results_csv",
    "run_experiment", "split_strategy", "start_experiment", "stop_experiment",
    "strategy_label", "summary", "validate", "wilson"]
