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
    rec = next((r for r in runs if word in r.get("note", "")), runs[0] if runs else None)
    if rec is None:
        return None
    return fold([Event(0, s, t, ty, n, p) for s, t, ty, n, p in rec["events"]]), rec.get("note", "")
