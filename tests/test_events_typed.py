"""The typed event format: one dataclass per type, lenient towards newer writers, strict on input,
documented field by field in docs/events.md, and made only by the search context."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from reasoning import events as ev
from reasoning.engine import run_search
from reasoning.events import Event, EventFormatError, decode, validate_event
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from tests.helpers import EventLog, pick_by_seed

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "events.md"


def _scripted_run(strategy: str = "mcts", **params):
    task = get_task("game24")
    model = ScriptedModel(pick_by_seed)
    _, rec = run_search(make_strategy(strategy, params), task, task.parse_problem("4 5 6 10"), model,
                        run_id=1, budget=Budget(max_nodes=60), seed=3)
    return rec.events


def test_every_type_round_trips_through_its_payload():
    for type_, cls in ev.PAYLOADS.items():
        required = {f.name: _sample(f) for f in dataclasses.fields(cls)
                    if f.name != "extra" and f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING}
        data = cls(**required)
        again = decode(type_, json.loads(json.dumps(data.to_payload())), validate=True)
        assert again == data, type_


def _sample(f):
    return {"mark": "correct", "outcome": "solved"}.get(f.name, "x")


def test_unknown_fields_are_kept_and_written_back():
    payload = {"reason": "outside beam", "kind": "capacity", "new_thing": {"a": 1}}
    data = decode(ev.NODE_PRUNED, payload)
    assert data.reason == "outside beam" and data.extra == {"new_thing": {"a": 1}}
    assert data.to_payload() == payload
    log = EventLog()
    log.add(ev.RUN_STARTED, task="t", problem="p", strategy="s")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem", colour="teal")
    log.add(ev.NODE_PRUNED, 0, **payload)
    tree = fold(log.events)
    assert tree.nodes[0].state == "pruned"
    assert tree.nodes[0].extra == {"colour": "teal", "new_thing": {"a": 1}}


def test_an_unknown_type_is_kept_shown_and_never_fatal():
    log = EventLog()
    log.add(ev.RUN_STARTED, task="t", problem="p", strategy="s")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add("node_annotated", 0, note="from a newer writer")
    log.add("tool_call", None, tool="search", args={"q": "x"})
    log.add(ev.RUN_FINISHED, outcome="failed")
    tree = fold(log.events)
    assert [e.type for e in tree.unknown] == ["node_annotated", "tool_call"]
    assert tree.nodes[0].extra == {"node_annotated": {"note": "from a newer writer"}}
    assert tree.outcome == "failed" and tree.last_seq == 5
    e = log.events[2]
    assert isinstance(e.data, ev.Unknown) and e.data.to_payload() == {"note": "from a newer writer"}
    assert Event.from_json(e.to_json()) == e
    validate_event(e)  # outside input may carry newer types too


@pytest.mark.parametrize("type_,payload,field", [
    (ev.NODE_CREATED, {"parent_id": "zero", "depth": 1}, "parent_id"),
    (ev.NODE_COMPLETED, {"text": "x", "completion_tokens": "7"}, "completion_tokens"),
    (ev.NODE_SCORED, {"value": "high"}, "value"),
    (ev.NODE_SCORED, {"truth": 1}, "truth"),
    (ev.MCTS_BACKPROP, {"path": "0,1"}, "path"),
    (ev.RUN_FINISHED, {"outcome": "solved", "nodes": 1.5}, "nodes"),
])
def test_validation_names_the_field_with_the_wrong_type(type_, payload, field):
    with pytest.raises(EventFormatError, match=repr(field)):
        decode(type_, payload, validate=True)
    decode(type_, payload)  # stored data is read leniently


def test_validation_names_missing_required_fields_and_bad_marks():
    with pytest.raises(EventFormatError, match="problem"):
        decode(ev.RUN_STARTED, {"task": "t", "strategy": "s"}, validate=True)
    with pytest.raises(EventFormatError, match="outcome"):
        decode(ev.RUN_FINISHED, {}, validate=True)
    with pytest.raises(EventFormatError, match="correct"):
        decode(ev.NODE_MARKED, {"mark": "maybe"}, validate=True)
    with pytest.raises(EventFormatError, match="node_id"):
        validate_event(Event(1, 2, 0.1, ev.NODE_PRUNED, None, {"reason": "x"}))


def test_old_runs_read_as_format_1_and_new_runs_write_format_3():
    assert decode(ev.RUN_STARTED, {"task": "t", "problem": "p", "strategy": "s"}).format_version == 1
    events = _scripted_run()
    assert events[0].data.format_version == ev.FORMAT_VERSION == 3
    assert events[0].payload["format_version"] == 3


@pytest.mark.parametrize("strategy,params", [
    ("mcts", {"simulations": 8}), ("beam", {"evaluator": "verifier"}), ("dfs", {}),
    ("best_of_n", {"n": 3}), ("reflect", {}), ("greedy", {})])
def test_every_event_a_run_writes_is_valid_input(strategy, params):
    events = _scripted_run(strategy, **params)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for e in events:
        assert e.known, e.type
        validate_event(Event.from_json(e.to_json()))
    assert events[0].type == ev.RUN_STARTED and events[-1].type == ev.RUN_FINISHED


def test_docs_cover_every_type_and_field_with_a_valid_example():
    text = DOC.read_text()
    sections = re.split(r"^### `", text, flags=re.M)[1:]
    documented = {s.split("`", 1)[0]: s for s in sections}
    assert set(documented) == set(ev.PAYLOADS), "docs/events.md must document exactly the types"
    for type_, cls in ev.PAYLOADS.items():
        body = documented[type_]
        rows = set(re.findall(r"^\| `(\w+)` \|", body, flags=re.M))
        fields = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        assert rows == fields, f"{type_}: documented {sorted(rows)} vs fields {sorted(fields)}"
        examples = re.findall(r"```json\n(.+?)\n```", body, flags=re.S)
        assert examples, f"{type_}: no example line"
        for line in examples:
            e = Event.from_json(line)
            assert e.type == type_
            validate_event(e)


def test_only_the_search_context_makes_search_events():
    """Strategies and evaluators call SearchContext methods; nobody else builds payloads by hand."""
    allowed = {"reasoning/engine.py", "reasoning/search_context.py", "reasoning/run_events.py", "reasoning/recorder.py",
               "runner/run.py"}
    offenders = []
    for path in list(ROOT.glob("reasoning/**/*.py")) + list(ROOT.glob("runner/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in allowed and re.search(r"\brec\.emit\(|\.emit\(ev\.", path.read_text()):
            offenders.append(rel)
    assert offenders == []


def test_recorder_refuses_untyped_payloads():
    from reasoning.recorder import Recorder
    with pytest.raises(TypeError, match="typed payload"):
        Recorder(1).emit("node_created", 0)  # the old keyword form is gone


def test_the_inspector_shows_what_a_newer_writer_added():
    from components.inspector import facts
    log = EventLog()
    log.add(ev.RUN_STARTED, task="t", problem="p", strategy="s")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem", colour="teal")
    log.add("node_annotated", 0, note="<b>kept</b>")
    text = facts(fold(log.events).nodes[0])
    rows = {k.strip(): v for k, v in (line.split("  ", 1) for line in text.splitlines())}
    assert rows["colour (unknown field)"].strip() == '"teal"'
    assert rows["node_annotated (unknown field)"].strip() == '{"note": "<b>kept</b>"}'


def test_one_rule_for_answer_nodes_in_marks_and_the_inspector():
    from reasoning.run_facts import can_mark, is_answer_node
    log = EventLog()
    log.add(ev.RUN_STARTED, task="t", problem="p", strategy="s")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="p")
    for nid, fields in [(1, {"terminal": True, "answer": "42"}), (2, {}), (3, {"terminal": True}),
                        (4, {})]:
        log.add(ev.NODE_CREATED, nid, parent_id=0, depth=1)
        log.add(ev.NODE_COMPLETED, nid, text="x", **fields)
    log.add(ev.NODE_PRUNED, 3, reason="invalid")
    log.add(ev.RUN_FINISHED, outcome="answered", answer="41", answer_node=4)  # the run's answer
    tree = fold(log.events)
    expected = [False, True, False, False, True]
    assert [is_answer_node(tree.nodes[i], tree) for i in range(5)] == expected
    assert [can_mark(tree, i) for i in range(5)] == expected
