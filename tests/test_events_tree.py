import json

import pytest

from reasoning import events as ev
from reasoning.events import Event
from reasoning.run_facts import solved_nodes
from reasoning.tree import BACKTRACKED, FAILED, GENERATING, OPEN, PRUNED, SOLVED, Tree, fold
from tests.helpers import EventLog


def sample_log() -> list[Event]:
    log = EventLog()
    log.add(ev.RUN_STARTED, task="game24", problem="3 3 8 8", strategy="x")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="3 3 8 8")
    log.add(ev.NODE_CREATED, 1, parent_id=0, depth=1)
    log.add(ev.TOKENS, 1, text="8 / 3")
    log.add(ev.TOKENS, 1, text=" = 8/3")
    log.add(ev.NODE_COMPLETED, 1, text="8 / 3 = 8/3", step="8 / 3 = 8/3 (left: 8/3 3 8)",
            completion_tokens=7, prompt_tokens=100)
    log.add(ev.NODE_CREATED, 2, parent_id=0, depth=1)
    log.add(ev.NODE_COMPLETED, 2, text="3 + 3 = 7", completion_tokens=5)
    log.add(ev.NODE_PRUNED, 2, reason="invalid step: wrong arithmetic")
    log.add(ev.NODE_CREATED, 3, parent_id=1, depth=2)
    log.add(ev.NODE_COMPLETED, 3, text="a", completion_tokens=1)
    log.add(ev.NODE_BACKTRACKED, 3, reason="dead end")
    log.add(ev.NODE_CREATED, 4, parent_id=1, depth=2)
    log.add(ev.NODE_COMPLETED, 4, text="b", completion_tokens=1)
    log.add(ev.NODE_SOLVED, 4, reason="ok", answer="8 / (3 - 8 / 3) = 24")
    log.add(ev.NODE_CREATED, 5, parent_id=1, depth=2)
    log.add(ev.NODE_FAILED, 5, reason="not 24")
    log.add(ev.MCTS_BACKPROP, 4, updates=[[0, 3, 1.0], [1, 2, 1.0], [4, 1, 1.0]])
    log.add(ev.RUN_FINISHED, outcome="solved", answer="8 / (3 - 8 / 3) = 24", answer_node=4)
    return log.events


def test_fold_builds_states_parents_and_totals():
    tree = fold(sample_log())
    assert [tree.nodes[i].state for i in range(6)] == [OPEN, OPEN, PRUNED, BACKTRACKED, SOLVED, FAILED]
    assert tree.nodes[0].children == [1, 2]
    assert tree.nodes[1].children == [3, 4, 5]
    assert tree.nodes[2].reason.startswith("invalid step")
    assert tree.tokens == 14 and tree.prompt_tokens == 100
    assert tree.nodes[1].visits == 2 and tree.nodes[0].mean_value == pytest.approx(1 / 3)
    assert solved_nodes(tree) == {0, 1, 4}
    assert tree.outcome == "solved" and tree.answer_node == 4


def test_tokens_stream_into_the_node_before_completion():
    events = sample_log()
    tree = fold(events[:6])
    assert tree.nodes[1].state == GENERATING
    assert tree.nodes[1].text == "8 / 3 = 8/3"


def test_fold_is_deterministic_and_incremental_equals_batch():
    events = sample_log()
    a, b = fold(events), fold(events)
    assert repr(a) == repr(b)
    inc = Tree()
    for k in range(0, len(events), 3):
        fold(events[k:k + 3], inc)
    assert repr(inc) == repr(a)


def test_fold_rejects_a_gap_in_seq():
    events = sample_log()
    with pytest.raises(ValueError, match="does not follow"):
        fold(events[:3] + events[4:])


def test_events_round_trip_json_exactly():
    for e in sample_log():
        back = Event.from_json(e.to_json())
        assert back == e
        assert json.loads(back.to_json()) == json.loads(e.to_json())


def test_an_event_without_a_type_is_refused():
    # unknown types are kept (a newer writer, see test_events_typed); a missing type is an error
    with pytest.raises(ValueError, match="non-empty string"):
        Event(1, 1, 0.0, "")


def test_user_mark_changes_state():
    log = EventLog()
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0)
    log.add(ev.NODE_COMPLETED, 0, text="x")
    log.add(ev.NODE_MARKED, 0, mark="wrong")
    tree = fold(log.events)
    assert tree.nodes[0].state == FAILED and "user" in tree.nodes[0].reason
