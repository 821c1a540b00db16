"""Exports from storage: load runs, fold them, write JSONL files (and a dataset folder).

The rows themselves are made by the pure :mod:`reasoning.export`; this module only picks the runs
(a list of ids or an experiment), writes files, and optionally draws the missing rollouts for step
values on the model the run used. Such rollouts are *appended to the run's event log* (as
``rollout`` nodes after ``run_finished``), so replay shows them and the next export reuses them
instead of paying again.

Files: ``--split F`` writes ``OUT`` (train) and ``OUT`` with ``.jsonl`` replaced by ``.val.jsonl``
(validation); a problem lands on one side only, chosen by a hash of ``task:problem_id``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reasoning.export import (
    KINDS,
    ExportResult,
    Filters,
    compute_rollouts,
    estimate_rollout_budget,
    export_trees,
    split_rows,
)
from reasoning.tree import Tree, fold
from storage import Store


def run_ids_for(store: Store, run_ids: Iterable[int] | None = None,
                experiment_id: int | None = None) -> list[int]:
    """The runs to export: the given ids (checked to exist) or every run of an experiment."""
    if experiment_id is not None:
        ids = sorted(r["id"] for r in store.list_runs(limit=1_000_000, experiment_id=experiment_id))
        if not ids:
            raise ValueError(f"experiment: no runs in experiment {experiment_id}")
        return ids
    ids = [int(i) for i in (run_ids or [])]
    if not ids:
        raise ValueError("runs: name at least one run id (or an experiment)")
    for rid in ids:
        if store.get_run(rid) is None:
            raise ValueError(f"runs: no run {rid} in {store.engine.url}")
    return ids


def parse_ids(text: str) -> list[int]:
    """'3,4, 7' -> [3, 4, 7]; a message naming the bad part otherwise."""
    out = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"runs: expected run ids like 3,4,7, got {part!r}")
        out.append(int(part))
    return out


def load_tree(store: Store, run_id: int) -> tuple[Tree, list]:
    events = store.events(run_id)
    return fold(events), events


def load_trees(store: Store, run_ids: Iterable[int]) -> list[Tree]:
    return [load_tree(store, rid)[0] for rid in run_ids]


def export_runs(store: Store, kind: str, run_ids: Iterable[int],
                filters: Filters | None = None) -> ExportResult:
    return export_trees(kind, load_trees(store, run_ids), filters)


def all_counts(trees: list[Tree], filters: Filters | None = None) -> dict[str, dict[str, Any]]:
    """Counts of all three kinds at once (no model is called)."""
    return {kind: export_trees(kind, trees, filters).counts() for kind in KINDS}


def val_path(out: str | Path) -> Path:
    out = Path(out)
    name = out.name[:-len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(name + ".val.jsonl")


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_jsonl(rows: list[dict[str, Any]], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_jsonl(rows), encoding="utf-8")
    tmp.replace(path)


def write_dataset_folder(folder: str | Path, kind: str, train: list[dict],
                         val: list[dict]) -> Path:
    """A Hugging Face–style dataset folder: ``data/train.jsonl``, ``data/validation.jsonl`` and a
    README whose YAML header names the splits, so ``datasets.load_dataset(folder)`` reads it."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_jsonl(train, folder / "data" / "train.jsonl")
    files = ["  - split: train\n    path: data/train.jsonl\n"]
    if val:
        write_jsonl(val, folder / "data" / "validation.jsonl")
        files.append("  - split: validation\n    path: data/validation.jsonl\n")
    card = ("---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(files) + "---\n\n"
            f"# Thinktree {kind}\n\nExported from Thinktree search trees "
            f"({len(train)} train rows, {len(val)} validation rows; split by problem).\n")
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def rollout_budget(store: Store, run_ids: Iterable[int], n: int,
                   filters: Filters | None = None) -> dict[str, Any]:
    return estimate_rollout_budget(load_trees(store, run_ids), n, filters)


def draw_missing_rollouts(store: Store, run_ids: Iterable[int], n: int,
                          filters: Filters | None = None, model: Any = None,
                          api_key: str | None = None) -> dict[str, Any]:
    """Draw ``n`` rollouts below every step node without outcomes; store them in each run.

    ``model``: the model to use; by default the one each run was made with (its stored config).
    """
    from reasoning.models.config import ModelConfig, make_model
    drawn = {"runs": 0, "rollout_nodes": 0, "events": 0}
    for rid in run_ids:
        tree, events = load_tree(store, rid)
        m = model
        if m is None:
            cfg = {k: v for k, v in (tree.info.get("model") or {}).items()
                   if k in ModelConfig.__dataclass_fields__}
            m = make_model(ModelConfig(**cfg), api_key)
        new = compute_rollouts(tree, events, m, n, filters)
        if new:
            store.append_events(rid, new)
            drawn["runs"] += 1
            drawn["events"] += len(new)
            drawn["rollout_nodes"] += sum(1 for e in new if e.type == "node_created")
    return drawn


def export_to_files(store: Store, kind: str, run_ids: Iterable[int], out: str | Path,
                    split: float = 0.0, filters: Filters | None = None,
                    dataset_dir: str | Path | None = None) -> dict[str, Any]:
    """Write ``out`` (and its validation file when ``split`` > 0); return the counts."""
    res = export_runs(store, kind, list(run_ids), filters)
    train, val = split_rows(res.rows, split)
    write_jsonl(train, out)
    counts = res.counts()
    counts.update({"out": str(out), "train": len(train), "val": len(val)})
    if split > 0:
        write_jsonl(val, val_path(out))
        counts["val_out"] = str(val_path(out))
    if dataset_dir:
        counts["dataset_dir"] = str(write_dataset_folder(dataset_dir, kind, train, val))
    return counts
