"""Answer extraction, checkers, the built-in text tasks, task files, and user marks."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.tasks import InvalidStep, JsonlTask, TaskFileError, get_task
from reasoning.tasks.checkers import (
    check_choice,
    check_exact,
    check_regex,
    extract_choice,
    extract_number_answer,
    final_answer,
    last_boxed,
    math_equal,
    numbers_equal,
    to_number,
)
from reasoning.tree import FAILED, OPEN, SOLVED, fold
from tests.helpers import new_run


# -- extraction ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,want", [
    ("She makes 9 * 2 = $18 every day.\n#### 18", "18"),
    ("So the total is 1,234 apples.\nThe answer is 1,234.", "1,234"),
    ("The answer is -7.", "-7"),
    ("He owes 3 dollars, then 12 more, so 15 in all", "15"),          # last number rule
    ("#### 5\nbut later text mentions 99", "5"),                       # #### beats last number
    ("The answer is $\\frac{3}{4}$.", "3/4"),
    ("no numbers at all", None),
])
def test_gsm8k_answer_extraction(text, want):
    assert extract_number_answer(text) == want


@pytest.mark.parametrize("a,b,equal", [
    ("1,000", "1000", True),
    ("$18.00", "18", True),
    ("18.0", "18", True),
    ("12 apples", "12", True),
    ("-5", "5", False),
    ("-5", "-5.0", True),
    ("0.5", "1/2", True),
    ("\\frac{1}{2}", "0.5", True),
    ("0.33", "1/3", False),            # exact comparison: no rounding
    ("3,4", "34", False),              # a list, not a thousands separator
    ("", "0", False),
    (None, "3", False),
])
def test_numeric_comparison(a, b, equal):
    assert numbers_equal(a, b) is equal


def test_to_number_is_exact():
    assert to_number("1/3") == Fraction(1, 3)
    assert to_number("$1{,}250.50") == Fraction(2501, 2)
    assert to_number("\\dfrac{-3}{4}") == Fraction(-3, 4)
    assert to_number("5/0") is None


@pytest.mark.parametrize("text,want", [
    ("so $x = \\boxed{4}$.", "4"),
    ("first \\boxed{1}, then corrected: \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),   # last box
    ("\\boxed{\\{1, 2\\}} nested", "\\{1, 2\\}"),
    ("\\boxed{\\frac{a}{b^{2}}}", "\\frac{a}{b^{2}}"),                             # nested braces
    ("unfinished \\boxed{12", None),
    ("no box here", None),
])
def test_last_boxed(text, want):
    assert last_boxed(text) == want


@pytest.mark.parametrize("line,want", [
    ("The answer is 42.", "42"),
    ("#### 7", "7"),
    ("Answer: Canberra.", "Canberra"),
    ("**Final answer:** 12", "12"),
    ("We get \\boxed{9} in the end", "9"),
    ("Let us compute the answer step by step", None),
])
def test_final_answer_line(line, want):
    assert final_answer(line) == want


@pytest.mark.parametrize("pred,gold,equal", [
    ("\\frac{1}{2}", "0.5", True),
    ("0.5", "\\frac{1}{2}", True),
    ("\\dfrac{5}{6}", "\\frac{5}{6}", True),
    ("\\sqrt{50}", "5\\sqrt{2}", True),
    ("x = 4", "4", True),
    ("\\frac{1}{3}", "0.33", False),
    ("5", "4", False),
    ("", "4", False),
    (None, "4", False),
])
def test_math_equal_is_symbolic(pred, gold, equal):
    assert math_equal(pred, gold) is equal


def test_math_equal_works_off_the_main_thread():
    import threading
    out = []
    t = threading.Thread(target=lambda: out.append(math_equal("\\frac{1}{2}", "0.5")))
    t.start()
    t.join(30)
    assert out == [True]


def test_small_checkers():
    assert check_exact("Paris.", "Paris") and not check_exact("paris", "Paris")
    assert check_regex("Canberra", r"can+berra") and not check_regex("Sydney", "can+berra")
    assert not check_regex("Canberra City", "canberra")  # the whole answer must match
    assert [extract_choice(s) for s in ("B", "(c)", "D) 42", "option a", "42")] == \
        ["B", "C", "D", "A", None]
    assert check_choice("(b) seven", "B") and not check_choice("C", "B")


# -- the text tasks --------------------------------------------------------------------------------
def walk(task, problem, lines):
    state = task.initial_state(problem)
    for line in lines:
        _, state = task.apply_step(problem, state, line)
    return state


def test_gsm8k_bundled_sample_and_answer_line():
    task = get_task("gsm8k")
    assert len(task.problems()) == 50
    p = task.resolve_problem("1")
    assert p.data["answer"] == "18" and "ducks" in p.text
    s = walk(task, p, ["16 - 3 - 4 = 9 eggs are left.", "9 * 2 = 18 dollars."])
    assert not task.is_terminal(s)                       # numbers alone are not a final answer
    s = walk(task, p, ["16 - 3 - 4 = 9 eggs are left.", "The answer is $18.00."])
    assert task.is_terminal(s) and task.verify(p, s).correct is True
    s = walk(task, p, ["The answer is 1,800."])
    v = task.verify(p, s)
    assert v.correct is False and v.answer == "1,800"


def test_gsm8k_own_problem_with_and_without_reference():
    task = get_task("gsm8k")
    p = task.resolve_problem("Two boxes hold 1,200 pens each. How many pens? #### 2,400")
    assert task.verify(p, walk(task, p, ["The answer is 2400."])).correct is True
    p = task.resolve_problem("How many legs do 3 spiders have?")
    assert task.verify(p, walk(task, p, ["The answer is 24."])).correct is None
    with pytest.raises(ValueError, match="must be a number"):
        task.resolve_problem("What? #### lots")


def test_math_boxed_terminal_and_math_verify():
    task = get_task("math")
    p = task.resolve_problem("7")                       # two heads: 1/4
    s = walk(task, p, ["Each flip is heads with probability $\\frac12$.",
                       "Both: $\\frac12 \\cdot \\frac12$, so the answer is \\boxed{0.25}."])
    assert task.is_terminal(s)
    assert task.verify(p, s).correct is True             # 0.25 == \frac{1}{4}
    s = walk(task, p, ["I guess \\boxed{1} no wait \\boxed{\\frac{1}{2}}"])
    v = task.verify(p, s)
    assert v.correct is False and v.answer == "\\frac{1}{2}"   # the last box counts


def test_line_steps_reject_garbage():
    task = get_task("math")
    p = task.resolve_problem("1")
    s = walk(task, p, ["First add the fractions."])
    for bad, why in [("", "empty"), ("  \n ", "empty"), ("First add the fractions.", "repeats"),
                     ("Question: what is 2+2?", "new question")]:
        with pytest.raises(InvalidStep, match=why):
            task.apply_step(p, s, bad)


def test_free_question_is_answered_never_failed():
    task = get_task("free")
    assert task.has_verifier is False
    p = task.resolve_problem("What colour is the sky?")
    s = walk(task, p, ["The sky scatters blue light the most.", "The answer is blue"])
    assert not task.is_terminal(s)                      # only "Answer:" ends a free question
    s = walk(task, p, ["Rayleigh scattering.", "Answer: blue."])
    v = task.verify(p, s)
    assert task.is_terminal(s) and v.correct is None and v.answer == "blue."


# -- task files ------------------------------------------------------------------------------------
def write(tmp_path, rows, name="t.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GOOD = [
    {"question": "2+2?", "answer": 4, "checker": "numeric"},
    {"id": "cap", "question": "Capital of France?", "answer": "Paris", "checker": "exact"},
    {"question": "Half of one?", "answer": "\\frac{1}{2}", "checker": "math"},
    {"question": "Say hello", "answer": "h(e|a)llo.*", "checker": "regex"},
    {"question": "Pick: (A) 3 (B) 4", "answer": "B", "checker": "choice",
     "few_shot": ["Question: Pick: (A) 1 (B) 2 for 1+1\nSolution:\n1+1=2.\nAnswer: B"]},
]


def test_task_file_loads_and_checks_each_kind(tmp_path):
    task = JsonlTask(write(tmp_path, GOOD + [""]))      # a blank line is fine
    assert len(task.problems()) == 5 and task.load_report.startswith("loaded 5 problems")
    assert task.resolve_problem("cap").text == "Capital of France?"
    assert task.resolve_problem("1").data["checker"] == "numeric"   # 1-based position
    cases = [("1", "Answer: 4.0", True), ("cap", "Answer: Paris", True),
             ("cap", "Answer: paris", False), ("3", "Answer: 0.5", True),
             ("4", "Answer: hallo world", True), ("5", "Answer: (B)", True),
             ("5", "Answer: A", False)]
    for pid, line, want in cases:
        p = task.resolve_problem(pid)
        s = walk(task, p, [line])
        assert task.verify(p, s).correct is want, (pid, line)
    chat = task.prompt(task.resolve_problem("5"), task.initial_state(task.resolve_problem("5")), "chat")
    assert "1+1=2" in chat[0]["content"] and "letter" in chat[0]["content"]
    with pytest.raises(ValueError, match="no problem"):
        task.resolve_problem("9")


def test_task_file_names_every_bad_line_and_loads_nothing(tmp_path):
    rows = [GOOD[0],
            "{not json",                                                    # line 2
            {"answer": 1, "checker": "numeric"},                            # line 3
            {"question": "q", "answer": "x", "checker": "fuzzy"},           # line 4
            {"question": "q", "answer": "many", "checker": "numeric"},      # line 5
            {"question": "q", "answer": "([", "checker": "regex"},          # line 6
            {"question": "q", "answer": "maybe", "checker": "choice"},      # line 7
            {"id": "1", "question": "dup", "answer": 1, "checker": "numeric"},  # line 8
            [1, 2],                                                         # line 9
            {"question": "q", "answer": 1, "checker": "exact", "few_shot": 3}]  # line 10
    with pytest.raises(TaskFileError) as info:
        JsonlTask(write(tmp_path, rows))
    err = info.value
    assert [n for n, _ in err.bad_lines] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    msg = str(err)
    assert "\n" not in msg and "nothing loaded" in msg
    for frag in ("line 2: not valid JSON", "line 3: missing or empty 'question'",
                 "line 4: unknown checker 'fuzzy'", "line 5: answer 'many' is not a number",
                 "line 6: answer is not a valid regular expression", "line 7: choice answer",
                 "line 8: duplicate", "line 9: expected a JSON object"):
        assert frag in msg


def test_task_file_missing_or_empty(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        JsonlTask(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="no problems"):
        JsonlTask(write(tmp_path, ["", "  "]))


# -- outcomes without a verifier, and user marks ------------------------------------------------------
def run_free(store, replies):
    from runner import RunSpec
    from runner.run import _create
    spec = RunSpec(task="free", problem="Is water wet?", strategy="greedy")
    run, (task, problem, strategy, budget) = _create(spec, store)
    rec_result, rec = run_search(strategy, task, problem, ScriptedModel(replies), run_id=run.run_id,
                                 budget=Budget(max_nodes=20), sink=run)
    return run.run_id, rec_result, rec


def test_greedy_on_free_question_ends_answered(store):
    run_id, result, rec = run_free(store, ["Water makes things wet.", "Answer: yes"])
    assert result.outcome == "answered" and result.answer == "yes"
    tree = fold(store.events(run_id))
    node = tree.nodes[result.answer_node]
    assert node.state == OPEN and node.label == "answer: yes"
    assert tree.outcome == "answered" and store.get_run(run_id)["outcome"] == "answered"


def test_mark_node_validates_and_is_folded(store):
    from runner.marks import mark_node
    run_id, result, _ = run_free(store, ["Water makes things wet.", "Answer: yes"])
    with pytest.raises(ValueError, match="not a terminal node"):
        mark_node(store, run_id, 1, "correct")          # a thought, not an answer
    with pytest.raises(ValueError, match="no node 99"):
        mark_node(store, run_id, 99, "correct")
    with pytest.raises(ValueError, match="'correct' or 'wrong'"):
        mark_node(store, run_id, result.answer_node, "great")
    with pytest.raises(ValueError, match="no run"):
        mark_node(store, 12345, result.answer_node, "wrong")
    e = mark_node(store, run_id, result.answer_node, "correct")
    assert e.type == "node_marked" and e.payload == {"mark": "correct"}
    tree = fold(store.events(run_id))
    assert tree.nodes[result.answer_node].state == SOLVED
    assert tree.nodes[result.answer_node].mark == "correct"
    mark_node(store, run_id, result.answer_node, "wrong")   # a user may change their mind
    assert fold(store.events(run_id)).nodes[result.answer_node].state == FAILED


def test_mark_node_refuses_a_running_run(store):
    from runner.marks import mark_node
    run_id = new_run(store, task="free", problem="q", problem_id="q", strategy="greedy",
                              params={}, model={}, budget={}, seed=0)
    with pytest.raises(ValueError, match="still running"):
        mark_node(store, run_id, 0, "correct")


def test_mcts_rollouts_on_a_free_question_are_answered_not_failed():
    from reasoning.engine import run_search
    from reasoning.strategies import make_strategy
    replies = iter(["Think.", "Answer: yes", "Hmm.", "Answer: no"] * 10)
    model = ScriptedModel(lambda req: next(replies))
    result, rec = run_search(make_strategy("mcts", {"simulations": 2, "width": 1}), get_task("free"),
                             get_task("free").resolve_problem("Is it?"), model, run_id="t",
                             budget=Budget(max_nodes=30))
    tree = rec.tree
    terminal = [e.node_id for e in rec.events if e.type == "node_completed" and e.payload.get("terminal")]
    assert terminal and all(tree.nodes[n].state == OPEN for n in terminal)
    assert not any(e.type == "node_failed" for e in rec.events)
    assert result.outcome == "answered" and result.answer in ("yes", "no")
    assert result.answer_node in terminal
