"""Exports from storage: load runs, fold them, write JSONL files (and a dataset folder).

The rows themselves are made by the pure :mod:`reasoning.export`; this module only picks the runs
(a list of ids or an experiment), writes files, and optionally draws the missing rollouts for step
values on the model the run used. Such rollouts are *appended to the run's event log* (as
``rollout`` nodes after ``run_finished``), so replay shows them and the next export reuses them
instead of paying again.

Files: ``--split F`` writes ``OUT`` (train) and ``OUT`` with ``.jsonl`` replaced by ``.val.jsonl``
(validation); a problem lands on one side only, chosen by a hash of the task and problem text.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reasoning.export import (
    ExportResult,
    Filters,
    compute_rollouts,
    estimate_rollout_budget,
    export_trees,
    nodes_needing_rollouts,
    problem_keys,
    split_rows,
)
from reasoning.id_lists import parse_id_ranges
from reasoning.tree import Tree, fold
from storage import Store, reopen

from .views import final_tree


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
            raise ValueError(f"runs: no run {rid} in {store.url}")
    return ids


def parse_ids(text: str) -> list[int]:
    """'3,4, 7' or '3-5,9' -> the run ids (the one id parser, :mod:`reasoning.id_lists`)."""
    return parse_id_ranges(text, "runs", "3,4,7")


def load_tree(store: Store, run_id: int) -> tuple[Tree, list]:
    """The run's tree and its events (drawing rollouts continues the event log)."""
    events = store.events(run_id)
    return fold(events), events


def load_trees(store: Store, run_ids: Iterable[int]) -> list[Tree]:
    return [final_tree(store, rid) for rid in run_ids]


def export_runs(store: Store, kind: str, run_ids: Iterable[int],
                filters: Filters | None = None) -> ExportResult:
    return export_trees(kind, load_trees(store, run_ids), filters)


def _text(value: Any) -> str:
    """A prompt or reply as text: a chat message list becomes 'role: content' lines."""
    if isinstance(value, list):
        return "\n".join(f"[{m.get('role')}] {m.get('content')}" for m in value)
    return str(value)


def row_as_text(kind: str, row: dict[str, Any], prompt_tail: int = 240) -> str:
    """A row for reading (the page's preview): the end of the prompt, then what is learnt."""
    prompt = _text(row["prompt"])
    if len(prompt) > prompt_tail:
        prompt = "…" + prompt[-prompt_tail:]
    head = f"run {row.get('run_id')} · problem {row.get('problem_id')} · {row.get('problem')}"
    if kind == "pairs":
        body = (f"CHOSEN:   {_text(row['chosen'])}\nREJECTED: {_text(row['rejected'])}\n"
                f"why it lost: {row.get('rejected_reason')}")
    elif kind == "values":
        direct = (f"direct: {row['direct_correct']} of {row['direct_n']} completions of this step "
                  f"right" if row.get("direct_n") else "direct: no completion of this step yet")
        body = (f"STEP: {_text(row['step'])}\nsoft {row['soft']:.3g} · hard {row['hard']} · "
                f"{row['correct']} of {row['n']} outcomes below it right · {direct}")
    else:
        body = "COMPLETION:\n" + _text(row["completion"])
    return f"{head}\n\nPROMPT (end):\n{prompt}\n\n{body}"


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


def dataset_files(kind: str, train: list[dict], val: list[dict]) -> dict[str, str]:
    """A Hugging Face–style dataset folder as {relative path: text}: ``data/train.jsonl``,
    ``data/validation.jsonl`` (when there are validation rows) and a README whose YAML header
    names the splits, so ``datasets.load_dataset(folder)`` reads it."""
    files = {"data/train.jsonl": to_jsonl(train)}
    splits = ["  - split: train\n    path: data/train.jsonl\n"]
    if val:
        files["data/validation.jsonl"] = to_jsonl(val)
        splits.append("  - split: validation\n    path: data/validation.jsonl\n")
    files["README.md"] = (
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "".join(splits) + "---\n\n"
        f"# Thinktree {kind}\n\nExported from Thinktree search trees ({len(train)} train rows, "
        f"{len(val)} validation rows; split by problem, no problem on both sides). "
        "See the Thinktree README for the fields.\n")
    return files


def write_dataset_folder(folder: str | Path, kind: str, train: list[dict],
                         val: list[dict]) -> Path:
    folder = Path(folder)
    for rel, text in dataset_files(kind, train, val).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def dataset_zip(kind: str, train: list[dict], val: list[dict]) -> bytes:
    """The dataset folder as a zip (for a download button)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, text in dataset_files(kind, train, val).items():
            z.writestr(f"thinktree-{kind}/{rel}", text)
    return buf.getvalue()


def rollout_budget(store: Store, run_ids: Iterable[int], n: int,
                   filters: Filters | None = None) -> dict[str, Any]:
    return estimate_rollout_budget(load_trees(store, run_ids), n, filters)


def draw_missing_rollouts(store: Store, run_ids: Iterable[int], n: int,
                          filters: Filters | None = None, model: Any = None,
                          api_key: str | None = None) -> dict[str, Any]:
    """Give every step ``n`` completions of its own (draw the missing rollouts); store them in
    each run.

    ``model``: the model to use; by default the one each run was made with (the model config
    stored in its run row; an endpoint's key comes from ``api_key`` or its key variable).
    """
    from reasoning.models.config import ModelConfig, make_model
    drawn = {"runs": 0, "rollout_nodes": 0, "events": 0}
    for rid in run_ids:
        tree, events = load_tree(store, rid)
        m = model
        if m is None and nodes_needing_rollouts(tree, filters, n):
            row = store.get_run(rid) or {}
            cfg = {k: v for k, v in (row.get("model") or {}).items()
                   if k in ModelConfig.__dataclass_fields__}
            m = make_model(ModelConfig(**cfg), api_key)
        new = compute_rollouts(tree, events, m, n, filters)
        if new:
            reopen(store, rid).append(new)   # after the run's last event
            drawn["runs"] += 1
            drawn["events"] += len(new)
            drawn["rollout_nodes"] += sum(1 for e in new if e.type == "node_created")
    return drawn


def export_to_files(store: Store, kind: str, run_ids: Iterable[int], out: str | Path,
                    split: float = 0.0, filters: Filters | None = None,
                    dataset_dir: str | Path | None = None) -> dict[str, Any]:
    """Write ``out`` (and its validation file when ``split`` > 0); return the counts."""
    trees = load_trees(store, run_ids)
    res = export_trees(kind, trees, filters)
    train, val = split_rows(res.rows, split, problem_keys(trees))
    write_jsonl(train, out)
    counts = res.counts()
    counts.update({"out": str(out), "train": len(train), "val": len(val)})
    if split > 0:
        write_jsonl(val, val_path(out))
        counts["val_out"] = str(val_path(out))
    if dataset_dir:
        counts["dataset_dir"] = str(write_dataset_folder(dataset_dir, kind, train, val))
    return counts
