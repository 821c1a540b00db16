"""What an experiment found: which run settles each cell, progress, and the statistics.

A cell is finished when its run ended with a real outcome (solved / failed / budget). Results per
strategy × budget: solved rate with a 95 % Wilson interval, mean generated tokens, mean seconds;
the accuracy-vs-compute curve is made of exactly those figures (:func:`curve_points`). Progress
and its ETA (:func:`eta_seconds`, the one formula) can be read from the database alone
(:func:`db_progress`), which is what a reloaded page shows.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from reasoning.strategies import figures_for
from storage import Store

from ..run_figures import csv_columns, group_figures, run_metrics, run_protocol
from .config import Cell, ExperimentConfig, cells, load_config

FINISHED_OUTCOMES = ("solved", "failed", "budget")


# -- which run settles a cell ----------------------------------------------------------------------
def latest_runs(store: Store, experiment_id: int) -> dict[str, dict[str, Any]]:
    """Cell key → the run that settles it: the latest finished run, else the latest run."""
    best: dict[str, dict[str, Any]] = {}
    for r in store.experiments.cell_runs(experiment_id):
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


# -- progress --------------------------------------------------------------------------------
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




def describe(cell: Cell) -> str:
    return f"problem {cell.problem_id} · {cell.strategy} · budget {cell.budget} · seed {cell.seed}"


def eta_seconds(left: int, cell_seconds: list[float], concurrency: int) -> float | None:
    """The one ETA: cells left × mean seconds of the finished cells / cells run at once.
    None until a cell has finished; 0 when nothing is left."""
    if left <= 0:
        return 0.0
    if not cell_seconds:
        return None
    return sum(cell_seconds) / len(cell_seconds) * left / max(1, concurrency)


def db_progress(store: Store, experiment_id: int) -> Progress:
    """Progress read from the database alone (what a reloaded page shows)."""
    row = store.experiments.get(experiment_id)
    if row is None:
        raise ValueError(f"experiment: no experiment {experiment_id}")
    config = ExperimentConfig.from_dict(row["config"])
    all_cells = cells(config)
    keys = {c.key for c in all_cells}
    latest = {k: r for k, r in latest_runs(store, experiment_id).items() if k in keys}
    fin = [r for r in latest.values() if is_finished(r)]
    running = [r for r in latest.values() if r["status"] == "running"]
    left = len(all_cells) - len(fin)
    eta = eta_seconds(left, [r["seconds"] or 0.0 for r in fin], config.concurrency)
    by_key = {c.key: c for c in all_cells}
    current = [describe(by_key[r["cell_key"]]) for r in running if r["cell_key"] in by_key]
    first = min((r["created_at"] for r in latest.values()), default=row["created_at"])
    return Progress(len(fin), len(all_cells), current, eta,
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
    compute: dict[str, float | None] = field(default_factory=dict)   # mean per run, by CURVE_X

    def public(self) -> dict[str, Any]:
        """The fields of the CLI's JSON line."""
        return {"strategy": self.strategy, "budget": self.budget, "solved": self.solved,
                "total": self.total, "mean_tokens": self.mean_tokens,
                "mean_seconds": self.mean_seconds, "rate": self.rate,
                "ci95": [self.ci_low, self.ci_high],
                **{f"mean_{k}": v for k, v in self.compute.items() if k != "tokens"},
                **self.figures}


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
    payloads = store.experiments.finished_payloads([r["id"] for r in latest.values() if is_finished(r)])
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
                                            [run_protocol(r.get("params")) for r in runs],
                                            _declared(runs)),
                              mean_compute([payloads.get(r["id"], {}) for r in fin], fin)))
    return rows


def _declared(runs: list[dict[str, Any]]) -> tuple[Any, ...] | None:
    """The figures the group's runs declare (their strategy's and evaluators'); None (every
    declaration known) for a group that has not run yet."""
    if not runs:
        return None
    out: dict[str, Any] = {}
    for r in runs:
        for f in figures_for(r.get("strategy"), r.get("params")):
            out.setdefault(f.name, f)
    return tuple(out.values())


# what the accuracy-vs-compute curve can put on its x axis: key -> axis title
CURVE_X = {"tokens": "mean generated tokens per problem",
           "prompt_tokens": "mean prompt tokens per problem",
           "total_tokens": "mean prompt + generated tokens per problem",
           "calls": "mean model calls per problem",
           "cost": "mean cost per problem ($)"}


def mean_compute(payloads: list[dict[str, Any]], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean compute per finished run, in every unit of :data:`CURVE_X` (cost: priced runs only)."""
    gen = [float(r["tokens"] or 0) for r in runs]
    prompt = [float(p.get("prompt_tokens") or 0) for p in payloads]
    return {"tokens": _mean(gen), "prompt_tokens": _mean(prompt),
            "total_tokens": _mean([a + b for a, b in zip(gen, prompt, strict=False)]),
            "calls": _mean([float(p.get("model_calls") or 0) for p in payloads]),
            "cost": _mean([float(p["cost"]) for p in payloads if p.get("cost") is not None])}


def curve_points(rows: list[ResultRow], x: str = "tokens") -> dict[str, list[dict[str, Any]]]:
    """Accuracy vs compute: per strategy, points (x = mean compute in unit ``x`` of
    :data:`CURVE_X`, default generated tokens; y = solved rate) sorted by x — the same figures as
    the results table."""
    if x not in CURVE_X:
        raise ValueError(f"x: must be one of {', '.join(CURVE_X)}, got {x!r}")
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        value = r.mean_tokens if x == "tokens" else r.compute.get(x)
        if r.total == 0 or value is None:
            continue
        out.setdefault(r.strategy, []).append(
            {"budget": r.budget, "x": value, "y": r.rate, "ci_low": r.ci_low,
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
    payloads = store.experiments.finished_payloads([r["id"] for r in latest.values()])
    metrics = {rid: run_metrics(p) for rid, p in payloads.items()}
    columns = [*CELL_FIGURES, *_declared_names(latest.values(), metrics)]
    w.writerow(["experiment_id", "problem_id", "strategy", "budget_kind", "budget", "seed",
                "run_id", "outcome", "answer", "tokens", "nodes", "seconds", "protocol",
                *columns])
    for c in cells(config):
        r = latest.get(c.key) or {}
        fin = metrics.get(r.get("id"), {})
        w.writerow([experiment_id, c.problem_id, c.strategy, config.budget_kind, c.budget, c.seed,
                    r.get("id", ""), r.get("outcome") or r.get("status", "not run"),
                    r.get("answer") or "", r.get("tokens", ""), r.get("nodes", ""),
                    r.get("seconds", ""), run_protocol(r.get("params")) if r else "",
                    *(_cell(fin.get(k)) for k in columns)])
    return buf.getvalue()


# per run, from its run_finished (blank where the run has no such figure)
CELL_FIGURES = ("chains", "chains_correct", "correct_any", "correct_top1", "correct_first_valid",
                "auc",
                "false_prunes_threshold", "false_prunes_capacity", "false_keeps")


def _declared_names(runs: Any, metrics: dict[int, dict[str, Any]]) -> list[str]:
    """Figures beyond :data:`CELL_FIGURES` that some run has, declared ones first (not hidden)."""
    have = {k for m in metrics.values() for k in m}
    out: dict[str, bool] = {}
    for r in runs:
        for f in figures_for(r.get("strategy"), r.get("params")):
            if f.name in have and not f.hidden and f.name not in CELL_FIGURES:
                out.setdefault(f.name, True)
    hidden = {f.name for r in runs for f in figures_for(r.get("strategy"), r.get("params"))
              if f.hidden}
    return [*out, *sorted(have - set(out) - set(CELL_FIGURES) - hidden)]


def _cell(value: Any) -> Any:
    return "" if value is None else value


def results_csv(rows: list[ResultRow]) -> str:
    columns = csv_columns([r.figures for r in rows])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["strategy", "budget", "solved", "total", "rate", "ci95_low", "ci95_high",
                "mean_tokens", "mean_seconds", "cells", "errors", *columns])
    for r in rows:
        w.writerow([r.strategy, r.budget, r.solved, r.total, r.rate, r.ci_low, r.ci_high,
                    r.mean_tokens, r.mean_seconds, r.cells, r.errors,
                    *(r.figures.get(k, "") for k in columns)])
    return buf.getvalue()


def summary(store: Store, experiment_id: int) -> dict[str, Any]:
    """The CLI's final JSON line."""
    config = load_config(store, experiment_id)
    runs = store.experiments.cell_runs(experiment_id)
    return {"experiment_id": experiment_id, "cells": len(cells(config)),
            "budget_kind": config.budget_kind, "protocol": config.protocol,
            "executor": config.executor, "runs": len(runs),
            "interrupted_runs": sum(r["status"] == "interrupted" for r in runs),
            "results": [r.public() for r in results(store, experiment_id)]}
