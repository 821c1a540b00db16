"""A run as a networkx graph: the same tree (nodes, edges, attributes), GraphML and node-link JSON
files that read back, several runs as a forest, and the CLI verb ``export graph``."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from reasoning.engine import run_search
from reasoning.graph import read_graph, runs_graph, to_networkx, write_graph
from reasoning.models.scripted import ScriptedModel
from reasoning.run_facts import solved_nodes
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from storage import reopen
from tests.helpers import new_run, pick_by_seed

ROOT = Path(__file__).resolve().parents[1]


def stored_mcts(store, puzzle: str = "4 5 6 10", seed: int = 3) -> int:
    """A real MCTS search on the scripted policy (random legal steps by seed), stored."""
    task = get_task("game24")
    problem = task.resolve_problem(puzzle)
    strategy = make_strategy("mcts", {"simulations": 12, "width": 3})
    run_id = new_run(store, task="game24", problem=problem.text, problem_id=problem.id,
                              strategy="mcts", params=strategy.params(), model={"kind": "scripted"},
                              budget={}, seed=seed)
    run_search(strategy, task, problem, ScriptedModel(pick_by_seed), run_id=run_id,
               budget=Budget(max_nodes=80), seed=seed, sink=reopen(store, run_id))
    return run_id


def test_graph_is_the_tree(store):
    tree = fold(store.events(stored_mcts(store)))
    g = to_networkx(tree)
    assert set(g.nodes) == set(tree.nodes) and len(tree.nodes) > 10
    assert nx.is_arborescence(g)                       # one root, every other node one parent
    assert {(n.parent_id, n.id) for n in tree.nodes.values() if n.parent_id is not None} == set(g.edges)
    for n in tree.nodes.values():
        a = g.nodes[n.id]
        assert (a["text"], a["state"], a["visits"], a["depth"]) == (n.text, n.state, n.visits, n.depth)
        assert a["tokens"] == n.prompt_tokens + n.completion_tokens
        assert a.get("value") == (None if n.value is None else float(n.value))
    assert g.graph["strategy"] == "mcts" and g.graph["outcome"] == tree.outcome
    # the networkx toolbox answers tree questions: the path to any node is the tree's path
    deepest = max(tree.nodes.values(), key=lambda n: n.depth)
    assert nx.shortest_path(g, tree.root_id, deepest.id) == tree.path_to(deepest.id)
    assert {k for k, a in g.nodes(data=True) if a["on_solved_path"]} == solved_nodes(tree)


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_graph_files_read_back(store, tmp_path, suffix):
    tree = fold(store.events(stored_mcts(store)))
    g = to_networkx(tree)
    back = read_graph(write_graph(g, tmp_path / f"run{suffix}"))
    key = str if suffix == ".graphml" else int        # GraphML keys are strings
    assert set(back.nodes) == {key(k) for k in g.nodes}
    assert set(back.edges) == {(key(a), key(b)) for a, b in g.edges}
    for k, attrs in g.nodes(data=True):
        assert back.nodes[key(k)] == attrs               # every attribute, with its type
    assert back.graph["run_id"] == g.graph["run_id"]


def test_bad_suffix_is_a_message(tmp_path):
    with pytest.raises(ValueError, match=r"\.graphml or \.json"):
        write_graph(nx.DiGraph(), tmp_path / "x.gml")


def test_several_runs_make_a_forest(store):
    a, b = stored_mcts(store, seed=1), stored_mcts(store, "1 1 4 6", seed=2)
    ta, tb = fold(store.events(a)), fold(store.events(b))
    g = runs_graph([ta, tb])
    assert g.number_of_nodes() == len(ta.nodes) + len(tb.nodes)
    assert nx.number_weakly_connected_components(g) == 2
    assert g.nodes[f"{b}:{tb.root_id}"]["run_id"] == b and g.nodes[f"{a}:0"]["text"] == ta.nodes[0].text


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_export_graph(store, db_path, tmp_path):
    run_id = stored_mcts(store)
    out = tmp_path / "tree.graphml"
    p = cli("export", "graph", "--runs", str(run_id), "--out", str(out), "--db", db_path)
    assert p.returncode == 0, p.stderr
    line = json.loads(p.stdout.strip().splitlines()[-1])
    tree = fold(store.events(run_id))
    assert line == {"out": str(out), "format": "graphml", "runs": 1, "nodes": len(tree.nodes),
                    "edges": len(tree.nodes) - 1}
    assert read_graph(out).number_of_nodes() == len(tree.nodes)
    p = cli("export", "graph", "--runs", str(run_id), "--out", str(tmp_path / "t.txt"), "--db", db_path)
    assert p.returncode == 2 and p.stderr.startswith("error: out:") and "Traceback" not in p.stderr


def test_graphml_declares_each_attribute_once(tmp_path):
    """Other tools (Gephi, Cytoscape) read one type per attribute: a value prompt's 20 and a
    rollout's 0.5 are both written as doubles, not as a 'long' and a 'double' key."""
    import re

    from reasoning import events as ev
    from tests.helpers import EventLog
    log = EventLog()
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    for nid, value in ((1, 20), (2, 0.5)):
        log.add(ev.NODE_CREATED, nid, parent_id=0, depth=1)
        log.add(ev.NODE_SCORED, nid, value=value, evaluator="value_prompt")
    text = write_graph(to_networkx(fold(log.events)), tmp_path / "g.graphml").read_text()
    names = re.findall(r'attr.name="(\w+)"', text)
    assert len(names) == len(set(names)) and 'attr.name="value" attr.type="double"' in text
