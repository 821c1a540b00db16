"""Storage has one interface (:mod:`storage.interface`): the SQL store implements it member by member,
and nothing outside ``storage/`` reaches past it — to SQLAlchemy, to the store's engine or, for a
page or a component, to ``storage`` at all (pages get the store from ``app_context``). The
interface's experiments and claims run here on SQLite and on PostgreSQL."""
from __future__ import annotations

import ast
import inspect
from functools import cached_property
from pathlib import Path

import pytest

from reasoning.models.scripted import ScriptedModel
from runner import experiments as exp
from storage import RunFilter, Store
from storage.db import make_engine
from storage.interface import Claims, Experiments, Placements, Storage
from tests.helpers import pick_first

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE_STORAGE = ["reasoning", "runner", "components", "pages", "thinktree", "benchmarks", "scripts",
                   "examples", "app.py", "app_context.py", "cli.py"]
NO_STORAGE_AT_ALL = ("pages", "components")   # they get the store from app_context


def python_files(name: str) -> list[Path]:
    p = ROOT / name
    return [p] if p.is_file() else sorted(p.rglob("*.py"))


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def reaches_past_the_interface(path: Path, folder: str) -> list[str]:
    """What ``path`` does that only ``storage/`` may: import SQLAlchemy, touch an ``engine``
    attribute, or (a page or component) import ``storage``; as ``line: what``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        for mod in imported(node):
            top = mod.split(".")[0]
            if top == "sqlalchemy" or (top == "storage" and folder in NO_STORAGE_AT_ALL):
                out.append(f"{node.lineno}: imports {mod}")
        if isinstance(node, ast.Attribute) and node.attr == "engine":
            out.append(f"{node.lineno}: .engine")
    return out


def test_nothing_outside_storage_touches_the_database_or_its_engine():
    bad = {}
    for folder in OUTSIDE_STORAGE:
        for path in python_files(folder):
            if hits := reaches_past_the_interface(path, folder):
                bad[str(path.relative_to(ROOT))] = hits
    assert not bad, ("only storage/ may use SQLAlchemy or a store's engine, and pages and "
                     f"components reach storage through app_context: {bad}")


def test_the_scan_sees_each_way_past_the_interface(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("from storage import experiments\nimport sqlalchemy.sql\n"
                    "print(store.engine.url)\nfrom reasoning.engine import run_search\n")
    assert reaches_past_the_interface(page, "pages") == [
        "1: imports storage", "2: imports sqlalchemy.sql", "3: .engine"]
    assert reaches_past_the_interface(page, "runner") == ["2: imports sqlalchemy.sql", "3: .engine"]


# -- the SQL store implements the interface ---------------------------------------------------
def members(protocol: type) -> dict[str, object]:
    return {n: v for n, v in vars(protocol).items() if not n.startswith("_")}


def same_signature(declared, implemented) -> list[str]:
    """Differences in parameter names, kinds, defaults and annotations (as written)."""
    a, b = inspect.signature(declared), inspect.signature(implemented)
    if list(a.parameters) != list(b.parameters):
        return [f"parameters {list(b.parameters)}, declared {list(a.parameters)}"]
    out = [f"{n}: {q}, declared {p}" for (n, p), q in zip(a.parameters.items(), b.parameters.values(),
                                                          strict=True)
           if (p.kind, p.default, p.annotation) != (q.kind, q.default, q.annotation)]
    if a.return_annotation != b.return_annotation:
        out.append(f"returns {b.return_annotation}, declared {a.return_annotation}")
    return out


def conformance(protocol: type, impl: object) -> dict[str, list[str]]:
    """Member -> how ``impl`` differs from ``protocol`` (empty when it conforms)."""
    bad = {}
    for name, declared in members(protocol).items():
        got = inspect.getattr_static(type(impl), name, None)
        if got is None:
            bad[name] = ["missing"]
        elif isinstance(declared, property):
            if not isinstance(got, property | cached_property):
                bad[name] = [f"a {type(got).__name__}, declared a property"]
        elif diff := same_signature(declared, got):
            bad[name] = diff
    return bad


def test_the_sql_store_implements_every_member_of_the_interface(any_store):
    parts = {Storage: any_store, Experiments: any_store.experiments, Claims: any_store.claims,
             Placements: any_store.placements}
    for protocol, impl in parts.items():
        assert isinstance(impl, protocol), protocol.__name__
        assert conformance(protocol, impl) == {}, protocol.__name__


def test_the_conformance_check_names_a_member_that_drifted():
    class Drifted:
        def get(self, experiment_id: int) -> dict | None: ...
        def list(self, limit: int = 100) -> list: ...
    bad = conformance(Experiments, Drifted())
    assert bad["create"] == ["missing"]
    assert "limit" in bad["list"][0] and "returns" in bad["list"][1]
    assert "get" in bad   # dict | None against dict[str, Any] | None


def test_url_hides_the_password_and_url_with_password_opens_the_same_database(any_store):
    eid = any_store.experiments.create("where", {})
    if any_store.url.startswith("postgresql"):
        assert "thinktree" not in any_store.url and "***" in any_store.url
        assert ":thinktree@" in any_store.url_with_password()
    else:
        assert any_store.url == any_store.url_with_password()
    again = Store(make_engine(any_store.url_with_password()))   # as a Ray worker opens it
    try:
        assert again.experiments.get(eid)["name"] == "where"
    finally:
        again.engine.dispose()


# -- experiments and claims through the interface, on SQLite and PostgreSQL -------------------
def test_experiment_rows_through_the_interface(any_store):
    ex = any_store.experiments
    a, b = ex.create("alpha sweep", {"a": [1, 2]}), ex.create("beta", {})
    assert ex.get(a)["config"] == {"a": [1, 2]} and ex.get(a)["status"] == "stopped"
    assert ex.get(10_000) is None
    assert [e["id"] for e in ex.list()] == [b, a] and [e["id"] for e in ex.list(limit=1)] == [b]
    assert [e["id"] for e in ex.find("sweep")] == [a] and [e["id"] for e in ex.find(f"#{b}")] == [b]
    ex.set_status(a, "running")
    assert ex.get(a)["status"] == "running"   # this process: alive
    with pytest.raises(ValueError, match="status"):
        ex.set_status(a, "exploded")
    ex.set_cluster(a, {"executor": "ray", "address": "local"})
    assert ex.get(a)["config"] == {"a": [1, 2], "cluster": {"executor": "ray", "address": "local"}}
    before = ex.get(b)["updated_at"]
    ex.touch(b)
    assert ex.get(b)["updated_at"] >= before


def test_an_experiment_runs_through_the_interface(any_store):
    config = exp.ExperimentConfig(problems="901-902", strategies="greedy", budgets="2000")
    eid = exp.create_experiment(config, any_store)
    done = exp.run_experiment(eid, any_store, model_factory=lambda: ScriptedModel(pick_first),
                              worker="w1")
    assert done.status == "finished" and done.done == 2
    ex = any_store.experiments
    runs = ex.cell_runs(eid)
    assert sorted(r["cell_key"] for r in runs) == sorted(c.key for c in exp.cells(config))
    assert all(isinstance(r["params"], dict) and isinstance(r["budget"], dict) for r in runs)
    payloads = ex.finished_payloads([r["id"] for r in runs] + [10_000])
    assert set(payloads) == {r["id"] for r in runs}
    assert {c["cell_key"]: (c["worker"], c["status"]) for c in any_store.claims.list(eid)} == \
        {r["cell_key"]: ("w1", "done") for r in runs}
    assert any_store.count_runs(RunFilter(experiment_id=eid)) == 2
    assert ex.get(eid)["status"] == "finished"
