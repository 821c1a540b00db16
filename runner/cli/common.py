"""Helpers every verb uses: number parsing with messages naming the flag, a run's summary."""
from __future__ import annotations

import os
from typing import Any

from reasoning.figures import shown, upgrade_run_finished
from reasoning.models.base import ModelError
from reasoning.strategies import figures_for


def parse_float(name: str, value: str, expected: str = "a number") -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: expected {expected}, got {value!r}") from None


def parse_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


# figures of run_finished that the summary repeats at the top when a run has them (the line is
# public: these keep their place; every declared figure is also under "metrics")
FINISHED_FIGURES = ("calls_by_purpose", "tokens_by_purpose", "cost", "chains", "chains_correct", "correct_any", "correct_top1",
                    "correct_first_valid", "false_prunes",
                    "false_prunes_threshold", "false_prunes_capacity", "false_keeps", "auc")


def summary(store, run_id: int) -> dict[str, Any]:
    """The final JSON line of ``run`` and ``show``."""
    row = store.get_run(run_id)
    if row is None:
        raise ValueError(f"run_id: no run {run_id} in {store.url}")
    out = {"run_id": row["id"], "outcome": row["outcome"], "answer": row["answer"],
           "nodes": row["nodes"], "tokens": row["tokens"], "events": row["events"],
           "seconds": row["seconds"]}
    from runner.marks import answer_and_marks
    out["answer_node"], out["marks"] = answer_and_marks(store.events(run_id))
    out["protocol"] = (row.get("params") or {}).get("protocol", "constrained")
    fin = upgrade_run_finished(store.experiments.finished_payloads([run_id]).get(run_id, {}))
    metrics = fin["metrics"] if isinstance(fin.get("metrics"), dict) else {}
    # compute: runs from before these fields report what they have (generated tokens)
    out["prompt_tokens"] = int(fin.get("prompt_tokens") or 0)
    out["completion_tokens"] = int(fin.get("completion_tokens", row["tokens"]) or 0)
    out["model_calls"] = int(fin.get("model_calls") or 0)
    out.update({k: fin.get(k, metrics.get(k)) for k in FINISHED_FIGURES
                if k in fin or k in metrics})
    # what the run's strategy and evaluators declare, and any other metric it has (not hidden)
    declared = figures_for(row.get("strategy"), row.get("params") or {})
    out["metrics"] = {f.name: v for f, v in shown(declared, metrics)}
    return out


def model_config(args: Any, prices: dict[str, float] | None = None, parallel: int = 1):
    """The embedded model, an endpoint (``--base-url``), or the random baseline (``--model
    random`` without a base URL)."""
    from reasoning.models.config import ModelConfig
    if not args.base_url:
        if args.model == "random":
            return ModelConfig(kind="random", **(prices or {}))
        if args.model:
            raise ValueError(f"model: {args.model!r} needs --base-url (without one, only "
                             "'random' — the random baseline — is a model name)")
        return ModelConfig(**(prices or {}))
    return ModelConfig(kind="endpoint", base_url=args.base_url, model=args.model or "",
                       api_key_env=args.api_key_env or "", mode=args.mode or "chat",
                       parallel=parallel, **(prices or {}))


def parallel_arg(args: Any) -> int:
    """``--parallel`` as a number (1 when not given)."""
    return 1 if args.parallel is None else parse_int("parallel", args.parallel)


def probed(args: Any, model: Any) -> Any:
    """With ``--probe`` and an endpoint: the config with what the probe found there; its measured
    parallel slots become the default unless ``--parallel`` was given."""
    if not (args.probe and args.base_url):
        return model
    from reasoning.models.probe import probe
    return model.with_probe(probe(args.base_url, args.model, api_key(args.api_key_env)),
                            keep_parallel=args.parallel is not None)


def api_key(env: str | None) -> str | None:
    """The key held by the environment variable ``env`` (never stored or printed)."""
    if not env:
        return None
    key = os.environ.get(env)
    if not key:
        raise ModelError(f"the environment variable {env} is not set")
    return key
