"""``protocol="tot"``: Game of 24 searched the way the Tree-of-Thoughts paper did, on a scripted model.

The script answers each of ToT's four prompts by what it is asked: proposals (several lines per
call, some invalid or repeated), state values (free text ending in a verdict line), the answer
step ("Answer: …" lines) and the last-step judge. Puzzle "1 1 4 6"; solvable path
4 * 6 = 24 -> 1 * 1 = 1 -> 24 * 1 = 24.
"""
from __future__ import annotations

import pytest

from reasoning.engine import run_search
from reasoning.models.base import GenRequest
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import game24_tot as tot
from reasoning.tasks import get_task
from reasoning.tree import OPEN, PRUNED, SOLVED, fold

PROPOSALS = {
    "1 1 4 6": ["4 * 6 = 24 (left: 1 1 24)", "1 + 1 = 2 (left: 2 4 6)", "1 + 4 = 5 (left: 1 5 6)",
                "this line is no step", "4 * 6 = 24 (left: 1 24 1)"],
    "1 1 24": ["1 * 1 = 1 (left: 1 24)", "1 + 1 = 2 (left: 2 24)"],
    "2 4 6": ["2 * 4 = 8 (left: 6 8)", "6 - 4 = 2 (left: 2 2)"],
    "1 24": ["24 * 1 = 24 (left: 24)", "24 + 1 = 25 (left: 25)"],
    "2 24": ["24 / 2 = 12 (left: 12)"],
}
VALUES = {"1 1 24": "1 * 1 * 24 = 24\nsure", "2 4 6": "2 * 4 + 6 = 14\nlikely",
          "1 5 6": "impossible", "1 24": "24 * 1 = 24\nsure",
          "2 24": "it is not impossible\nlikely",          # a verdict word in the working: ignored
          "6 8": "impossible", "2 2": "impossible", "24": "sure",
          "25": "25 is too big\nimpossible", "12": "12 * 2 = 24 but 2 is gone\nimpossible"}
RIGHT, WRONG = "Answer: (4 * 6) * (1 * 1) = 24", "Answer: 4 * 6 + 1 = 24"


def tot_model(judge: dict[str, str] | None = None) -> ScriptedModel:
    judge = judge or {}

    def respond(req: GenRequest) -> str:
        assert req.choices is None                       # no grammar anywhere in this protocol
        p = req.prompt[0]["content"] if isinstance(req.prompt, list) else str(req.prompt)
        last = p.rstrip("\n").splitlines()[-1]
        if p.endswith("Possible next steps:\n"):
            return "\n".join(PROPOSALS[p.splitlines()[-2][len("Input: "):]]) + "\n"
        if p.startswith("Evaluate if given numbers"):
            return VALUES[last] + "\n5 5 5\n5 + 5 + 5 = 15\nlikely"   # goes on inventing: cut
        if last == "Judge:":
            answer = p.splitlines()[-2][len("Answer: "):]
            return "\n" + judge.get(answer, "sure")
        if "Steps:" in p:
            return f"{RIGHT}\n{WRONG}\n"
        raise AssertionError(f"unexpected prompt: {p[-80:]!r}")
    return ScriptedModel(respond)


def run_tot(strategy: str = "beam", judge=None, mode: str = "completions", **params):
    task = get_task("game24")
    model = tot_model(judge)
    model.mode = mode
    result, rec = run_search(make_strategy(strategy, {"protocol": "tot", **params}), task,
                             task.parse_problem("1 1 4 6"), model, run_id=1, budget=Budget())
    return result, fold(rec.events), model, rec


def steps(tree) -> dict[str, object]:
    out = {}
    for n in tree.nodes.values():     # the first node with a step (a duplicate comes later)
        if n.step:
            out.setdefault(n.step, n)
    return out


def test_tot_beam_one_call_per_node_every_line_a_proposal():
    result, tree, model, rec = run_tot(beam_width=2)
    calls = [r for r in model.requests if str(r.prompt).endswith("Possible next steps:\n")]
    assert len(calls) == 5                      # root, then 2 kept nodes at depths 1 and 2
    root_kids = [tree.nodes[k] for k in tree.nodes[tree.root_id].children]
    assert len(root_kids) == 5                  # five lines of one call: five children
    assert [k.state for k in root_kids[3:]] == [PRUNED, PRUNED]
    assert root_kids[3].reason.startswith("invalid step")
    assert root_kids[4].reason.startswith("duplicate")
    # the call's cost sits on its first line's node, the other lines cost nothing more
    assert root_kids[0].completion_tokens > 0 and root_kids[1].completion_tokens == 0
    done = next(e.payload for e in rec.events
                if e.type == "node_completed" and e.node_id == root_kids[0].id)
    assert done["call_lines"] == 5 and "1 + 4 = 5" in done["call_text"]
    assert root_kids[0].text == "4 * 6 = 24 (left: 1 1 24)"    # each node holds its own line


def test_tot_beam_values_by_the_8_example_prompt_read_by_its_last_line():
    _, tree, model, _ = run_tot(beam_width=2)
    value_reqs = [r for r in model.requests if str(r.prompt).startswith("Evaluate")]
    assert all("10 10 11" in str(r.prompt) and "5 6 6" in str(r.prompt) for r in value_reqs)
    assert {r.max_tokens for r in value_reqs} == {tot.VALUE_MAX_TOKENS}
    s = steps(tree)
    assert s["4 * 6 = 24 (left: 1 1 24)"].value == 60.0          # sure x3
    assert s["1 + 1 = 2 (left: 2 24)"].value == 3.0              # likely x3, "impossible" ignored
    assert s["1 + 4 = 5 (left: 1 5 6)"].value == pytest.approx(0.003)
    assert s["1 + 4 = 5 (left: 1 5 6)"].reason.startswith("outside beam")


def test_tot_beam_no_early_stop_and_the_papers_two_metrics():
    result, tree, model, rec = run_tot(beam_width=2)
    s = steps(tree)
    # a state with 24 left is not a solution yet: the search goes on to the answer step
    assert s["24 * 1 = 24 (left: 24)"].state == OPEN
    assert s["24 + 1 = 25 (left: 25)"].state == PRUNED
    assert "not 24" in s["24 + 1 = 25 (left: 25)"].reason
    judged = [r for r in model.requests if str(r.prompt).endswith("Judge:")]
    assert len(judged) == 6                      # two answers x 3 samples, last-step prompt
    assert s[RIGHT].role == "answer" and s[RIGHT].state == SOLVED
    assert s[WRONG].state != SOLVED and "does not use exactly" in s[WRONG].reason
    fin = rec.events[-1].payload["metrics"]
    assert (fin["correct_any"], fin["correct_top1"], fin["final_answers"]) == (True, True, 2)
    assert result.outcome == "solved" and result.answer_node == s[RIGHT].id
    assert rec.events[0].payload["protocol"] == "tot"


def test_tot_sends_a_chat_model_each_prompt_as_one_user_message():
    result, _, model, rec = run_tot(beam_width=2, mode="chat")
    assert all(isinstance(r.prompt, list) and len(r.prompt) == 1 and r.prompt[0]["role"] == "user"
               for r in model.requests)
    assert rec.events[-1].payload["metrics"]["correct_top1"] is True and result.outcome == "solved"


def test_tot_beam_top1_is_the_best_by_value_even_when_wrong():
    # the judge is fooled: it calls the right answer impossible, so the wrong one ranks first;
    # the authors' own scoring skips an answer that does not use the four numbers (WRONG uses 3)
    result, tree, _, rec = run_tot(beam_width=2, judge={RIGHT[len("Answer: "):].lower(): "impossible"})
    fin = rec.events[-1].payload["metrics"]
    assert (fin["correct_any"], fin["correct_top1"], fin["correct_first_valid"]) == \
        (True, False, True)
    assert result.outcome == "failed" and result.answer_node == steps(tree)[WRONG].id


def test_tot_beam_of_one_keeps_one_final_answer():
    _, tree, _, rec = run_tot(beam_width=1)
    fin = rec.events[-1].payload["metrics"]
    assert fin["final_answers"] == 1 and fin["correct_top1"] is True
    assert steps(tree)[WRONG].reason.startswith("outside beam")


def test_tot_dfs_follows_values_and_stops_at_judged_answers():
    result, tree, model, rec = run_tot("dfs")
    fin = rec.events[-1].payload["metrics"]
    assert (fin["correct_any"], fin["correct_top1"]) == (True, True)
    s = steps(tree)
    # best first: 1 1 24 (sure) before 2 4 6 (likely), which is never expanded
    assert not s["1 + 1 = 2 (left: 2 4 6)"].children
    assert s["1 + 4 = 5 (left: 1 5 6)"].reason.startswith("below threshold")


def test_tot_dfs_keeps_only_the_answers_the_judge_passes():
    # the judge rejects the right answer: DFS believes its judge, so its answers are all wrong
    result, tree, _, rec = run_tot("dfs", judge={RIGHT[len("Answer: "):].lower(): "impossible"})
    fin = rec.events[-1].payload["metrics"]
    assert (fin["correct_any"], fin["correct_top1"], fin["final_answers"]) == (False, False, 1)
    assert steps(tree)[RIGHT].reason.startswith("below threshold")
    assert result.outcome == "failed"


def test_tot_protocol_is_for_game24_beam_and_dfs_with_the_value_prompt():
    from runner.run import RunSpec
    with pytest.raises(ValueError, match="^protocol: tot is defined for Game of 24 only"):
        RunSpec(task="gsm8k", problem="1", strategy="beam", params={"protocol": "tot"}).prepare()
    with pytest.raises(ValueError, match="^protocol:"):
        make_strategy("beam", {"protocol": "paper"})
    with pytest.raises(ValueError, match="^evaluator:"):
        make_strategy("dfs", {"protocol": "tot", "evaluator": "rollout"})
    with pytest.raises(ValueError, match="^anytime:"):
        make_strategy("beam", {"protocol": "tot", "anytime": "true"})
    with pytest.raises(ValueError, match="^protocol: unknown setting"):
        make_strategy("greedy", {"protocol": "tot"})


@pytest.mark.parametrize("text,verdict", [
    ("sure", "sure"), ("10 + 14 = 24\nsure\n3 3 3\nimpossible", "sure"),
    ("it is not impossible\nlikely", "likely"), ("likely because it is close", None), ("", None),
])
def test_read_verdict_is_the_evaluations_last_line(text, verdict):
    assert tot.read_verdict(text) == verdict


@pytest.mark.parametrize("line,ok", [
    ("Answer: (6 - 4) * (4 + 8) = 24", True), ("answer: 4 * 6 * (8 - 4) / 4 = 24", False),
    ("Answer: (4 + 8) * (6 - 4) + 1 = 25", False), ("Answer: 4 * (9 - (13 - 10)) = 24", False),
    ("(6 - 4) * (4 + 8) = 24", False), ("Answer: (6 - 4) * (4 + 8", False),
])
def test_check_answer_like_tots_test_output(line, ok):
    assert tot.check_answer("4 4 6 8", line).correct is ok


def test_evaluate_is_exact():
    assert tot.evaluate("(1 + 8 / 4) * 8") == 24
    assert tot.evaluate("8 / (3 - 8 / 3)") == 24
    assert tot.evaluate("1 / 0") is None and tot.evaluate("2 +") is None


def test_live_page_offers_the_protocol_and_the_run_records_it(tmp_path, monkeypatch):
    import socket

    from tests.test_pages_apptest import app
    monkeypatch.setenv("THINKTREE_DB", str(tmp_path / "pages.db"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("THINKTREE_EMBEDDED_URL", f"http://127.0.0.1:{port}/v1")  # nothing listens
    from streamlit.runtime.pages_manager import PagesManager
    original = PagesManager.__init__

    def init(self, *args, **kwargs):   # as the pages tests do: every rerun goes through app.py
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False
    monkeypatch.setattr(PagesManager, "__init__", init)
    at = app()
    at.selectbox(key="live_strategy").set_value("beam").run()
    picker = at.selectbox(key="live_param_beam_protocol")
    assert picker.options == ["constrained", "tot"] and picker.value == "constrained"
    picker.set_value("tot").run()
    at.button(key="live_run").click().run()
    assert not at.exception and not at.error
    from storage import open_store
    runs = open_store(str(tmp_path / "pages.db")).list_runs()
    assert len(runs) == 1
    assert open_store(str(tmp_path / "pages.db")).get_run(runs[0]["id"])["params"]["protocol"] == "tot"
