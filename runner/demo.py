"""Demo sessions: real recorded runs bundled with the repo, loaded into any database.

``data/demo/demo.jsonl`` holds one JSON object per line (written by ``scripts/record_demo.py``
from the embedded model; anyone can re-record it):

* ``{"kind": "experiment", "key": "e1", "name": …, "config": {…}}`` — an experiment whose cells
  are among the runs below;
* ``{"kind": "run", "note": …, "experiment": "e1" | null, "cell_key": …, "events": [[seq, t,
  type, node_id, payload], …]}`` — one run's complete event log (the run row is rebuilt from its
  ``run_started`` and ``run_finished`` events, so a loaded run replays exactly as recorded).

:func:`load_demo` appends them to a store as new runs (fresh ids) and returns what it made.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoning import events as ev
from reasoning.events import Event
from storage import Store, open_run
from storage import experiments as exp_repo

DEMO_FILE = Path(__file__).resolve().parents[1] / "data" / "demo" / "demo.jsonl"


def read_demo(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The demo file's records, in order; ValueError names a bad line."""
    path = path or DEMO_FILE
    records = []
    for i, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{i}: not JSON ({e.msg})") from None
        if rec.get("kind") not in ("run", "experiment"):
            raise ValueError(f"{path}:{i}: kind must be 'run' or 'experiment'")
        records.append(rec)
    return records


def _load_run(store: Store, rec: dict[str, Any], experiment_id: int | None) -> int:
    events = rec["events"]
    if not events or events[0][2] != ev.RUN_STARTED:
        raise ValueError("a demo run must start with its run_started event")
    run = open_run(store, Event(0, *events[0]), experiment_id=experiment_id,
                   cell_key=rec.get("cell_key") or None)
    # the rest of the log; the row follows its run_finished and the marks after it
    run.append([Event(run.run_id, seq, t, type_, node_id, payload)
                for seq, t, type_, node_id, payload in events[1:]])
    return run.run_id


def load_demo(store: Store, path: str | Path | None = None) -> dict[str, Any]:
    """Append every demo run and experiment to ``store``; returns ``{"runs": [{"run_id", "note"}],
    "experiments": [ids]}``."""
    made_exp: dict[str, int] = {}
    runs: list[dict[str, Any]] = []
    for rec in read_demo(path):
        if rec["kind"] == "experiment":
            eid = exp_repo.create_experiment(store, rec.get("name", "demo"), rec["config"])
            exp_repo.set_status(store, eid, "finished")
            made_exp[rec["key"]] = eid
            continue
        eid = made_exp.get(rec["experiment"]) if rec.get("experiment") else None
        runs.append({"run_id": _load_run(store, rec, eid), "note": rec.get("note", "")})
    return {"runs": runs, "experiments": list(made_exp.values())}


def run_record(store: Store, run_id: int, note: str = "", experiment: str | None = None) -> dict:
    """One stored run as a demo record (what :func:`load_demo` reads back)."""
    row = store.get_run(run_id)
    if row is None:
        raise ValueError(f"run_id: no run {run_id}")
    return {"kind": "run", "note": note, "experiment": experiment, "cell_key": row.get("cell_key"),
            "events": [[e.seq, e.t, e.type, e.node_id, e.payload] for e in store.events(run_id)]}


def write_demo(records: list[dict[str, Any]], path: str | Path | None = None) -> Path:
    path = Path(path or DEMO_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                            for r in records), "utf-8")
    return path


DEMO_PREVIEW = "solves"   # the demo run a first screen shows: MCTS solving rank 1


def demo_tree(path: str | Path | None = None, word: str = DEMO_PREVIEW):
    """A demo run's tree (its note contains ``word``, else the first run) folded from the file,
    nothing stored, and its note; None when there is no demo file."""
    from reasoning.tree import fold
    try:
        runs = [r for r in read_demo(path) if r["kind"] == "run"]
    except (OSError, ValueError):
        return None
    rec = next((r for r in runs if word in r.get("note", "")), None) or \
        next((r for r in runs if r.get("note", "").startswith("MCTS")), runs[0] if runs else None)
    if rec is None:
        return None
    return fold([Event(0, s, t, ty, n, p) for s, t, ty, n, p in rec["events"]]), rec.get("note", "")


# -- what a demo recording must show (scripts/record_demo.py refuses to write a file without it) --
MACHINE_KEYS = ("cpu_count", "load_start", "load_end", "llama_cpp", "n_threads")


@dataclass(frozen=True)
class DemoMinimums:
    """The sizes :func:`check_demo` asks for (``QUICK`` for the smoke recording)."""
    mcts_nodes: int = 200
    experiment_problems: int = 10
    experiment_strategies: int = 3
    prune_and_backtrack: bool = True   # beam pruned, DFS backtracked (the smoke run's budgets may not)


FULL = DemoMinimums()
QUICK = DemoMinimums(mcts_nodes=3, experiment_problems=1, experiment_strategies=3,
                     prune_and_backtrack=False)
# evaluators that are not the model judging: a run using one must say "baseline" in its note
NOT_THE_MODEL = ("oracle", "verifier")


def check_demo(records: list[dict[str, Any]], minimums: DemoMinimums = FULL) -> list[str]:
    """What the demo records lack, one sentence each ([] when the set is complete): an MCTS run
    with ``mcts_nodes`` nodes, a beam that pruned, a DFS that backtracked, a best-of-N, a
    ``--protocol tot`` run, a Trace run, an experiment of ``experiment_problems`` ×
    ``experiment_strategies`` cells (the pieces before it are runs outside the experiment), prompt tokens on every model run, the machine facts
    on every run, and value prompts (not the oracle or the verifier) unless a run is a baseline."""
    from reasoning.tree import fold
    missing: list[str] = []
    runs = [r for r in records if r.get("kind") == "run"]
    seen: dict[str, list] = {}
    for i, rec in enumerate(runs, 1):
        events = rec.get("events") or []
        if not events or events[0][2] != ev.RUN_STARTED:
            missing.append(f"run {i} ({rec.get('note', '')!r}): no run_started event")
            continue
        start = events[0][4]
        name = f"run {i} ({start.get('strategy')}, {rec.get('note', '')[:40]!r})"
        tree = fold([Event(0, *e) for e in events])
        finished = events[-1][4] if events[-1][2] == ev.RUN_FINISHED else {}
        model = start.get("model") or {}
        machine = model.get("machine") or {}
        lacking = [k for k in MACHINE_KEYS if machine.get(k) in (None, "")]
        if lacking:
            missing.append(f"{name}: no machine facts ({', '.join(lacking)})")
        if model.get("kind") not in ("external", None) and not finished.get("prompt_tokens"):
            missing.append(f"{name}: 0 prompt tokens (a model run must carry the server's count)")
        evaluator = (start.get("params") or {}).get("evaluator")
        if evaluator in NOT_THE_MODEL and "baseline" not in rec.get("note", "").lower():
            missing.append(f"{name}: scored by the {evaluator}, not the model, and not labelled "
                           "a baseline")
        if rec.get("experiment"):      # the pieces below are runs of their own, with a note
            continue
        seen.setdefault(start.get("strategy", ""), []).append((rec, start, tree))
        if start.get("protocol") == "tot":
            seen.setdefault("protocol tot", []).append((rec, start, tree))
        if model.get("kind") == "external":
            seen.setdefault("trace", []).append((rec, start, tree))
    need = [("mcts", lambda t: len(t.nodes) >= minimums.mcts_nodes,
             f"an MCTS run with at least {minimums.mcts_nodes} nodes"),
            ("beam", lambda t: t.counts()["pruned"] > 0 or not minimums.prune_and_backtrack,
             "a beam run that pruned"),
            ("dfs", lambda t: t.counts()["backtracked"] > 0 or not minimums.prune_and_backtrack,
             "a DFS run that backtracked"),
            ("best_of_n", lambda t: True, "a best-of-N run"),
            ("protocol tot", lambda t: True, "a --protocol tot run"),
            ("trace", lambda t: True, "a Trace run (examples/trace_queens.py)")]
    for key, ok, what in need:
        if not any(ok(tree) for _rec, _start, tree in seen.get(key, [])):
            missing.append(f"missing: {what}")
    exps = [r for r in records if r.get("kind") == "experiment"]
    best = (0, 0)
    for e in exps:
        cells = [(s["problem_id"], s["strategy"], json.dumps(s.get("params"), sort_keys=True))
                 for rec in runs if rec.get("experiment") == e.get("key")
                 for s in [rec["events"][0][4]] if rec.get("events")]
        size = (len({c[0] for c in cells}), len({c[1:] for c in cells}))
        best = max(best, size)
    if best[0] < minimums.experiment_problems or best[1] < minimums.experiment_strategies:
        missing.append(f"missing: an experiment of at least {minimums.experiment_problems} puzzles "
                       f"× {minimums.experiment_strategies} strategies (largest: {best[0]} × {best[1]})")
    return missing
