"""docs/plugins.md means what it says: every python block in it runs, in order, in one namespace
(task states of the bundled tasks, node states, a strategy reusing the dead-end rule,
transpositions and budgets on the seeded random policy)."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_every_python_block_of_the_plugin_doc_runs(monkeypatch):
    code = blocks()
    assert len(code) >= 5
    module = types.ModuleType("plugins_doc")     # a real module: dataclasses look theirs up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, block in enumerate(code, 1):
        try:
            exec(compile(block, f"{DOC.name} block {i}", "exec"), module.__dict__)   # noqa: S102
        except Exception as e:
            raise AssertionError(f"docs/plugins.md block {i} fails: {e!r}\n{block}") from e


def test_the_doc_names_every_bundled_task_state_and_node_state():
    from reasoning.tree import NODE_STATES
    text = DOC.read_text()
    for name in ("G24State", "LineState", "prune_if_dead", "Transpositions", "Budget", "ctx.tree",
                 "ctx.states", *NODE_STATES):
        assert name in text, name
