"""Figures a strategy or evaluator adds to a run: declared once, next to the code that computes them.

A run's ``run_finished`` carries the totals every run has (outcome, nodes, tokens, calls, cost …)
and one ``metrics`` mapping: the figures of *this* strategy or evaluator (best-of-N's ``chains``,
ToT's ``correct_top1``, the evaluator's ``auc`` against exact solvability, a plug-in's own). The
code that computes a figure declares it with a :class:`Figure` — what it means, how to print it
and how an experiment pools it over the runs of a group — in a ``figures`` attribute of its
strategy or evaluator class (the truth figures: ``reasoning.evaluator_accuracy.FIGURES``). The CLI's JSON
line, the run summary, Compare and the experiment tables show whatever is declared; a metric
nobody declared is still shown, under its own name, and not pooled.

Pools (``Figure.pool``): ``"mean"`` of the runs that have it, ``"sum"``, ``"rate"`` (the share of
the runs that have it where it is true; pooled as ``<name>_rate``), ``"none"`` (per run only), or
a function of the group's metrics mappings (a list of dicts) returning the pooled value or None
(``auc`` is pooled from every run's ``value_truth`` histogram, not averaged).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Pool = str | Callable[[list[dict[str, Any]]], Any]
POOLS = ("mean", "sum", "rate", "none")


@dataclass(frozen=True)
class Figure:
    """One figure of ``run_finished.metrics``: its name, meaning, pooling and display format."""
    name: str                  # the key in ``metrics``
    meaning: str               # one sentence (shown as help, and in the docs)
    pool: Pool = "none"        # how an experiment pools it over a group's runs (see the module)
    fmt: str = "{}"            # display format of one run's (and the pooled) value: "{:.3f}", "{:.0%}"
    label: str = ""            # the heading in tables (default: the name)
    pooled_as: str = ""        # the pooled column's key (default: name; name_rate for "rate")
    hidden: bool = False       # data for another figure (a histogram): kept, not shown

    def __post_init__(self) -> None:
        if not isinstance(self.pool, str):
            if not callable(self.pool):
                raise ValueError(f"figure {self.name}: pool must be one of {', '.join(POOLS)} "
                                 "or a function")
        elif self.pool not in POOLS:
            raise ValueError(f"figure {self.name}: pool must be one of {', '.join(POOLS)} or a "
                             f"function, got {self.pool!r}")

    @property
    def key(self) -> str:
        """The pooled figure's key in an experiment's results (``chain_rate``, ``correct_any_rate``)."""
        return self.pooled_as or (f"{self.name}_rate" if self.pool == "rate" else self.name)

    @property
    def heading(self) -> str:
        """One run's figure, in words (the label, else the name)."""
        return self.label or self.name

    @property
    def column(self) -> str:
        """The pooled figure's column heading (the label, else the pooled key)."""
        return self.label or self.key

    def text(self, value: Any) -> str:
        """One value as the declaration prints it (a value the format does not fit: as it is)."""
        if value is None:
            return "—"
        try:
            return self.fmt.format(value)
        except (ValueError, TypeError):
            return str(value)


def undeclared(name: str) -> Figure:
    """A metric no strategy or evaluator declared: shown under its name, never pooled."""
    return Figure(name, "not declared by the run's strategy or evaluator")


def merge(*groups: Iterable[Figure]) -> tuple[Figure, ...]:
    """Declarations in order, the first of each name kept."""
    out: dict[str, Figure] = {}
    for group in groups:
        for f in group:
            out.setdefault(f.name, f)
    return tuple(out.values())


def is_metric_value(v: Any) -> bool:
    """What ``metrics`` holds: numbers, true/false, lists (histograms)."""
    return isinstance(v, (int, float, bool, list))


def shown(figures: Sequence[Figure], metrics: Mapping[str, Any]) -> list[tuple[Figure, Any]]:
    """(figure, value) for every metric the run has: declared ones in declaration order, then
    undeclared ones by name; hidden figures left out."""
    declared = {f.name for f in figures}
    out = [(f, metrics[f.name]) for f in figures
           if f.name in metrics and metrics[f.name] is not None and not f.hidden]
    out += [(undeclared(k), metrics[k]) for k in sorted(metrics)
            if k not in declared and metrics[k] is not None]
    return out


def pool(figures: Sequence[Figure], runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The pooled figures of a group: ``runs`` are its finished runs' metrics mappings. A figure
    no run of the group has is absent (not 0)."""
    out: dict[str, Any] = {}
    rows = [dict(r) for r in runs]
    for f in figures:
        if f.pool == "none":
            continue
        if callable(f.pool):
            value = f.pool(rows)
        else:
            value = _pool(f.pool, [r[f.name] for r in rows if r.get(f.name) is not None])
        if value is not None:
            out[f.key] = value
    return out


def _pool(how: str, values: list[Any]) -> Any:
    if not values:
        return None
    if how == "rate":
        return round(sum(bool(v) for v in values) / len(values), 4)
    numbers = [v for v in values if isinstance(v, (int, float))]
    if not numbers:
        return None
    if how == "sum":
        return sum(numbers)
    return round(sum(numbers) / len(numbers), 4)   # mean


# -- the format: run_finished.metrics (docs/events.md) ---------------------------------------------
# the strategy and evaluator figures that versions 1 and 2 wrote at the top of run_finished
LEGACY_METRICS = ("chains", "chains_correct", "chains_anytime", "final_answers", "correct_any",
                  "correct_top1", "correct_first_valid", "scored_with_truth", "false_prunes",
                  "false_prunes_threshold", "false_prunes_capacity", "false_keeps", "auc",
                  "value_truth")


def upgrade_run_finished(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``run_finished`` payload in this version's shape: a version 1/2 payload's strategy and
    evaluator figures (:data:`LEGACY_METRICS`, at the top) move into ``metrics``. Always a new
    dict; a version 3 payload comes back equal, so every reader calls this whatever it meets.
    A ``metrics`` that is not an object is left as it is (:func:`metrics_problem` names it)."""
    out = dict(payload)
    if "metrics" in out and not isinstance(out["metrics"], dict):
        return out
    metrics = dict(out.get("metrics") or {})
    for k in LEGACY_METRICS:
        if k in out:
            value = out.pop(k)
            if value is not None:
                metrics.setdefault(k, value)
    out["metrics"] = metrics
    return out


def metrics_problem(metrics: Any) -> str | None:
    """What is wrong with a ``metrics`` value read from outside (ingest), or None."""
    if not isinstance(metrics, dict):
        return f"field 'metrics' has the wrong type ({metrics!r})"
    for k, v in metrics.items():
        if not is_metric_value(v):
            return f"metrics[{k!r}] must be a number, true/false or a list, got {v!r}"
    return None
