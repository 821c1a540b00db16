"""Verbs for a user's own runs: ``runs``, ``mark``, ``demo``, ``app``, and ``export graph``.

* ``runs`` lists stored runs, one JSON object per line (newest first).
* ``mark RUN NODE correct|wrong`` stores a verdict on an answer node (exit 2 for any other node).
* ``demo`` loads the bundled demo sessions (``data/demo/demo.jsonl``) into the database.
* ``app`` starts the Streamlit app (``streamlit run app.py``; extra arguments go to Streamlit).
* ``export graph --runs ID --out FILE.graphml|.json`` writes runs as a networkx graph file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage import open_store

from .common import parse_int

ROOT = Path(__file__).resolve().parents[2]


def register(sub) -> None:
    r = sub.add_parser("runs", help="list stored runs, one JSON line each (newest first)")
    r.add_argument("--limit", default="100", help="at most this many (default 100)")
    r.add_argument("--experiment", default=None, metavar="ID", help="only this experiment's runs")
    r.add_argument("--db", default=None)
    r.set_defaults(handler=cmd_runs)
    m = sub.add_parser("mark", help="mark an answer node of a finished run correct or wrong")
    m.add_argument("run_id")
    m.add_argument("node_id")
    m.add_argument("mark", choices=["correct", "wrong"])
    m.add_argument("--db", default=None)
    m.set_defaults(handler=cmd_mark)
    d = sub.add_parser("demo", help="load the bundled demo sessions (real recorded runs and a "
                       "small experiment) into the database")
    d.add_argument("--file", default=None, help="a demo file (default data/demo/demo.jsonl)")
    d.add_argument("--db", default=None)
    d.set_defaults(handler=cmd_demo)
    # every argument after ``app`` is Streamlit's (``--server.port 8502``): no option of our own,
    # so argparse must not read them as options (``--help`` then shows ``streamlit run``'s)
    a = sub.add_parser("app", help="start the Streamlit app; further arguments go to streamlit run",
                       prefix_chars="+", add_help=False)
    a.add_argument("streamlit_args", nargs=argparse.REMAINDER)
    a.set_defaults(handler=cmd_app)


def cmd_runs(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    experiment = None if args.experiment is None else parse_int("experiment", args.experiment)
    for r in store.list_runs(limit=parse_int("limit", args.limit), experiment_id=experiment):
        created = datetime.fromtimestamp(r["created_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(json.dumps({"run_id": r["id"], "task": r["task"], "problem": r["problem"],
                          "strategy": r["strategy"], "outcome": r["outcome"] or r["status"],
                          "nodes": r["nodes"], "tokens": r["tokens"], "created": created}))
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from runner.marks import mark_node
    store = open_store(args.db)
    run_id, node_id = parse_int("run_id", args.run_id), parse_int("node_id", args.node_id)
    mark_node(store, run_id, node_id, args.mark)
    row = store.get_run(run_id)
    print(json.dumps({"run_id": run_id, "node_id": node_id, "mark": args.mark,
                      "outcome": row["outcome"]}))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from runner.demo import DEMO_FILE, load_demo
    store = open_store(args.db)
    made = load_demo(store, args.file or DEMO_FILE)
    for r in made["runs"]:
        print(f"run {r['run_id']}: {r['note']}", file=sys.stderr)
    print(json.dumps({"runs": [r["run_id"] for r in made["runs"]],
                      "experiments": made["experiments"]}))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Run from the checkout, so Streamlit reads its ``.streamlit/config.toml`` (which keeps the
    app on 127.0.0.1); the database stays where the user is, as for every other verb."""
    extra = [a for a in args.streamlit_args if a != "--"]
    from storage.db import to_url
    env = {**os.environ, "THINKTREE_DB": to_url(os.environ.get("THINKTREE_DB") or "thinktree.db")}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), *extra]
    return subprocess.call(cmd, cwd=str(ROOT), env=env)


def cmd_export_graph(args: argparse.Namespace) -> int:
    """``export graph``: the runs as one networkx graph (a forest when several), GraphML or JSON."""
    from reasoning.graph import runs_graph, write_graph
    from runner.export import parse_ids, run_ids_for
    from runner.views import final_tree
    store = open_store(args.db)
    ids = run_ids_for(store, parse_ids(args.runs) if args.runs else None,
                      None if args.runs else parse_int("experiment", args.experiment))
    g = runs_graph(final_tree(store, i) for i in ids)
    path = write_graph(g, args.out)
    print(json.dumps({"out": str(path), "format": path.suffix.lstrip("."), "runs": len(ids),
                      "nodes": g.number_of_nodes(), "edges": g.number_of_edges()}))
    return 0
